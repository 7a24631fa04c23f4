//! The certificate verifier for the two policies other than WebPKI
//! verification: a pinned fingerprint, and (for tests and diagnosis only)
//! no verification. Handshake signatures are verified either way.

use std::sync::Arc;

use rustls::{
    DigitallySignedStruct, SignatureScheme,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature},
};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

/// Which server certificates to accept.
#[derive(Debug)]
pub(super) enum Policy {
    /// Only the certificate whose SHA-256 fingerprint this is.
    Pinned([u8; 32]),
    /// Any certificate. Only reachable through
    /// `TlsConfigBuilder::danger_accept_invalid_certs`.
    AcceptAnything,
}

/// Applies a [`Policy`] to the server's certificate, and the provider's
/// algorithms to the handshake signatures.
#[derive(Debug)]
pub(super) struct Verifier {
    policy: Policy,
    provider: Arc<CryptoProvider>,
}

impl Verifier {
    pub(super) fn new(policy: Policy, provider: Arc<CryptoProvider>) -> Verifier {
        Verifier { policy, provider }
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match &self.policy {
            Policy::AcceptAnything => Ok(ServerCertVerified::assertion()),
            Policy::Pinned(fingerprint) => {
                let digest = ring::digest::digest(&ring::digest::SHA256, end_entity.as_ref());
                if digest.as_ref() == fingerprint {
                    Ok(ServerCertVerified::assertion())
                } else {
                    Err(rustls::Error::General(format!(
                        "the server's certificate (SHA-256 {}) does not match the pinned fingerprint",
                        super::fingerprint_sha256(end_entity.as_ref())
                    )))
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
