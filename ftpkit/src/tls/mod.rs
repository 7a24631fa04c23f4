//! FTPS (RFC 4217): TLS settings for the control and data connections.
//!
//! Certificates and host names are verified by default against the
//! system's trust store. A [`TlsConfig`] can add CA certificates — a
//! certificate given that way is also accepted as the server's own when
//! the server presents exactly it, as OpenSSL does for a self-signed
//! certificate made with `openssl req -x509` (`CA:TRUE`) — pin the server's
//! certificate by its SHA-256 fingerprint, consult a [`KnownHosts`] file
//! (trust on first use), present a client certificate, or — loudly named —
//! skip verification ([`TlsConfigBuilder::danger_accept_invalid_certs`]).
//! A refused certificate is reported as
//! [`crate::Error::Certificate`], with what is wrong
//! ([`CertificateProblem`]) and the certificate's facts
//! ([`CertificateInfo`]), fingerprint included.
//!
//! One rustls `ClientConfig` serves the control connection and every data
//! connection of a client, so data connections resume the control
//! connection's TLS session, as servers that require session reuse
//! (vsftpd's `require_ssl_reuse`, proftpd's default) demand.
//!
//! TLS 1.3 is offered by default, TLS 1.2 too. A TLS 1.3 session ticket is
//! good for one connection only, and some servers grant none on resumed
//! data connections (proftpd 1.3.8 refuses every other data connection
//! with `425 Unable to build data connection`). When a server refuses a
//! data connection while the control connection runs TLS 1.3, a client
//! reconnects once with TLS 1.2 and keeps it (see
//! [`refuses_tls13_data`]); [`TlsConfigBuilder::max_version`] asks for
//! TLS 1.2 from the start. rustls offers only forward-secret AEAD cipher
//! suites in TLS 1.2.

mod cert;
mod known_hosts;
pub(crate) mod trust;
mod verify;

use std::{fmt, path::Path, sync::Arc};

use rustls::{ClientConfig, ProtocolVersion, RootCertStore, crypto::ring as provider};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, pem::PemObject};

pub use cert::{CertificateInfo, fingerprint_sha256};
use known_hosts::parse_fingerprint;
pub use known_hosts::{KnownHosts, host_key};
pub use trust::{CertificateProblem, CertificateRejected, classify, exact_anchor};
pub use verify::CertificateSlot;

use crate::error::{Error, InvalidInput, Phase};

/// When TLS starts on the control connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// Explicit FTPS: connect in clear, then `AUTH TLS` before anything
    /// else is sent. A refusal ends the connection; nothing falls back to
    /// cleartext. Usually port 21 (`ftpes://`).
    Explicit,
    /// Implicit FTPS: TLS from the first byte. Usually port 990 (`ftps://`).
    Implicit,
}

/// The highest TLS version to offer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsVersion {
    /// TLS 1.2 only, for servers that fail with TLS 1.3.
    Tls12,
    /// TLS 1.3, and TLS 1.2 for servers without it (the default).
    #[default]
    Tls13,
}

/// TLS settings for a client: built once, shared by every connection.
#[derive(Clone)]
pub struct TlsConfig {
    rustls: Arc<ClientConfig>,
    /// The same settings limited to TLS 1.2, when `rustls` offers TLS 1.3
    /// and was built here: what a client falls back to.
    tls12: Option<Arc<ClientConfig>>,
    /// ftpkit's verifier, when built here (not by [`TlsConfig::from_rustls`]).
    verifier: Option<Arc<verify::Verifier>>,
    known_hosts: Option<Arc<KnownHosts>>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig").finish_non_exhaustive()
    }
}

impl TlsConfig {
    /// Verification against the system's trust store, nothing else changed.
    pub fn system() -> Result<TlsConfig, Error> {
        TlsConfig::builder().build()
    }

    /// A builder, starting from the system's trust store.
    pub fn builder() -> TlsConfigBuilder {
        TlsConfigBuilder {
            system_roots: true,
            extra_roots: Vec::new(),
            pin: None,
            danger_no_verify: false,
            max_version: TlsVersion::Tls13,
            client_auth: None,
            known_hosts: None,
            record: None,
        }
    }

    /// Uses a rustls configuration as it is (for client certificates,
    /// custom verifiers, protocol versions). Keep its resumption store
    /// enabled, or servers that require session reuse will refuse data
    /// connections.
    pub fn from_rustls(config: Arc<ClientConfig>) -> TlsConfig {
        TlsConfig {
            rustls: config,
            tls12: None,
            verifier: None,
            known_hosts: None,
        }
    }

    /// The rustls configuration.
    pub fn rustls(&self) -> &Arc<ClientConfig> {
        &self.rustls
    }

    /// The same settings for one client of `host:port`: a session cache of
    /// its own (its data connections resume its control connection's
    /// session, never another client's), and the known-hosts record for
    /// that server, if any, in force.
    pub(crate) fn for_server(&self, host: &str, port: u16) -> TlsConfig {
        let known = self
            .known_hosts
            .as_ref()
            .and_then(|store| store.fingerprint(host, port));
        let verifier = self
            .verifier
            .as_ref()
            .map(|v| Arc::new(v.with_known(known)));
        let one = |config: &Arc<ClientConfig>| {
            let mut config = (**config).clone();
            config.resumption = rustls::client::Resumption::in_memory_sessions(32);
            if let Some(verifier) = &verifier {
                config
                    .dangerous()
                    .set_certificate_verifier(verifier.clone());
            }
            Arc::new(config)
        };
        TlsConfig {
            rustls: one(&self.rustls),
            tls12: self.tls12.as_ref().map(one),
            verifier: verifier.or_else(|| self.verifier.clone()),
            known_hosts: self.known_hosts.clone(),
        }
    }

    /// The same settings limited to TLS 1.2, if these offer TLS 1.3 and
    /// were built by [`TlsConfigBuilder`]: what a client falls back to when
    /// a server refuses TLS 1.3 data connections.
    pub fn tls12_fallback(&self) -> Option<TlsConfig> {
        self.tls12.as_ref().map(|tls12| TlsConfig {
            rustls: tls12.clone(),
            tls12: None,
            verifier: self.verifier.clone(),
            known_hosts: self.known_hosts.clone(),
        })
    }
}

/// Whether `error`, met on a data connection of a client whose control
/// connection runs `control_version`, means the server refused the data
/// connection's TLS 1.3 session: the control connection is TLS 1.3 and
/// the server refused to build the data connection (425, 426, 522 — the
/// replies of proftpd, vsftpd and RFC 4217 for a TLS failure there) or the
/// data connection's TLS handshake failed. Then a client falls back to
/// TLS 1.2 ([`TlsConfig::tls12_fallback`]) once, for good.
pub fn refuses_tls13_data(control_version: Option<ProtocolVersion>, error: &Error) -> bool {
    if control_version != Some(ProtocolVersion::TLSv1_3) {
        return false;
    }
    match error {
        Error::Reply { reply, .. } => matches!(reply.code().0, 425 | 426 | 522),
        Error::Tls { phase, .. } | Error::Io { phase, .. } => {
            matches!(phase, Phase::DataConnect | Phase::DataAccept)
        }
        Error::ConnectionClosed(phase) => {
            matches!(phase, Phase::DataConnect | Phase::DataAccept)
        }
        _ => false,
    }
}

/// Builds a [`TlsConfig`].
#[derive(Clone, Debug)]
pub struct TlsConfigBuilder {
    system_roots: bool,
    extra_roots: Vec<CertificateDer<'static>>,
    pin: Option<[u8; 32]>,
    danger_no_verify: bool,
    max_version: TlsVersion,
    client_auth: Option<(Vec<CertificateDer<'static>>, Arc<PrivateKeyDer<'static>>)>,
    known_hosts: Option<Arc<KnownHosts>>,
    record: Option<CertificateSlot>,
}

impl TlsConfigBuilder {
    /// Trusts the CA certificates in a PEM file, in addition to the system's.
    pub fn add_ca_pem_file(mut self, path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let bad = |e: &dyn fmt::Display| {
            Error::InvalidInput(InvalidInput::Tls(format!(
                "CA file {}: {e}",
                path.display()
            )))
        };
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| bad(&e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(&e))?;
        if certs.is_empty() {
            return Err(bad(&"no certificate in the file"));
        }
        self.extra_roots.extend(certs);
        Ok(self)
    }

    /// Trusts a CA certificate given in DER.
    pub fn add_ca_der(mut self, der: Vec<u8>) -> Self {
        self.extra_roots.push(CertificateDer::from(der));
        self
    }

    /// Does not load the system's trust store: only added CAs are trusted.
    pub fn without_system_roots(mut self) -> Self {
        self.system_roots = false;
        self
    }

    /// Accepts exactly the server certificate whose SHA-256 fingerprint is
    /// `hex` (64 hex digits; `:` separators allowed), whoever signed it and
    /// whatever name it carries — the way to trust one self-signed server.
    /// The TLS handshake signatures are still verified.
    pub fn pin_sha256(mut self, hex: &str) -> Result<Self, Error> {
        self.pin = Some(parse_fingerprint(hex)?);
        Ok(self)
    }

    /// Offers TLS 1.3 as well as TLS 1.2: the default, kept for callers
    /// that asked for it when it was not.
    pub fn allow_tls13(self) -> Self {
        self.max_version(TlsVersion::Tls13)
    }

    /// The highest TLS version to offer ([`TlsVersion::Tls13`] by default).
    pub fn max_version(mut self, version: TlsVersion) -> Self {
        self.max_version = version;
        self
    }

    /// Presents this client certificate (PEM chain, leaf first) and private
    /// key (PEM: PKCS#8, PKCS#1 or SEC1) to servers that ask for one
    /// (mutual TLS).
    pub fn client_cert_pem_files(
        mut self,
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self, Error> {
        let (cert, key) = (cert.as_ref(), key.as_ref());
        let bad = |path: &Path, e: &dyn fmt::Display| {
            Error::InvalidInput(InvalidInput::Tls(format!("{}: {e}", path.display())))
        };
        let chain = CertificateDer::pem_file_iter(cert)
            .map_err(|e| bad(cert, &e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(cert, &e))?;
        if chain.is_empty() {
            return Err(bad(cert, &"no certificate in the file"));
        }
        let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, &e))?;
        self.client_auth = Some((chain, Arc::new(key_der)));
        Ok(self)
    }

    /// Consults a known-hosts file: a server with a record must present
    /// exactly the recorded certificate, whatever else is configured (a
    /// changed one is refused with [`CertificateProblem::Changed`]);
    /// servers without a record are verified as usual.
    pub fn known_hosts(mut self, store: KnownHosts) -> Self {
        self.known_hosts = Some(Arc::new(store));
        self
    }

    /// Accepts any certificate for any name: no protection against an
    /// attacker on the network, who can read the password and the data.
    /// For tests and for diagnosing broken servers only.
    pub fn danger_accept_invalid_certs(mut self) -> Self {
        self.danger_no_verify = true;
        self
    }

    /// Accepts any certificate, like
    /// [`danger_accept_invalid_certs`](TlsConfigBuilder::danger_accept_invalid_certs),
    /// and records it in `slot`: to show a user the certificate they are
    /// asked to trust (trust on first use). Never send credentials over a
    /// connection made with it.
    pub fn danger_record_certificate(mut self, slot: CertificateSlot) -> Self {
        self.record = Some(slot);
        self
    }

    /// Builds the configuration.
    pub fn build(self) -> Result<TlsConfig, Error> {
        let provider = Arc::new(provider::default_provider());
        let policy = if let Some(slot) = self.record.clone() {
            verify::Policy::Record(slot)
        } else if self.danger_no_verify {
            verify::Policy::AcceptAnything
        } else if let Some(pin) = self.pin {
            verify::Policy::Pinned(pin)
        } else {
            let mut roots = RootCertStore::empty();
            if self.system_roots {
                let found = rustls_native_certs::load_native_certs();
                for err in &found.errors {
                    tracing::debug!(target: "ftpkit::tls", "system trust store: {err}");
                }
                roots.add_parsable_certificates(found.certs);
            }
            for cert in &self.extra_roots {
                roots.add(cert.clone()).map_err(|e| {
                    Error::InvalidInput(InvalidInput::Tls(format!("CA certificate: {e}")))
                })?;
            }
            if roots.is_empty() {
                return Err(Error::InvalidInput(InvalidInput::Tls(
                    "no trusted CA certificate: the system store is empty; add a CA file".into(),
                )));
            }
            let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                provider.clone(),
            )
            .build()
            .map_err(|e| Error::InvalidInput(InvalidInput::Tls(e.to_string())))?;
            verify::Policy::WebPki {
                inner,
                anchors: self.extra_roots.clone(),
            }
        };
        let verifier = Arc::new(verify::Verifier::new(policy, provider.clone()));
        let make = |versions: &[&'static rustls::SupportedProtocolVersion]| {
            let builder = ClientConfig::builder_with_provider(provider.clone())
                .with_protocol_versions(versions)
                .map_err(|e| Error::InvalidInput(InvalidInput::Tls(e.to_string())))?
                .dangerous()
                .with_custom_certificate_verifier(verifier.clone());
            match &self.client_auth {
                Some((chain, key)) => builder
                    .with_client_auth_cert(chain.clone(), key.clone_key())
                    .map_err(|e| {
                        Error::InvalidInput(InvalidInput::Tls(format!("client certificate: {e}")))
                    }),
                None => Ok(builder.with_no_client_auth()),
            }
        };
        let tls12 = Arc::new(make(&[&rustls::version::TLS12])?);
        let (rustls, tls12) = match self.max_version {
            TlsVersion::Tls12 => (tls12, None),
            TlsVersion::Tls13 => (
                Arc::new(make(&[&rustls::version::TLS13, &rustls::version::TLS12])?),
                Some(tls12),
            ),
        };
        if verifier.accepts_anything() {
            tracing::warn!(target: "ftpkit::tls", "certificate verification is off");
        }
        Ok(TlsConfig {
            rustls,
            tls12,
            verifier: Some(verifier),
            known_hosts: self.known_hosts,
        })
    }
}

/// The name to verify the server's certificate against: its host name, or
/// its IP address when connected by address.
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, Error> {
    ServerName::try_from(host.to_owned()).map_err(|_| {
        Error::InvalidInput(InvalidInput::Address(format!(
            "{host:?} is not a valid TLS server name"
        )))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints() {
        let hex = "AB:".repeat(31) + "CD";
        let parsed = parse_fingerprint(&hex).unwrap();
        assert_eq!(parsed[0], 0xab);
        assert_eq!(parsed[31], 0xcd);
        assert!(parse_fingerprint("abcd").is_err());
        assert!(parse_fingerprint(&"zz".repeat(32)).is_err());
        assert_eq!(
            fingerprint_sha256(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn server_names() {
        assert!(server_name("localhost").is_ok());
        assert!(server_name("127.0.0.1").is_ok());
        assert!(server_name("::1").is_ok());
        assert!(server_name("bad name").is_err());
    }
}
