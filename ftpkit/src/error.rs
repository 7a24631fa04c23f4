//! The one error type of ftpkit.
//!
//! Variants say who is at fault: the server refused (a reply, with its code
//! and text kept), the server broke the protocol, the caller passed input that
//! cannot be sent, or I/O failed in a named phase (timeouts included).

use std::{fmt, io};

pub use crate::proto::reply::ProtocolError;
use crate::{
    proto::{
        hash::HashAlgorithm,
        reply::{Reply, ReplyCode},
    },
    tls::trust::CertificateRejected,
};

/// Everything that can go wrong in ftpkit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered a command with a reply it should not have
    /// (4xx, 5xx, or a reply of the wrong class). ftplib's `error_temp`,
    /// `error_perm` and `error_reply`.
    #[error("{command}: {reply}")]
    Reply {
        /// The command that was refused, with any password redacted.
        command: String,
        /// The server's reply, code and text.
        reply: Reply,
    },
    /// The server refused the login (USER, PASS or ACCT).
    #[error("login refused: {0}")]
    LoginRefused(Reply),
    /// The server broke the protocol: malformed or oversized reply, bad
    /// passive address. ftplib's `error_proto`.
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),
    /// The caller asked for something that cannot be sent: nothing was sent.
    #[error("invalid input: {0}")]
    InvalidInput(#[from] InvalidInput),
    /// I/O failed, or timed out, in the given phase.
    #[error("{phase}: {source}")]
    Io {
        /// What the client was doing.
        phase: Phase,
        /// The underlying error; `ErrorKind::TimedOut` or `WouldBlock` for timeouts.
        #[source]
        source: io::Error,
    },
    /// TLS failed: the handshake, certificate or host-name verification,
    /// or a corrupt record.
    #[error("TLS {phase}: {source}")]
    Tls {
        /// What the client was doing.
        phase: Phase,
        /// The TLS error.
        #[source]
        source: rustls::Error,
    },
    /// The server's certificate was refused: what is wrong with it, and
    /// its facts (subject, issuer, dates, names, SHA-256 fingerprint) to
    /// decide whether to trust it.
    #[error("TLS {phase}: {rejected}")]
    Certificate {
        /// What the client was doing.
        phase: Phase,
        /// The refusal and the certificate's facts.
        rejected: Box<CertificateRejected>,
    },
    /// The server closed a connection before the exchange was complete.
    #[error("connection closed by the server {0}")]
    ConnectionClosed(Phase),
    /// A transfer ended with fewer bytes than the server announced: the data
    /// is not complete even if the server said it was.
    #[error("transfer incomplete: expected {expected} bytes, received {received}")]
    Incomplete {
        /// Bytes the server announced.
        expected: u64,
        /// Bytes that arrived.
        received: u64,
    },
    /// The transfer completed but its result could not be verified: sizes
    /// or content hashes differ. A download's `.part` file is kept.
    #[error("verification failed: {0}")]
    Verification(#[from] VerifyError),
    /// The proxy refused, failed or broke its protocol, or the request
    /// cannot work through it (see [`crate::proxy`]).
    #[error("proxy: {0}")]
    Proxy(#[from] crate::proxy::ProxyError),
    /// An earlier failure left the control connection in an unknown state;
    /// the client must reconnect.
    #[error("the control connection is unusable after an earlier failure; reconnect")]
    Unusable,
    /// A deadline passed: opening the connection, receiving a whole reply,
    /// or the whole operation ([`Config::deadline`](crate::Config::deadline)),
    /// retries and their waits included. Unlike the idle timeout, a
    /// deadline is not restarted by bytes that keep trickling in.
    #[error("{}", deadline_message(*.deadline, *.phase, .last.as_deref()))]
    Deadline {
        /// Which deadline passed.
        deadline: Deadline,
        /// What the client was doing.
        phase: Phase,
        /// The failure that was being retried when the operation deadline
        /// left no time for another attempt, if any.
        #[source]
        last: Option<Box<Error>>,
    },
}

fn deadline_message(deadline: Deadline, phase: Phase, last: Option<&Error>) -> String {
    match last {
        Some(last) => format!("{deadline} passed {phase} (last failure: {last})"),
        None => format!("{deadline} passed {phase}"),
    }
}

/// Which deadline passed, in an [`Error::Deadline`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Deadline {
    /// [`Config::connect_timeout`](crate::Config::connect_timeout): the
    /// connection, its TLS handshake and the greeting, all together.
    Connect,
    /// [`Config::reply_timeout`](crate::Config::reply_timeout): one whole
    /// reply, however slowly its bytes arrive.
    Reply,
    /// [`Config::deadline`](crate::Config::deadline): a whole operation,
    /// retries, reconnects and waits included (the CLI's `--max-time`).
    Operation,
}

impl fmt::Display for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Deadline::Connect => "the connect deadline",
            Deadline::Reply => "the reply deadline",
            Deadline::Operation => "the operation deadline",
        })
    }
}

impl Error {
    /// The server's reply, if the error carries one.
    pub fn reply(&self) -> Option<&Reply> {
        match self {
            Error::Reply { reply, .. } | Error::LoginRefused(reply) => Some(reply),
            _ => None,
        }
    }

    /// The server's reply code, if the error carries one.
    pub fn code(&self) -> Option<ReplyCode> {
        self.reply().map(Reply::code)
    }

    /// Whether trying again may succeed: a 4xx reply, a timeout, a dropped
    /// connection or another network failure. A 5xx reply, a refused login,
    /// a protocol error or bad input is not transient.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Reply { reply, .. } => reply.code().is_transient(),
            Error::Io { phase, .. } => *phase != Phase::Local,
            Error::ConnectionClosed(_) | Error::Incomplete { .. } | Error::Unusable => true,
            // The operation's own deadline is final: another attempt would
            // run past it.
            Error::Deadline { deadline, .. } => *deadline != Deadline::Operation,
            _ => false,
        }
    }

    /// Whether the server refused for good: a 5xx reply or a refused login.
    pub fn is_permanent(&self) -> bool {
        self.code().is_some_and(ReplyCode::is_permanent)
    }

    /// Whether an idle timeout or a deadline expired.
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::Io { source, .. } => {
                matches!(
                    source.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                )
            }
            Error::Deadline { .. } => true,
            _ => false,
        }
    }

    /// The deadline that passed, if this error is one.
    pub fn deadline(&self) -> Option<Deadline> {
        match self {
            Error::Deadline { deadline, .. } => Some(*deadline),
            _ => None,
        }
    }

    /// The certificate refusal, if this is one.
    pub fn certificate_rejected(&self) -> Option<&CertificateRejected> {
        match self {
            Error::Certificate { rejected, .. } => Some(rejected),
            _ => None,
        }
    }

    /// A TLS failure: [`Error::Certificate`] when ftpkit's verifier refused
    /// the certificate, else [`Error::Tls`].
    pub(crate) fn tls(phase: Phase, source: rustls::Error) -> Error {
        match CertificateRejected::from_rustls(&source) {
            Some(rejected) => Error::Certificate {
                phase,
                rejected: Box::new(rejected.clone()),
            },
            None => Error::Tls { phase, source },
        }
    }

    pub(crate) fn io(phase: Phase) -> impl FnOnce(io::Error) -> Error {
        move |source| {
            if let Some(tls) = source
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            {
                return Error::tls(phase, tls.clone());
            }
            if source.kind() == io::ErrorKind::WouldBlock {
                // std reports an expired socket timeout as WouldBlock on Unix.
                Error::Io {
                    phase,
                    source: io::Error::new(io::ErrorKind::TimedOut, "idle timeout expired"),
                }
            } else {
                Error::Io { phase, source }
            }
        }
    }
}

/// What the client was doing when I/O failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Opening the control connection.
    Connect,
    /// Reading or writing the control connection.
    Control,
    /// Opening a passive data connection.
    DataConnect,
    /// Waiting for the server to open an active-mode data connection.
    DataAccept,
    /// Moving bytes on the data connection.
    Data,
    /// Reading or writing the caller's side (a local file or stream).
    Local,
    /// Waiting before another attempt of a transfer.
    Retry,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Connect => "connecting to the server",
            Phase::Control => "on the control connection",
            Phase::DataConnect => "opening the data connection",
            Phase::DataAccept => "waiting for the server's data connection",
            Phase::Data => "on the data connection",
            Phase::Local => "on the local side",
            Phase::Retry => "before the next attempt",
        })
    }
}

/// Why verification failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The two sides disagree on the size.
    #[error("size mismatch: the server reports {remote} bytes, the local file has {local}")]
    Size {
        /// The server's size.
        remote: u64,
        /// The local size.
        local: u64,
    },
    /// The two sides disagree on the content hash.
    #[error("{algorithm} mismatch: the server reports {remote}, the local file has {local}")]
    Hash {
        /// The algorithm compared.
        algorithm: HashAlgorithm,
        /// The server's digest, hex.
        remote: String,
        /// The local digest, hex.
        local: String,
    },
    /// The remote file changed during every attempt to download it.
    #[error("the remote file kept changing during the download")]
    RemoteChanged,
    /// The local file changed while it was being uploaded.
    #[error("the local file changed during the upload")]
    LocalChanged,
    /// Every byte moved but the server's final reply never came, and the
    /// server tells neither the size nor a hash of its file to confirm it.
    #[error(
        "the transfer's final reply never came and the server offers no SIZE or hash to confirm the file"
    )]
    Unconfirmed,
}

/// Input that ftpkit refuses to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidInput {
    /// CR or LF in an argument would end the command early and inject another.
    #[error("{0} contains a line break (CR or LF)")]
    LineBreak(&'static str),
    /// NUL is not allowed in a command.
    #[error("{0} contains a NUL byte")]
    Nul(&'static str),
    /// An argument over the length limit.
    #[error("{what} is {len} bytes long; the limit is {max}")]
    TooLong {
        /// What was too long.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// TLS settings that cannot be used (a CA file without certificates,
    /// a malformed fingerprint).
    #[error("TLS settings: {0}")]
    Tls(String),
    /// A password would be sent in clear although TLS was asked for.
    #[error(
        "refusing to send credentials: TLS was required but the control connection is not encrypted"
    )]
    CleartextCredentials,
    /// A host, port or address that cannot be used.
    #[error("invalid address: {0}")]
    Address(String),
    /// A URL that cannot be used (see [`crate::url::FtpUrl::parse`]).
    #[error("invalid URL: {0}")]
    Url(String),
    /// A name that the server's charset cannot write (see
    /// [`crate::Charset::encode`]).
    #[error("charset: {0}")]
    Charset(String),
}

impl From<crate::charset::Unwritable> for InvalidInput {
    fn from(e: crate::charset::Unwritable) -> InvalidInput {
        InvalidInput::Charset(e.to_string())
    }
}

impl From<crate::charset::Unwritable> for Error {
    fn from(e: crate::charset::Unwritable) -> Error {
        Error::InvalidInput(e.into())
    }
}

/// The error of an idle deadline that passed in `phase`.
pub(crate) fn timed_out(phase: Phase) -> Error {
    Error::Io {
        phase,
        source: io::Error::new(io::ErrorKind::TimedOut, "idle timeout expired"),
    }
}

/// `Result` with ftpkit's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
