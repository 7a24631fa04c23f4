//! What an operation asks of a driver ([`Action`]) and what the driver
//! reports back ([`Event`]).
//!
//! Every action is something only a driver can do: move bytes on a socket,
//! run a TLS handshake, open or accept a connection, or wait. Everything an
//! action carries (bytes, addresses, deadlines, TLS settings) was decided by
//! the core; the driver adds nothing of its own.

use std::{
    fmt,
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::{Duration, Instant},
};

use rustls::ClientConfig;
use rustls_pki_types::ServerName;

use crate::error::Error;

/// Where the control connection goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A host name (resolved by the driver) and port.
    Host(String, u16),
    /// A known address (a reconnect goes back to the same server address).
    Addr(SocketAddr),
}

/// The TLS settings for a handshake: the rustls configuration (with the
/// client's session cache) and the name the certificate must carry.
#[derive(Clone)]
pub(crate) struct TlsParams {
    pub(crate) config: Arc<ClientConfig>,
    pub(crate) name: ServerName<'static>,
}

impl fmt::Debug for TlsParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsParams")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// One thing the driver must do, then report with an [`Event`].
#[derive(Debug)]
pub(crate) enum Action {
    /// Open the control connection (resolving a host name) from `source`,
    /// giving up at `deadline`. Report [`Event::Connected`].
    Connect {
        target: Target,
        source: Option<IpAddr>,
        deadline: Instant,
    },
    /// Write these control bytes, all of them, by `deadline`. Several sends
    /// may precede a read (commands in a batch). Report [`Event::Done`].
    Send { bytes: Vec<u8>, deadline: Instant },
    /// Read whatever control bytes arrive (at least one) by `deadline`.
    /// Report [`Event::Bytes`], [`Event::Eof`] or [`Event::TimedOut`].
    Read { deadline: Instant },
    /// Run a TLS handshake on the control connection. Report [`Event::Done`].
    StartTls { tls: TlsParams, deadline: Instant },
    /// End TLS on the control connection, keeping TCP (`CCC`).
    StopTls { deadline: Instant },
    /// Open a passive data connection to `addr` (from `source`), with
    /// `idle` as its socket timeout, and start TLS on it if asked (send
    /// the ClientHello without waiting). Report [`Event::Done`].
    OpenData {
        addr: SocketAddr,
        source: Option<IpAddr>,
        deadline: Instant,
        idle: Duration,
        tls: Option<TlsParams>,
    },
    /// Listen for an active data connection on the control connection's
    /// local IP address, any port. Report [`Event::Listening`].
    Listen,
    /// Accept the data connection on the listener, from `from` only, with
    /// `idle` as its socket timeout, starting TLS if asked.
    /// Report [`Event::Done`].
    Accept {
        from: IpAddr,
        deadline: Instant,
        idle: Duration,
        tls: Option<TlsParams>,
    },
    /// Complete the data connection's TLS handshake (nothing on a plain
    /// one). Report [`Event::Done`].
    FinishData { deadline: Instant },
    /// Close the data connection, with a reset if `reset` (a partial upload
    /// must not look complete). Report [`Event::Done`].
    CloseData { reset: bool },
}

/// What happened when the driver performed an [`Action`].
#[derive(Debug)]
pub(crate) enum Event {
    /// The first event of an operation: nothing happened yet.
    Start,
    /// The action completed.
    Done,
    /// Control bytes arrived.
    Bytes(Vec<u8>),
    /// The control connection was closed by the server.
    Eof,
    /// The deadline passed.
    TimedOut,
    /// The action failed.
    Failed(Error),
    /// The control connection is open to this peer.
    Connected(SocketAddr),
    /// The listener is bound at this address.
    Listening(SocketAddr),
}

impl Event {
    /// The short name of the event, for errors about an event that does not
    /// answer the action.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Event::Start => "start",
            Event::Done => "done",
            Event::Bytes(_) => "bytes",
            Event::Eof => "eof",
            Event::TimedOut => "timed out",
            Event::Failed(_) => "failed",
            Event::Connected(_) => "connected",
            Event::Listening(_) => "listening",
        }
    }
}
