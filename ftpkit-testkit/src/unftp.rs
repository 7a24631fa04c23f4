//! An in-process real FTP server: libunftp with the filesystem back end,
//! rooted in a temporary directory, on loopback.
//!
//! It accepts any user name and password (libunftp's anonymous
//! authenticator), serves passive and active mode, and with
//! [`UnftpServer::start_with_tls`] explicit FTPS.

use std::{
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

use crate::certs::TestCerts;

/// A running libunftp server; stopped and its directory removed on drop.
pub struct UnftpServer {
    addr: SocketAddr,
    dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Hands out passive port ranges so that servers started in parallel by
/// one test binary do not compete for the same ports.
static NEXT_RANGE: AtomicU16 = AtomicU16::new(0);

fn passive_range() -> std::ops::RangeInclusive<u16> {
    const WIDTH: u16 = 64;
    let slot = NEXT_RANGE.fetch_add(1, Ordering::SeqCst) % 300;
    let base = 30_000 + (std::process::id() % 50) as u16 * 4 + slot * WIDTH % 20_000;
    base..=base + WIDTH - 1
}

impl UnftpServer {
    /// Starts a plain FTP server.
    pub fn start() -> UnftpServer {
        UnftpServer::start_inner(None)
    }

    /// Starts a server that offers explicit FTPS with the given certificates.
    pub fn start_with_tls(certs: &TestCerts) -> UnftpServer {
        UnftpServer::start_inner(Some((certs.cert_pem.clone(), certs.key_pem.clone())))
    }

    /// Starts a server whose certificate names another host.
    pub fn start_with_wrong_name_tls(certs: &TestCerts) -> UnftpServer {
        UnftpServer::start_inner(Some((
            certs.wrong_name_cert_pem.clone(),
            certs.wrong_name_key_pem.clone(),
        )))
    }

    /// Starts a server whose certificate is signed by a CA nobody trusts.
    pub fn start_with_untrusted_tls(certs: &TestCerts) -> UnftpServer {
        UnftpServer::start_inner(Some((
            certs.untrusted_cert_pem.clone(),
            certs.untrusted_key_pem.clone(),
        )))
    }

    fn start_inner(tls: Option<(std::path::PathBuf, std::path::PathBuf)>) -> UnftpServer {
        let dir = tempfile::tempdir().expect("temp dir for the server root");
        for _attempt in 0..5 {
            let port = free_port();
            let root = dir.path().to_path_buf();
            let (stop_tx, stop_rx) = oneshot::channel::<()>();
            let tls = tls.clone();
            let thread = thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                let mut builder = ServerBuilder::new(Box::new(move || {
                    Filesystem::new(root.clone()).expect("filesystem back end")
                }))
                .greeting("ftpkit test server (libunftp)")
                .passive_ports(passive_range())
                .active_passive_mode(ActivePassiveMode::ActiveAndPassive)
                .shutdown_indicator(async move {
                    let _ = stop_rx.await;
                    Shutdown::new().grace_period(Duration::from_millis(50))
                });
                if let Some((cert, key)) = tls {
                    builder = builder.ftps(cert, key);
                }
                let server = builder.build().expect("libunftp configuration");
                let _ = runtime.block_on(server.listen(format!("127.0.0.1:{port}")));
                runtime.shutdown_timeout(Duration::from_millis(100));
            });
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            if wait_until_listening(addr, &thread) {
                return UnftpServer {
                    addr,
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
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Polls until the server accepts connections, or its thread ended (the
/// port was taken), or 10 seconds pass.
fn wait_until_listening(addr: SocketAddr, thread: &JoinHandle<()>) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if thread.is_finished() {
            return false;
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        thread::sleep(Duration::from_millis(10));
    }
    false
}
