//! A throw-away certificate authority and a server certificate for
//! `localhost` and `127.0.0.1`, written to a temporary directory, and on
//! demand certificates in the other shapes servers really have:
//! self-signed with `CA:TRUE` (what `openssl req -x509` makes) or
//! `CA:FALSE`, expired, and a client certificate for mutual TLS.

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
    ca: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its key, as PEM files.
pub struct CertFiles {
    /// The certificate (PEM).
    pub cert_pem: PathBuf,
    /// Its private key (PEM).
    pub key_pem: PathBuf,
    /// SHA-256 of the certificate's DER, lower-case hex.
    pub fingerprint: String,
}

/// The shapes of certificate [`TestCerts::make`] makes, all for
/// `localhost` and `127.0.0.1` unless said otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Self-signed with `CA:TRUE`, as `openssl req -x509` makes it.
    SelfSignedCa,
    /// Self-signed with `CA:FALSE`.
    SelfSignedLeaf,
    /// Self-signed with `CA:TRUE`, valid from 2001 to 2002.
    ExpiredSelfSignedCa,
    /// Signed by the trusted test CA, valid from 2001 to 2002.
    Expired,
    /// Signed by the trusted test CA, valid from 2090.
    NotYetValid,
    /// A client certificate (`clientAuth`) signed by the trusted test CA.
    Client,
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
        let fingerprint = hex_sha256(leaf.der());
        TestCerts {
            ca_pem: write("ca.pem", &ca.pem()),
            cert_pem: write("server.pem", &format!("{}{}", leaf.pem(), ca.pem())),
            key_pem: write("server.key", &leaf_key.serialize_pem()),
            untrusted_cert_pem: write("untrusted.pem", &other.pem()),
            untrusted_key_pem: write("untrusted.key", &other_key.serialize_pem()),
            wrong_name_cert_pem: write("wrong-name.pem", &format!("{}{}", wrong.pem(), ca.pem())),
            wrong_name_key_pem: write("wrong-name.key", &wrong_key.serialize_pem()),
            fingerprint,
            ca,
            _dir: dir,
        }
    }

    /// The test CA's certificate (DER).
    pub fn ca_der(&self) -> Vec<u8> {
        self.ca.der().to_vec()
    }

    /// Makes a certificate of `shape`, written next to the others.
    pub fn make(&self, shape: Shape) -> CertFiles {
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let mut params = CertificateParams::new(names).expect("params");
        params
            .distinguished_name
            .push(DnType::CommonName, format!("ftpkit test {shape:?}"));
        let key = KeyPair::generate().expect("key");
        let old = || {
            (
                rcgen::date_time_ymd(2001, 1, 1),
                rcgen::date_time_ymd(2002, 1, 1),
            )
        };
        let cert = match shape {
            Shape::SelfSignedCa | Shape::ExpiredSelfSignedCa => {
                params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
                if shape == Shape::ExpiredSelfSignedCa {
                    (params.not_before, params.not_after) = old();
                }
                params.self_signed(&key).expect("self-signed")
            }
            Shape::SelfSignedLeaf => {
                params.is_ca = IsCa::ExplicitNoCa;
                params.self_signed(&key).expect("self-signed")
            }
            Shape::Expired => {
                (params.not_before, params.not_after) = old();
                params.signed_by(&key, &self.ca).expect("signed")
            }
            Shape::NotYetValid => {
                params.not_before = rcgen::date_time_ymd(2090, 1, 1);
                params.not_after = rcgen::date_time_ymd(2091, 1, 1);
                params.signed_by(&key, &self.ca).expect("signed")
            }
            Shape::Client => {
                params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
                params.signed_by(&key, &self.ca).expect("signed")
            }
        };
        let dir = self._dir.path();
        let name = format!("{shape:?}").to_lowercase();
        let cert_pem = dir.join(format!("{name}.pem"));
        let key_pem = dir.join(format!("{name}.key"));
        std::fs::write(&cert_pem, cert.pem()).expect("write certificate");
        std::fs::write(&key_pem, key.serialize_pem()).expect("write key");
        CertFiles {
            cert_pem,
            key_pem,
            fingerprint: hex_sha256(cert.der()),
        }
    }
}

fn hex_sha256(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
