//! Exit codes: one table, shown in `--help`, and the mapping from errors.

use std::process::ExitCode;

use ftpkit::{Error, Phase, proxy::ProxyError};

/// The exit-code table, as `--help` prints it.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  other failure
  2  usage error: bad arguments or URL, input refused before sending
  3  network error, timeout, or a deadline passed (--max-time included); the proxy
     failed or could not connect
  4  login refused (by the server or the proxy)
  5  the server refused a file command (the reply is printed)
  6  protocol error: the server broke the FTP protocol
  7  local file error
  8  incomplete transfer, or verification failed: size or hash mismatch
     (a download's PATH.part is kept)
  9  TLS error: handshake, certificate or host name
 10  some files were skipped, each with a warning (a server name unsafe as
     a local file name: .., /, \\, control characters, not UTF-8); the
     others were copied";

/// Why the command failed, as an exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 1
    Other = 1,
    /// 2
    Usage = 2,
    /// 3
    Network = 3,
    /// 4
    Login = 4,
    /// 5
    Remote = 5,
    /// 6
    Protocol = 6,
    /// 7
    Local = 7,
    /// 8
    Incomplete = 8,
    /// 9
    Tls = 9,
    /// 10
    Skipped = 10,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// The exit code for a library error.
pub fn for_error(error: &Error) -> Exit {
    match error {
        Error::LoginRefused(_) => Exit::Login,
        Error::Reply { .. } => Exit::Remote,
        Error::Protocol(_) => Exit::Protocol,
        Error::InvalidInput(_) => Exit::Usage,
        Error::Io {
            phase: Phase::Local,
            ..
        } => Exit::Local,
        Error::Io { .. }
        | Error::ConnectionClosed(_)
        | Error::Unusable
        | Error::Deadline { .. } => Exit::Network,
        Error::Incomplete { .. } | Error::Verification(_) => Exit::Incomplete,
        Error::Tls { .. } | Error::Certificate { .. } => Exit::Tls,
        Error::Proxy(ProxyError::AuthRefused(_)) => Exit::Login,
        Error::Proxy(ProxyError::ActiveMode | ProxyError::TlsThroughFtpProxy) => Exit::Usage,
        Error::Proxy(_) => Exit::Network,
        _ => Exit::Other,
    }
}
