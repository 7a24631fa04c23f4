//! The pool's policy, without I/O: the size limit, the idle list and the
//! health rule, shared by the blocking and the async pool.

use std::time::{Duration, Instant};

use crate::error::{Error, Phase};

/// How a pool behaves.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PoolConfig {
    /// Most connections open at once, in use or idle. Default: 4 (at least 1).
    pub max_size: usize,
    /// A connection idle longer than this answers `NOOP` before it is handed
    /// out; one that fails is replaced. Default: 15 seconds.
    pub check_after_idle: Duration,
    /// Longest wait for a free connection. Default: 60 seconds.
    pub acquire_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_size: 4,
            check_after_idle: Duration::from_secs(15),
            acquire_timeout: Duration::from_secs(60),
        }
    }
}

impl PoolConfig {
    /// Sets [`PoolConfig::max_size`] (at least 1).
    pub fn max_size(mut self, n: usize) -> Self {
        self.max_size = n.max(1);
        self
    }

    /// Sets [`PoolConfig::check_after_idle`].
    pub fn check_after_idle(mut self, idle: Duration) -> Self {
        self.check_after_idle = idle;
        self
    }

    /// Sets [`PoolConfig::acquire_timeout`].
    pub fn acquire_timeout(mut self, wait: Duration) -> Self {
        self.acquire_timeout = wait;
        self
    }
}

/// What a checkout must do next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Checkout<C> {
    /// Hand out this idle connection; if `check`, send `NOOP` first and, if
    /// that fails, call [`Slots::discard`] and connect anew.
    Reuse {
        /// The connection.
        conn: C,
        /// Whether it was idle long enough to need a health check.
        check: bool,
    },
    /// A slot is reserved: make a new connection with the factory (on
    /// failure, call [`Slots::discard`]).
    Create,
    /// Every slot is in use: wait for a check-in, then ask again.
    Wait,
}

/// The pool's bookkeeping, without I/O: the idle connections and how many
/// are out.
#[derive(Debug)]
pub(crate) struct Slots<C> {
    idle: Vec<(C, Instant)>,
    out: usize,
    max: usize,
    check_after: Duration,
}

impl<C> Slots<C> {
    /// Empty slots for `config`.
    pub(crate) fn new(config: &PoolConfig) -> Slots<C> {
        Slots {
            idle: Vec::new(),
            out: 0,
            max: config.max_size.max(1),
            check_after: config.check_after_idle,
        }
    }

    /// Takes a connection, or a slot to create one, or says to wait. The
    /// most recently used idle connection comes first: it is the likeliest
    /// to be alive, and the others age out of use.
    pub(crate) fn checkout(&mut self, now: Instant) -> Checkout<C> {
        if let Some((conn, since)) = self.idle.pop() {
            self.out += 1;
            let check = now.saturating_duration_since(since) >= self.check_after;
            return Checkout::Reuse { conn, check };
        }
        if self.out < self.max {
            self.out += 1;
            return Checkout::Create;
        }
        Checkout::Wait
    }

    /// Returns a healthy connection to the idle list.
    pub(crate) fn checkin(&mut self, conn: C, now: Instant) {
        self.out = self.out.saturating_sub(1);
        self.idle.push((conn, now));
    }

    /// Frees the slot of a connection that was dropped (unusable, failed
    /// its health check) or could not be made.
    pub(crate) fn discard(&mut self) {
        self.out = self.out.saturating_sub(1);
    }

    /// Connections handed out.
    pub(crate) fn in_use(&self) -> usize {
        self.out
    }

    /// Idle connections.
    pub(crate) fn idle(&self) -> usize {
        self.idle.len()
    }
}

/// The error of a checkout that waited too long.
pub(crate) fn acquire_timed_out(wait: Duration) -> Error {
    Error::Io {
        phase: Phase::Connect,
        source: std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no pooled connection was free within {wait:?}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_limit_reuse_and_health_checks() {
        let config = PoolConfig::default()
            .max_size(2)
            .check_after_idle(Duration::from_secs(10));
        let mut slots = Slots::<&str>::new(&config);
        let t0 = Instant::now();
        assert_eq!(slots.checkout(t0), Checkout::Create);
        assert_eq!(slots.checkout(t0), Checkout::Create);
        assert_eq!(slots.checkout(t0), Checkout::Wait);
        slots.checkin("a", t0);
        slots.checkin("b", t0 + Duration::from_secs(5));
        assert_eq!((slots.in_use(), slots.idle()), (0, 2));
        // The most recent first; a short idle needs no check.
        assert_eq!(
            slots.checkout(t0 + Duration::from_secs(6)),
            Checkout::Reuse {
                conn: "b",
                check: false
            }
        );
        assert_eq!(
            slots.checkout(t0 + Duration::from_secs(11)),
            Checkout::Reuse {
                conn: "a",
                check: true
            }
        );
        assert_eq!(slots.checkout(t0), Checkout::Wait);
        slots.discard();
        assert_eq!(slots.checkout(t0), Checkout::Create);
        assert_eq!(slots.in_use(), 2);
    }
}
