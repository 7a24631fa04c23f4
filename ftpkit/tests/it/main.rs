//! ftpkit's integration tests, in one binary:
//!
//! - `fake`: every public method against the scripted fake server, exact
//!   dialogues and injected faults;
//! - `scenarios`: one description of the end-to-end scenarios, run by
//!   `unftp` (in-process libunftp server) and `interop` (real servers
//!   started by `scripts/interop-servers.sh`);
//! - `properties`: parsers never panic; format then parse is the identity;
//! - `tls`: FTPS verification, pinning, implicit TLS, session reuse;
//! - `hostile`: the hostile-server suite, each scenario with its safe
//!   outcome and a time bound (see `SECURITY.md`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod fake;
mod hostile;
mod interop;
mod properties;
mod scenarios;
mod tls;
mod unftp;
