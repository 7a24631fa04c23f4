//! What a certificate says, in the words a user needs to decide whether to
//! trust it: subject, issuer, validity, names and SHA-256 fingerprint.

use std::fmt;

use x509_parser::{certificate::X509Certificate, extensions::GeneralName, prelude::FromDer};

pub(crate) use crate::date::utc;

/// The facts of a server certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertificateInfo {
    /// The subject's distinguished name, as `CN=host, O=org`.
    pub subject: String,
    /// The issuer's distinguished name; equal to the subject when the
    /// certificate is self-issued.
    pub issuer: String,
    /// Start of validity, seconds since the Unix epoch (UTC).
    pub not_before: i64,
    /// End of validity, seconds since the Unix epoch (UTC).
    pub not_after: i64,
    /// The DNS names and IP addresses it covers (subject alternative names).
    pub names: Vec<String>,
    /// SHA-256 of the certificate (DER), 64 lower-case hex digits: what
    /// [`TlsConfigBuilder::pin_sha256`](super::TlsConfigBuilder::pin_sha256)
    /// and the known-hosts file take.
    pub sha256: String,
    /// Whether its basic constraints say `CA:TRUE`.
    pub is_ca: bool,
}

impl CertificateInfo {
    /// Reads a certificate (DER). `None` if it does not parse; its
    /// fingerprint can still be had from [`fingerprint_sha256`].
    pub fn from_der(der: &[u8]) -> Option<CertificateInfo> {
        let (_, cert) = X509Certificate::from_der(der).ok()?;
        let names = cert
            .subject_alternative_name()
            .ok()
            .flatten()
            .map(|san| {
                san.value
                    .general_names
                    .iter()
                    .filter_map(|name| match name {
                        GeneralName::DNSName(dns) => Some((*dns).to_owned()),
                        GeneralName::IPAddress(ip) => ip_text(ip),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(CertificateInfo {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            names,
            sha256: fingerprint_sha256(der),
            is_ca: cert.is_ca(),
        })
    }

    /// Whether subject and issuer are the same name: nobody else vouches
    /// for it.
    pub fn is_self_issued(&self) -> bool {
        self.subject == self.issuer
    }

    /// [`CertificateInfo::not_before`] as `2026-11-28 23:10 UTC`.
    pub fn not_before_utc(&self) -> String {
        utc(self.not_before)
    }

    /// [`CertificateInfo::not_after`] as `2027-11-28 23:10 UTC`.
    pub fn not_after_utc(&self) -> String {
        utc(self.not_after)
    }

    /// Whether `now` (seconds since the epoch) is before its validity.
    pub fn is_not_yet_valid(&self, now: i64) -> bool {
        now < self.not_before
    }

    /// Whether `now` (seconds since the epoch) is past its validity.
    pub fn is_expired(&self, now: i64) -> bool {
        now > self.not_after
    }
}

impl fmt::Display for CertificateInfo {
    /// `subject "CN=x", issuer "CN=y", valid 2026-01-01 00:00 UTC to
    /// 2027-01-01 00:00 UTC, names [x, 127.0.0.1], SHA-256 ab12…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "subject \"{}\", issuer \"{}\", valid {} to {}, names [{}], SHA-256 {}",
            self.subject,
            self.issuer,
            utc(self.not_before),
            utc(self.not_after),
            self.names.join(", "),
            self.sha256
        )
    }
}

/// The SHA-256 fingerprint of a certificate, as lower-case hex.
pub fn fingerprint_sha256(der: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, der).as_ref())
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An IP address from a subject alternative name.
fn ip_text(bytes: &[u8]) -> Option<String> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Some(std::net::Ipv4Addr::from(v4).to_string());
    }
    <[u8; 16]>::try_from(bytes)
        .ok()
        .map(|v6| std::net::Ipv6Addr::from(v6).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_not_a_certificate() {
        assert_eq!(CertificateInfo::from_der(b"not a certificate"), None);
    }
}
