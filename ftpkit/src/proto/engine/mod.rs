//! The engine: whole operations (connect, login, every simple command, the
//! setup of a transfer, abort) written once, in the core, and run by any
//! driver.
//!
//! An operation is a plain `async fn` over [`Core`], the one place that
//! holds a connection's state (session, TLS and protection state, usable
//! or not, a command in flight, what a reconnect replays, the reply
//! reader). It never touches a socket: when it needs one it calls
//! [`Core::perform`] with an [`Action`] and gets an [`Event`] back. The
//! compiler turns the `async fn` into a state machine, and [`Operation`]
//! runs it by hand: [`Operation::resume`] feeds it the event of the last
//! action and the time, and returns the next action or the result. No
//! async runtime is involved; the future is polled with a no-op waker.
//!
//! A driver is then one loop, the same for blocking and async code:
//!
//! ```text
//! let mut event = Event::Start;
//! loop {
//!     match op.resume(event, Instant::now()) {
//!         Step::Done(result) => return result,
//!         Step::Act(action) => event = io.perform(action),   // `.await` in tokio
//!     }
//! }
//! ```
//!
//! Time comes in from outside: an operation reads [`Core::now`] (the time
//! given with the last event) and computes every deadline from it and the
//! [`Config`], so tests step a fake clock and never sleep.
//!
//! Deadlines: every socket action gets the earliest of its own idle
//! deadline and the deadlines in force — the whole reply being read
//! ([`Config::reply_timeout`]), the connection being opened
//! ([`Config::connect_timeout`]) and the whole operation
//! ([`Config::deadline`], fixed at the operation's first step) — and the
//! core remembers which one that was, so a timeout names it
//! ([`Error::Deadline`]). Retry waits are spread by [`Jitter`], seeded per
//! connection and injectable in tests.
//!
//! Cancellation: an operation marks the connection in flight while a
//! command awaits its reply; if a driver drops an operation half-way (a
//! dropped tokio future) the mark stays, and the next operation refuses
//! to run on a connection that is out of step ([`Error::Unusable`]).
//!
//! # Where an operation lives
//!
//! - `action`: the vocabulary, [`Action`] and [`Event`];
//! - [`ops`]: the control connection: connect (TCP, implicit TLS, the
//!   greeting, `AUTH TLS`), `PBSZ`/`PROT`, `CCC`, login, every simple
//!   command, `ABOR` and the abort of a transfer, reconnect and its replay;
//! - [`data`]: a transfer's setup (protection, `TYPE`, `EPSV`/`PASV` or
//!   `EPRT`/`PORT`, `PRET`, `REST`, the command, the data connection and
//!   its TLS) and the probe that learns a server's `LIST` time offset;
//! - [`batch`]: pipelining, the commands of a download in one write;
//! - [`overlap`]: the next download's commands sent behind this one's
//!   `RETR`, so that consecutive downloads overlap;
//! - [`flow`]: a streaming transfer, a reader or writer the caller holds:
//!   what each read or write means, when its final reply is due, what an
//!   unfinished one leaves to the next operation;
//! - [`files`]: the `download` and `upload` plans (retries, reconnects,
//!   resume, verification, file times, `.part` and temporary names);
//!   [`segments`]: one download over several connections;
//! - `tests` and `tests/operations.rs`: the operations fed events by hand,
//!   or run to their end against a scripted wire, on a fake clock.
//!
//! # What a driver may do
//!
//! Perform an [`Action`] with its own sockets, TLS streams and bulk data
//! path, and report the [`Event`]; nothing else: it never decides what to
//! send, what a reply means, when to retry or what the connection's state
//! becomes. The rest of a driver is written once and expanded by both:
//! `crate::api` (the command methods), `crate::driver` (the one `perform`
//! over every action, the connectors, the streaming methods and their
//! readers and writers, the builders, the loop that runs a `download` or
//! `upload` plan, the segmented download, the listing parser, the pools'
//! halves) and `crate::local` (every [`LocalOp`], with `std::fs`).
//!
//! # Adding a command, step by step
//!
//! `MDTM` (a file's modification time) as it is written:
//!
//! 1. Its wire form, in `proto/command.rs`: `Command::Mdtm(Arg)`, whose
//!    argument is checked when built (no CR, LF or NUL reaches the wire),
//!    with its verb in `Command::verb`.
//! 2. What its reply means, in `proto/parse.rs`: `parse_mdtm`, tested there
//!    on byte literals.
//! 3. The operation, in [`ops`]: `ops::mdtm` is
//!    `run(core, Command::Mdtm(Arg::path(path)?), Expect::Completion)` then
//!    the parse. [`ops::run`] sends the command, reads the reply and makes
//!    one of another class an error that keeps its code and text. An
//!    operation that needs more awaits the operations it builds on (`SIZE`
//!    first ensures `TYPE I`; `CWD ..` falls back from `CDUP`).
//! 4. Its unit test, in `tests.rs`
//!    (`mdtm_sends_its_path_and_reads_the_time_in_utc`): the operation
//!    resumed by hand with events and a fixed `now`, checking the exact
//!    bytes sent, the time parsed, a refusal's text. An operation
//!    of many steps runs against the scripted wire of
//!    `tests/operations.rs` instead, which compares its whole transcript.
//! 5. One public method in `crate::api`'s `client_api!` list, documented
//!    with its ftplib name: `$drive(&mut self.io, self.core.op(|core|
//!    ops::mdtm(core, path)))`. Both drivers expand the list, so
//!    `Client::mdtm` and `AsyncClient::mdtm` exist from then on.
//! 6. One exact dialogue with the scripted fake server, written once with
//!    `dialogue!` in `tests/it/fake.rs`: it runs on both drivers.

mod action;
pub(crate) mod batch;
pub(crate) mod data;
pub(crate) mod files;
pub(crate) mod flow;
pub(crate) mod ops;
pub(crate) mod overlap;
pub(crate) mod segments;

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex, MutexGuard},
    task::{Context, Poll, Waker},
    time::{Duration, Instant},
};

pub(crate) use action::{Action, Event, LocalOp, PumpDirection, Target, TlsParams};
use rustls_pki_types::ServerName;

use super::{
    Arg, Command, Protection, Reply, ReplyCode, ReplyReader, Session, hash::HashCommand,
    resume::Asks, rules::SessionMemory,
};
use crate::{
    config::Config,
    error::{Deadline, Error, Phase, Result},
    tls::TlsConfig,
};

/// What a dropped transfer left for the next operation to settle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pending {
    /// The data connection (kept by the driver) is still open: abort the
    /// transfer (`ABOR`, close, `NOOP`), resetting it if `reset`.
    Abort { reset: bool },
    /// The data connection is closed but the final reply was not read:
    /// read and discard it.
    FinalReply,
}

/// The commands that prepare the next download, to send (or sent) behind
/// a transfer command ([`overlap`]).
#[derive(Debug, Clone)]
pub(crate) struct Next {
    pub(crate) remote: Arg,
    pub(crate) asks: Asks,
    pub(crate) commands: Vec<Command>,
    /// When they went out, and how long the first reply then took.
    pub(crate) sent: Option<Instant>,
    pub(crate) first: Option<Duration>,
}

/// The replies read ahead for the download of a file ([`overlap`]).
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) remote: Arg,
    pub(crate) asks: Asks,
    pub(crate) replies: Vec<(Command, Reply)>,
}

/// The exchange point between an operation and its driver.
#[derive(Debug)]
struct Slot {
    /// The action the operation waits on.
    action: Option<Action>,
    /// The event that answers it.
    event: Option<Event>,
    /// The time given with the last event.
    now: Instant,
    /// The deadline of the operation running, if it has one.
    operation_by: Option<Instant>,
    /// The named deadline that bounded the last action, if any.
    binding: Option<Deadline>,
}

type SharedSlot = Arc<Mutex<Slot>>;

fn lock(slot: &SharedSlot) -> MutexGuard<'_, Slot> {
    slot.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The state of one control connection, kept in one place for every
/// operation and every driver.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) config: Config,
    pub(crate) host: String,
    /// The server's port (what an FTP proxy is told to connect to).
    pub(crate) origin_port: u16,
    pub(crate) session: Session,
    pub(crate) welcome: Reply,
    /// An earlier failure left the connection out of step.
    pub(crate) unusable: bool,
    /// A command was sent (or I/O begun) whose reply was not read yet.
    pub(crate) in_flight: bool,
    /// The control connection is encrypted.
    pub(crate) secure: bool,
    /// The data protection level the server agreed to.
    pub(crate) protection: Protection,
    /// What a reconnect logs in with and returns to.
    pub(crate) memory: SessionMemory,
    /// The algorithm `OPTS HASH` selected, if any.
    pub(crate) hash_selected: Option<HashCommand>,
    /// What a dropped transfer left behind.
    pub(crate) pending: Option<Pending>,
    /// The control connection is one the caller supplied: no reconnect.
    pub(crate) supplied: bool,
    /// TLS settings, built on first need.
    tls: Option<(TlsConfig, ServerName<'static>)>,
    /// The TLS version the control connection negotiated.
    pub(crate) tls_version: Option<rustls::ProtocolVersion>,
    /// The server's `LIST` time offset, once learned
    /// ([`ListTimeOffset::Auto`](crate::ListTimeOffset::Auto)); kept
    /// across reconnections.
    pub(crate) list_offset_learned: Option<i32>,
    /// How many listings tried to learn it.
    pub(crate) list_offset_probes: u8,
    /// While connecting: when the connection must be open and greeted.
    pub(crate) connect_by: Option<Instant>,
    /// While reading a reply: when it must be complete.
    pub(crate) reply_by: Option<Instant>,
    /// Spreads retry waits.
    pub(crate) jitter: Jitter,
    /// The server mishandled a batch of commands: one at a time from now
    /// on; kept across reconnections.
    pub(crate) pipelining_refused: bool,
    /// Replies already read, in a batch, for the commands that the next
    /// data setup sends first, in order (its `EPSV`/`PASV`, after a
    /// `PRET` read ahead behind a transfer); dropped as soon as any other
    /// command is sent.
    pub(crate) answered: Vec<(Command, Reply)>,
    /// A server answered a command sent behind a transfer before the
    /// transfer's final reply, or a transfer with commands behind it
    /// failed: no more overlapping transfers; kept across reconnections.
    pub(crate) overlap_refused: bool,
    /// The server's `150` to a binary `RETR` from byte 0 states the
    /// file's size, and that size matched its `SIZE` reply: downloads
    /// that need no `MDTM` stop asking `SIZE` and verify against the
    /// `150` instead (one command a file less); kept across
    /// reconnections, dropped by the first `150` without a size.
    pub(crate) announces_size: bool,
    /// What the next transfer command takes with it: the commands that
    /// prepare the next download ([`overlap::queue_next`]).
    pub(crate) behind: Option<Next>,
    /// Those commands, sent: their replies are owed after the transfer's
    /// final reply.
    pub(crate) queued: Option<Next>,
    /// Their replies, read: what the next download of that file uses
    /// instead of asking; dropped as soon as any other command is sent.
    pub(crate) prepared: Option<Prepared>,
    reader: ReplyReader,
    slot: SharedSlot,
}

/// A small pseudo-random sequence (xorshift64) to spread retry waits, so
/// that many clients refused at once do not come back at once. Seeded
/// randomly per connection; tests seed it to know every wait exactly.
#[derive(Debug, Clone)]
pub(crate) struct Jitter(u64);

impl Jitter {
    /// A sequence from this seed.
    pub(crate) fn seeded(seed: u64) -> Jitter {
        Jitter(seed | 1)
    }

    /// A sequence from a random seed.
    fn random() -> Jitter {
        use std::hash::BuildHasher;
        Jitter::seeded(std::collections::hash_map::RandomState::new().hash_one(0x6a17u16))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A wait between half `wait` and `wait`, to the nanosecond.
    pub(crate) fn spread(&mut self, wait: Duration) -> Duration {
        let half = wait / 2;
        let span = u64::try_from((wait - half).as_nanos()).unwrap_or(u64::MAX);
        let extra = self.next() % span.saturating_add(1);
        half + Duration::from_nanos(extra)
    }
}

impl Core {
    /// The state of a connection not opened yet, to `host` with `config`.
    pub(crate) fn new(host: String, config: Config) -> Core {
        let unspecified = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
        Core {
            session: Session::new(
                unspecified,
                config.mode,
                config.trust_pasv_address,
                config.use_epsv,
            ),
            reader: ReplyReader::new(config.reply_limits),
            config,
            host,
            origin_port: super::rules::DEFAULT_PORT,
            welcome: Reply::new(ReplyCode::READY, Vec::new()),
            unusable: false,
            in_flight: false,
            secure: false,
            protection: Protection::Clear,
            memory: SessionMemory::default(),
            hash_selected: None,
            pending: None,
            supplied: false,
            tls: None,
            tls_version: None,
            list_offset_learned: None,
            list_offset_probes: 0,
            connect_by: None,
            reply_by: None,
            jitter: Jitter::random(),
            pipelining_refused: false,
            answered: Vec::new(),
            overlap_refused: false,
            announces_size: false,
            behind: None,
            queued: None,
            prepared: None,
            slot: Arc::new(Mutex::new(Slot {
                action: None,
                event: None,
                now: Instant::now(),
                operation_by: None,
                binding: None,
            })),
        }
    }

    /// Forgets everything about the connection but the configuration, the
    /// host and what a reconnect replays: the state of a new connection.
    pub(crate) fn reset(&mut self) {
        let slot = self.slot.clone();
        *self = self.successor();
        self.slot = slot;
    }

    /// The state of a new connection to the same server: the
    /// configuration, the host, what a reconnect replays, the learned
    /// `LIST` offset, the retry jitter, and the server's address and data
    /// mode. The public `reconnect` runs [`ops::reconnect`] on it, so the
    /// old connection stays as it was until the new one is ready.
    pub(crate) fn successor(&self) -> Core {
        let mut next = Core::new(self.host.clone(), self.config.clone());
        next.origin_port = self.origin_port;
        next.memory = self.memory.clone();
        next.list_offset_learned = self.list_offset_learned;
        next.list_offset_probes = self.list_offset_probes;
        next.jitter = self.jitter.clone();
        next.pipelining_refused = self.pipelining_refused;
        next.overlap_refused = self.overlap_refused;
        next.announces_size = self.announces_size;
        next.supplied = self.supplied;
        next.session = Session::new(
            self.session.peer(),
            self.session.mode(),
            self.config.trust_pasv_address,
            self.config.use_epsv,
        );
        next
    }

    /// Wraps the operation `build` makes over this core, for a driver to run.
    pub(crate) fn op<'a, T, F>(
        &'a mut self,
        build: impl FnOnce(&'a mut Core) -> F,
    ) -> Operation<'a, T>
    where
        F: Future<Output = Result<T>> + Send + 'a,
    {
        let slot = self.slot.clone();
        let limit = self.config.deadline;
        Operation {
            fut: Box::pin(build(self)),
            slot,
            started: false,
            limit,
        }
    }

    /// The time given with the last event.
    pub(crate) fn now(&self) -> Instant {
        lock(&self.slot).now
    }

    /// The deadline of the operation running, if it has one.
    pub(crate) fn operation_by(&self) -> Option<Instant> {
        lock(&self.slot).operation_by
    }

    /// The earliest of `own` (an action's own idle deadline) and the
    /// deadlines in force; remembers which named deadline that was, for
    /// [`Core::timed_out`].
    pub(crate) fn bound(&self, own: Instant) -> Instant {
        let mut at = own;
        let mut which = None;
        for (by, name) in [
            (self.operation_by(), Deadline::Operation),
            (self.connect_by, Deadline::Connect),
            (self.reply_by, Deadline::Reply),
        ] {
            if let Some(by) = by
                && by < at
            {
                at = by;
                which = Some(name);
            }
        }
        lock(&self.slot).binding = which;
        at
    }

    /// The idle deadline of a socket operation starting now, within the
    /// deadlines in force.
    pub(crate) fn idle_deadline(&self) -> Instant {
        self.bound(self.now() + self.config.timeout)
    }

    /// The idle timeout of a data socket opened now, within the deadlines
    /// in force.
    pub(crate) fn idle_for(&self) -> Duration {
        let now = self.now();
        self.idle_deadline().saturating_duration_since(now)
    }

    /// The error of an action that timed out in `phase`: the named
    /// deadline that bounded it, or the idle timeout.
    pub(crate) fn timed_out(&self, phase: Phase) -> Error {
        match lock(&self.slot).binding {
            Some(deadline) => Error::Deadline {
                deadline,
                phase,
                last: None,
            },
            None => crate::error::timed_out(phase),
        }
    }

    /// Fails if the operation's deadline has passed.
    pub(crate) fn check_deadline(&self, phase: Phase) -> Result<()> {
        match self.operation_by() {
            Some(by) if self.now() >= by => Err(Error::Deadline {
                deadline: Deadline::Operation,
                phase,
                last: None,
            }),
            _ => Ok(()),
        }
    }

    /// Asks the driver to perform `action` and returns what happened.
    pub(crate) async fn perform(&mut self, action: Action) -> Event {
        lock(&self.slot).action = Some(action);
        Yield {
            slot: &self.slot,
            yielded: false,
        }
        .await
    }

    /// Whether the connection is out of step (a failure, or an operation
    /// dropped half-way).
    pub(crate) fn is_unusable(&self) -> bool {
        self.unusable || self.in_flight
    }

    /// The TLS settings to use, built on first need.
    pub(crate) fn tls_params(&mut self) -> Result<TlsParams> {
        if self.tls.is_none() {
            let config = match &self.config.tls {
                Some(config) => config.clone(),
                None => TlsConfig::system()?,
            };
            let port = self.session.peer().port();
            self.tls = Some((
                config.for_server(&self.host, port),
                crate::tls::server_name(&self.host)?,
            ));
        }
        match &self.tls {
            Some((config, name)) => Ok(TlsParams {
                config: config.rustls().clone(),
                name: name.clone(),
            }),
            None => Err(Error::Unusable),
        }
    }
}

impl Core {
    /// The offset, in seconds ahead of UTC, to read `LIST` times with: the
    /// fixed one, or the one learned (0 until then).
    pub(crate) fn list_offset(&self) -> i32 {
        match self.config.list_time_offset {
            crate::ListTimeOffset::Fixed(offset) => offset,
            crate::ListTimeOffset::Auto => self.list_offset_learned.unwrap_or(0),
        }
    }

    /// Whether a `LIST` should first teach the server's time zone: until
    /// learned, on the first [`reach::MAX_OFFSET_PROBES`] listings at most
    /// (a tree of old files, shown without a time of day, teaches nothing
    /// and must not double every listing).
    ///
    /// [`reach::MAX_OFFSET_PROBES`]: crate::proto::reach::MAX_OFFSET_PROBES
    pub(crate) fn wants_offset_probe(&self) -> bool {
        self.config.list_time_offset == crate::ListTimeOffset::Auto
            && self.list_offset_learned.is_none()
            && self.list_offset_probes < crate::proto::reach::MAX_OFFSET_PROBES
    }

    /// Whether the offset is not known, and will not be learned.
    pub(crate) fn list_offset_unknown(&self) -> bool {
        self.config.list_time_offset == crate::ListTimeOffset::Auto
            && self.list_offset_learned.is_none()
    }

    /// After a failed transfer: if the server refused a data connection's
    /// TLS 1.3 session ([`crate::tls::refuses_tls13_data`]), switches this
    /// connection's configuration to TLS 1.2 for good and says so; the
    /// caller then reconnects.
    pub(crate) fn fall_back_to_tls12(&mut self, error: &Error) -> bool {
        let Some((config, _)) = &self.tls else {
            return false;
        };
        if !crate::tls::refuses_tls13_data(self.tls_version, error) {
            return false;
        }
        let Some(tls12) = config.tls12_fallback() else {
            return false;
        };
        tracing::debug!(target: "ftpkit::tls", %error, "the server refused a TLS 1.3 data connection; TLS 1.2 from now on");
        self.config.tls = Some(tls12);
        true
    }
}

/// Waits once for the driver: pending on the first poll, then ready with
/// the event the driver fed in.
struct Yield<'a> {
    slot: &'a SharedSlot,
    yielded: bool,
}

impl Future for Yield<'_> {
    type Output = Event;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Event> {
        if !self.yielded {
            self.yielded = true;
            return Poll::Pending;
        }
        match lock(self.slot).event.take() {
            Some(event) => Poll::Ready(event),
            None => Poll::Pending,
        }
    }
}

/// What an operation wants next.
#[derive(Debug)]
pub(crate) enum Step<T> {
    /// Perform this action and resume with its event.
    Act(Action),
    /// The operation ended with this result.
    Done(Result<T>),
}

/// An operation in progress: a resumable state machine over a [`Core`].
pub(crate) struct Operation<'a, T> {
    fut: Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>,
    slot: SharedSlot,
    started: bool,
    /// [`Config::deadline`], counted from the first step.
    limit: Option<Duration>,
}

impl<T> std::fmt::Debug for Operation<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operation").finish_non_exhaustive()
    }
}

impl<T> Operation<'_, T> {
    /// Feeds the event of the last action (ignored on the first call, which
    /// starts the operation) and the time, and runs the operation to its
    /// next action or its end.
    pub(crate) fn resume(&mut self, event: Event, now: Instant) -> Step<T> {
        {
            let mut slot = lock(&self.slot);
            slot.now = now;
            slot.action = None;
            slot.event = self.started.then_some(event);
            if !self.started {
                slot.operation_by = self.limit.map(|limit| now + limit);
            }
        }
        self.started = true;
        match self
            .fut
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(result) => Step::Done(result),
            Poll::Pending => match lock(&self.slot).action.take() {
                Some(action) => Step::Act(action),
                // An operation awaits nothing but its driver.
                None => Step::Done(Err(Error::Unusable)),
            },
        }
    }
}

#[cfg(test)]
mod tests;
