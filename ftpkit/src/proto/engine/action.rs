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
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};

use rustls::ClientConfig;
use rustls_pki_types::ServerName;

use crate::{error::Error, proto::hash::HashAlgorithm};

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
///
/// The blocking driver keeps its data sockets' idle timeout on the socket,
/// so it need not read every deadline and idle field.
#[derive(Debug)]
#[allow(dead_code)]
pub(crate) enum Action {
    /// Open the control connection (resolving a host name) from `source`,
    /// giving up at `deadline`, with TCP keepalive probes after `keepalive`
    /// of silence and at that interval if given. Report [`Event::Connected`].
    Connect {
        target: Target,
        source: Option<IpAddr>,
        deadline: Instant,
        keepalive: Option<Duration>,
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
    /// `idle` as its socket timeout for reads, and for writes too if
    /// `writes` (an upload, or TLS records: a plain download writes
    /// nothing), its unsent bytes capped at `unsent` (`None`: the kernel's
    /// default), and start TLS on it if asked (send the ClientHello
    /// without waiting). Report [`Event::Done`].
    OpenData {
        addr: SocketAddr,
        source: Option<IpAddr>,
        deadline: Instant,
        idle: Duration,
        writes: bool,
        unsent: Option<u32>,
        tls: Option<TlsParams>,
    },
    /// Listen for an active data connection on the control connection's
    /// local IP address and this port (0: any). Report [`Event::Listening`].
    Listen { port: u16 },
    /// Accept the data connection on the listener, from `from` only, with
    /// `idle`, `writes` and `unsent` as for [`Action::OpenData`], starting
    /// TLS if asked. Report [`Event::Done`].
    Accept {
        from: IpAddr,
        deadline: Instant,
        idle: Duration,
        writes: bool,
        unsent: Option<u32>,
        tls: Option<TlsParams>,
    },
    /// Complete the data connection's TLS handshake (nothing on a plain
    /// one). Report [`Event::Done`].
    FinishData { deadline: Instant },
    /// Close the data connection, with a reset if `reset` (a partial upload
    /// must not look complete). Report [`Event::Done`].
    CloseData { reset: bool },
    /// Read one chunk of a download's data by `deadline`. Report
    /// [`Event::Bytes`], or [`Event::Eof`] at its end.
    ReadData { deadline: Instant },
    /// Move the data of a transfer between the data connection and the
    /// local file (at its position), in bulk, or at most `max` bytes, in
    /// chunks of up to `block`, with `idle` as each chunk's timeout. After
    /// each chunk, report the file offset (`offset` plus the bytes moved)
    /// to the caller's progress callback, if any. Report
    /// [`Event::Pumped`].
    Pump {
        direction: PumpDirection,
        offset: u64,
        max: Option<u64>,
        block: usize,
        idle: Duration,
    },
    /// End an upload's data connection properly: flush, TLS close_notify,
    /// shutdown, and read until the server closes. Report [`Event::Done`].
    FinishUpload { deadline: Instant },
    /// Tell the caller's progress callback, if any, this file offset.
    /// Report [`Event::Done`].
    Progress(u64),
    /// Tell the caller's size callback, if any, the remote file's size
    /// (`None`: the server does not say). Report [`Event::Done`].
    RemoteSize(Option<u64>),
    /// A local file operation. Report what [`LocalOp`] says.
    Local(LocalOp),
    /// Wait until this instant. Report [`Event::Done`].
    Sleep { until: Instant },
}

/// Which way a [`Action::Pump`] moves data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PumpDirection {
    /// Data connection to local file, until the server closes it.
    Receive,
    /// Local file to data connection, until the file ends; with
    /// `sendfile(2)` where the driver can and `sendfile` allows.
    Send { sendfile: bool },
}

/// An operation on the one local file of a `download` or `upload`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LocalOp {
    /// Open (creating, never truncating) a `.part` file for reading and
    /// writing. Report [`Event::File`].
    OpenPart(PathBuf),
    /// Open a `.part` file for reading and writing, emptied (created, or
    /// truncated): a transfer from byte 0 that keeps nothing of an earlier
    /// run. Report [`Event::Done`].
    CreatePart(PathBuf),
    /// Open a file to upload. Report [`Event::File`].
    OpenRead(PathBuf),
    /// Report [`Event::File`] for the open file.
    Stat,
    /// Read exactly `len` bytes from `offset`. Report [`Event::Bytes`].
    ReadAt { offset: u64, len: u64 },
    /// Write these bytes at the position. Report [`Event::Done`].
    Write(Vec<u8>),
    /// Write these bytes at `offset` without moving the position (a
    /// positional write: several connections fill one file). Report
    /// [`Event::Done`].
    WriteAt { offset: u64, bytes: Vec<u8> },
    /// Read a small file whole (a segmented download's progress record).
    /// Report [`Event::Bytes`], or [`Event::Done`] if there is no such file.
    ReadWhole(PathBuf),
    /// Write `bytes` to `temp`, then rename it over `path`, so that `path`
    /// holds the old or the new bytes, never a mix. Report [`Event::Done`].
    Replace {
        path: PathBuf,
        temp: PathBuf,
        bytes: Vec<u8>,
    },
    /// Remove a file if it exists. Report [`Event::Done`].
    Remove(PathBuf),
    /// Cut (or extend) the file to this length and move there.
    Truncate(u64),
    /// Move to this offset.
    Seek(u64),
    /// The digest of the whole file. Report [`Event::Bytes`].
    Hash(HashAlgorithm),
    /// Set the file's modification time.
    SetModified(SystemTime),
    /// Flush data and metadata to the disk (fsync).
    Sync,
    /// Close the file.
    Close,
    /// Rename a file.
    Rename { from: PathBuf, to: PathBuf },
    /// Move `from` to `to` if `to` does not exist and `from` does (a
    /// partial file left under the final name becomes the `.part`).
    /// Report [`Event::Done`].
    Adopt { from: PathBuf, to: PathBuf },
    /// Close the file, and remove the file at this path if it is empty:
    /// a `.part` left only when it holds bytes to resume from. Report
    /// [`Event::Done`].
    RemoveIfEmpty(PathBuf),
}

/// What happened when the driver performed an [`Action`].
#[derive(Debug)]
pub(crate) enum Event {
    /// The first event of an operation: nothing happened yet.
    Start,
    /// The action completed.
    Done,
    /// TLS is up on the control connection, with this protocol version.
    Secured(Option<rustls::ProtocolVersion>),
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
    /// The local file's size and modification time.
    File { len: u64, modified: SystemTime },
    /// Bytes moved by a pump, and whether the data ended.
    Pumped { bytes: u64, eof: bool },
}

impl Event {
    /// The short name of the event, for errors about an event that does not
    /// answer the action.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Event::Start => "start",
            Event::Done => "done",
            Event::Secured(_) => "secured",
            Event::Bytes(_) => "bytes",
            Event::Eof => "eof",
            Event::TimedOut => "timed out",
            Event::Failed(_) => "failed",
            Event::Connected(_) => "connected",
            Event::Listening(_) => "listening",
            Event::File { .. } => "file",
            Event::Pumped { .. } => "pumped",
        }
    }
}
