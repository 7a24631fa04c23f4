//! Test support for ftpkit. Not published.
//!
//! - [`script`]: a scripted fake FTP server that plays exact dialogues and
//!   injects faults (cut, reset or stalled data connections, silence,
//!   endless lines) — see [`FakeServer`] and [`Script`];
//! - [`unftp`]: an in-process real server, libunftp with its filesystem
//!   back end, plain or with FTPS ([`UnftpServer`]);
//! - [`certs`]: a throw-away CA and server certificate for TLS tests;
//! - [`hash`]: SHA-256 and deterministic random bytes, so every byte that
//!   moves in a test can be checked.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod certs;
pub mod hash;
pub mod script;
pub mod unftp;

pub use certs::TestCerts;
pub use hash::{random_bytes, sha256_file, sha256_hex};
pub use script::{DataFault, FakeServer, Script, Transcript};
pub use unftp::UnftpServer;
