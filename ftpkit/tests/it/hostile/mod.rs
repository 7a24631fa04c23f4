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
//! a time bound; client idle and connect timeouts are 1 s. The hostile
//! dialogues that run on both drivers are in `replies` too, through
//! [`dialogue!`](crate::dialogue). Other hostile cases stay beside the
//! features they attack: `tls.rs` and `trust.rs` (certificates), `resume.rs`
//! (lying SIZE and hashes, REST ignored, files changing mid-transfer).

mod addresses;
mod names;
mod replies;
mod tls;
mod transfers;

use std::{
    io::{BufRead, BufReader, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    sync::{Arc, mpsc},
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

/// A client config with the short timeouts of this suite.
fn quick() -> Config {
    Config::default().timeout(TIMEOUT).connect_timeout(TIMEOUT)
}

/// A fake server whose own waits are bounded by 5 seconds.
fn server(scripts: Vec<Script>) -> FakeServer {
    FakeServer::with_timeout(scripts, Duration::from_secs(5))
}

/// Runs `f` here and asserts it returned within `bound` (for closures
/// that borrow; [`within`] runs its closure on a thread of its own).
fn timed<T>(bound: Duration, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    let took = started.elapsed();
    assert!(took < bound, "took {took:?}, the bound is {bound:?}");
    out
}

/// One scripted connection and a client logged in on it.
fn logged_in(script: Script) -> (FakeServer, Client) {
    logged_in_with(script, quick())
}

fn logged_in_with(script: Script, config: Config) -> (FakeServer, Client) {
    let server = server(vec![Script::login_anonymous().then(script)]);
    let mut client = Client::connect_with(&server.addr().to_string(), config).unwrap();
    client.login_anonymous().unwrap();
    (server, client)
}

/// A loopback port where nothing listens.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const SECOND: Duration = Duration::from_secs(1);

/// Runs `f` on its own thread and returns its result, failing the test if
/// it takes longer than `bound`.
fn within<T: Send + 'static>(bound: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    let result = match rx.recv_timeout(bound) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("no result within {bound:?}: the client hung")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the client thread panicked"),
    };
    assert!(started.elapsed() <= bound);
    result
}

const BOUND: Duration = Duration::from_secs(5);

/// A server that plays `script` after an anonymous login; the closure gets
/// a logged-in client.
fn against<T: Send + 'static>(
    script: Script,
    bound: Duration,
    f: impl FnOnce(&mut Client) -> T + Send + 'static,
) -> (T, ftpkit_testkit::Transcript) {
    let server = FakeServer::with_timeout(
        vec![Script::login_anonymous().then(script)],
        Duration::from_secs(4),
    );
    let addr = server.addr().to_string();
    let result = within(bound, move || {
        let mut c = Client::connect_with(&addr, quick()).expect("connect");
        c.login_anonymous().expect("login");
        f(&mut c)
    });
    (result, server.finish_allow_unplayed())
}

/// A server whose greeting is `greeting`; the closure gets the connect result.
fn greeting<T: Send + 'static>(
    greeting: &[u8],
    f: impl FnOnce(ftpkit::Result<Client>) -> T + Send + 'static,
) -> T {
    let server = FakeServer::with_timeout(
        vec![Script::new().raw(greeting).sleep(Duration::from_secs(3))],
        Duration::from_secs(4),
    );
    let addr = server.addr().to_string();
    let result = within(BOUND, move || f(Client::connect_with(&addr, quick())));
    server.finish_allow_unplayed();
    result
}

fn binary_epsv() -> Script {
    Script::new()
        .expect("TYPE I")
        .reply("200 ok")
        .expect("EPSV")
        .epsv()
}
