//! More of the hostile-server suite (beside `hostile`): what a malicious or
//! broken server, or an attacker on the path, can throw at the blocking
//! client, and the safe outcome of each — reply limits from the config,
//! unfinished and out-of-step replies, terminal escapes, address games,
//! active-mode intruders, resets at the edges of a transfer, a stalled
//! upload, and TLS faults that need a real TLS server (plaintext pipelined
//! after 234, a TLS data stream cut without close_notify, another
//! certificate on the data connection). Every scenario states its outcome
//! in its doc comment and asserts it with a time bound: with the 1-second
//! idle and connect timeouts used here, nothing takes more than a few
//! seconds.

use std::{
    io::{BufRead, BufReader, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    sync::Arc,
    thread,
    time::{Duration, Instant},
};

use ftpkit::{
    Client, Config, DataMode, Error, Name, Phase, ProtocolError, ReplyCode, TlsConfig, TlsMode,
    proto::ReplyLimits,
};
use ftpkit_testkit::{DataFault, FakeServer, Script, TestCerts, random_bytes, sha256_hex};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

/// Idle and connect timeouts of every client here.
const TIMEOUT: Duration = Duration::from_secs(1);

/// A client config with the short timeouts of this suite.
fn quick() -> Config {
    Config::default().timeout(TIMEOUT).connect_timeout(TIMEOUT)
}

/// A fake server whose own waits are bounded by 5 seconds.
fn server(scripts: Vec<Script>) -> FakeServer {
    FakeServer::with_timeout(scripts, Duration::from_secs(5))
}

/// Runs `f` and asserts it returned within `bound`.
fn within<T>(bound: Duration, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    let took = started.elapsed();
    assert!(took < bound, "took {took:?}, the bound is {bound:?}");
    out
}

/// One scripted connection and a client logged in on it.
fn logged_in(script: Script) -> (FakeServer, Client) {
    logged_in_with(script, quick())
}

fn logged_in_with(script: Script, config: Config) -> (FakeServer, Client) {
    let server = server(vec![Script::login_anonymous().then(script)]);
    let mut client = Client::connect_with(&server.addr().to_string(), config).unwrap();
    client.login_anonymous().unwrap();
    (server, client)
}

fn binary_epsv() -> Script {
    Script::new()
        .expect("TYPE I")
        .reply("200 binary")
        .expect("EPSV")
        .epsv()
}

/// A loopback port where nothing listens.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const SECOND: Duration = Duration::from_secs(1);

// ----- malformed and oversized replies ----------------------------------

/// Limits set in `Config::reply_limits` are the ones enforced: a multi-line
/// reply of short lines over `max_reply` is refused.
#[test]
fn configured_reply_limits_are_enforced() {
    let limits = ReplyLimits {
        max_line: 64,
        max_reply: 256,
    };
    let lines: String = (0..40).map(|i| format!("211-feature {i}\r\n")).collect();
    let (server, mut client) = logged_in_with(
        Script::new()
            .expect("FEAT")
            .raw(format!("{lines}211 End\r\n").as_bytes()),
        quick().reply_limits(limits),
    );
    let err = within(2 * SECOND, || client.features().map(|_| ()).unwrap_err());
    assert!(
        matches!(
            err,
            Error::Protocol(ProtocolError::ReplyTooLong { limit: 256 })
        ),
        "{err:?}"
    );
    server.finish_allow_unplayed();
}

/// A multi-line reply whose last line never comes times out; the lines
/// already read are not taken as a reply.
#[test]
fn an_unfinished_multiline_reply_times_out() {
    let (server, mut client) = logged_in(
        Script::new()
            .expect("FEAT")
            .raw(b"211-Features:\r\n MDTM\r\n SIZE\r\n")
            .never_reply(),
    );
    let err = within(3 * SECOND, || client.features().map(|_| ()).unwrap_err());
    assert!(err.is_timeout(), "{err:?}");
    assert!(matches!(client.noop(), Err(Error::Unusable)));
    server.finish_allow_unplayed();
}

/// Non-UTF-8 bytes and terminal escapes in replies are kept as bytes in a
/// returned `Name`, and escaped wherever they are shown: in `Name::escaped`
/// and in error messages.
#[test]
fn non_utf8_and_escape_sequences_in_replies_are_kept_and_escaped() {
    let (server, mut client) = logged_in(
        Script::new()
            .expect("PWD")
            .raw(b"257 \"/caf\xe9\x1b[2J\" is current\r\n")
            .expect("CWD x")
            .raw(b"550 \x1b]0;owned\x07 no such \xff directory\r\n"),
    );
    let (dir, err) = within(2 * SECOND, || {
        (client.pwd().unwrap(), client.cwd("x").unwrap_err())
    });
    assert_eq!(dir.as_bytes(), b"/caf\xe9\x1b[2J");
    assert!(!dir.escaped().contains('\x1b'), "{}", dir.escaped());
    let shown = err.to_string();
    assert!(
        !shown.contains(['\x1b', '\x07']),
        "control characters in {shown:?}"
    );
    assert_eq!(err.code(), Some(ReplyCode(550)));
    server.finish();
}

/// `120` (ready soon) is waited through a few times; a server that floods
/// `120` replies (each a complete reply that restarts the idle timeout) is
/// refused after `MAX_GREETING_WAITS` of them instead of keeping the
/// client forever.
#[test]
fn a_flood_of_120_greetings_is_refused() {
    let server = server(vec![Script::new().endless_replies("120 ready in a minute")]);
    let err = within(2 * SECOND, || {
        Client::connect_with(&server.addr().to_string(), quick()).unwrap_err()
    });
    assert_eq!(err.code(), Some(ReplyCode(120)));
    assert!(server.finish_allow_unplayed().commands.is_empty());
}

// ----- address games -------------------------------------------------------

/// A 229 naming a port where nothing listens fails to connect, within the
/// connect timeout, and the transfer command is never sent.
#[test]
fn a_229_port_where_nothing_listens_fails_to_connect() {
    let port = closed_port();
    let (server, mut client) = logged_in(
        Script::new()
            .expect("TYPE I")
            .reply("200 ok")
            .expect("EPSV")
            .reply(&format!("229 Entering Extended Passive Mode (|||{port}|)")),
    );
    let err = within(3 * SECOND, || client.get("f", &mut Vec::new()).unwrap_err());
    assert!(
        matches!(
            err,
            Error::Io {
                phase: Phase::DataConnect,
                ..
            }
        ),
        "{err:?}"
    );
    let t = server.finish();
    assert!(!t.commands.iter().any(|c| c.starts_with("RETR")));
}

/// A 229 that names a network address (`|1|10.0.0.1|port|`) is not the
/// form RFC 2428 gives to EPSV replies: it is refused, never followed.
#[test]
fn a_229_naming_an_address_is_refused() {
    let (server, mut client) = logged_in(
        Script::new()
            .expect("TYPE I")
            .reply("200 ok")
            .expect("EPSV")
            .reply("229 Entering Extended Passive Mode (|1|10.0.0.1|2121|)"),
    );
    let err = within(2 * SECOND, || client.get("f", &mut Vec::new()).unwrap_err());
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    let t = server.finish();
    assert_eq!(t.commands.last().map(String::as_str), Some("EPSV"));
}

/// A 227 with port 0 names no usable port: a protocol error, as for 229,
/// and the transfer command is never sent.
#[test]
fn a_227_with_port_zero_is_refused() {
    let (server, mut client) = logged_in_with(
        Script::new()
            .expect("TYPE I")
            .reply("200 ok")
            .expect("PASV")
            .reply("227 Entering Passive Mode (127,0,0,1,0,0)"),
        quick().use_epsv(false),
    );
    let err = within(2 * SECOND, || client.get("f", &mut Vec::new()).unwrap_err());
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    let t = server.finish();
    assert_eq!(t.commands.last().map(String::as_str), Some("PASV"));
}

/// A 227 naming another host is ignored for uploads too: the bytes go to
/// the control peer, intact.
#[test]
fn a_227_naming_another_host_is_ignored_for_uploads() {
    let data = random_bytes(200_000, 31);
    let (server, mut client) = logged_in_with(
        Script::new()
            .expect("TYPE I")
            .reply("200 ok")
            .expect("PASV")
            .pasv_reply_addr([203, 0, 113, 7])
            .expect("STOR up")
            .reply("150 go")
            .recv_data()
            .reply("226 stored"),
        quick().use_epsv(false),
    );
    let sent = within(3 * SECOND, || {
        client.put("up", &mut data.as_slice()).unwrap()
    });
    assert_eq!(sent, data.len() as u64);
    assert_eq!(sha256_hex(&server.finish().uploads[0]), sha256_hex(&data));
}

/// When the caller does trust the 227 address, an unreachable one
/// (TEST-NET 192.0.2.1) fails within the connect timeout: trust never
/// means an unbounded wait.
#[test]
fn a_trusted_227_to_an_unreachable_host_fails_within_the_connect_timeout() {
    let (server, mut client) = logged_in_with(
        Script::new()
            .expect("TYPE I")
            .reply("200 ok")
            .expect("PASV")
            .pasv_reply_addr([192, 0, 2, 1]),
        quick().use_epsv(false).trust_pasv_address(true),
    );
    let err = within(3 * SECOND, || client.get("f", &mut Vec::new()).unwrap_err());
    assert!(
        matches!(
            err,
            Error::Io {
                phase: Phase::DataConnect,
                ..
            }
        ),
        "{err:?}"
    );
    server.finish_allow_unplayed();
}

/// In active mode, a third party that connects to the data port while the
/// server never does is refused; the transfer fails within the idle
/// timeout and none of the intruder's bytes are delivered.
#[test]
fn an_active_mode_intruder_alone_never_becomes_the_data_connection() {
    let server = server(vec![
        Script::login_anonymous()
            .expect("TYPE I")
            .reply("200 ok")
            .expect_prefix("PORT ")
            .active()
            .expect("RETR f")
            .intrude_from_other_host(b"injected by a third party")
            .reply("150 connecting")
            .never_reply(),
    ]);
    let mut client =
        Client::connect_with(&server.addr().to_string(), quick().mode(DataMode::Active)).unwrap();
    client.login_anonymous().unwrap();
    let mut out = Vec::new();
    let err = within(3 * SECOND, || client.get("f", &mut out).unwrap_err());
    assert!(
        matches!(
            err,
            Error::Io {
                phase: Phase::DataAccept,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(out.is_empty(), "intruder bytes delivered: {out:?}");
    server.finish_allow_unplayed();
}

/// In active mode, an upload is not handed to a third party that connects
/// first: the server's own connection receives every byte.
#[test]
fn an_active_mode_intruder_does_not_receive_an_upload() {
    let data = random_bytes(100_000, 32);
    let server = server(vec![
        Script::login_anonymous()
            .expect("TYPE I")
            .reply("200 ok")
            .expect_prefix("PORT ")
            .active()
            .expect("STOR up")
            .intrude_from_other_host(b"")
            .reply("150 connecting")
            .recv_data()
            .reply("226 stored"),
    ]);
    let mut client =
        Client::connect_with(&server.addr().to_string(), quick().mode(DataMode::Active)).unwrap();
    client.login_anonymous().unwrap();
    within(3 * SECOND, || {
        client.put("up", &mut data.as_slice()).unwrap()
    });
    assert_eq!(sha256_hex(&server.finish().uploads[0]), sha256_hex(&data));
}

// ----- transfer faults -----------------------------------------------------

/// A data connection reset before its first byte is a data error, never
/// an empty success.
#[test]
fn a_reset_at_byte_zero_is_an_error_not_an_empty_file() {
    let (server, mut client) = logged_in(
        binary_epsv()
            .expect("RETR f")
            .reply("150 Opening BINARY mode data connection (1000 bytes)")
            .send_data_then(&[1u8; 1000], DataFault::ResetAt(0))
            .reply("426 Connection reset"),
    );
    let err = within(3 * SECOND, || client.get("f", &mut Vec::new()).unwrap_err());
    assert!(
        matches!(
            err,
            Error::Io {
                phase: Phase::Data,
                ..
            } | Error::Reply { .. }
                | Error::Incomplete { received: 0, .. }
        ),
        "{err:?}"
    );
    server.finish_allow_unplayed();
}

/// A reset after the last byte, followed by 226: either every byte arrived
/// (and the download succeeds with the right hash) or it is an error; a
/// silently short file is impossible.
#[test]
fn a_reset_after_the_last_byte_never_gives_a_short_success() {
    let data = random_bytes(300_000, 34);
    let (server, mut client) = logged_in(
        binary_epsv()
            .expect("RETR f")
            .reply("150 Opening BINARY mode data connection (300000 bytes)")
            .send_data_then(&data, DataFault::ResetAt(data.len()))
            .reply("226 done"),
    );
    let mut out = Vec::new();
    match within(3 * SECOND, || client.get("f", &mut out)) {
        Ok(n) => {
            assert_eq!(n, data.len() as u64);
            assert_eq!(sha256_hex(&out), sha256_hex(&data));
        }
        Err(e) => assert!(
            matches!(e, Error::Io { .. } | Error::Incomplete { .. }),
            "{e:?}"
        ),
    }
    server.finish_allow_unplayed();
}

/// A server that stops reading an upload (and never replies) fails the
/// upload within a few idle timeouts, and the server records that it was
/// not a clean end.
#[test]
fn a_stalled_upload_times_out() {
    let data = vec![5u8; 32 << 20];
    let (server, mut client) = logged_in(
        binary_epsv()
            .expect("STOR big")
            .reply("150 go")
            .recv_data_then(DataFault::StallAt(64 * 1024))
            .never_reply(),
    );
    let err = within(6 * SECOND, || {
        client.put("big", &mut data.as_slice()).unwrap_err()
    });
    assert!(
        err.is_timeout() || matches!(err, Error::Io { .. } | Error::Unusable),
        "{err:?}"
    );
    drop(client);
    let t = server.finish_allow_unplayed();
    assert!(t.uploads.first().is_none_or(|u| u.len() <= 64 * 1024));
}

// ----- TLS downgrade and certificate faults ----------------------------------

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

/// `AUTH TLS` answered with 230 ("you are in") instead of 234: TLS was
/// required, so the connection ends there; no credential and no other
/// command is sent.
#[test]
fn auth_tls_answered_230_is_not_taken_as_a_login() {
    let server = server(vec![
        Script::new()
            .reply("220 hi")
            .expect("AUTH TLS")
            .reply("230 no need, you are logged in")
            .sleep(Duration::from_millis(300)),
    ]);
    let certs = TestCerts::generate();
    let err = within(2 * SECOND, || {
        Client::connect_with(&server.addr().to_string(), explicit(&certs)).unwrap_err()
    });
    assert_eq!(err.code(), Some(ReplyCode(230)));
    assert_eq!(server.finish().commands, ["AUTH TLS"]);
}

/// After 234 the server goes silent: the handshake ends at the idle
/// timeout.
#[test]
fn silence_after_234_times_out() {
    let server = server(vec![
        Script::new()
            .reply("220 hi")
            .expect("AUTH TLS")
            .reply("234 go ahead")
            .never_reply(),
    ]);
    let certs = TestCerts::generate();
    let err = within(4 * SECOND, || {
        Client::connect_with(&server.addr().to_string(), explicit(&certs)).unwrap_err()
    });
    assert!(err.is_timeout(), "{err:?}");
    server.finish_allow_unplayed();
}

/// Implicit FTPS to a server that speaks plain FTP: a TLS error at once,
/// no greeting read in clear.
#[test]
fn implicit_tls_to_a_plaintext_server_is_a_tls_error() {
    let server = server(vec![
        Script::new()
            .reply("220 plain FTP here")
            .sleep(Duration::from_millis(500)),
    ]);
    let certs = TestCerts::generate();
    let config = quick().tls(TlsMode::Implicit, Some(trusting(&certs)));
    let err = within(3 * SECOND, || {
        Client::connect_with(&server.addr().to_string(), config).unwrap_err()
    });
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    assert!(server.finish().commands.is_empty());
}

/// Plaintext replies pipelined after 234 (a forged 227 pointing elsewhere,
/// a 150 and a 226) are discarded: the session goes on with the replies
/// sent over TLS, and the download is byte-exact (curl CVE-2021-22947).
#[test]
fn pipelined_plaintext_passive_replies_after_234_are_discarded() {
    let certs = TestCerts::generate();
    let data = random_bytes(100_000, 37);
    let mini = TlsFake::start(
        &certs,
        b"227 Entering Passive Mode (6,6,6,6,0,21)\r\n150 forged\r\n226 forged\r\n",
        DataPlan::Clean(data.clone()),
    );
    let mut c = Client::connect_with(&mini.addr.to_string(), explicit(&certs)).unwrap();
    let mut out = Vec::new();
    within(4 * SECOND, || {
        c.login("bob", "pw").unwrap();
        c.get("f", &mut out).unwrap();
        c.quit().unwrap();
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

/// A TLS data stream cut without close_notify, then 226: the client does
/// not take the server's word when the 150 announced more bytes — the
/// download is `Incomplete`.
#[test]
fn a_tls_data_stream_cut_without_close_notify_is_incomplete() {
    let certs = TestCerts::generate();
    let data = random_bytes(300_000, 38);
    let mini = TlsFake::start(&certs, b"", DataPlan::CutWithoutCloseNotify(data, 120_000));
    let mut c = Client::connect_with(&mini.addr.to_string(), explicit(&certs)).unwrap();
    c.login("bob", "pw").unwrap();
    let mut out = Vec::new();
    let err = within(4 * SECOND, || c.get("f", &mut out).unwrap_err());
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

/// A data connection that presents a certificate the client does not trust
/// (someone else answering on the data port) is refused: a TLS error,
/// not a single byte accepted.
#[test]
fn a_data_connection_with_an_untrusted_certificate_is_refused() {
    let certs = TestCerts::generate();
    let mini = TlsFake::start(&certs, b"", DataPlan::UntrustedCertificate(vec![1u8; 1000]));
    let mut c = Client::connect_with(&mini.addr.to_string(), explicit(&certs)).unwrap();
    c.login("bob", "pw").unwrap();
    let mut out = Vec::new();
    let err = within(4 * SECOND, || c.get("f", &mut out).unwrap_err());
    assert!(
        matches!(&err, Error::Certificate { phase: ftpkit::Phase::DataConnect, rejected }
            if rejected.problem == ftpkit::CertificateProblem::UnknownIssuer),
        "{err:?}"
    );
    assert!(out.is_empty());
    drop(c);
    mini.finish();
}

// ----- listings with hostile names -------------------------------------------

/// The hostile names a listing can carry. `-R` stays inside a directory,
/// so it is a safe component (hand it to another program after `--`).
const HOSTILE_NAMES: [&str; 7] = ["../x", "/etc/x", "a/b", "-R", "evil\x1b[2J", "..", "ok.txt"];

/// NLST names are returned exactly as sent, and `Name::safe_component`
/// flags every one that could leave a directory or drive a terminal;
/// `Name::escaped` shows them without control characters.
#[test]
fn nlst_returns_traversal_names_as_sent_and_flags_them() {
    let body: String = HOSTILE_NAMES.iter().map(|n| format!("{n}\r\n")).collect();
    let (server, mut client) = logged_in(
        Script::new()
            .expect("TYPE A")
            .reply("200 ok")
            .expect("EPSV")
            .epsv()
            .expect("NLST")
            .reply("150 here")
            .send_data(body.as_bytes())
            .reply("226 done"),
    );
    let names = within(2 * SECOND, || client.nlst("").unwrap());
    assert_eq!(names, HOSTILE_NAMES.map(Name::from));
    let safe: Vec<bool> = names.iter().map(|n| n.safe_component().is_some()).collect();
    assert_eq!(safe, [false, false, false, true, false, false, true]);
    assert!(names.iter().all(|n| !n.escaped().contains('\x1b')));
    server.finish();
}

/// A 257 reply naming a traversal path is returned as sent by `pwd`/`mkd`;
/// it is a remote path, never a safe local component.
#[test]
fn a_257_with_a_traversal_path_is_returned_as_sent_and_flagged() {
    let (server, mut client) = logged_in(
        Script::new()
            .expect("MKD new")
            .reply("257 \"../../../etc/cron.d\" created"),
    );
    let made = within(2 * SECOND, || client.mkd("new").unwrap());
    assert_eq!(made, "../../../etc/cron.d");
    assert_eq!(made.safe_component(), None);
    server.finish();
}

// ----- a small FTPS server for the TLS data scenarios -------------------------

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
