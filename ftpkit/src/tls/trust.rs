//! Trust decisions, as pure functions: which certificates are accepted,
//! and what to tell the user about one that is not.
//!
//! - A certificate the caller named as a trust anchor (a CA file) is
//!   accepted when the server presents exactly it, byte for byte, even if
//!   it says `CA:TRUE` — as OpenSSL accepts a self-signed certificate it
//!   was told to trust. Its validity dates and names are still checked.
//!   Any other certificate goes through full WebPKI verification
//!   (chain, dates, name, `CA:FALSE` for the server's own certificate).
//! - A pin or a known-hosts record accepts exactly the certificate with
//!   that SHA-256 fingerprint and nothing else.
//! - A refusal says what is wrong with the certificate and carries its
//!   facts ([`CertificateRejected`]).

use std::{fmt, sync::Arc};

use rustls::{CertificateError, OtherError, client::verify_server_name, server::ParsedCertificate};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use super::cert::{CertificateInfo, utc};

/// What is wrong with a server certificate that was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateProblem {
    /// Signed by an issuer that is not trusted.
    UnknownIssuer,
    /// Signed by itself, and not named as trusted.
    SelfSigned,
    /// Past its validity.
    Expired,
    /// Before its validity.
    NotYetValid,
    /// Valid, but not for the host name connected to.
    NameMismatch,
    /// Not the certificate a pin names.
    PinMismatch,
    /// Not the certificate recorded for this host and port in the
    /// known-hosts file: it changed since it was trusted.
    Changed,
}

/// A server certificate refused, with the facts needed to decide whether to
/// trust it. Found in [`Error::Certificate`](crate::Error::Certificate).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertificateRejected {
    /// What is wrong with it.
    pub problem: CertificateProblem,
    /// The host name (or address) it was checked against.
    pub host: String,
    /// The certificate's facts.
    pub certificate: CertificateInfo,
    /// For [`CertificateProblem::PinMismatch`] and
    /// [`CertificateProblem::Changed`]: the fingerprint that was expected.
    pub expected_sha256: Option<String>,
}

impl fmt::Display for CertificateRejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.certificate;
        match self.problem {
            CertificateProblem::UnknownIssuer => write!(
                f,
                "the server's certificate is signed by \"{}\", an issuer that is not trusted ({c})",
                c.issuer
            )?,
            CertificateProblem::SelfSigned => write!(
                f,
                "the server's certificate is self-signed, so nobody vouches for it ({c})"
            )?,
            CertificateProblem::Expired => write!(
                f,
                "the server's certificate expired on {} ({c})",
                utc(c.not_after)
            )?,
            CertificateProblem::NotYetValid => write!(
                f,
                "the server's certificate is not valid before {} ({c})",
                utc(c.not_before)
            )?,
            CertificateProblem::NameMismatch => write!(
                f,
                "the server's certificate is not valid for \"{}\": it names only [{}] ({c})",
                self.host,
                c.names.join(", ")
            )?,
            CertificateProblem::PinMismatch => write!(
                f,
                "the server's certificate is not the pinned one: expected SHA-256 {}, got {} ({c})",
                self.expected_sha256.as_deref().unwrap_or("?"),
                c.sha256
            )?,
            CertificateProblem::Changed => write!(
                f,
                "WARNING: the certificate of {} CHANGED since it was trusted: recorded SHA-256 {}, \
                 presented {}; this may be an attack (or a renewed certificate) ({c})",
                self.host,
                self.expected_sha256.as_deref().unwrap_or("?"),
                c.sha256
            )?,
        }
        Ok(())
    }
}

impl std::error::Error for CertificateRejected {}

impl CertificateRejected {
    /// Wraps the refusal in the error rustls carries through the handshake;
    /// [`from_rustls`](CertificateRejected::from_rustls) finds it again.
    pub(crate) fn into_rustls(self) -> rustls::Error {
        rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(self))))
    }

    /// The refusal carried by a rustls error, if it is one of ftpkit's.
    pub(crate) fn from_rustls(error: &rustls::Error) -> Option<&CertificateRejected> {
        match error {
            rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(inner))) => {
                inner.downcast_ref::<CertificateRejected>()
            }
            _ => None,
        }
    }
}

/// The host text of a server name, for messages.
pub(crate) fn host_text(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(dns) => dns.as_ref().to_owned(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        _ => "the server".to_owned(),
    }
}

/// What WebPKI's refusal means for the user, given the certificate's
/// facts; `None` for refusals that are not about trust (a malformed
/// certificate, an unsupported algorithm), which are reported as they are.
pub fn classify(
    error: &rustls::Error,
    info: &CertificateInfo,
    now: i64,
) -> Option<CertificateProblem> {
    let rustls::Error::InvalidCertificate(cert_error) = error else {
        return None;
    };
    let ca_as_server = matches!(cert_error, CertificateError::Other(OtherError(inner))
        if matches!(inner.downcast_ref::<webpki::Error>(), Some(webpki::Error::CaUsedAsEndEntity)));
    let untrusted = ca_as_server || matches!(cert_error, CertificateError::UnknownIssuer);
    // Dates first: an expired self-signed certificate is, above all, expired.
    let problem = match cert_error {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            CertificateProblem::Expired
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            CertificateProblem::NotYetValid
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            CertificateProblem::NameMismatch
        }
        _ if untrusted && info.is_expired(now) => CertificateProblem::Expired,
        _ if untrusted && info.is_not_yet_valid(now) => CertificateProblem::NotYetValid,
        // A self-issued CA:TRUE certificate used as the server's own is
        // refused by WebPKI as `CaUsedAsEndEntity`: self-signed to the user.
        _ if untrusted && info.is_self_issued() => CertificateProblem::SelfSigned,
        _ if untrusted => CertificateProblem::UnknownIssuer,
        _ => return None,
    };
    Some(problem)
}

/// The decision for a server certificate that is, byte for byte, one of
/// the caller's trust anchors: `None` if it is not one (verify it the
/// usual way), else `Ok` if it is valid now for `name`, or the problem.
pub fn exact_anchor(
    end_entity: &CertificateDer<'_>,
    anchors: &[CertificateDer<'static>],
    name: &ServerName<'_>,
    now: UnixTime,
) -> Option<Result<(), CertificateProblem>> {
    if !anchors.iter().any(|a| a.as_ref() == end_entity.as_ref()) {
        return None;
    }
    let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let Some(info) = CertificateInfo::from_der(end_entity.as_ref()) else {
        return Some(Err(CertificateProblem::SelfSigned));
    };
    if info.is_expired(now) {
        return Some(Err(CertificateProblem::Expired));
    }
    if info.is_not_yet_valid(now) {
        return Some(Err(CertificateProblem::NotYetValid));
    }
    let name_ok = ParsedCertificate::try_from(end_entity)
        .and_then(|parsed| verify_server_name(&parsed, name))
        .is_ok();
    Some(if name_ok {
        Ok(())
    } else {
        Err(CertificateProblem::NameMismatch)
    })
}

/// Builds the refusal for `end_entity`, or `None` if it does not parse.
pub(crate) fn rejected(
    problem: CertificateProblem,
    end_entity: &CertificateDer<'_>,
    name: &ServerName<'_>,
    expected_sha256: Option<String>,
) -> Option<CertificateRejected> {
    Some(CertificateRejected {
        problem,
        host: host_text(name),
        certificate: CertificateInfo::from_der(end_entity.as_ref())?,
        expected_sha256,
    })
}
