//! ftpkit's integration tests, in one binary. A scenario that means the
//! same on both drivers is written once and runs on the blocking client
//! and (feature `tokio`) the async client: through [`dialogue!`] (one body,
//! a `blocking` and a `nonblocking` test) or through the `driver::Ftp`
//! trait (the end-to-end scenarios against real servers). What only one
//! driver can do lives in `blocking_only` or `async_only`, with its reason.
//!
//! - `dialogue`: the `dialogue!` macro and its helpers; the dialogues of
//!   the connection itself (greeting, login, timeouts, 421, reconnect);
//! - `fake`: every other public method against exact dialogues of the
//!   scripted fake server: commands, listings, transfers with resume and
//!   progress, streaming readers and writers finished, aborted and dropped,
//!   active mode, data-connection faults;
//! - `blocking_only`, `async_only`: scenarios one driver cannot express
//!   (the blocking `from_file`; futures dropped half-way, `Send` bounds);
//! - `driver`: the `Ftp` trait and the `Driver` that picks a client;
//! - `scenarios`: one description of the end-to-end scenarios, run by
//!   `unftp` (in-process libunftp), `interop` (the real servers of
//!   `scripts/interop-servers.sh`) and `tls` (libunftp over TLS);
//! - `hostile`: the hostile-server suite, grouped by attack class
//!   (replies, addresses, transfers, TLS, names);
//! - `resume`: `download` and `upload` against the in-memory server with
//!   injected faults: resume, reconnect, verification, times, temp names;
//! - `deadlines`: reply, connect and operation deadlines and lost final
//!   replies, on both drivers;
//! - `pipelining`: batched commands, their wire order and the fallback for
//!   servers that mishandle them;
//! - `segments`: segmented downloads over several connections;
//! - `pool`: the connection pools;
//! - `reach`: NAT and firewalls (active ports and address), `PRET`, servers
//!   in other time zones;
//! - `charset`: servers whose names are not UTF-8;
//! - `proxy`: SOCKS5, HTTP CONNECT and FTP proxies;
//! - `over`: connecting over a control connection the caller supplies;
//! - `tls`: FTPS verification, pinning, implicit TLS, session reuse;
//! - `trust`: which certificates are trusted and what a refusal says;
//! - `properties`: parsers never panic; format then parse is the identity.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[macro_use]
mod dialogue;
#[cfg(feature = "tokio")]
mod async_only;
mod blocking_only;
mod charset;
mod deadlines;
mod driver;
mod fake;
mod hostile;
mod interop;
mod over;
mod overlap;
mod pipelining;
mod pool;
mod properties;
mod proxy;
mod reach;
#[macro_use]
mod resume;
mod scenarios;
mod segments;
mod tls;
mod trust;
mod unftp;
