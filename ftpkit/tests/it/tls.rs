//! FTPS: explicit TLS against libunftp (verification, pinning, every
//! scenario over PROT P), and a small rustls server for what libunftp does
//! not do: implicit TLS, required session reuse on data connections, a
//! data stream's close_notify, and plaintext pipelined after 234. Each case
//! runs on both drivers.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    sync::{Arc, Mutex},
    thread,
    time::Duration,
};

use ftpkit::{
    CertificateProblem, Client, Config, Error, InvalidInput, Protection, TlsConfig, TlsMode,
};
use ftpkit_testkit::{FakeServer, Script, TestCerts, UnftpServer, random_bytes, sha256_hex};
use rustls::{HandshakeKind, ServerConfig, ServerConnection, StreamOwned};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

use crate::scenarios::{self, Driver, Target};

pub(crate) fn trusting(certs: &TestCerts) -> TlsConfig {
    TlsConfig::builder()
        .without_system_roots()
        .add_ca_pem_file(&certs.ca_pem)
        .unwrap()
        .build()
        .unwrap()
}

fn explicit(tls: TlsConfig) -> Config {
    Config::default()
        .timeout(Duration::from_secs(10))
        .tls(TlsMode::Explicit, Some(tls))
}

fn explicit_tls_scenarios_against_libunftp(driver: Driver) {
    let certs = TestCerts::generate();
    let server = UnftpServer::start_with_tls(&certs);
    let target = Target {
        name: "libunftp explicit TLS".into(),
        addr: server.addr().to_string(),
        user: "tls-user".into(),
        pass: "secret".into(),
        config: explicit(trusting(&certs)),
        mlsd: true,
        mdtm: true,
        big: 16 << 20,
    };
    scenarios::session_basics(&target, driver);
    scenarios::transfers(&target, driver, ftpkit::DataMode::Passive);
    scenarios::resume(&target, driver);
    scenarios::listings(&target, driver);
    scenarios::big_transfer(&target, driver);
}

#[test]
fn explicit_tls_scenarios_against_libunftp_blocking() {
    explicit_tls_scenarios_against_libunftp(Driver::Blocking);
}

#[cfg(feature = "tokio")]
#[test]
fn explicit_tls_scenarios_against_libunftp_async() {
    explicit_tls_scenarios_against_libunftp(Driver::Async);
}

dialogue! {
    fn the_control_connection_is_encrypted_and_prot_c_is_honoured() {
        let certs = TestCerts::generate();
        let server = UnftpServer::start_with_tls(&certs);
        let config = explicit(trusting(&certs)).data_protection(Protection::Clear);
        let mut c =
            connect!(&format!("localhost:{}", server.addr().port()), config).unwrap();
        assert!(c.is_secure());
        w!(c.login("u", "p")).unwrap();
        w!(c.put("clear.bin", &mut &b"in clear"[..])).unwrap();
        w!(c.prot_p()).unwrap();
        let mut back = Vec::new();
        w!(c.get("clear.bin", &mut back)).unwrap();
        assert_eq!(back, b"in clear");
        w!(c.quit()).unwrap();
    }
}

dialogue! {
    fn an_untrusted_certificate_is_refused_before_login() {
        let certs = TestCerts::generate();
        let server = UnftpServer::start_with_untrusted_tls(&certs);
        let err =
            connect!(&server.addr().to_string(), explicit(trusting(&certs))).unwrap_err();
        let problem = err.certificate_rejected().map(|r| r.problem);
        assert_eq!(problem, Some(CertificateProblem::UnknownIssuer), "{err:?}");
        assert!(
            err.to_string().contains("signed by \"CN=untrusted CA\""),
            "{err}"
        );
    }
}

dialogue! {
    fn a_certificate_for_another_host_is_refused() {
        let certs = TestCerts::generate();
        let server = UnftpServer::start_with_wrong_name_tls(&certs);
        let err =
            connect!(&server.addr().to_string(), explicit(trusting(&certs))).unwrap_err();
        let problem = err.certificate_rejected().map(|r| r.problem);
        assert_eq!(problem, Some(CertificateProblem::NameMismatch), "{err:?}");
    }
}

dialogue! {
    fn the_system_store_does_not_trust_a_private_ca() {
        let certs = TestCerts::generate();
        let server = UnftpServer::start_with_tls(&certs);
        let config = Config::default().tls(TlsMode::Explicit, None);
        match connect!(&server.addr().to_string(), config) {
            Err(Error::Certificate { rejected, .. }) => {
                assert_eq!(rejected.problem, CertificateProblem::UnknownIssuer);
                assert_eq!(rejected.certificate.sha256, certs.fingerprint);
            }
            // A machine with no system store at all refuses to build the config.
            Err(Error::InvalidInput(InvalidInput::Tls(_))) => {}
            other => panic!("expected a TLS error, got {other:?}"),
        }
    }
}

dialogue! {
    fn a_pinned_fingerprint_is_accepted_and_a_wrong_one_refused() {
        let certs = TestCerts::generate();
        let server = UnftpServer::start_with_tls(&certs);
        let pinned = TlsConfig::builder()
            .pin_sha256(&certs.fingerprint)
            .unwrap()
            .build()
            .unwrap();
        let mut c = connect!(&server.addr().to_string(), explicit(pinned)).unwrap();
        w!(c.login("u", "p")).unwrap();
        w!(c.put("pinned.bin", &mut &b"ok"[..])).unwrap();
        w!(c.quit()).unwrap();

        let wrong = TlsConfig::builder()
            .pin_sha256(&"00".repeat(32))
            .unwrap()
            .build()
            .unwrap();
        let err = connect!(&server.addr().to_string(), explicit(wrong)).unwrap_err();
        assert!(err.to_string().contains("pinned"), "{err}");
    }
}

dialogue! {
    fn danger_accept_invalid_certs_connects_to_anything() {
        let certs = TestCerts::generate();
        let server = UnftpServer::start_with_untrusted_tls(&certs);
        let anything = TlsConfig::builder()
            .danger_accept_invalid_certs()
            .build()
            .unwrap();
        let mut c = connect!(&server.addr().to_string(), explicit(anything)).unwrap();
        w!(c.login("u", "p")).unwrap();
        w!(c.quit()).unwrap();
    }
}

dialogue! {
    fn auth_tls_refused_ends_before_any_password() {
        let server = FakeServer::start(vec![
            Script::new()
                .reply("220 plain only")
                .expect("AUTH TLS")
                .reply("502 AUTH not supported")
                .end(),
        ]);
        let certs = TestCerts::generate();
        let err =
            connect!(&server.addr().to_string(), explicit(trusting(&certs))).unwrap_err();
        assert_eq!(err.code().map(|c| c.0), Some(502));
        let t = server.finish();
        assert_eq!(t.commands, ["AUTH TLS"], "nothing but AUTH TLS may be sent");
    }
}

dialogue! {
    fn credentials_are_refused_after_ccc_when_tls_was_required() {
        let certs = TestCerts::generate();
        let mini = MiniTls::start(&certs, Mode::Explicit);
        let mut c = connect!(&mini.addr.to_string(), explicit(trusting(&certs))).unwrap();
        w!(c.ccc()).unwrap();
        assert!(!c.is_secure());
        assert!(matches!(
            w!(c.login("user", "pw")),
            Err(Error::InvalidInput(InvalidInput::CleartextCredentials))
        ));
        drop(c);
        let log = mini.finish();
        assert!(
            !log.commands.iter().any(|l| l.starts_with("PASS")),
            "{:?}",
            log.commands
        );
    }
}

// ----- a small rustls server ------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Implicit,
    Explicit,
    /// Explicit, with a forged `230` sent in clear right after the `234`.
    ExplicitWithPipelinedReply,
}

#[derive(Default, Debug)]
pub(crate) struct MiniLog {
    /// For each data connection: the TLS version it ran.
    pub(crate) versions: Vec<Option<rustls::ProtocolVersion>>,
    commands: Vec<String>,
    /// For each data connection: whether its TLS session was resumed.
    pub(crate) resumed: Vec<bool>,
    /// For each upload: whether it ended with close_notify.
    clean_uploads: Vec<bool>,
    uploads: Vec<Vec<u8>>,
}

pub(crate) struct MiniTls {
    pub(crate) addr: SocketAddr,
    log: Arc<Mutex<MiniLog>>,
    handle: thread::JoinHandle<()>,
}

/// How a [`MiniTls`] behaves.
pub(crate) struct MiniOptions {
    /// The server's TLS configuration.
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) mode: Mode,
    /// Control connections served, one after the other.
    pub(crate) connections: usize,
    /// Answer 425 to a data connection that runs TLS 1.3, as proftpd does
    /// when a TLS 1.3 data connection cannot resume the session.
    pub(crate) refuse_tls13_data: bool,
}

/// A rustls server configuration with `cert` (chain) and `key`.
pub(crate) fn server_config(cert: &std::path::Path, key: &std::path::Path) -> ServerConfig {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap()
}

/// Serves one control connection; data connections require a resumed TLS
/// session (like vsftpd's `require_ssl_reuse`) and get a 522 otherwise.
impl MiniTls {
    pub(crate) fn start(certs: &TestCerts, mode: Mode) -> MiniTls {
        MiniTls::start_with(MiniOptions {
            config: Arc::new(server_config(&certs.cert_pem, &certs.key_pem)),
            mode,
            connections: 1,
            refuse_tls13_data: false,
        })
    }

    pub(crate) fn start_with(options: MiniOptions) -> MiniTls {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(MiniLog::default()));
        let shared = log.clone();
        let handle = thread::spawn(move || {
            // Each control connection in a thread of its own: a client that
            // reconnects opens the new one before it drops the old one.
            let options = Arc::new(options);
            let mut sessions = Vec::new();
            for _ in 0..options.connections {
                let (tcp, _) = listener.accept().unwrap();
                tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let (options, shared) = (options.clone(), shared.clone());
                sessions.push(thread::spawn(move || serve(tcp, &options, &shared)));
            }
            for session in sessions {
                session.join().unwrap();
            }
        });
        MiniTls { addr, log, handle }
    }

    pub(crate) fn finish(self) -> MiniLog {
        self.handle.join().unwrap();
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

/// Accepts a TLS connection; `None` when the handshake fails (a client
/// that refuses the certificate).
fn tls_accept(
    tcp: TcpStream,
    config: &Arc<ServerConfig>,
) -> Option<StreamOwned<ServerConnection, TcpStream>> {
    let mut tls = StreamOwned::new(ServerConnection::new(config.clone()).unwrap(), tcp);
    while tls.conn.is_handshaking() {
        if tls.conn.complete_io(&mut tls.sock).is_err() {
            // Send the alert, if any, and give up.
            let _ = tls.conn.write_tls(&mut tls.sock);
            return None;
        }
    }
    Some(tls)
}

/// A control channel that is plain until `secure`, then TLS.
enum Channel {
    Plain(BufReader<TcpStream>),
    Tls(Box<BufReader<StreamOwned<ServerConnection, TcpStream>>>),
}

impl Channel {
    fn line(&mut self) -> Option<String> {
        let mut line = String::new();
        let n = match self {
            Channel::Plain(r) => r.read_line(&mut line),
            Channel::Tls(r) => r.read_line(&mut line),
        };
        match n {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end().to_owned()),
        }
    }

    fn send(&mut self, text: &str) {
        let bytes = format!("{text}\r\n");
        let _ = match self {
            Channel::Plain(r) => r.get_mut().write_all(bytes.as_bytes()),
            Channel::Tls(r) => r.get_mut().write_all(bytes.as_bytes()),
        };
    }
}

fn serve(tcp: TcpStream, options: &MiniOptions, log: &Mutex<MiniLog>) {
    let (config, mode) = (&options.config, options.mode);
    let mut ch = if mode == Mode::Implicit {
        let Some(tls) = tls_accept(tcp, config) else {
            return;
        };
        let mut ch = Channel::Tls(Box::new(BufReader::new(tls)));
        ch.send("220 implicit TLS ready");
        ch
    } else {
        let mut ch = Channel::Plain(BufReader::new(tcp));
        ch.send("220 explicit TLS ready");
        let auth = ch.line().unwrap_or_default();
        log.lock().unwrap().commands.push(auth);
        let Channel::Plain(reader) = ch else {
            unreachable!()
        };
        let mut tcp = reader.into_inner();
        if mode == Mode::ExplicitWithPipelinedReply {
            tcp.write_all(b"234 go ahead\r\n230 forged: logged in without a password\r\n")
                .unwrap();
        } else {
            tcp.write_all(b"234 go ahead\r\n").unwrap();
        }
        let Some(tls) = tls_accept(tcp, config) else {
            return;
        };
        Channel::Tls(Box::new(BufReader::new(tls)))
    };
    let mut data: Option<TcpListener> = None;
    let mut secure_control = true;
    while let Some(cmd) = ch.line() {
        log.lock().unwrap().commands.push(cmd.clone());
        let verb = cmd.split(' ').next().unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "USER" => ch.send("331 password please"),
            "PASS" => ch.send("230 logged in"),
            "PBSZ" | "PROT" | "TYPE" => ch.send("200 ok"),
            "EPSV" => {
                let l = TcpListener::bind("127.0.0.1:0").unwrap();
                ch.send(&format!(
                    "229 Entering Extended Passive Mode (|||{}|)",
                    l.local_addr().unwrap().port()
                ));
                data = Some(l);
            }
            "RETR" | "STOR" => {
                ch.send("150 opening TLS data connection");
                let (tcp, _) = data.take().unwrap().accept().unwrap();
                tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let Some(mut tls) = tls_accept(tcp, config) else {
                    ch.send("425 Unable to build data connection: TLS handshake failed");
                    continue;
                };
                let resumed = tls.conn.handshake_kind() == Some(HandshakeKind::Resumed);
                let version = tls.conn.protocol_version();
                log.lock().unwrap().resumed.push(resumed);
                log.lock().unwrap().versions.push(version);
                if options.refuse_tls13_data && version == Some(rustls::ProtocolVersion::TLSv1_3) {
                    drop(tls);
                    ch.send("425 Unable to build data connection: Operation not permitted");
                    continue;
                }
                if !resumed {
                    ch.send("522 SSL connection failed: session reuse required");
                    continue;
                }
                if verb == "RETR" {
                    tls.write_all(&random_bytes(300_000, 9)).unwrap();
                    tls.conn.send_close_notify();
                    tls.flush().unwrap();
                    ch.send("226 transfer complete");
                } else {
                    let mut got = Vec::new();
                    let clean = tls.read_to_end(&mut got).is_ok();
                    let mut l = log.lock().unwrap();
                    l.clean_uploads.push(clean);
                    l.uploads.push(got);
                    drop(l);
                    ch.send(if clean {
                        "226 stored"
                    } else {
                        "426 upload ended without close_notify"
                    });
                }
            }
            "CCC" => {
                ch.send("200 control channel in clear");
                let Channel::Tls(reader) = ch else {
                    unreachable!()
                };
                let mut tls = reader.into_inner();
                tls.conn.send_close_notify();
                let _ = tls.flush();
                // Read up to the client's close_notify one record at a
                // time, then go on in clear: the client may send its next
                // command in clear right behind its close_notify.
                read_records_until_close_notify(&mut tls);
                ch = Channel::Plain(BufReader::new(tls.sock));
                secure_control = false;
            }
            "QUIT" => {
                ch.send("221 bye");
                break;
            }
            _ => ch.send("502 not here"),
        }
    }
    let _ = secure_control;
}

/// Feeds the peer's TLS records to `tls` one whole record at a time, never
/// reading past the record that carries its close_notify (or the end).
fn read_records_until_close_notify(tls: &mut StreamOwned<ServerConnection, TcpStream>) {
    let mut sink = [0u8; 64];
    loop {
        match tls.conn.reader().read(&mut sink) {
            Ok(0) => return,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
        let mut header = [0u8; 5];
        if tls.sock.read_exact(&mut header).is_err() {
            return;
        }
        let mut record = header.to_vec();
        record.resize(
            5 + usize::from(u16::from_be_bytes([header[3], header[4]])),
            0,
        );
        if tls.sock.read_exact(&mut record[5..]).is_err() {
            return;
        }
        let mut bytes = &record[..];
        while !bytes.is_empty() {
            if tls.conn.read_tls(&mut bytes).is_err() || tls.conn.process_new_packets().is_err() {
                return;
            }
        }
    }
}

dialogue! {
    fn implicit_tls_with_required_session_reuse_and_close_notify() {
        let certs = TestCerts::generate();
        let mini = MiniTls::start(&certs, Mode::Implicit);
        let config = Config::default()
            .timeout(Duration::from_secs(10))
            .tls(TlsMode::Implicit, Some(trusting(&certs)));
        let mut c = connect!(&format!("localhost:{}", mini.addr.port()), config).unwrap();
        assert!(c.is_secure());
        assert_eq!(c.welcome().message(), "implicit TLS ready");
        w!(c.login("alice", "pw")).unwrap();
        let mut back = Vec::new();
        w!(c.get("f", &mut back)).unwrap();
        assert_eq!(sha256_hex(&back), sha256_hex(&random_bytes(300_000, 9)));
        w!(c.put("g", &mut &b"uploaded over TLS"[..])).unwrap();
        w!(c.get("f", &mut Vec::new())).unwrap();
        w!(c.quit()).unwrap();
        let log = mini.finish();
        assert_eq!(
            log.resumed,
            [true, true, true],
            "every data connection resumed the session"
        );
        assert_eq!(log.clean_uploads, [true], "uploads end with close_notify");
        assert_eq!(log.uploads[0], b"uploaded over TLS");
        assert!(
            log.commands.contains(&"PBSZ 0".to_owned()) && log.commands.contains(&"PROT P".to_owned())
        );
    }
}

dialogue! {
    fn plaintext_pipelined_after_234_is_discarded() {
        let certs = TestCerts::generate();
        let mini = MiniTls::start(&certs, Mode::ExplicitWithPipelinedReply);
        let mut c = connect!(&mini.addr.to_string(), explicit(trusting(&certs))).unwrap();
        // The forged 230 must not be read as the reply to USER.
        let reply = w!(c.login("bob", "pw")).unwrap();
        assert_eq!(reply.message(), "logged in");
        w!(c.quit()).unwrap();
        let log = mini.finish();
        assert_eq!(log.commands, ["AUTH TLS", "USER bob", "PASS pw", "QUIT"]);
    }
}

dialogue! {
    fn tls13_on_request_resumes_every_data_connection_with_fresh_tickets() {
        let certs = TestCerts::generate();
        let mini = MiniTls::start(&certs, Mode::Implicit);
        let tls = TlsConfig::builder()
            .without_system_roots()
            .add_ca_pem_file(&certs.ca_pem)
            .unwrap()
            .allow_tls13()
            .build()
            .unwrap();
        let config = Config::default()
            .timeout(Duration::from_secs(10))
            .tls(TlsMode::Implicit, Some(tls));
        let mut c = connect!(&mini.addr.to_string(), config).unwrap();
        w!(c.login("alice", "pw")).unwrap();
        for i in 0..3 {
            w!(c.put(format!("up{i}"), &mut &b"data"[..])).unwrap();
            w!(c.get("f", &mut Vec::new())).unwrap();
        }
        w!(c.quit()).unwrap();
        let log = mini.finish();
        assert_eq!(log.resumed, [true; 6], "a ticket for every data connection");
    }
}

#[cfg(feature = "tokio")]
#[test]
fn the_async_client_returns_to_clear_after_ccc() {
    let certs = TestCerts::generate();
    let mini = MiniTls::start(&certs, Mode::Explicit);
    let rt = crate::driver::asynchronous::runtime();
    rt.block_on(async {
        let mut c =
            ftpkit::AsyncClient::connect_with(&mini.addr.to_string(), explicit(trusting(&certs)))
                .await
                .unwrap();
        assert!(c.is_secure());
        c.ccc().await.unwrap();
        assert!(!c.is_secure());
        // The server's reply now comes in clear, after both close_notify.
        assert_eq!(c.sendcmd("TYPE I").await.unwrap().message(), "ok");
        assert!(matches!(
            c.login("user", "pw").await,
            Err(Error::InvalidInput(InvalidInput::CleartextCredentials))
        ));
    });
    let log = mini.finish();
    assert!(
        log.commands.windows(2).any(|w| w == ["CCC", "TYPE I"]),
        "{:?}",
        log.commands
    );
    assert!(!log.commands.iter().any(|l| l.starts_with("PASS")));
}
