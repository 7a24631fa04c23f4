//! Test support for ftpkit. Not published.
//!
//! - [`script`]: a scripted fake FTP server that plays exact dialogues and
//!   injects faults (cut, reset or stalled data connections, silence,
//!   endless lines) — see [`FakeServer`] and [`Script`];
//! - [`unftp`]: an in-process real server, libunftp with its filesystem
//!   back end, plain or with FTPS ([`UnftpServer`]);
//! - [`certs`]: a throw-away CA and server certificate for TLS tests;
//! - [`memory`]: a stateful fake server with in-memory files (virtual
//!   files beyond 4 GiB included) and faults queued for its transfers, for
//!   retry, resume and verification tests ([`MemoryServer`]);
//! - [`hash`]: SHA-256 and deterministic random bytes, so every byte that
//!   moves in a test can be checked.
//!
//! At a glance:
//!
//! - `FakeServer::start(vec![script, ...])` (one [`Script`] per accepted
//!   control connection, in order) or `FakeServer::with_timeout(scripts,
//!   bound)`; `addr()`; `finish()` returns the [`Transcript`] (`commands`,
//!   `uploads`, `upload_resets`) or panics with the failed step and what
//!   arrived; `finish_allow_unplayed()` stops the server wherever it is and
//!   never panics (`Transcript::failure` says where it stopped).
//! - `Script` steps: `reply`, `reply_lines`, `raw`, `expect`,
//!   `expect_prefix`, `epsv`, `pasv`, `pasv_reply_addr`, `active`,
//!   `send_data`, `send_data_then(bytes, DataFault)`, `recv_data`,
//!   `recv_data_then(DataFault)`, `intrude_from_other_host`, `never_reply`,
//!   `endless_line`, `endless_multiline`, `endless_replies`, `sleep`, `end`; shortcuts
//!   `login_anonymous()`, `login(user, pass)`, and `then(other)`.
//! - `UnftpServer::start()`, `start_with_tls(&TestCerts)`,
//!   `start_with_tls_files(cert, key)`; `addr()`, `root()`; stops on drop.
//! - `sha256_hex`, `sha256_file`, `random_bytes(len, seed)`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod auth_gate;
pub mod certs;
pub mod hash;
pub mod memory;
pub mod proxy;
pub mod script;
pub mod unftp;

pub use certs::{CertFiles, Shape, TestCerts};
pub use hash::{random_bytes, sha256_file, sha256_hex};
pub use memory::{Behavior, Content, Fault, MemoryServer};
pub use proxy::{ProxyProtocol, ProxyRequest, ProxyServer};
pub use script::{DataFault, FakeServer, Script, Transcript};
pub use unftp::UnftpServer;

/// A command for a binary under test, without the environment variables
/// that would send its connections elsewhere: the proxy variables the
/// `ftpkit` binary reads (`ftp_proxy`, `all_proxy`, `no_proxy`, either case),
/// so a machine behind a proxy runs the tests as any other. A test that
/// wants one sets it again.
pub fn command(program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
    let mut command = std::process::Command::new(program);
    for var in [
        "ftp_proxy",
        "FTP_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "no_proxy",
        "NO_PROXY",
    ] {
        command.env_remove(var);
    }
    command
}
