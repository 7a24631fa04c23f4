//! ftpkit's integration tests, in one binary:
//!
//! - `dialogue`: exact dialogues with the scripted fake server, each written
//!   once and run on the blocking and (feature `tokio`) the async client;
//! - `fake`: the other public methods of the blocking client against the
//!   scripted fake server, exact dialogues and injected faults;
//! - `scenarios`: one description of the end-to-end scenarios, run by
//!   `unftp` (in-process libunftp server) and `interop` (real servers
//!   started by `scripts/interop-servers.sh`), each with the blocking and
//!   (feature `tokio`) the async client through the `driver` trait;
//! - `fake_async` (feature `tokio`): what only the async client does
//!   against the fake server: futures and readers dropped half-way,
//!   cancellation, and its own transfer paths;
//! - `hostile`: the hostile-server suite, grouped by attack class
//!   (replies, addresses, transfers, TLS, names);
//! - `pipelining`: batched commands, their wire order and the fallback
//!   for servers that mishandle them, on both drivers;
//! - `pool`: the connection pools, blocking and async;
//! - `properties`: parsers never panic; format then parse is the identity;
//! - `over`: connecting over a control connection the caller supplies;
//! - `tls`: FTPS verification, pinning, implicit TLS, session reuse.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod charset;
#[macro_use]
mod dialogue;
mod deadlines;
mod driver;
mod fake;
#[cfg(feature = "tokio")]
mod fake_async;
mod hostile;
mod interop;
mod over;
mod pipelining;
mod pool;
mod properties;
mod proxy;
mod reach;
mod resume;
mod scenarios;
mod segments;
mod tls;
mod trust;
mod unftp;
