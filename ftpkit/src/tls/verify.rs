//! The certificate verifier: applies a policy ([`super::trust`] decides)
//! to the server's certificate, and the provider's algorithms to the
//! handshake signatures, which are verified whatever the policy.

use std::sync::Arc;

use rustls::{
    DigitallySignedStruct, SignatureScheme,
    client::{
        WebPkiServerVerifier,
        danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    },
    crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature},
};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use super::{
    cert::{CertificateInfo, hex},
    trust::{self, CertificateProblem},
};

/// Which server certificates to accept.
#[derive(Debug)]
pub(super) enum Policy {
    /// WebPKI verification against the trust store, plus exactly the
    /// anchors the caller named (see [`trust::exact_anchor`]).
    WebPki {
        inner: Arc<WebPkiServerVerifier>,
        anchors: Vec<CertificateDer<'static>>,
    },
    /// Only the certificate whose SHA-256 fingerprint this is.
    Pinned([u8; 32]),
    /// Any certificate. Only reachable through
    /// `TlsConfigBuilder::danger_accept_invalid_certs`.
    AcceptAnything,
    /// Any certificate, recorded for the caller to show. Only reachable
    /// through `TlsConfigBuilder::danger_record_certificate`.
    Record(CertificateSlot),
}

/// A [`Policy`], and for one server the fingerprint its known-hosts record
/// holds, which then decides alone.
#[derive(Debug)]
pub(super) struct Verifier {
    policy: Arc<Policy>,
    known: Option<[u8; 32]>,
    provider: Arc<CryptoProvider>,
}

impl Verifier {
    pub(super) fn new(policy: Policy, provider: Arc<CryptoProvider>) -> Verifier {
        Verifier {
            policy: Arc::new(policy),
            known: None,
            provider,
        }
    }

    /// The same verifier for a server whose certificate was recorded.
    pub(super) fn with_known(&self, known: Option<[u8; 32]>) -> Verifier {
        Verifier {
            policy: self.policy.clone(),
            known,
            provider: self.provider.clone(),
        }
    }

    /// Whether the policy skips verification.
    pub(super) fn accepts_anything(&self) -> bool {
        matches!(*self.policy, Policy::AcceptAnything | Policy::Record(_))
    }
}

fn sha256(der: &[u8]) -> [u8; 32] {
    <[u8; 32]>::try_from(ring::digest::digest(&ring::digest::SHA256, der).as_ref())
        .unwrap_or([0u8; 32])
}

/// The rustls error for a refusal, with the certificate's facts when it
/// parses.
fn refuse(
    problem: CertificateProblem,
    end_entity: &CertificateDer<'_>,
    name: &ServerName<'_>,
    expected: Option<&[u8; 32]>,
    fallback: rustls::Error,
) -> rustls::Error {
    let expected = expected.map(|e| hex(e));
    match trust::rejected(problem, end_entity, name, expected) {
        Some(rejected) => rejected.into_rustls(),
        None => fallback,
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let presented = sha256(end_entity.as_ref());
        if let Some(known) = &self.known {
            return if &presented == known {
                Ok(ServerCertVerified::assertion())
            } else {
                Err(refuse(
                    CertificateProblem::Changed,
                    end_entity,
                    server_name,
                    Some(known),
                    rustls::Error::General(format!(
                        "the server's certificate (SHA-256 {}) is not the recorded one ({})",
                        hex(&presented),
                        hex(known)
                    )),
                ))
            };
        }
        match &*self.policy {
            Policy::AcceptAnything => Ok(ServerCertVerified::assertion()),
            Policy::Record(slot) => {
                slot.put(end_entity.as_ref().to_vec());
                Ok(ServerCertVerified::assertion())
            }
            Policy::Pinned(pin) => {
                if &presented == pin {
                    Ok(ServerCertVerified::assertion())
                } else {
                    Err(refuse(
                        CertificateProblem::PinMismatch,
                        end_entity,
                        server_name,
                        Some(pin),
                        rustls::Error::General(format!(
                            "the server's certificate (SHA-256 {}) does not match the pinned fingerprint",
                            hex(&presented)
                        )),
                    ))
                }
            }
            Policy::WebPki { inner, anchors } => {
                if let Some(decision) = trust::exact_anchor(end_entity, anchors, server_name, now) {
                    return match decision {
                        Ok(()) => Ok(ServerCertVerified::assertion()),
                        Err(problem) => Err(refuse(
                            problem,
                            end_entity,
                            server_name,
                            None,
                            rustls::Error::InvalidCertificate(
                                rustls::CertificateError::BadEncoding,
                            ),
                        )),
                    };
                }
                match inner.verify_server_cert(
                    end_entity,
                    intermediates,
                    server_name,
                    ocsp_response,
                    now,
                ) {
                    Ok(verified) => Ok(verified),
                    Err(error) => {
                        let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
                        let problem = CertificateInfo::from_der(end_entity.as_ref())
                            .and_then(|info| trust::classify(&error, &info, now));
                        match problem {
                            Some(problem) => {
                                Err(refuse(problem, end_entity, server_name, None, error))
                            }
                            None => Err(error),
                        }
                    }
                }
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
/// Where a recording configuration puts the certificate the server
/// presented ([`TlsConfigBuilder::danger_record_certificate`](super::TlsConfigBuilder::danger_record_certificate)).
#[derive(Clone, Debug, Default)]
pub struct CertificateSlot(Arc<std::sync::Mutex<Option<Vec<u8>>>>);

impl CertificateSlot {
    /// An empty slot.
    pub fn new() -> CertificateSlot {
        CertificateSlot::default()
    }

    /// The last certificate (DER) a server presented, if any.
    pub fn take(&self) -> Option<Vec<u8>> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }

    fn put(&self, der: Vec<u8>) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(der);
        }
    }
}
