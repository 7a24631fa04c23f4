//! The `ftpkit` binary and server certificates: the message a refused
//! certificate gets (with the flag that would trust it), `--cacert` with a
//! self-signed certificate, and trust on first use (`ftpkit trust`) with
//! the known-hosts file under a private `XDG_CONFIG_HOME`.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::{
    io::Write,
    path::Path,
    process::{Output, Stdio},
};

use ftpkit_testkit::{Shape, TestCerts, UnftpServer};

/// Runs ftpkit with `config` as its configuration directory, `stdin` as
/// its input.
fn ftpkit(config: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = ftpkit_testkit::command(env!("CARGO_BIN_EXE_ftpkit"))
        .args(["--timeout", "10", "-q"])
        .args(args)
        .env("XDG_CONFIG_HOME", config)
        .env_remove("FTPKIT_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ftpkit");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().expect("ftpkit output")
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_self_signed_certificate_is_explained_and_trusted_with_cacert() {
    let certs = TestCerts::generate();
    let shape = certs.make(Shape::SelfSignedCa);
    let server = UnftpServer::start_with_tls_files(&shape.cert_pem, &shape.key_pem);
    let config = tempfile::tempdir().unwrap();
    let url = format!("ftpes://localhost:{}/", server.addr().port());
    let out = ftpkit(config.path(), &["ls", &url], "");
    assert_eq!(code(&out), 9, "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "one sentence: {err}");
    for word in [
        "the certificate of localhost is self-signed",
        "subject \"CN=ftpkit test SelfSignedCa\"",
        "names [localhost, 127.0.0.1]",
        &format!("--pin-sha256 {}", shape.fingerprint),
        "--cacert FILE",
        "`ftpkit trust`",
    ] {
        assert!(err.contains(word), "{word:?} missing from: {err}");
    }
    let cacert = shape.cert_pem.to_str().unwrap();
    let out = ftpkit(config.path(), &["--cacert", cacert, "ls", &url], "");
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    // --tls13 is still accepted; --tls-max takes 1.2 or 1.3 only.
    let out = ftpkit(
        config.path(),
        &["--tls13", "--cacert", cacert, "ls", &url],
        "",
    );
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let out = ftpkit(
        config.path(),
        &["--tls-max", "1.2", "--cacert", cacert, "ls", &url],
        "",
    );
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let out = ftpkit(config.path(), &["--tls-max", "1.1", "ls", &url], "");
    assert_eq!(code(&out), 2);
}

#[test]
fn an_expired_certificate_says_so_and_names_the_pin() {
    let certs = TestCerts::generate();
    let shape = certs.make(Shape::Expired);
    let server = UnftpServer::start_with_tls_files(&shape.cert_pem, &shape.key_pem);
    let config = tempfile::tempdir().unwrap();
    let url = format!("ftpes://localhost:{}/", server.addr().port());
    let ca = certs.ca_pem.to_str().unwrap();
    let out = ftpkit(config.path(), &["--cacert", ca, "ls", &url], "");
    assert_eq!(code(&out), 9);
    let err = text(&out.stderr);
    assert!(err.contains("expired on 2002-01-01 00:00 UTC"), "{err}");
    assert!(
        err.contains(&format!("--pin-sha256 {}", shape.fingerprint)),
        "{err}"
    );
    // The pin it names does accept it.
    let out = ftpkit(
        config.path(),
        &["--pin-sha256", &shape.fingerprint, "ls", &url],
        "",
    );
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
}

#[test]
fn trust_on_first_use_records_verifies_refuses_a_change_and_forgets() {
    let certs = TestCerts::generate();
    let shape = certs.make(Shape::SelfSignedCa);
    let server = UnftpServer::start_with_tls_files(&shape.cert_pem, &shape.key_pem);
    let config = tempfile::tempdir().unwrap();
    let port = server.addr().port();
    let url = format!("ftpes://localhost:{port}/");
    let known = config.path().join("ftpkit").join("known_hosts");

    // Shown, not confirmed: nothing recorded.
    let out = ftpkit(config.path(), &["trust", &url], "n\n");
    assert_eq!(code(&out), 2);
    let shown = text(&out.stdout);
    assert!(shown.contains(&shape.fingerprint), "{shown}");
    assert!(
        shown.contains("CN=ftpkit test SelfSignedCa (self-signed)"),
        "{shown}"
    );
    assert!(shown.contains("localhost, 127.0.0.1"), "{shown}");
    assert!(!known.exists());

    // Confirmed: recorded, and then trusted without any flag.
    let out = ftpkit(config.path(), &["trust", &url], "y\n");
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let record = std::fs::read_to_string(&known).unwrap();
    assert!(
        record.contains(&format!("localhost:{port} {}", shape.fingerprint)),
        "{record}"
    );
    let out = ftpkit(config.path(), &["ls", &url], "");
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));

    // A different record: refused loudly with both fingerprints.
    let other = "11".repeat(32);
    std::fs::write(&known, format!("localhost:{port} {other}\n")).unwrap();
    let out = ftpkit(config.path(), &["ls", &url], "");
    assert_eq!(code(&out), 9);
    let err = text(&out.stderr);
    assert!(err.contains("CHANGED"), "{err}");
    assert!(
        err.contains(&other) && err.contains(&shape.fingerprint),
        "{err}"
    );
    assert!(err.contains("ftpkit trust --forget"), "{err}");

    // Forgotten: verified as usual again (and refused: self-signed).
    let out = ftpkit(config.path(), &["trust", "--forget", &url], "");
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(!std::fs::read_to_string(&known).unwrap().contains(&other));
    let out = ftpkit(config.path(), &["ls", &url], "");
    assert_eq!(code(&out), 9);
    assert!(text(&out.stderr).contains("self-signed"));

    // --yes records without asking.
    let out = ftpkit(config.path(), &["trust", "--yes", &url], "");
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let out = ftpkit(config.path(), &["ls", &url], "");
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
}
