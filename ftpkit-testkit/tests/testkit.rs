//! Tests of the test kit itself: the scripted fake server driven by a tiny
//! hand-written client, the in-process libunftp server, and the hashes.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::{
    io::{self, BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Arc,
    time::{Duration, Instant},
};

use ftpkit_testkit::{
    DataFault, FakeServer, Script, TestCerts, UnftpServer, random_bytes, sha256_file, sha256_hex,
};

// ---------------------------------------------------------------- client

/// A minimal FTP control connection.
struct Ctl {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Ctl {
    fn connect(addr: SocketAddr) -> Ctl {
        let writer = TcpStream::connect(addr).unwrap();
        writer
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        Ctl {
            reader: BufReader::new(writer.try_clone().unwrap()),
            writer,
        }
    }

    /// Connects and reads the greeting.
    fn greeted(addr: SocketAddr) -> (Ctl, String) {
        let mut ctl = Ctl::connect(addr);
        let greeting = ctl.reply();
        (ctl, greeting)
    }

    fn line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        Ok(line)
    }

    /// One whole reply, multi-line ones included (`NNN-` … `NNN `).
    fn reply(&mut self) -> String {
        let first = self.line().unwrap();
        assert!(first.len() >= 4, "short reply {first:?}");
        let mut all = first.clone();
        if first.as_bytes()[3] == b'-' {
            let end = format!("{} ", &first[..3]);
            loop {
                let next = self.line().unwrap();
                assert!(!next.is_empty(), "EOF inside a multi-line reply");
                all.push_str(&next);
                if next.starts_with(&end) {
                    break;
                }
            }
        }
        all
    }

    fn send(&mut self, command: &str) {
        self.writer
            .write_all(format!("{command}\r\n").as_bytes())
            .unwrap();
    }

    fn cmd(&mut self, command: &str) -> String {
        self.send(command);
        self.reply()
    }

    /// `EPSV`, then connects to the announced port.
    fn epsv(&mut self) -> TcpStream {
        let reply = self.cmd("EPSV");
        assert!(reply.starts_with("229 "), "{reply}");
        let port: u16 = reply
            .split("|||")
            .nth(1)
            .and_then(|rest| rest.split('|').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("bad 229: {reply}"));
        TcpStream::connect(("127.0.0.1", port)).unwrap()
    }

    /// `PASV`, returning the advertised address.
    fn pasv(&mut self) -> SocketAddr {
        let reply = self.cmd("PASV");
        assert!(reply.starts_with("227 "), "{reply}");
        let inner = reply.split('(').nth(1).unwrap().split(')').next().unwrap();
        let n: Vec<u8> = inner.split(',').map(|x| x.parse().unwrap()).collect();
        let port = u16::from(n[4]) << 8 | u16::from(n[5]);
        SocketAddr::from(([n[0], n[1], n[2], n[3]], port))
    }

    /// Opens a listener and sends `PORT` for it.
    fn port(&mut self) -> (TcpListener, String) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let reply = self.cmd(&format!("PORT 127,0,0,1,{},{}", port >> 8, port & 0xff));
        (listener, reply)
    }

    fn login(&mut self, user: &str, pass: &str) {
        assert!(self.cmd(&format!("USER {user}")).starts_with("331"));
        let reply = self.cmd(&format!("PASS {pass}"));
        assert!(reply.starts_with("230"), "{reply}");
    }
}

fn read_all(mut stream: TcpStream) -> io::Result<Vec<u8>> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut data = Vec::new();
    stream.read_to_end(&mut data).map(|_| data)
}

/// Reads until EOF or an error, returning the bytes and the error.
fn read_until_error(mut stream: TcpStream) -> (Vec<u8>, Option<io::Error>) {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (data, None),
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(e) => return (data, Some(e)),
        }
    }
}

/// The message of a panic caught from `f`.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

// ----------------------------------------------------------- fake server

#[test]
fn fake_login_dialogue_is_played_and_recorded() {
    let server = FakeServer::start(vec![
        Script::login_anonymous()
            .expect_prefix("TYPE ")
            .reply("200 ok")
            .expect("FEAT")
            .reply_lines(&["211-Features:", " MLSD", " SIZE", "211 End"])
            .expect("QUIT")
            .reply("221 bye")
            .end(),
    ]);
    let (mut ctl, greeting) = Ctl::greeted(server.addr());
    assert_eq!(greeting, "220 fake server ready\r\n");
    ctl.login("anonymous", "anonymous@");
    assert_eq!(ctl.cmd("TYPE I"), "200 ok\r\n");
    assert_eq!(
        ctl.cmd("FEAT"),
        "211-Features:\r\n MLSD\r\n SIZE\r\n211 End\r\n"
    );
    // LF alone ends a command line too.
    ctl.writer.write_all(b"QUIT\n").unwrap();
    assert_eq!(ctl.reply(), "221 bye\r\n");
    assert_eq!(ctl.line().unwrap(), "", "end() closes the connection");

    let transcript = server.finish();
    assert_eq!(
        transcript.commands,
        [
            "USER anonymous",
            "PASS anonymous@",
            "TYPE I",
            "FEAT",
            "QUIT"
        ]
    );
    assert!(transcript.uploads.is_empty());
    assert_eq!(transcript.failure, None);
}

#[test]
fn fake_login_with_user_and_raw_bytes() {
    let server = FakeServer::start(vec![
        Script::login("bob", "secret")
            .expect("PWD")
            .raw(b"257 \"/\xff\" \r\n2")
            .raw(b"00 split\n"),
    ]);
    let (mut ctl, _) = Ctl::greeted(server.addr());
    ctl.login("bob", "secret");
    ctl.send("PWD");
    let mut bytes = Vec::new();
    ctl.reader.read_to_end(&mut bytes).unwrap();
    assert_eq!(bytes, b"257 \"/\xff\" \r\n200 split\n");
    server.finish();
}

#[test]
fn fake_epsv_retr_moves_every_byte() {
    let data = random_bytes(300_000, 1);
    let server = FakeServer::start(vec![
        Script::login_anonymous()
            .expect("EPSV")
            .epsv()
            .expect("RETR f")
            .reply("150 here")
            .send_data(&data)
            .reply("226 done"),
    ]);
    let (mut ctl, _) = Ctl::greeted(server.addr());
    ctl.login("anonymous", "anonymous@");
    let stream = ctl.epsv();
    assert!(ctl.cmd("RETR f").starts_with("150"));
    let got = read_all(stream).unwrap();
    assert_eq!(ctl.reply(), "226 done\r\n");
    assert_eq!(sha256_hex(&got), sha256_hex(&data));
    server.finish();
}

#[test]
fn fake_pasv_and_a_lying_227() {
    let server = FakeServer::start(vec![
        Script::new()
            .reply("220 hi")
            .expect("PASV")
            .pasv()
            .expect("RETR a")
            .send_data(b"first")
            .expect("PASV")
            .pasv_reply_addr([10, 1, 2, 3])
            .expect("RETR b")
            .send_data(b"second"),
    ]);
    let (mut ctl, _) = Ctl::greeted(server.addr());
    let addr = ctl.pasv();
    assert_eq!(addr.ip(), std::net::Ipv4Addr::LOCALHOST);
    let stream = TcpStream::connect(addr).unwrap();
    ctl.send("RETR a");
    assert_eq!(read_all(stream).unwrap(), b"first");

    let advertised = ctl.pasv();
    assert_eq!(advertised.ip(), std::net::Ipv4Addr::new(10, 1, 2, 3));
    // The listener is on loopback, at the advertised port.
    let stream = TcpStream::connect(("127.0.0.1", advertised.port())).unwrap();
    ctl.send("RETR b");
    assert_eq!(read_all(stream).unwrap(), b"second");
    server.finish();
}

#[test]
fn fake_active_mode_port_upload_and_eprt_download() {
    let upload = random_bytes(200_000, 2);
    let server = FakeServer::start(vec![
        Script::login_anonymous()
            .expect_prefix("PORT ")
            .active()
            .expect("STOR up")
            .reply("150 go")
            .recv_data()
            .reply("226 ok")
            .expect_prefix("EPRT ")
            .active()
            .expect("RETR down")
            .reply("150 here")
            .send_data(b"downloaded")
            .reply("226 ok"),
    ]);
    let (mut ctl, _) = Ctl::greeted(server.addr());
    ctl.login("anonymous", "anonymous@");

    let (listener, reply) = ctl.port();
    assert!(reply.starts_with("200"), "{reply}");
    assert!(ctl.cmd("STOR up").starts_with("150"));
    let (mut data, _) = listener.accept().unwrap();
    data.write_all(&upload).unwrap();
    drop(data);
    assert_eq!(ctl.reply(), "226 ok\r\n");

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    assert!(
        ctl.cmd(&format!("EPRT |1|127.0.0.1|{port}|"))
            .starts_with("200")
    );
    assert!(ctl.cmd("RETR down").starts_with("150"));
    let (data, _) = listener.accept().unwrap();
    assert_eq!(read_all(data).unwrap(), b"downloaded");
    assert_eq!(ctl.reply(), "226 ok\r\n");

    let transcript = server.finish();
    assert_eq!(transcript.uploads.len(), 1);
    assert_eq!(sha256_hex(&transcript.uploads[0]), sha256_hex(&upload));
    assert_eq!(transcript.upload_resets, [false]);
}

/// A script that serves one download with `fault` on EPSV.
fn faulty_download(data: &[u8], fault: DataFault) -> (FakeServer, Ctl, TcpStream) {
    let server = FakeServer::start(vec![
        Script::new()
            .reply("220 hi")
            .expect("EPSV")
            .epsv()
            .expect("RETR f")
            .reply("150 here")
            .send_data_then(data, fault)
            .reply("426 cut"),
    ]);
    let (mut ctl, _) = Ctl::greeted(server.addr());
    let stream = ctl.epsv();
    assert!(ctl.cmd("RETR f").starts_with("150"));
    (server, ctl, stream)
}

#[test]
fn fake_download_reset_at() {
    let data = random_bytes(100_000, 3);
    let (server, mut ctl, stream) = faulty_download(&data, DataFault::ResetAt(1000));
    let (got, err) = read_until_error(stream);
    let err = err.expect("a reset, not a clean end");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
    assert!(got.len() <= 1000 && data.starts_with(&got));
    assert_eq!(ctl.reply(), "426 cut\r\n");
    server.finish();
}

#[test]
fn fake_download_close_at() {
    let data = random_bytes(100_000, 4);
    let (server, mut ctl, stream) = faulty_download(&data, DataFault::CloseAt(777));
    assert_eq!(read_all(stream).unwrap(), &data[..777]);
    assert_eq!(ctl.reply(), "426 cut\r\n");
    server.finish();
}

#[test]
fn fake_download_stall_at() {
    let data = random_bytes(100_000, 5);
    let (server, mut ctl, mut stream) = faulty_download(&data, DataFault::StallAt(500));
    // The script goes on while the data connection hangs.
    assert_eq!(ctl.reply(), "426 cut\r\n");
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut got = vec![0u8; 500];
    stream.read_exact(&mut got).unwrap();
    assert_eq!(got, &data[..500]);
    let err = stream.read(&mut [0u8; 16]).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ),
        "{err}"
    );
    drop(stream); // lets the script end
    server.finish();
}

#[test]
fn fake_download_slow() {
    let data = random_bytes(1000, 6);
    let started = Instant::now();
    let (server, _ctl, stream) = faulty_download(
        &data,
        DataFault::Slow {
            chunk: 100,
            delay: Duration::from_millis(20),
        },
    );
    assert_eq!(read_all(stream).unwrap(), data);
    assert!(started.elapsed() >= Duration::from_millis(180));
    server.finish();
}

#[test]
fn fake_upload_reset_at_records_what_was_read() {
    let server = FakeServer::start(vec![
        Script::new()
            .reply("220 hi")
            .expect("EPSV")
            .epsv()
            .expect("STOR f")
            .reply("150 go")
            .recv_data_then(DataFault::ResetAt(10_000))
            .reply("552 full"),
    ]);
    let (mut ctl, _) = Ctl::greeted(server.addr());
    let mut stream = ctl.epsv();
    assert!(ctl.cmd("STOR f").starts_with("150"));
    let data = random_bytes(8 << 20, 7);
    let err = stream.write_all(&data).expect_err("the server resets");
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
        ),
        "{err}"
    );
    assert_eq!(ctl.reply(), "552 full\r\n");
    let transcript = server.finish();
    assert_eq!(transcript.uploads, [data[..10_000].to_vec()]);
}

#[test]
fn fake_failed_expectation_panics_in_finish() {
    let server = FakeServer::start(vec![
        Script::new()
            .reply("220 hi")
            .expect("USER anonymous")
            .reply("331 pw"),
    ]);
    let (mut ctl, _) = Ctl::greeted(server.addr());
    ctl.send("USER bob");
    // The server gives up and closes: the client sees EOF, not a hang.
    assert_eq!(ctl.line().unwrap(), "");
    let message = panic_message(|| {
        server.finish();
    });
    assert!(
        message.contains(r#"expected "USER anonymous", received "USER bob""#),
        "{message}"
    );
    assert!(message.contains("step 1"), "{message}");
}

#[test]
fn fake_unplayed_steps_panic_unless_allowed() {
    let script = || {
        Script::new()
            .reply("220 hi")
            .expect("NOOP")
            .reply("200 ok")
            .expect("QUIT")
            .reply("221 bye")
    };
    let server = FakeServer::start(vec![script()]);
    let (mut ctl, _) = Ctl::greeted(server.addr());
    ctl.cmd("NOOP");
    drop(ctl);
    let message = panic_message(|| {
        server.finish();
    });
    assert!(
        message.contains("closed the control connection"),
        "{message}"
    );
    assert!(message.contains("QUIT"), "{message}");

    let server = FakeServer::start(vec![script()]);
    let (mut ctl, _) = Ctl::greeted(server.addr());
    ctl.cmd("NOOP");
    let started = Instant::now();
    let transcript = server.finish_allow_unplayed();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(transcript.commands, ["NOOP"]);
    assert!(transcript.failure.is_some());
}

#[test]
fn fake_timeouts_bound_every_wait() {
    // A client that connects and says nothing.
    let server = FakeServer::with_timeout(
        vec![Script::new().reply("220 hi").expect("USER x")],
        Duration::from_millis(200),
    );
    let (_ctl, _) = Ctl::greeted(server.addr());
    let started = Instant::now();
    let message = panic_message(|| {
        server.finish();
    });
    assert!(message.contains("timed out"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(2));

    // A client that never connects.
    let server = FakeServer::with_timeout(vec![Script::new()], Duration::from_millis(100));
    let message = panic_message(|| {
        server.finish();
    });
    assert!(message.contains("accept"), "{message}");
}

#[test]
fn fake_never_reply_does_not_hang_teardown() {
    let server = FakeServer::start(vec![
        Script::new().reply("220 hi").expect("PWD").never_reply(),
    ]);
    let (mut ctl, _) = Ctl::greeted(server.addr());
    ctl.send("PWD");
    ctl.writer
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    assert!(ctl.line().is_err(), "no reply, no EOF");
    let started = Instant::now();
    let transcript = server.finish_allow_unplayed();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(transcript.commands, ["PWD"]);
}

#[test]
fn fake_endless_line_and_endless_multiline() {
    let server = FakeServer::start(vec![
        Script::new().endless_line(),
        Script::new().endless_multiline(211),
    ]);
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    stream.read_exact(&mut buf).unwrap();
    assert!(!buf.contains(&b'\n'));
    drop(stream);

    let mut ctl = Ctl::connect(server.addr());
    for _ in 0..10_000 {
        assert_eq!(ctl.line().unwrap(), "211-and more\r\n");
    }
    drop(ctl);
    server.finish();
}

#[test]
fn fake_sequential_connections_and_sleep() {
    let server = FakeServer::start(vec![
        Script::new().reply("220 one").expect("QUIT").end(),
        Script::new()
            .sleep(Duration::from_millis(50))
            .reply("220 two")
            .expect("NOOP")
            .reply("200 ok"),
    ]);
    let (mut ctl, greeting) = Ctl::greeted(server.addr());
    assert_eq!(greeting, "220 one\r\n");
    ctl.send("QUIT");
    assert_eq!(ctl.line().unwrap(), "");
    let (mut ctl, greeting) = Ctl::greeted(server.addr());
    assert_eq!(greeting, "220 two\r\n");
    ctl.cmd("NOOP");
    assert_eq!(server.finish().commands, ["QUIT", "NOOP"]);
}

// --------------------------------------------------------- libunftp

#[test]
fn unftp_anonymous_login_and_quit() {
    let server = UnftpServer::start();
    let (mut ctl, greeting) = Ctl::greeted(server.addr());
    assert!(greeting.starts_with("220 "), "{greeting}");
    ctl.login("anonymous", "x");
    assert!(ctl.cmd("QUIT").starts_with("221"));
}

#[test]
fn unftp_transfers_in_passive_and_active_mode() {
    let server = UnftpServer::start();
    let data = random_bytes(500_000, 8);
    std::fs::write(server.root().join("down.bin"), &data).unwrap();

    let (mut ctl, _) = Ctl::greeted(server.addr());
    ctl.login("test", "secret");
    assert!(ctl.cmd("TYPE I").starts_with("200"));

    // EPSV upload, checked in the root directory.
    let mut stream = ctl.epsv();
    assert!(ctl.cmd("STOR up.bin").starts_with("150"));
    stream.write_all(&data).unwrap();
    drop(stream);
    assert!(ctl.reply().starts_with("226"));
    assert_eq!(sha256_file(server.root().join("up.bin")), sha256_hex(&data));

    // PASV download.
    let stream = TcpStream::connect(ctl.pasv()).unwrap();
    assert!(ctl.cmd("RETR down.bin").starts_with("150"));
    assert_eq!(sha256_hex(&read_all(stream).unwrap()), sha256_hex(&data));
    assert!(ctl.reply().starts_with("226"));

    // REST + RETR.
    assert!(ctl.cmd("REST 400000").starts_with("350"));
    let stream = ctl.epsv();
    assert!(ctl.cmd("RETR down.bin").starts_with("150"));
    assert_eq!(read_all(stream).unwrap(), &data[400_000..]);
    assert!(ctl.reply().starts_with("226"));

    // Active mode (libunftp connects as soon as it gets PORT).
    let (listener, reply) = ctl.port();
    assert!(reply.starts_with("200"), "{reply}");
    assert!(ctl.cmd("RETR down.bin").starts_with("150"));
    let (stream, _) = listener.accept().unwrap();
    assert_eq!(read_all(stream).unwrap().len(), data.len());
    assert!(ctl.reply().starts_with("226"));

    assert_eq!(ctl.cmd("SIZE down.bin"), "213 500000\r\n");
    assert!(ctl.cmd("QUIT").starts_with("221"));
}

#[test]
fn unftp_stops_on_drop() {
    let server = UnftpServer::start();
    let addr = server.addr();
    let root = server.root().to_path_buf();
    let (mut ctl, _) = Ctl::greeted(addr);
    let started = Instant::now();
    drop(server);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(TcpStream::connect(addr).is_err());
    assert!(!root.exists());
    // The open session was closed too.
    assert!(!matches!(ctl.line(), Ok(line) if !line.is_empty()));
}

#[test]
fn unftp_explicit_tls() {
    let certs = TestCerts::generate();
    let server = UnftpServer::start_with_tls(&certs);
    let (mut ctl, _) = Ctl::greeted(server.addr());
    assert!(ctl.cmd("FEAT").contains(" AUTH TLS"));
    assert!(ctl.cmd("AUTH TLS").starts_with("234"));

    use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&certs.ca_pem).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let conn =
        rustls::ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap())
            .unwrap();
    let mut tls = BufReader::new(rustls::StreamOwned::new(conn, ctl.writer));
    tls.get_mut().write_all(b"USER anonymous\r\n").unwrap();
    let mut line = String::new();
    tls.read_line(&mut line).unwrap();
    assert!(line.starts_with("331"), "{line}");
    assert_eq!(
        tls.get_ref().conn.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
}

// ------------------------------------------------------------- hashes

#[test]
fn hashes_and_random_bytes() {
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let a = random_bytes(100_001, 42);
    assert_eq!(a.len(), 100_001);
    assert_eq!(a, random_bytes(100_001, 42));
    assert_ne!(a, random_bytes(100_001, 43));
    assert_eq!(&random_bytes(10, 42)[..], &a[..10]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, &a).unwrap();
    assert_eq!(sha256_file(&path), sha256_hex(&a));
}
