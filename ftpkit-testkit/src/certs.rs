//! A throw-away certificate authority and a server certificate for
//! `localhost` and `127.0.0.1`, written to a temporary directory.

use std::path::PathBuf;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

/// PEM files for TLS tests; the directory is removed on drop.
pub struct TestCerts {
    _dir: tempfile::TempDir,
    /// The CA certificate (PEM) that signed the server certificate.
    pub ca_pem: PathBuf,
    /// The server certificate chain (PEM): leaf then CA.
    pub cert_pem: PathBuf,
    /// The server's private key (PEM).
    pub key_pem: PathBuf,
    /// A certificate for `localhost` signed by a CA nobody trusts.
    pub untrusted_cert_pem: PathBuf,
    /// The key of the untrusted certificate.
    pub untrusted_key_pem: PathBuf,
    /// A certificate for `not-this-host.example`, signed by the trusted CA.
    pub wrong_name_cert_pem: PathBuf,
    /// The key of the wrong-name certificate.
    pub wrong_name_key_pem: PathBuf,
    /// SHA-256 of the server certificate's DER, lower-case hex.
    pub fingerprint: String,
}

impl TestCerts {
    /// Makes a CA, a server certificate it signs for `localhost` and
    /// `127.0.0.1`, and a second, untrusted chain.
    pub fn generate() -> TestCerts {
        let dir = tempfile::tempdir().expect("temp dir for certificates");
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("write certificate file");
            path
        };
        let (ca, leaf, leaf_key) = chain("ftpkit test CA");
        let (_, other, other_key) = chain("untrusted CA");
        let (wrong, wrong_key) = leaf_for(&ca, "not-this-host.example");
        let fingerprint = ring::digest::digest(&ring::digest::SHA256, leaf.der())
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        TestCerts {
            ca_pem: write("ca.pem", &ca.pem()),
            cert_pem: write("server.pem", &format!("{}{}", leaf.pem(), ca.pem())),
            key_pem: write("server.key", &leaf_key.serialize_pem()),
            untrusted_cert_pem: write("untrusted.pem", &other.pem()),
            untrusted_key_pem: write("untrusted.key", &other_key.serialize_pem()),
            wrong_name_cert_pem: write("wrong-name.pem", &format!("{}{}", wrong.pem(), ca.pem())),
            wrong_name_key_pem: write("wrong-name.key", &wrong_key.serialize_pem()),
            fingerprint,
            _dir: dir,
        }
    }
}

fn chain(
    ca_name: &str,
) -> (
    CertifiedIssuer<'static, KeyPair>,
    rcgen::Certificate,
    KeyPair,
) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, ca_name);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key"))
        .expect("self-signed CA");
    let (leaf, leaf_key) = leaf_for(&ca, "localhost");
    (ca, leaf, leaf_key)
}

/// A server certificate for `name` (plus 127.0.0.1 when the name is
/// `localhost`), signed by `ca`.
fn leaf_for(ca: &CertifiedIssuer<'static, KeyPair>, name: &str) -> (rcgen::Certificate, KeyPair) {
    let mut names = vec![name.to_owned()];
    if name == "localhost" {
        names.push("127.0.0.1".to_owned());
    }
    let mut params = CertificateParams::new(names).expect("leaf params");
    params.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().expect("leaf key");
    let cert = params.signed_by(&key, ca).expect("leaf certificate");
    (cert, key)
}
