//! The network and time zone options of the `ftpkit` binary against the
//! scripted fake server: exact dialogues.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::{net::TcpListener, process::Output};

use ftpkit_testkit::{FakeServer, Script};

fn ftpkit(args: &[&str]) -> Output {
    ftpkit_testkit::command(env!("CARGO_BIN_EXE_ftpkit"))
        .args(["--timeout", "5", "-q", "--no-netrc"])
        .args(args)
        .env_remove("FTPKIT_PASSWORD")
        .output()
        .expect("run ftpkit")
}

fn check(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// An IIS server whose clock reads UTC+02:00.
const IIS_LISTING: &[u8] = b"01-15-24  02:30PM                    5 f.txt\r\n";

fn feat() -> Script {
    Script::login_anonymous()
        .expect("FEAT")
        .reply("211-Features:\r\n MDTM\r\n EPSV\r\n211 End")
}

fn list(script: Script) -> Script {
    script
        .expect("EPSV")
        .epsv()
        .expect("LIST logs/")
        .reply("150 here")
        .send_data(IIS_LISTING)
        .reply("226 done")
}

#[test]
fn ls_json_with_list_tz_auto_shows_utc() {
    let probe = list(feat().expect("TYPE A").reply("200 ok"))
        .expect("MDTM logs/f.txt")
        .reply("213 20240115123012");
    let server = FakeServer::start(vec![list(probe).expect("QUIT").reply("221 bye")]);
    let url = format!("ftp://{}/logs/", server.addr());
    let json = check(&ftpkit(&["ls", "--json", "--list-tz", "auto", &url]));
    assert!(
        json.contains("\"modified\":\"2024-01-15T12:30:00Z\""),
        "{json}"
    );
    server.finish();
}

#[test]
fn ls_with_a_fixed_list_tz_and_no_epsv() {
    let server = FakeServer::start(vec![
        feat()
            .expect("TYPE A")
            .reply("200 ok")
            .expect("PASV")
            .pasv()
            .expect("LIST logs/")
            .reply("150 here")
            .send_data(IIS_LISTING)
            .reply("226 done")
            .expect("QUIT")
            .reply("221 bye"),
    ]);
    let url = format!("ftp://{}/logs/", server.addr());
    let json = check(&ftpkit(&[
        "ls",
        "--json",
        "--no-epsv",
        "--list-tz",
        "-05:00",
        &url,
    ]));
    assert!(
        json.contains("\"modified\":\"2024-01-15T19:30:00Z\""),
        "{json}"
    );
    server.finish();
}

#[test]
fn active_ports_and_address_reach_the_port_command() {
    let free = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let server = FakeServer::start(vec![
        feat()
            .expect("TYPE A")
            .reply("200 ok")
            .expect(&format!("PORT 203,0,113,9,{},{}", port >> 8, port & 0xff))
            .reply("500 no thanks"),
    ]);
    let url = format!("ftp://{}/logs/", server.addr());
    let range = format!("{port}-{port}");
    let out = ftpkit(&[
        "ls",
        "--json",
        "--active",
        "--active-ports",
        &range,
        "--active-address",
        "203.0.113.9",
        &url,
    ]);
    assert_ne!(out.status.code(), Some(0));
    server.finish();
}

#[test]
fn active_ports_without_active_is_a_usage_error() {
    let out = ftpkit(&["ls", "--active-ports", "50000-50010", "ftp://127.0.0.1:1/"]);
    assert_eq!(out.status.code(), Some(2));
}

// ----- names in other charsets ---------------------------------------------

#[test]
fn get_writes_a_cp1251_name_as_utf8_and_sends_its_bytes() {
    let name: &[u8] = b"\xee\xf2\xf7\xb8\xf2.txt"; // "отчёт.txt" in CP1251
    let with = |verb: &[u8]| [verb, name].concat();
    let server = FakeServer::start(vec![
        Script::login_anonymous()
            .expect("TYPE I")
            .reply("200 ok")
            .expect("FEAT")
            .reply("211 no features")
            .expect_bytes(&with(b"SIZE "))
            .reply("213 4")
            .expect_bytes(&with(b"MDTM "))
            .reply("550 no")
            .expect("EPSV")
            .epsv()
            .expect_bytes(&with(b"RETR "))
            .reply("150 go")
            .send_data(b"data")
            .reply("226 done")
            .expect("QUIT")
            .reply("221 bye"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("ftp://{}/отчёт.txt", server.addr());
    let out = ftpkit_testkit::command(env!("CARGO_BIN_EXE_ftpkit"))
        .args([
            "--timeout",
            "5",
            "-q",
            "--no-netrc",
            "--encoding",
            "cp1251",
            "get",
            &url,
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    check(&out);
    assert_eq!(
        std::fs::read(dir.path().join("отчёт.txt")).unwrap(),
        b"data"
    );
    server.finish();
}

#[test]
fn ls_decodes_latin1_names() {
    let server = FakeServer::start(vec![
        Script::login_anonymous()
            .expect("TYPE A")
            .reply("200 ok")
            .expect("EPSV")
            .epsv()
            .expect("NLST")
            .reply("150 here")
            .send_data(b"r\xe9sum\xe9.pdf\r\n")
            .reply("226 done")
            .expect("QUIT")
            .reply("221 bye"),
    ]);
    let url = format!("ftp://{}/", server.addr());
    let text = check(&ftpkit(&["ls", "--encoding", "latin1", &url]));
    assert_eq!(text, "résumé.pdf\n");
    server.finish();
}

#[test]
fn quote_sends_its_line_in_the_servers_charset() {
    let server = FakeServer::start(vec![
        Script::login_anonymous()
            .expect_bytes(b"SITE CHMOD 644 r\xe9sum\xe9.pdf")
            .reply("200 done")
            .expect("QUIT")
            .reply("221 bye"),
    ]);
    let url = format!("ftp://{}/", server.addr());
    let text = check(&ftpkit(&[
        "quote",
        "--encoding",
        "latin1",
        &url,
        "SITE",
        "CHMOD",
        "644",
        "résumé.pdf",
    ]));
    assert_eq!(text, "200 done\n");
    server.finish();
}

#[test]
fn mirror_copies_cp1251_names_to_utf8_local_names() {
    let name: &[u8] = b"\xef\xe8\xf1\xfc\xec\xee.txt"; // "письмо.txt" in CP1251
    let listing = [b"-rw-r--r-- 1 ftp ftp 5 Jan 15  2024 ", name, b"\r\n"].concat();
    let server = FakeServer::start(vec![
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
            .reply("226 done"),
        Script::login_anonymous()
            .expect("TYPE I")
            .reply("200 ok")
            .expect("FEAT")
            .reply("211 no features")
            .expect_bytes(&[b"SIZE ", name].concat())
            .reply("213 5")
            .expect_bytes(&[b"MDTM ", name].concat())
            .reply("213 20240115103000")
            .expect("EPSV")
            .epsv()
            .expect_bytes(&[b"RETR ", name].concat())
            .reply("150 go")
            .send_data(b"hello")
            .reply("226 done"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("ftp://{}/", server.addr());
    let local = dir.path().join("copy");
    let out = ftpkit(&[
        "--encoding",
        "cp1251",
        "mirror",
        &url,
        local.to_str().unwrap(),
    ]);
    let failure = server.finish_allow_unplayed().failure;
    assert_eq!(failure, None);
    check(&out);
    assert_eq!(std::fs::read(local.join("письмо.txt")).unwrap(), b"hello");
}
