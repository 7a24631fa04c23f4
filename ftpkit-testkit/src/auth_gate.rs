//! A relay in front of libunftp's control port that closes its `AUTH TLS`
//! race.
//!
//! libunftp answers `AUTH TLS` with 234 and only then, in a task of its
//! own, tells its control loop to switch to TLS. Until the loop takes that
//! message, it is still reading commands in clear: a ClientHello that
//! arrives first is read by the command decoder, either answered in clear
//! as a bad command (the client sees a corrupt TLS record) or buffered and
//! dropped with the decoder (the handshake then hangs). Which one happens
//! depends on `tokio::select!`'s random branch order and on scheduling, so
//! it struck more often on a busy machine.
//!
//! The relay forwards bytes both ways and, after the client's `AUTH TLS`,
//! holds the client's next bytes until libunftp has logged "Upgrading
//! control channel to TLS" for this connection: libunftp logs that line,
//! synchronously, just before it stops reading commands and hands the
//! socket to the TLS acceptor, so from then on every byte reaches the
//! handshake. A refusal of `AUTH` (any final reply other than 234) opens
//! the gate too. Nothing waits on a clock, except a safety bound that
//! ends a wait no server event will end.

use std::{
    collections::HashMap,
    fmt,
    io::{Read, Write},
    net::{Shutdown, SocketAddr, TcpListener, TcpStream},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    thread::{self, JoinHandle},
    time::Duration,
};

/// The message libunftp logs right before it hands the socket to TLS.
const UPGRADE_MESSAGE: &str = "Upgrading control channel to TLS";

/// How long a held ClientHello waits for libunftp before it is let through
/// anyway: only reached if libunftp changes its log, never in a passing run.
const SAFETY_BOUND: Duration = Duration::from_secs(30);

/// Connections waiting for their upgrade, by the address libunftp sees
/// (the relay's upstream socket).
type Waiters = Arc<Mutex<HashMap<String, mpsc::Sender<()>>>>;

/// The slog drain given to libunftp: signals the relay of the connection
/// that libunftp is upgrading.
#[derive(Clone, Default)]
pub(crate) struct UpgradeSignal {
    waiters: Waiters,
}

impl slog::Drain for UpgradeSignal {
    type Ok = ();
    type Err = slog::Never;

    fn log(
        &self,
        record: &slog::Record<'_>,
        values: &slog::OwnedKVList,
    ) -> Result<(), slog::Never> {
        if record.msg().to_string() != UPGRADE_MESSAGE {
            return Ok(());
        }
        let mut source = SourceKey(None);
        let _ = slog::KV::serialize(values, record, &mut source);
        if let Some(source) = source.0
            && let Ok(waiters) = self.waiters.lock()
            && let Some(tx) = waiters.get(&source)
        {
            let _ = tx.send(());
        }
        Ok(())
    }
}

/// Finds the `source` key libunftp puts on every control-connection log.
struct SourceKey(Option<String>);

impl slog::Serializer for SourceKey {
    fn emit_arguments(&mut self, key: slog::Key, val: &fmt::Arguments<'_>) -> slog::Result {
        if key == "source" {
            self.0 = Some(val.to_string());
        }
        Ok(())
    }
}

/// The relay: listens on its own port, connects each client to `upstream`.
pub(crate) struct AuthGate {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl AuthGate {
    /// Starts relaying to `upstream`, signalled by `signal`.
    pub(crate) fn start(upstream: SocketAddr, signal: &UpgradeSignal) -> AuthGate {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the AUTH gate");
        let addr = listener.local_addr().expect("the AUTH gate's address");
        let stop = Arc::new(AtomicBool::new(false));
        let waiters = signal.waiters.clone();
        let stopping = stop.clone();
        let thread = thread::spawn(move || {
            for client in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let waiters = waiters.clone();
                thread::spawn(move || relay(client, upstream, &waiters));
            }
        });
        AuthGate {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    /// The address clients connect to.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for AuthGate {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Relays one control connection.
fn relay(client: TcpStream, upstream: SocketAddr, waiters: &Waiters) {
    let Ok(server) = TcpStream::connect(upstream) else {
        return;
    };
    let Ok(source) = server.local_addr().map(|a| a.to_string()) else {
        return;
    };
    let (tx, rx) = mpsc::channel();
    if let Ok(mut w) = waiters.lock() {
        w.insert(source.clone(), tx.clone());
    }
    let auth_pending = Arc::new(AtomicBool::new(false));
    let (Ok(client_r), Ok(server_w), Ok(server_r), Ok(client_w)) = (
        client.try_clone(),
        server.try_clone(),
        server.try_clone(),
        client.try_clone(),
    ) else {
        return;
    };
    let pending = auth_pending.clone();
    let replies = thread::spawn(move || server_to_client(server_r, client_w, &pending, &tx));
    client_to_server(client_r, server_w, &auth_pending, &rx);
    let _ = replies.join();
    if let Ok(mut w) = waiters.lock() {
        w.remove(&source);
    }
    drop((client, server));
}

/// Forwards commands; after `AUTH TLS`, holds what follows until the
/// server is ready for it.
fn client_to_server(
    mut from: TcpStream,
    mut to: TcpStream,
    auth_pending: &AtomicBool,
    upgraded: &mpsc::Receiver<()>,
) {
    let mut line = Vec::new();
    let mut clear = true;
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = buf.get(..n).unwrap_or_default();
        let mut auth = false;
        if clear {
            line.extend_from_slice(chunk);
            while let Some(end) = line.iter().position(|&b| b == b'\n') {
                let command: Vec<u8> = line.drain(..=end).collect();
                if String::from_utf8_lossy(&command)
                    .trim_end()
                    .eq_ignore_ascii_case("AUTH TLS")
                {
                    auth = true;
                }
            }
        }
        if auth {
            // Set before the command leaves, so that the reply finds it.
            auth_pending.store(true, Ordering::SeqCst);
        }
        if to.write_all(chunk).is_err() {
            break;
        }
        if auth {
            // The client sends nothing more until it has the reply; the
            // next bytes it sends wait for libunftp's upgrade (or for a
            // refusal, seen by the other direction).
            let _ = upgraded.recv_timeout(SAFETY_BOUND);
            clear = !auth_pending.swap(false, Ordering::SeqCst);
            line.clear();
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Forwards replies, telling the other direction when `AUTH` was refused.
fn server_to_client(
    mut from: TcpStream,
    mut to: TcpStream,
    auth_pending: &AtomicBool,
    signal: &mpsc::Sender<()>,
) {
    let mut line = Vec::new();
    let mut clear = true;
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = buf.get(..n).unwrap_or_default();
        if clear && auth_pending.load(Ordering::SeqCst) {
            line.extend_from_slice(chunk);
            while let Some(end) = line.iter().position(|&b| b == b'\n') {
                let reply: Vec<u8> = line.drain(..=end).collect();
                let final_line = reply.get(3) == Some(&b' ');
                if !final_line {
                    continue;
                }
                if reply.starts_with(b"234") {
                    // TLS from here on: libunftp's log opens the gate.
                    clear = false;
                } else {
                    auth_pending.store(false, Ordering::SeqCst);
                    let _ = signal.send(());
                }
                line.clear();
                break;
            }
        }
        if to.write_all(chunk).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
