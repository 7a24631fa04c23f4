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
