//! ftpkit's integration tests, in one binary:
//!
//! - `fake`: every public method against the scripted fake server, exact
//!   dialogues and injected faults;
//! - `scenarios`: one description of the end-to-end scenarios, run by
//!   `unftp` (in-process libunftp server) and `interop` (real servers
//!   started by `scripts/interop-servers.sh`), each with the blocking and
//!   (feature `tokio`) the async client through the `driver` trait;
//! - `fake_async` (feature `tokio`): the async client against the fake
//!   server: login, fallbacks, resume, abort, cancellation, faults;
//! - `pool`: the connection pools, blocking and async;
//! - `properties`: parsers never panic; format then parse is the identity;
//! - `tls`: FTPS verification, pinning, implicit TLS, session reuse.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod deadlines;
mod driver;
mod fake;
#[cfg(feature = "tokio")]
mod fake_async;
mod hostile;
mod hostile_edges;
mod interop;
mod load;
mod pool;
mod properties;
mod resume;
mod scenarios;
mod tls;
mod trust;
mod unftp;
