//! Connection pools: a few logged-in connections shared by many tasks or
//! threads, for parallel transfers (`ftpkit mirror --parallel N`, a service
//! that moves many files).
//!
//! The policy is written once, without I/O, in one crate-private bookkeeper: the size limit,
//! the idle list (most recently used first), and the health rule (a
//! connection idle longer than [`PoolConfig::check_after_idle`] answers a
//! `NOOP` before it is handed out; one that fails, or that an earlier
//! failure left unusable, is dropped and a new one is made by the
//! factory). The blocking [`Pool`] (threads, a condition variable) and,
//! with the `tokio` feature, the async `AsyncPool` (tasks, a notifier)
//! only wait, connect and send the `NOOP` that it asks for.
//!
//! Connections come from a factory the caller gives, which connects, logs
//! in and changes directory, so the pool can reconnect on its own.

mod slots;

pub use slots::PoolConfig;
pub(crate) use slots::{Checkout, Slots, acquire_timed_out};

pub use crate::blocking::{Pool, PooledClient};
#[cfg(feature = "tokio")]
pub use crate::tokio::{AsyncPool, PooledAsyncClient};
