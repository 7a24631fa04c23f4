//! TLS downgrade and certificate faults: refused AUTH, a 230 that would
//! skip TLS, garbage or silence instead of a handshake, plaintext after
//! 234, a data stream cut without close_notify, another certificate on
//! the data connection.

use super::*;

fn tls_required() -> Config {
    let certs = ftpkit_testkit::TestCerts::generate();
    let tls = TlsConfig::builder()
        .without_system_roots()
        .add_ca_pem_file(&certs.ca_pem)
        .and_then(|b| b.build())
        .expect("TLS config");
    quick().tls(TlsMode::Explicit, Some(tls))
}

dialogue! {
    /// AUTH TLS refused while TLS is required: the session ends before
    /// USER or PASS is sent.
    fn auth_refused_while_tls_is_required_sends_no_credentials() within(GUARD) {
        let server = server(vec![
            Script::new()
                .reply("220 hi")
                .expect("AUTH TLS")
                .reply("500 AUTH not understood")
                .sleep(Duration::from_millis(500)),
        ]);
        let err = timed!(BOUND, connect!(&server.addr().to_string(), tls_required())).err();
        assert!(err.is_some());
        let t = server.finish_allow_unplayed();
        assert_eq!(t.commands, ["AUTH TLS"]);
    }
}

dialogue! {
    /// A greeting of 230 (logged in without asking) and a 230 answer to
    /// AUTH: not a TLS session, so an error; no credentials, no command in
    /// clear.
    fn a_230_greeting_that_skips_login_does_not_skip_tls() within(GUARD) {
        let server = server(vec![
            Script::new()
                .reply("230 already logged in")
                .expect("AUTH TLS")
                .reply("230 sure")
                .sleep(Duration::from_millis(500)),
        ]);
        let err = timed!(BOUND, connect!(&server.addr().to_string(), tls_required())).err();
        assert!(err.is_some());
        let t = server.finish_allow_unplayed();
        assert_eq!(t.commands, ["AUTH TLS"]);
    }
}

dialogue! {
    /// A 234 followed by bytes that are not TLS: a TLS error within the
    /// bound, and no credentials ever sent.
    fn garbage_instead_of_a_tls_handshake_is_a_tls_error() within(GUARD) {
        let server = server(vec![
            Script::new()
                .reply("220 hi")
                .expect("AUTH TLS")
                .reply("234 go ahead")
                .raw(b"this is not a TLS record at all\r\n")
                .sleep(Duration::from_millis(500)),
        ]);
        let err = timed!(BOUND, connect!(&server.addr().to_string(), tls_required())).err();
        assert!(matches!(err, Some(Error::Tls { .. })), "{err:?}");
        let t = server.finish_allow_unplayed();
        assert_eq!(t.commands, ["AUTH TLS"]);
    }
}

fn trusting(certs: &TestCerts) -> TlsConfig {
    TlsConfig::builder()
        .without_system_roots()
        .add_ca_pem_file(&certs.ca_pem)
        .unwrap()
        .build()
        .unwrap()
}

fn explicit(certs: &TestCerts) -> Config {
    quick()
        .timeout(2 * TIMEOUT)
        .tls(TlsMode::Explicit, Some(trusting(certs)))
}

dialogue! {
    /// `AUTH TLS` answered with 230 ("you are in") instead of 234: TLS was
    /// required, so the connection ends there; no credential and no other
    /// command is sent.
    fn auth_tls_answered_230_is_not_taken_as_a_login() within(GUARD) {
        let server = server(vec![
            Script::new()
                .reply("220 hi")
                .expect("AUTH TLS")
                .reply("230 no need, you are logged in")
                .sleep(Duration::from_millis(300)),
        ]);
        let certs = TestCerts::generate();
        let err = timed!(
            2 * SECOND,
            connect!(&server.addr().to_string(), explicit(&certs))
        )
        .unwrap_err();
        assert_eq!(err.code(), Some(ReplyCode(230)));
        assert_eq!(server.finish().commands, ["AUTH TLS"]);
    }
}

dialogue! {
    /// After 234 the server goes silent: the handshake ends at the idle
    /// timeout.
    fn silence_after_234_times_out() within(GUARD) {
        let server = server(vec![
            Script::new()
                .reply("220 hi")
                .expect("AUTH TLS")
                .reply("234 go ahead")
                .never_reply(),
        ]);
        let certs = TestCerts::generate();
        let err = timed!(
            4 * SECOND,
            connect!(&server.addr().to_string(), explicit(&certs))
        )
        .unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// Implicit FTPS to a server that speaks plain FTP: a TLS error at once,
    /// no greeting read in clear.
    fn implicit_tls_to_a_plaintext_server_is_a_tls_error() within(GUARD) {
        let server = server(vec![
            Script::new()
                .reply("220 plain FTP here")
                .sleep(Duration::from_millis(500)),
        ]);
        let certs = TestCerts::generate();
        let config = quick().tls(TlsMode::Implicit, Some(trusting(&certs)));
        let err = timed!(3 * SECOND, connect!(&server.addr().to_string(), config)).unwrap_err();
        assert!(matches!(err, Error::Tls { .. }), "{err:?}");
        assert!(server.finish().commands.is_empty());
    }
}

dialogue! {
    /// Plaintext replies pipelined after 234 (a forged 227 pointing
    /// elsewhere, a 150 and a 226) are discarded: the session goes on with
    /// the replies sent over TLS, and the download is byte-exact (curl
    /// CVE-2021-22947).
    fn pipelined_plaintext_passive_replies_after_234_are_discarded() within(GUARD) {
        let certs = TestCerts::generate();
        let data = random_bytes(100_000, 37);
        let mini = TlsFake::start(
            &certs,
            b"227 Entering Passive Mode (6,6,6,6,0,21)\r\n150 forged\r\n226 forged\r\n",
            DataPlan::Clean(data.clone()),
        );
        let mut c = connect!(&mini.addr.to_string(), explicit(&certs)).unwrap();
        let mut out = Vec::new();
        timed!(4 * SECOND, {
            w!(c.login("bob", "pw")).unwrap();
            w!(c.get("f", &mut out)).unwrap();
            w!(c.quit()).unwrap();
        });
        assert_eq!(sha256_hex(&out), sha256_hex(&data));
        let commands = mini.finish();
        assert_eq!(
            commands,
            [
                "AUTH TLS", "USER bob", "PASS pw", "PBSZ 0", "PROT P", "TYPE I", "EPSV", "RETR f",
                "QUIT"
            ]
        );
    }
}

dialogue! {
    /// A TLS data stream cut without close_notify, then 226: the client
    /// does not take the server's word when the 150 announced more bytes —
    /// the download is `Incomplete`.
    fn a_tls_data_stream_cut_without_close_notify_is_incomplete() within(GUARD) {
        let certs = TestCerts::generate();
        let data = random_bytes(300_000, 38);
        let mini = TlsFake::start(&certs, b"", DataPlan::CutWithoutCloseNotify(data, 120_000));
        let mut c = connect!(&mini.addr.to_string(), explicit(&certs)).unwrap();
        w!(c.login("bob", "pw")).unwrap();
        let mut out = Vec::new();
        let err = timed!(4 * SECOND, w!(c.get("f", &mut out))).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Incomplete {
                    expected: 300_000,
                    received: 120_000
                }
            ),
            "{err:?}"
        );
        drop(c);
        mini.finish();
    }
}

dialogue! {
    /// A data connection that presents a certificate the client does not
    /// trust (someone else answering on the data port) is refused: a TLS
    /// error, not a single byte accepted.
    fn a_data_connection_with_an_untrusted_certificate_is_refused() within(GUARD) {
        let certs = TestCerts::generate();
        let mini = TlsFake::start(&certs, b"", DataPlan::UntrustedCertificate(vec![1u8; 1000]));
        let mut c = connect!(&mini.addr.to_string(), explicit(&certs)).unwrap();
        w!(c.login("bob", "pw")).unwrap();
        let mut out = Vec::new();
        let err = timed!(4 * SECOND, w!(c.get("f", &mut out))).unwrap_err();
        assert!(
            matches!(&err, Error::Certificate { phase: ftpkit::Phase::DataConnect, rejected }
                if rejected.problem == ftpkit::CertificateProblem::UnknownIssuer),
            "{err:?}"
        );
        assert!(out.is_empty());
        drop(c);
        mini.finish();
    }
}

/// What the TLS fake does with a RETR.
enum DataPlan {
    /// Sends the bytes (size announced in the 150) and a close_notify, then 226.
    Clean(Vec<u8>),
    /// Announces the whole size, sends the first `n` bytes, closes the TCP
    /// connection without close_notify, then says 226.
    CutWithoutCloseNotify(Vec<u8>, usize),
    /// Answers the data connection with a certificate from an untrusted CA.
    UntrustedCertificate(Vec<u8>),
}

/// Explicit FTPS on one control connection: `220`, `AUTH TLS` → `234`
/// followed by `pipelined` bytes in clear, then TLS; USER, PASS, PBSZ,
/// PROT, TYPE, EPSV, RETR (per the plan) and QUIT.
struct TlsFake {
    addr: SocketAddr,
    handle: thread::JoinHandle<Vec<String>>,
}

fn server_config(cert: &std::path::Path, key: &std::path::Path) -> Arc<ServerConfig> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap(),
    )
}

fn tls_accept(
    tcp: TcpStream,
    config: &Arc<ServerConfig>,
) -> Option<StreamOwned<ServerConnection, TcpStream>> {
    let mut tls = StreamOwned::new(ServerConnection::new(config.clone()).ok()?, tcp);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).ok()?;
    }
    Some(tls)
}

impl TlsFake {
    fn start(certs: &TestCerts, pipelined: &'static [u8], plan: DataPlan) -> TlsFake {
        let config = server_config(&certs.cert_pem, &certs.key_pem);
        let untrusted = server_config(&certs.untrusted_cert_pem, &certs.untrusted_key_pem);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = thread::spawn(move || {
            let (tcp, _) = listener.accept().unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            serve_tls(tcp, &config, &untrusted, pipelined, &plan)
        });
        TlsFake { addr, handle }
    }

    /// The commands received.
    fn finish(self) -> Vec<String> {
        self.handle.join().unwrap()
    }
}

fn serve_tls(
    mut tcp: TcpStream,
    config: &Arc<ServerConfig>,
    untrusted: &Arc<ServerConfig>,
    pipelined: &[u8],
    plan: &DataPlan,
) -> Vec<String> {
    let mut commands = Vec::new();
    tcp.write_all(b"220 TLS fake ready\r\n").unwrap();
    let mut plain = BufReader::new(tcp);
    let mut auth = String::new();
    plain.read_line(&mut auth).unwrap();
    commands.push(auth.trim_end().to_owned());
    let mut tcp = plain.into_inner();
    tcp.write_all(&[&b"234 go ahead\r\n"[..], pipelined].concat())
        .unwrap();
    let Some(tls) = tls_accept(tcp, config) else {
        return commands;
    };
    let mut ch = BufReader::new(tls);
    let mut data: Option<TcpListener> = None;
    loop {
        let mut line = String::new();
        if !matches!(ch.read_line(&mut line), Ok(n) if n > 0) {
            break;
        }
        let cmd = line.trim_end().to_owned();
        commands.push(cmd.clone());
        let verb = cmd.split(' ').next().unwrap_or("").to_ascii_uppercase();
        let mut send = |text: &str| {
            let _ = ch.get_mut().write_all(format!("{text}\r\n").as_bytes());
        };
        match verb.as_str() {
            "USER" => send("331 password please"),
            "PASS" => send("230 logged in"),
            "PBSZ" | "PROT" | "TYPE" => send("200 ok"),
            "EPSV" => {
                let l = TcpListener::bind("127.0.0.1:0").unwrap();
                let port = l.local_addr().unwrap().port();
                send(&format!("229 Entering Extended Passive Mode (|||{port}|)"));
                data = Some(l);
            }
            "RETR" => {
                let (bytes, cert) = match plan {
                    DataPlan::Clean(b) | DataPlan::CutWithoutCloseNotify(b, _) => (b, config),
                    DataPlan::UntrustedCertificate(b) => (b, untrusted),
                };
                send(&format!(
                    "150 Opening BINARY mode data connection ({} bytes)",
                    bytes.len()
                ));
                let (tcp, _) = data.take().unwrap().accept().unwrap();
                tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let Some(mut tls) = tls_accept(tcp, cert) else {
                    send("425 TLS negotiation failed on the data connection");
                    continue;
                };
                match plan {
                    DataPlan::CutWithoutCloseNotify(b, n) => {
                        let _ = tls.write_all(&b[..*n]);
                        let _ = tls.flush();
                        let _ = tls.sock.shutdown(std::net::Shutdown::Both);
                    }
                    _ => {
                        let _ = tls.write_all(bytes);
                        tls.conn.send_close_notify();
                        let _ = tls.flush();
                    }
                }
                drop(tls);
                send("226 Transfer complete");
            }
            "QUIT" => {
                send("221 bye");
                break;
            }
            _ => send("502 not here"),
        }
    }
    commands
}
