//! FTPS (RFC 4217): TLS settings for the control and data connections.
//!
//! Certificates and host names are verified by default against the
//! system's trust store. A [`TlsConfig`] can add CA certificates, pin the
//! server's certificate by its SHA-256 fingerprint, or — loudly named —
//! skip verification ([`TlsConfigBuilder::danger_accept_invalid_certs`]).
//!
//! One rustls `ClientConfig` serves the control connection and every data
//! connection of a client, so data connections resume the control
//! connection's TLS session, as servers that require session reuse
//! (vsftpd's `require_ssl_reuse`, proftpd's default) demand.
//!
//! FTPS uses TLS 1.2 unless [`TlsConfigBuilder::allow_tls13`] is called.
//! The reason is session reuse: a TLS 1.2 session can be resumed by every
//! data connection, while a TLS 1.3 ticket is good for one connection only,
//! so a TLS 1.3 session runs out of tickets when the server grants none on
//! resumed connections (proftpd 1.3.8 refuses the third data connection,
//! with curl as with ftpkit). rustls offers only forward-secret AEAD
//! cipher suites in TLS 1.2.

mod verify;

use std::{fmt, path::Path, sync::Arc};

use rustls::{ClientConfig, RootCertStore, crypto::ring as provider};
use rustls_pki_types::{CertificateDer, ServerName, pem::PemObject};

use crate::error::{Error, InvalidInput};

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

/// TLS settings for a client: built once, shared by every connection.
#[derive(Clone)]
pub struct TlsConfig {
    rustls: Arc<ClientConfig>,
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
            tls13: false,
        }
    }

    /// Uses a rustls configuration as it is (for client certificates,
    /// custom verifiers, protocol versions). Keep its resumption store
    /// enabled, or servers that require session reuse will refuse data
    /// connections.
    pub fn from_rustls(config: Arc<ClientConfig>) -> TlsConfig {
        TlsConfig { rustls: config }
    }

    /// The rustls configuration.
    pub fn rustls(&self) -> &Arc<ClientConfig> {
        &self.rustls
    }

    /// The same settings with a session cache of their own, for one client:
    /// its data connections resume its control connection's session (and
    /// the sessions the server grants on them), never another client's.
    pub(crate) fn for_one_client(&self) -> TlsConfig {
        let mut config = (*self.rustls).clone();
        config.resumption = rustls::client::Resumption::in_memory_sessions(32);
        TlsConfig {
            rustls: Arc::new(config),
        }
    }
}

/// Builds a [`TlsConfig`].
#[derive(Clone, Debug)]
pub struct TlsConfigBuilder {
    system_roots: bool,
    extra_roots: Vec<CertificateDer<'static>>,
    pin: Option<[u8; 32]>,
    danger_no_verify: bool,
    tls13: bool,
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

    /// Offers TLS 1.3 as well as TLS 1.2. Each data connection then needs
    /// a fresh session ticket; servers that grant tickets on resumed
    /// connections (OpenSSL's default, rustls) work, proftpd 1.3.8 does not
    /// (see the module documentation).
    pub fn allow_tls13(mut self) -> Self {
        self.tls13 = true;
        self
    }

    /// Accepts any certificate for any name: no protection against an
    /// attacker on the network, who can read the password and the data.
    /// For tests and for diagnosing broken servers only.
    pub fn danger_accept_invalid_certs(mut self) -> Self {
        self.danger_no_verify = true;
        self
    }

    /// Builds the configuration.
    pub fn build(self) -> Result<TlsConfig, Error> {
        let provider = Arc::new(provider::default_provider());
        let versions: &[&rustls::SupportedProtocolVersion] = if self.tls13 {
            &[&rustls::version::TLS13, &rustls::version::TLS12]
        } else {
            &[&rustls::version::TLS12]
        };
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(versions)
            .map_err(|e| Error::InvalidInput(InvalidInput::Tls(e.to_string())))?;
        let config = if self.danger_no_verify {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verify::Verifier::new(
                    verify::Policy::AcceptAnything,
                    provider,
                )))
                .with_no_client_auth()
        } else if let Some(pin) = self.pin {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verify::Verifier::new(
                    verify::Policy::Pinned(pin),
                    provider,
                )))
                .with_no_client_auth()
        } else {
            let mut roots = RootCertStore::empty();
            if self.system_roots {
                let found = rustls_native_certs::load_native_certs();
                for err in &found.errors {
                    tracing::debug!(target: "ftpkit::tls", "system trust store: {err}");
                }
                roots.add_parsable_certificates(found.certs);
            }
            for cert in self.extra_roots {
                roots.add(cert).map_err(|e| {
                    Error::InvalidInput(InvalidInput::Tls(format!("CA certificate: {e}")))
                })?;
            }
            if roots.is_empty() {
                return Err(Error::InvalidInput(InvalidInput::Tls(
                    "no trusted CA certificate: the system store is empty; add a CA file".into(),
                )));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        };
        Ok(TlsConfig {
            rustls: Arc::new(config),
        })
    }
}

/// Parses a SHA-256 fingerprint: 64 hex digits, optionally `:`-separated.
fn parse_fingerprint(hex: &str) -> Result<[u8; 32], Error> {
    let bad = || {
        Error::InvalidInput(InvalidInput::Tls(format!(
            "bad SHA-256 fingerprint {hex:?}"
        )))
    };
    let digits: Vec<u8> = hex.bytes().filter(|&b| b != b':').collect();
    if digits.len() != 64 {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(digits.chunks(2)) {
        let text = std::str::from_utf8(pair).map_err(|_| bad())?;
        *slot = u8::from_str_radix(text, 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// The SHA-256 fingerprint of a certificate, as lower-case hex.
pub fn fingerprint_sha256(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
