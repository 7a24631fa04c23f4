//! An in-process real FTP server: libunftp with the filesystem back end,
//! rooted in a temporary directory, on loopback.
//!
//! It accepts any user name and password (libunftp's anonymous
//! authenticator: `anonymous`, `test`/`secret`, anything), serves passive
//! and active mode, and with [`UnftpServer::start_with_tls`] explicit FTPS.
//!
//! What libunftp 0.24 with this back end does, as seen from a client:
//!
//! - `FEAT`: `EPSV MDTM MLSD MLST REST STREAM SITE MD5 SIZE UTF8`, plus
//!   `AUTH TLS PBSZ PROT` with TLS. `SIZE`, `MDTM` (also on directories),
//!   `MLST`, `MLSD` (facts `type;size;modify;`, no `perm`, no `cdir`/`pdir`
//!   entries), `NLST`, `REST` for `RETR` and for `STOR` (the file is cut
//!   to the offset first), `APPE`, `EPSV`, `PASV`, `PORT`; not `EPRT`,
//!   `MFMT`, `CCC` (500/502). `TYPE A` is accepted but transfers stay
//!   binary. FTPS is TLS 1.2 only, and explicit only (no implicit port).
//! - `LIST` lines look like this (numeric owner and group, the year instead
//!   of the time for other years); options such as `-la` are ignored;
//!   `LIST`/`MLSD` of a file is `550 Directory not found`:
//!
//!   ```text
//!   -rw-r--r--            1            0            0             10 Nov 24 05:46 f.txt
//!   drwxr-xr-x            2            0            0           4096 Nov 24 05:46 sub
//!   ```
//! - `RETR`/`LIST` of a missing path replies `150` and then `550`.
//! - `PORT` connects to the client at once, before the transfer command.
//! - A command whose argument does not parse (`REST abc`, `RETR` without a
//!   path: `501 Invalid Parameter`) ends the session: the next command is
//!   met with a closed connection, no reply.
//! - `PASV`/`EPSV` binds a random port of the passive range and then
//!   listens; two sessions that pick the same port at once make the second
//!   `listen` fail, and that session ends without a reply
//!   ([`UnftpServer::start_for_many_sessions`] makes it rare).

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::Path,
    sync::atomic::{AtomicU16, Ordering},
    thread::{self, JoinHandle},
    time::{Duration, Instant},
};

use libunftp::{
    ServerBuilder,
    options::{ActivePassiveMode, Shutdown},
};
use tokio::sync::oneshot;
use unftp_sbe_fs::Filesystem;

use crate::{
    auth_gate::{AuthGate, UpgradeSignal},
    certs::TestCerts,
};

/// libunftp's warnings on stderr when `FTPKIT_UNFTP_LOG=1`: what the
/// server saw when a test against it fails for a reason the client cannot
/// know (a session closed without a reply).
#[derive(Clone, Copy)]
struct ServerLog(bool);

impl ServerLog {
    fn from_env() -> ServerLog {
        ServerLog(std::env::var_os("FTPKIT_UNFTP_LOG").is_some_and(|v| v == "1"))
    }
}

impl slog::Drain for ServerLog {
    type Ok = ();
    type Err = slog::Never;

    fn log(
        &self,
        record: &slog::Record<'_>,
        _values: &slog::OwnedKVList,
    ) -> Result<(), slog::Never> {
        if self.0 && record.level().is_at_least(slog::Level::Warning) {
            eprintln!("libunftp {}: {}", record.level(), record.msg());
        }
        Ok(())
    }
}

/// A running libunftp server; stopped and its directory removed on drop.
///
/// With TLS, clients reach it through an [`AuthGate`](crate::auth_gate)
/// that closes libunftp's `AUTH TLS` race, so that no test depends on
/// scheduling.
pub struct UnftpServer {
    addr: SocketAddr,
    gate: Option<AuthGate>,
    dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Hands out passive port ranges so that servers started in parallel by
/// one test binary do not compete for the same ports.
static NEXT_RANGE: AtomicU16 = AtomicU16::new(0);

/// A passive range of `slots` × 64 ports below Linux's ephemeral ports
/// (32768 and up), so that it meets no client sockets: consecutive ranges
/// within a process, starting at a place that depends on the process id,
/// so that test binaries run side by side mostly use different ranges (and
/// libunftp tries other ports of the range when one is taken).
fn passive_range(slots: u32) -> std::ops::RangeInclusive<u16> {
    const WIDTH: u32 = 64;
    const FIRST: u32 = 10_240;
    const SLOTS: u32 = (32_768 - FIRST) / WIDTH;
    let slots = slots.clamp(1, SLOTS);
    let start = std::process::id().wrapping_mul(2_654_435_761) % SLOTS;
    let taken = NEXT_RANGE.fetch_add(slots as u16, Ordering::Relaxed);
    // A range that would wrap past the top starts again at the bottom.
    let slot = (start + u32::from(taken)) % SLOTS;
    let slot = if slot + slots > SLOTS { 0 } else { slot };
    let base = FIRST + slot * WIDTH;
    let end = base + slots * WIDTH - 1;
    // Both ends are below 32768 by construction.
    u16::try_from(base).unwrap_or(10_240)..=u16::try_from(end).unwrap_or(10_303)
}

/// A greeting no other server has, so that the readiness check knows it
/// reached this one and not another that took the port meanwhile.
fn unique_greeting() -> &'static str {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let text = format!("ftpkit test server (libunftp) {}-{n}", std::process::id());
    // libunftp wants a &'static str; a few bytes per server in a test.
    Box::leak(text.into_boxed_str())
}

impl UnftpServer {
    /// Starts a plain FTP server.
    pub fn start() -> UnftpServer {
        UnftpServer::start_inner(None, 1)
    }

    /// Starts a plain FTP server for many concurrent sessions, with every
    /// port from 10240 to 32767 in its passive range.
    ///
    /// libunftp binds a random port of its range with `SO_REUSEADDR` and
    /// then listens on it. When two sessions pick the same port at the same
    /// moment, both binds succeed and the second `listen` fails with
    /// `EADDRINUSE`, and libunftp then ends that session without a reply
    /// (seen as "connection closed by the server" on the next command). A
    /// 64-port range made that happen under a 64-session load about once in
    /// a few runs; a range 352 times wider makes it vanishingly rare.
    pub fn start_for_many_sessions() -> UnftpServer {
        UnftpServer::start_inner(None, u32::MAX)
    }

    /// Starts a server that offers explicit FTPS (`AUTH TLS`, TLS 1.2)
    /// with the certificate for `localhost`/`127.0.0.1` from `certs`.
    pub fn start_with_tls(certs: &TestCerts) -> UnftpServer {
        UnftpServer::start_inner(Some((certs.cert_pem.clone(), certs.key_pem.clone())), 1)
    }

    /// Starts a server that offers explicit FTPS with a certificate chain
    /// and a private key from PEM files.
    pub fn start_with_tls_files(
        cert_pem: impl AsRef<Path>,
        key_pem: impl AsRef<Path>,
    ) -> UnftpServer {
        UnftpServer::start_inner(
            Some((
                cert_pem.as_ref().to_path_buf(),
                key_pem.as_ref().to_path_buf(),
            )),
            1,
        )
    }

    /// Starts a server whose certificate names another host.
    pub fn start_with_wrong_name_tls(certs: &TestCerts) -> UnftpServer {
        UnftpServer::start_inner(
            Some((
                certs.wrong_name_cert_pem.clone(),
                certs.wrong_name_key_pem.clone(),
            )),
            1,
        )
    }

    /// Starts a server whose certificate is signed by a CA nobody trusts.
    pub fn start_with_untrusted_tls(certs: &TestCerts) -> UnftpServer {
        UnftpServer::start_inner(
            Some((
                certs.untrusted_cert_pem.clone(),
                certs.untrusted_key_pem.clone(),
            )),
            1,
        )
    }

    fn start_inner(
        tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
        slots: u32,
    ) -> UnftpServer {
        let dir = tempfile::tempdir().expect("temp dir for the server root");
        let tls_wanted = tls.is_some();
        for _attempt in 0..5 {
            let port = free_port();
            let root = dir.path().to_path_buf();
            let (stop_tx, stop_rx) = oneshot::channel::<()>();
            let tls = tls.clone();
            let greeting = unique_greeting();
            let signal = UpgradeSignal::default();
            let drain = signal.clone();
            let thread = thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                let mut builder = ServerBuilder::new(Box::new(move || {
                    Filesystem::new(root.clone()).expect("filesystem back end")
                }))
                .greeting(greeting)
                .passive_ports(passive_range(slots))
                .active_passive_mode(ActivePassiveMode::ActiveAndPassive)
                .shutdown_indicator(async move {
                    let _ = stop_rx.await;
                    Shutdown::new().grace_period(Duration::from_millis(50))
                });
                let echo = ServerLog::from_env();
                if let Some((cert, key)) = tls {
                    builder = builder.ftps(cert, key).logger(slog::Logger::root(
                        slog::Drain::ignore_res(slog::Duplicate::new(drain, echo)),
                        slog::o!(),
                    ));
                } else if echo.0 {
                    builder = builder.logger(slog::Logger::root(echo, slog::o!()));
                }
                let server = builder.build().expect("libunftp configuration");
                let _ = runtime.block_on(server.listen(format!("127.0.0.1:{port}")));
                runtime.shutdown_timeout(Duration::from_millis(100));
            });
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            if wait_until_listening(addr, greeting, &thread) {
                let gate = tls_wanted.then(|| AuthGate::start(addr, &signal));
                return UnftpServer {
                    addr: gate.as_ref().map_or(addr, AuthGate::addr),
                    gate,
                    dir,
                    stop: Some(stop_tx),
                    thread: Some(thread),
                };
            }
            let _ = stop_tx.send(());
            let _ = thread.join();
        }
        panic!("libunftp did not start after 5 attempts");
    }

    /// The control address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The directory the server serves: put files here, check uploads here.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for UnftpServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        drop(self.gate.take());
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Polls until the server greets with `greeting`, or its thread ended
/// (the port was taken), or 10 seconds pass.
fn wait_until_listening(addr: SocketAddr, greeting: &str, thread: &JoinHandle<()>) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if thread.is_finished() {
            return false;
        }
        if let Ok(stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            // Someone listens: ours if it greets as ours, else the port
            // was taken between `free_port` and libunftp's bind.
            return greets_with(stream, greeting);
        }
        thread::sleep(Duration::from_millis(10));
    }
    false
}

fn greets_with(mut stream: TcpStream, greeting: &str) -> bool {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while line.len() < 512 && !line.ends_with(b"\n") {
        match stream.read(&mut byte) {
            Ok(1) => line.push(byte[0]),
            _ => break,
        }
    }
    let _ = stream.write_all(b"QUIT\r\n");
    String::from_utf8_lossy(&line).trim_end() == format!("220 {greeting}")
}
