//! The hostile-server suite, grouped by attack class: what a malicious or
//! broken server, or an attacker on the path, can do, and the safe outcome
//! ftpkit guarantees for each — a clear error (or the right data), within
//! a stated time bound, never a hang, a panic, a truncated file that looks
//! complete, or a command the caller did not ask for.
//!
//! - `replies`: malformed, oversized, unfinished and out-of-step replies;
//! - `addresses`: passive-reply address games and active-mode intruders;
//! - `transfers`: early closes, resets, stalls, lying sizes and hashes;
//! - `tls`: TLS downgrade and certificate faults;
//! - `names`: traversal and injection through names.
//!
//! Each scenario states its outcome in its doc comment and asserts it with
//! a time bound; client idle and connect timeouts are 1 s. Every scenario
//! is a [`dialogue!`](crate::dialogue) and runs on both drivers, under a
//! hang guard ([`GUARD`]) that fails the test rather than let a hung client
//! hang the suite. Other hostile cases stay beside the features they
//! attack: `tls.rs` and `trust.rs` (certificates), `resume.rs` (lying SIZE
//! and hashes, REST ignored, files changing mid-transfer).

use std::{
    io::{BufRead, BufReader, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    sync::Arc,
    thread,
    time::{Duration, Instant},
};

use ftpkit::{
    Client, Config, DataMode, Error, InvalidInput, Name, Phase, ProtocolError, ReplyCode,
    TlsConfig, TlsMode, Verify, VerifyError, proto::ReplyLimits,
};
use ftpkit_testkit::{
    Behavior, DataFault, FakeServer, Fault, MemoryServer, Script, TestCerts, random_bytes,
    sha256_file, sha256_hex,
};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

/// Idle and connect timeouts of every client here.
const TIMEOUT: Duration = Duration::from_secs(1);

const SECOND: Duration = Duration::from_secs(1);

/// The bound of one hostile exchange (connect and log in included).
const BOUND: Duration = Duration::from_secs(5);

/// The hang guard of every scenario: a test still running after this has
/// hung (each scenario's own bounds are far tighter).
pub(crate) const GUARD: Duration = Duration::from_secs(30);

/// A client config with the short timeouts of this suite.
fn quick() -> Config {
    Config::default().timeout(TIMEOUT).connect_timeout(TIMEOUT)
}

/// A fake server whose own waits are bounded by 5 seconds.
fn server(scripts: Vec<Script>) -> FakeServer {
    FakeServer::with_timeout(scripts, Duration::from_secs(5))
}

/// `$e` (a `dialogue!` body's expression, `w!` inside), asserted to end
/// within `$bound`.
macro_rules! timed {
    ($bound:expr, $e:expr) => {{
        let started = Instant::now();
        let out = $e;
        let took = started.elapsed();
        assert!(took < $bound, "took {took:?}, the bound is {:?}", $bound);
        out
    }};
}

/// In a `dialogue!`: one scripted connection played after an anonymous
/// login, and a client of the running driver logged in on it (with
/// `quick()` or the given config).
macro_rules! hostile_login {
    ($script:expr) => {
        hostile_login!($script, quick())
    };
    ($script:expr, $config:expr) => {{
        let server = server(vec![Script::login_anonymous().then($script)]);
        let mut client = connect!(&server.addr().to_string(), $config).unwrap();
        w!(client.login_anonymous()).unwrap();
        (server, client)
    }};
}

/// In a `dialogue!`: a server whose greeting is `$greeting`, and the
/// running driver's connect result, within [`BOUND`].
macro_rules! greeting {
    ($greeting:expr) => {{
        let server = server(vec![
            Script::new().raw($greeting).sleep(Duration::from_secs(3)),
        ]);
        let result = timed!(BOUND, connect!(&server.addr().to_string(), quick()));
        (server, result)
    }};
}

/// A loopback port where nothing listens.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn binary_epsv() -> Script {
    Script::new()
        .expect("TYPE I")
        .reply("200 ok")
        .expect("EPSV")
        .epsv()
}

// After the macros above, which the scenarios use.
mod addresses;
mod names;
mod replies;
mod tls;
mod transfers;
