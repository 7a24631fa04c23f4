//! Which server certificates are trusted, and what a refusal says: every
//! shape of certificate servers really have (self-signed CA:TRUE as
//! `openssl req -x509` makes it, self-signed CA:FALSE, CA-issued, expired,
//! not yet valid, for another name), pins, the known-hosts store, client
//! certificates, and the TLS 1.3 to 1.2 fallback for data connections.
//! Each case checks the outcome and the text of the error, on both
//! drivers.

use std::{sync::Arc, time::Duration};

use ftpkit::{
    CertificateProblem, Client, Config, Error, KnownHosts, TlsConfig, TlsMode, TlsVersion,
};
use ftpkit_testkit::{Shape, TestCerts, UnftpServer, random_bytes};
use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

use crate::tls::{MiniOptions, MiniTls, Mode, server_config};

fn explicit(tls: TlsConfig) -> Config {
    Config::default()
        .timeout(Duration::from_secs(10))
        .tls(TlsMode::Explicit, Some(tls))
}

/// Trusts only the certificates in `pem` (no system store).
fn trusting(pem: &std::path::Path) -> TlsConfig {
    TlsConfig::builder()
        .without_system_roots()
        .add_ca_pem_file(pem)
        .unwrap()
        .build()
        .unwrap()
}

/// Connects to a libunftp server presenting `shape`, trusting `tls`, on
/// the driver of the `dialogue!` body it is used in.
macro_rules! connect_to {
    ($shape_server:expr, $tls:expr) => {
        connect!(
            &format!("localhost:{}", $shape_server.addr().port()),
            explicit($tls)
        )
    };
}

/// Asserts a certificate refusal of `problem` whose text names the
/// certificate's fingerprint and subject and contains each of `words`.
fn assert_refused<C>(
    result: ftpkit::Result<C>,
    problem: CertificateProblem,
    fingerprint: &str,
    words: &[&str],
) {
    let err = result.map(|_| ()).unwrap_err();
    let rejected = err
        .certificate_rejected()
        .unwrap_or_else(|| panic!("expected a certificate refusal, got {err:?}"));
    assert_eq!(rejected.problem, problem, "{err}");
    assert_eq!(rejected.certificate.sha256, fingerprint);
    let text = err.to_string();
    assert!(text.contains(fingerprint), "{text}");
    assert!(text.contains("subject \"CN="), "{text}");
    assert!(text.contains("valid "), "{text}");
    for word in words {
        assert!(text.contains(word), "{word:?} missing from: {text}");
    }
}

/// Logs in and moves a file both ways over PROT P, on the driver of the
/// `dialogue!` body it is used in.
macro_rules! round_trip {
    ($c:expr) => {{
        let mut c = $c;
        w!(c.login("u", "p")).unwrap();
        let data = random_bytes(100_000, 3);
        w!(c.put("t.bin", &mut &data[..])).unwrap();
        let mut back = Vec::new();
        w!(c.get("t.bin", &mut back)).unwrap();
        assert_eq!(back, data);
        w!(c.quit()).unwrap();
    }};
}

dialogue! {
    fn a_ca_true_self_signed_certificate_given_as_cacert_is_trusted() {
        let certs = TestCerts::generate();
        let shape = certs.make(Shape::SelfSignedCa);
        let server = UnftpServer::start_with_tls_files(&shape.cert_pem, &shape.key_pem);
        round_trip!(connect_to!(&server, trusting(&shape.cert_pem)).unwrap());
    }
}

dialogue! {
    fn the_exact_certificate_is_still_checked_for_its_name() {
        // Trusted as a file, but presented to a client that connected by a name
        // the certificate does not cover.
        let certs = TestCerts::generate();
        let shape = certs.make(Shape::SelfSignedCa);
        let server = UnftpServer::start_with_tls_files(&shape.cert_pem, &shape.key_pem);
        let result = connect!(
            &format!("127.0.0.2:{}", server.addr().port()),
            explicit(trusting(&shape.cert_pem))
        );
        // 127.0.0.2 reaches loopback on Linux; elsewhere the connection fails.
        if let Err(Error::Io { .. }) = &result {
            return;
        }
        assert_refused(
            result,
            CertificateProblem::NameMismatch,
            &shape.fingerprint,
            &["not valid for \"127.0.0.2\"", "localhost, 127.0.0.1"],
        );
    }
}

dialogue! {
    fn an_expired_certificate_given_as_cacert_is_refused_as_expired() {
        let certs = TestCerts::generate();
        let shape = certs.make(Shape::ExpiredSelfSignedCa);
        let server = UnftpServer::start_with_tls_files(&shape.cert_pem, &shape.key_pem);
        assert_refused(
            connect_to!(&server, trusting(&shape.cert_pem)),
            CertificateProblem::Expired,
            &shape.fingerprint,
            &["expired on 2002-01-01 00:00 UTC"],
        );
    }
}

dialogue! {
    fn a_ca_true_self_signed_certificate_not_named_is_refused_as_self_signed() {
        // No blanket relaxation: CA:TRUE from someone the user did not name.
        let certs = TestCerts::generate();
        let shape = certs.make(Shape::SelfSignedCa);
        let server = UnftpServer::start_with_tls_files(&shape.cert_pem, &shape.key_pem);
        assert_refused(
            connect_to!(&server, trusting(&certs.ca_pem)),
            CertificateProblem::SelfSigned,
            &shape.fingerprint,
            &[
                "self-signed",
                "CN=ftpkit test SelfSignedCa",
                "localhost, 127.0.0.1",
            ],
        );
    }
}

dialogue! {
    fn a_ca_false_self_signed_certificate_is_trusted_when_named_and_refused_otherwise() {
        let certs = TestCerts::generate();
        let shape = certs.make(Shape::SelfSignedLeaf);
        let server = UnftpServer::start_with_tls_files(&shape.cert_pem, &shape.key_pem);
        round_trip!(connect_to!(&server, trusting(&shape.cert_pem)).unwrap());
        assert_refused(
            connect_to!(&server, trusting(&certs.ca_pem)),
            CertificateProblem::SelfSigned,
            &shape.fingerprint,
            &["self-signed"],
        );
    }
}

dialogue! {
    fn a_ca_issued_certificate_is_trusted_through_its_ca_and_refused_without_it() {
        let certs = TestCerts::generate();
        let server = UnftpServer::start_with_tls(&certs);
        round_trip!(connect_to!(&server, trusting(&certs.ca_pem)).unwrap());
        // Trusting only another certificate: the issuer is unknown.
        let other = certs.make(Shape::SelfSignedCa);
        assert_refused(
            connect_to!(&server, trusting(&other.cert_pem)),
            CertificateProblem::UnknownIssuer,
            &certs.fingerprint,
            &["signed by \"CN=ftpkit test CA\"", "not trusted"],
        );
    }
}

dialogue! {
    fn an_expired_ca_issued_certificate_is_refused_as_expired() {
        let certs = TestCerts::generate();
        let shape = certs.make(Shape::Expired);
        let server = UnftpServer::start_with_tls_files(&shape.cert_pem, &shape.key_pem);
        assert_refused(
            connect_to!(&server, trusting(&certs.ca_pem)),
            CertificateProblem::Expired,
            &shape.fingerprint,
            &[
                "expired on 2002-01-01 00:00 UTC",
                "valid 2001-01-01 00:00 UTC",
            ],
        );
    }
}

dialogue! {
    fn a_certificate_not_yet_valid_is_refused_as_such() {
        let certs = TestCerts::generate();
        let shape = certs.make(Shape::NotYetValid);
        let server = UnftpServer::start_with_tls_files(&shape.cert_pem, &shape.key_pem);
        assert_refused(
            connect_to!(&server, trusting(&certs.ca_pem)),
            CertificateProblem::NotYetValid,
            &shape.fingerprint,
            &["not valid before 2090-01-01 00:00 UTC"],
        );
    }
}

dialogue! {
    fn a_certificate_for_another_name_is_refused_with_the_names_it_covers() {
        let certs = TestCerts::generate();
        let server = UnftpServer::start_with_wrong_name_tls(&certs);
        let err = connect_to!(&server, trusting(&certs.ca_pem))
            .map(|_| ())
            .unwrap_err();
        let rejected = err.certificate_rejected().expect("a certificate refusal");
        assert_eq!(rejected.problem, CertificateProblem::NameMismatch);
        assert_eq!(rejected.certificate.names, ["not-this-host.example"]);
        assert!(
            err.to_string()
                .contains("not valid for \"localhost\": it names only [not-this-host.example]"),
            "{err}"
        );
    }
}

dialogue! {
    fn a_wrong_pin_names_both_fingerprints() {
        let certs = TestCerts::generate();
        let server = UnftpServer::start_with_tls(&certs);
        let wrong = TlsConfig::builder()
            .pin_sha256(&"ab".repeat(32))
            .unwrap()
            .build()
            .unwrap();
        assert_refused(
            connect_to!(&server, wrong),
            CertificateProblem::PinMismatch,
            &certs.fingerprint,
            &[&format!("expected SHA-256 {}", "ab".repeat(32))],
        );
    }
}

dialogue! {
    fn a_known_host_record_is_trusted_and_a_changed_certificate_refused_loudly() {
        let certs = TestCerts::generate();
        let shape = certs.make(Shape::SelfSignedCa);
        let server = UnftpServer::start_with_tls_files(&shape.cert_pem, &shape.key_pem);
        let port = server.addr().port();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        let mut store = KnownHosts::open(&path).unwrap();
        store.insert("localhost", port, &shape.fingerprint).unwrap();
        store.save().unwrap();
        // Recorded: trusted although nothing else vouches for it.
        let with_store = |store: KnownHosts| {
            TlsConfig::builder()
                .without_system_roots()
                .add_ca_pem_file(&certs.ca_pem)
                .unwrap()
                .known_hosts(store)
                .build()
                .unwrap()
        };
        round_trip!(connect_to!(&server, with_store(KnownHosts::open(&path).unwrap())).unwrap());
        // Another port of the same host has no record: verified as usual.
        let mut other = KnownHosts::open(&path).unwrap();
        assert!(other.remove("localhost", port));
        other
            .insert("localhost", port + 1, &shape.fingerprint)
            .unwrap();
        assert_refused(
            connect_to!(&server, with_store(other)),
            CertificateProblem::SelfSigned,
            &shape.fingerprint,
            &[],
        );
        // A record that differs: refused, both fingerprints named.
        let mut changed = KnownHosts::open(&path).unwrap();
        changed.insert("localhost", port, &"00".repeat(32)).unwrap();
        assert_refused(
            connect_to!(&server, with_store(changed)),
            CertificateProblem::Changed,
            &shape.fingerprint,
            &["CHANGED", &format!("recorded SHA-256 {}", "00".repeat(32))],
        );
    }
}

/// A server that requires a client certificate signed by the test CA.
fn mutual_tls_server(certs: &TestCerts) -> MiniTls {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(certs.ca_der())).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&certs.cert_pem)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(&certs.key_pem).unwrap();
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .unwrap();
    MiniTls::start_with(MiniOptions {
        config: Arc::new(config),
        mode: Mode::Implicit,
        connections: 2,
        refuse_tls13_data: false,
    })
}

dialogue! {
    fn a_server_requiring_a_client_certificate_accepts_ours_and_refuses_none() {
        let certs = TestCerts::generate();
        let client_cert = certs.make(Shape::Client);
        let mini = mutual_tls_server(&certs);
        let addr = format!("localhost:{}", mini.addr.port());
        let implicit = |tls| {
            Config::default()
                .timeout(Duration::from_secs(10))
                .tls(TlsMode::Implicit, Some(tls))
        };
        // Without a certificate: the server ends the handshake.
        let err = connect!(&addr, implicit(trusting(&certs.ca_pem)))
            .map(|_| ())
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Tls { .. } | Error::Io { .. } | Error::ConnectionClosed(_)
            ),
            "{err:?}"
        );
        // With one: logged in, and data connections present it too.
        let tls = TlsConfig::builder()
            .without_system_roots()
            .add_ca_pem_file(&certs.ca_pem)
            .unwrap()
            .client_cert_pem_files(&client_cert.cert_pem, &client_cert.key_pem)
            .unwrap()
            .build()
            .unwrap();
        let mut c = connect!(&addr, implicit(tls)).unwrap();
        assert_eq!(c.welcome().message(), "implicit TLS ready");
        w!(c.login("alice", "pw")).unwrap();
        let mut back = Vec::new();
        w!(c.get("f", &mut back)).unwrap();
        assert_eq!(back, random_bytes(300_000, 9));
        w!(c.quit()).unwrap();
        let log = mini.finish();
        assert_eq!(log.resumed, [true]);
    }
}

dialogue! {
    fn implicit_ftps_reports_an_untrusted_certificate_the_same_way() {
        let certs = TestCerts::generate();
        let shape = certs.make(Shape::SelfSignedCa);
        let mini = MiniTls::start_with(MiniOptions {
            config: Arc::new(server_config(&shape.cert_pem, &shape.key_pem)),
            mode: Mode::Implicit,
            connections: 2,
            refuse_tls13_data: false,
        });
        let addr = format!("localhost:{}", mini.addr.port());
        let implicit = |tls| {
            Config::default()
                .timeout(Duration::from_secs(10))
                .tls(TlsMode::Implicit, Some(tls))
        };
        assert_refused(
            connect!(&addr, implicit(trusting(&certs.ca_pem))),
            CertificateProblem::SelfSigned,
            &shape.fingerprint,
            &["self-signed"],
        );
        let mut c = connect!(&addr, implicit(trusting(&shape.cert_pem))).unwrap();
        w!(c.login("alice", "pw")).unwrap();
        w!(c.quit()).unwrap();
        mini.finish();
    }
}

dialogue! {
    /// A server that refuses TLS 1.3 data connections, as proftpd does when
    /// the client has no ticket left: a download over TLS 1.3 falls back
    /// once to TLS 1.2, and the client keeps TLS 1.2.
    fn a_refused_tls13_data_connection_falls_back_to_tls12_once() {
        let certs = TestCerts::generate();
        let mini = MiniTls::start_with(MiniOptions {
            config: Arc::new(server_config(&certs.cert_pem, &certs.key_pem)),
            mode: Mode::Implicit,
            connections: 2,
            refuse_tls13_data: true,
        });
        let config = Config::default()
            .timeout(Duration::from_secs(10))
            .tls(TlsMode::Implicit, Some(trusting(&certs.ca_pem)));
        let mut c = connect!(&format!("localhost:{}", mini.addr.port()), config).unwrap();
        w!(c.login("alice", "pw")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("f");
        let mut options = ftpkit::TransferOptions::default();
        options.retry.retries = 0;
        options.verify = ftpkit::Verify::Off;
        w!(c.download("f", &local).options(options.clone()).run()).unwrap();
        assert_eq!(std::fs::read(&local).unwrap(), random_bytes(300_000, 9));
        // The client kept TLS 1.2: the next transfers need no fallback.
        let mut back = Vec::new();
        w!(c.get("f", &mut back)).unwrap();
        w!(c.get("f", &mut back)).unwrap();
        w!(c.quit()).unwrap();
        let log = mini.finish();
        use rustls::ProtocolVersion::{TLSv1_2, TLSv1_3};
        assert_eq!(
            log.versions,
            [Some(TLSv1_3), Some(TLSv1_2), Some(TLSv1_2), Some(TLSv1_2)]
        );
        assert_eq!(log.resumed, [true, true, true, true]);
    }
}

dialogue! {
    fn tls_max_12_never_offers_tls13() {
        let certs = TestCerts::generate();
        let mini = MiniTls::start_with(MiniOptions {
            config: Arc::new(server_config(&certs.cert_pem, &certs.key_pem)),
            mode: Mode::Implicit,
            connections: 1,
            refuse_tls13_data: true,
        });
        let tls = TlsConfig::builder()
            .without_system_roots()
            .add_ca_pem_file(&certs.ca_pem)
            .unwrap()
            .max_version(TlsVersion::Tls12)
            .build()
            .unwrap();
        let config = Config::default()
            .timeout(Duration::from_secs(10))
            .tls(TlsMode::Implicit, Some(tls));
        let mut c = connect!(&format!("localhost:{}", mini.addr.port()), config).unwrap();
        w!(c.login("alice", "pw")).unwrap();
        w!(c.get("f", &mut Vec::new())).unwrap();
        w!(c.quit()).unwrap();
        let log = mini.finish();
        assert_eq!(log.versions, [Some(rustls::ProtocolVersion::TLSv1_2)]);
    }
}
