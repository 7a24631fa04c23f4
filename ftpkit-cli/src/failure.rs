//! Why a command failed: a library error, or one the CLI finds itself.

use std::{fmt, io, path::PathBuf};

use crate::exit::{self, Exit};

/// A failed command.
#[derive(Debug)]
pub enum Failure {
    /// Bad arguments or URL.
    Usage(String),
    /// A local file could not be read, written or renamed.
    Local(PathBuf, io::Error),
    /// The library failed (network, server, protocol, TLS).
    Ftp(ftpkit::Error),
    /// The server answered, but not with what was asked for.
    Remote(String),
    /// Failures already reported one by one (by `shell`); only the exit
    /// code is left to give.
    Reported(Exit),
    /// The command did the rest of its work, but skipped this many files,
    /// each with a warning already printed.
    Skipped(usize),
}

impl Failure {
    /// The exit code.
    pub fn exit(&self) -> Exit {
        match self {
            Failure::Usage(_) => Exit::Usage,
            Failure::Local(..) => Exit::Local,
            Failure::Ftp(e) => exit::for_error(e),
            Failure::Remote(_) => Exit::Remote,
            Failure::Reported(exit) => *exit,
            Failure::Skipped(_) => Exit::Skipped,
        }
    }
}

impl Failure {
    /// A library error from a transfer of the local file `path`: a local
    /// I/O failure names the file, anything else stays the library's.
    pub fn of_local_file(path: &std::path::Path, error: ftpkit::Error) -> Failure {
        match error {
            ftpkit::Error::Io {
                phase: ftpkit::Phase::Local,
                source,
            } => Failure::Local(path.to_path_buf(), source),
            other => Failure::Ftp(other),
        }
    }
}

impl From<ftpkit::Error> for Failure {
    fn from(e: ftpkit::Error) -> Failure {
        Failure::Ftp(e)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(msg) | Failure::Remote(msg) => f.write_str(msg),
            Failure::Reported(_) => f.write_str("a command failed"),
            Failure::Skipped(1) => f.write_str("1 file skipped (see the warning above)"),
            Failure::Skipped(n) => write!(f, "{n} files skipped (see the warnings above)"),
            Failure::Local(path, e) => write!(f, "{}: {e}", path.display()),
            Failure::Ftp(e) => {
                if let Some(rejected) = e.certificate_rejected() {
                    return f.write_str(&certificate_advice(rejected));
                }
                write!(f, "{e}")?;
                // Add causes the message does not already contain.
                let mut shown = e.to_string();
                let mut source = std::error::Error::source(e);
                while let Some(cause) = source {
                    let text = cause.to_string();
                    if !shown.contains(&text) {
                        write!(f, ": {text}")?;
                        shown.push_str(&text);
                    }
                    source = cause.source();
                }
                Ok(())
            }
        }
    }
}

/// One sentence on a refused certificate: what is wrong, its facts, and
/// the exact flag that would trust it.
pub fn certificate_advice(rejected: &ftpkit::CertificateRejected) -> String {
    use ftpkit::CertificateProblem as P;
    let c = &rejected.certificate;
    let facts = format!(
        "subject \"{}\", issuer \"{}\", valid {} to {}, names [{}], SHA-256 {}",
        c.subject,
        c.issuer,
        c.not_before_utc(),
        c.not_after_utc(),
        c.names.join(", "),
        c.sha256
    );
    let host = &rejected.host;
    let pin = format!("--pin-sha256 {}", c.sha256);
    match rejected.problem {
        P::SelfSigned => format!(
            "the certificate of {host} is self-signed ({facts}); if it is the server's, trust it \
             with --cacert FILE (that certificate in PEM), {pin}, or `ftpkit trust` with this URL"
        ),
        P::UnknownIssuer => format!(
            "the certificate of {host} is signed by \"{}\", which is not trusted ({facts}); \
             trust that issuer with --cacert FILE (its certificate in PEM), or this certificate \
             alone with {pin} or `ftpkit trust` with this URL",
            c.issuer
        ),
        P::Expired => format!(
            "the certificate of {host} expired on {} ({facts}); the server must renew it, \
             or accept it as it is with {pin}",
            c.not_after_utc()
        ),
        P::NotYetValid => format!(
            "the certificate of {host} is not valid before {} ({facts}); check this machine's \
             clock, or accept it as it is with {pin}",
            c.not_before_utc()
        ),
        P::NameMismatch => format!(
            "the certificate of {host} is for [{}], not {host} ({facts}); connect by one of \
             those names, or accept it as it is with {pin}",
            c.names.join(", ")
        ),
        P::PinMismatch => format!(
            "the certificate of {host} is not the pinned one: --pin-sha256 expects {}, the \
             server presented {} ({facts})",
            rejected.expected_sha256.as_deref().unwrap_or("?"),
            c.sha256
        ),
        P::Changed => format!(
            "WARNING: the certificate of {host} has CHANGED since it was trusted: recorded \
             SHA-256 {}, presented {} ({facts}); this may be an attack; if the change is \
             expected, run `ftpkit trust --forget` then `ftpkit trust` with this URL",
            rejected.expected_sha256.as_deref().unwrap_or("?"),
            c.sha256
        ),
        _ => format!("the certificate of {host} was refused ({facts})"),
    }
}
