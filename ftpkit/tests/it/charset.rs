//! Servers whose names are not UTF-8 (Latin-1, CP1251, GBK): names decode
//! to text with the configured charset, text typed by a user encodes to
//! the server's bytes, and names from a listing go back byte for byte; on
//! both drivers.

use std::time::Duration;

use ftpkit::{Charset, Client, Config};
use ftpkit_testkit::{FakeServer, Script};

fn config(label: &str) -> Config {
    Config::default()
        .timeout(Duration::from_secs(2))
        .connect_timeout(Duration::from_secs(2))
        .encoding(Charset::for_label(label).unwrap())
}

fn line(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// A listing of one file named `name` (bytes in the server's charset),
/// then `RETR` of that name, `CWD` and `STOR` of names typed as text.
fn dialogue(name: &[u8], dir: &[u8], upload: &[u8]) -> Script {
    let listing = line(&[b"-rw-r--r-- 1 ftp ftp 4 Jan 15  2024 ", name, b"\r\n"]);
    Script::login_anonymous()
        .expect("FEAT")
        .reply("211-Features:\r\n EPSV\r\n211 End")
        .expect("TYPE A")
        .reply("200 ok")
        .expect("EPSV")
        .epsv()
        .expect("LIST")
        .reply("150 here")
        .send_data(&listing)
        .reply("226 done")
        .expect("TYPE I")
        .reply("200 ok")
        .expect("EPSV")
        .epsv()
        .expect_bytes(&line(&[b"RETR ", name]))
        .reply("150 go")
        .send_data(b"data")
        .reply("226 done")
        .expect_bytes(&line(&[b"CWD ", dir]))
        .reply("250 ok")
        .expect("EPSV")
        .epsv()
        .expect_bytes(&line(&[b"STOR ", upload]))
        .reply("150 go")
        .recv_data()
        .reply("226 done")
}

/// The dialogue of [`dialogue`] on the driver of the `dialogue!` body it
/// is used in: `label` the charset, `name` a listed name in it and `text`
/// its decoding, `dir` and `upload` names typed as text and their bytes.
macro_rules! run {
    ($label:expr, $name:expr, $text:expr, $dir:expr, $upload:expr $(,)?) => {{
        let (label, name, text): (&str, &[u8], &str) = ($label, $name, $text);
        let (dir, upload): ((&str, &[u8]), (&str, &[u8])) = ($dir, $upload);
        let server = FakeServer::start(vec![dialogue(name, dir.1, upload.1)]);
        let mut client = connect!(&server.addr().to_string(), config(label)).unwrap();
        w!(client.login_anonymous()).unwrap();
        let charset = client.config().encoding;
        let entries = entries!(w!(client.list_entries("")).unwrap()).unwrap();
        assert_eq!(entries[0].name.as_bytes(), name);
        assert_eq!(entries[0].name.decode(charset), text);
        assert_eq!(
            entries[0].name.safe_component_in(charset).as_deref(),
            Some(text)
        );
        let mut out = Vec::new();
        w!(client.get(&entries[0].name, &mut out)).unwrap();
        assert_eq!(out, b"data");
        let dir = client.encode_path(dir.0).unwrap();
        w!(client.cwd(&dir)).unwrap();
        let upload = client.encode_path(upload.0).unwrap();
        w!(client.put(&upload, &mut &b"up"[..])).unwrap();
        assert_eq!(server.finish().uploads[0], b"up");
    }};
}

dialogue! {
    fn latin1_names_on_the_wire() {
        run!(
            "latin1",
            b"r\xe9sum\xe9.txt",
            "résumé.txt",
            ("donn\u{e9}es", b"donn\xe9es"),
            ("\u{e7}a.txt", b"\xe7a.txt"),
        );
    }
}

dialogue! {
    fn cp1251_names_on_the_wire() {
        run!(
            "cp1251",
            b"\xee\xf2\xf7\xb8\xf2.txt",
            "отчёт.txt",
            ("папка", b"\xef\xe0\xef\xea\xe0"),
            ("новый.txt", b"\xed\xee\xe2\xfb\xe9.txt"),
        );
    }
}

dialogue! {
    fn gbk_names_on_the_wire() {
        run!(
            "gbk",
            b"\xd6\xd0\xce\xc4.txt",
            "中文.txt",
            ("目录", b"\xc4\xbf\xc2\xbc"),
            ("上传.txt", b"\xc9\xcf\xb4\xab.txt"),
        );
    }
}

dialogue! {
    fn a_name_the_charset_cannot_write_is_refused_before_sending() {
        let server = FakeServer::start(vec![Script::login_anonymous()]);
        let mut client = connect!(&server.addr().to_string(), config("latin1")).unwrap();
        w!(client.login_anonymous()).unwrap();
        let err = client.encode_path("отчёт").unwrap_err();
        assert!(
            matches!(
                err,
                ftpkit::Error::InvalidInput(ftpkit::InvalidInput::Charset(_))
            ),
            "{err}"
        );
        server.finish();
    }
}
