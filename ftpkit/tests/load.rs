//! Load: many concurrent sessions of the blocking client against real
//! servers (libunftp, in a child process so that only the client's
//! resources are counted here), each doing mixed transfers with hash
//! checks. Afterwards: no failure, the process has as many open file
//! descriptors and threads as before, and its resident memory did not grow
//! with the work.
//!
//! With `FTPKIT_LOAD=1` (as `.ci/run` sets it): 64 sessions × 50 transfers.
//! Without it: 4 sessions × 5 transfers, so the test always runs.
//!
//! A test binary without the standard harness: `load --serve` is the
//! server process.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::{
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
    process::{Child, Command, ExitCode, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use ftpkit::{Client, Config, DataMode};
use ftpkit_testkit::{UnftpServer, random_bytes, sha256_file, sha256_hex};

/// Servers the sessions are spread over (each has 64 passive ports).
const SERVERS: usize = 2;
/// Largest file moved.
const MAX_SIZE: usize = 256 * 1024;
/// Allowed growth of resident memory over the main run, after a warm-up
/// run with the same number of sessions.
const RSS_BOUND_KIB: u64 = 48 * 1024;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--serve") {
        serve();
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "--list") {
        println!("load: test");
        return ExitCode::SUCCESS;
    }
    // `cargo test -- NAME` passes NAME to every test binary.
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|f| "load".contains(f.as_str())) {
        println!("load: filtered out");
        return ExitCode::SUCCESS;
    }
    let full = std::env::var("FTPKIT_LOAD").is_ok_and(|v| !v.is_empty() && v != "0");
    let (sessions, transfers) = if full { (64, 50) } else { (4, 5) };
    let started = Instant::now();
    load(sessions, transfers);
    println!(
        "load: {sessions} sessions x {transfers} transfers ... ok ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}

/// The server process: starts the servers, prints `ADDR ROOT` for each,
/// and serves until its standard input closes (the test ended) or five
/// minutes pass.
fn serve() {
    let servers: Vec<UnftpServer> = (0..SERVERS).map(|_| UnftpServer::start()).collect();
    for s in &servers {
        println!("{} {}", s.addr(), s.root().display());
    }
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        let _ = tx.send(());
    });
    let _ = rx.recv_timeout(Duration::from_secs(300));
    drop(servers);
}

/// The server child; killed and reaped on drop.
struct ServerProcess {
    child: Child,
    servers: Vec<(String, PathBuf)>,
}

impl ServerProcess {
    fn start() -> ServerProcess {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .arg("--serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the server process");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let servers = (0..SERVERS)
            .map(|_| {
                let line = rx
                    .recv_timeout(Duration::from_secs(60))
                    .expect("the server process announces its servers");
                let (addr, root) = line.split_once(' ').unwrap();
                (addr.to_owned(), PathBuf::from(root))
            })
            .collect();
        ServerProcess { child, servers }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the process holds: open descriptors, threads, resident KiB.
#[derive(Debug, Clone, Copy)]
struct Usage {
    fds: usize,
    threads: usize,
    rss_kib: u64,
}

fn usage() -> Usage {
    let count = |dir: &str| std::fs::read_dir(dir).unwrap().count();
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    Usage {
        fds: count("/proc/self/fd"),
        threads: count("/proc/self/task"),
        rss_kib,
    }
}

fn load(sessions: usize, transfers: usize) {
    let servers = ServerProcess::start();
    let before = usage();

    // A warm-up with the same concurrency, so that the allocator and the
    // kernel reach their working size before memory is compared.
    run_round(&servers.servers, sessions, transfers.div_ceil(5), "warm");
    let warm = usage();
    run_round(&servers.servers, sessions, transfers, "main");
    let after = usage();
    println!("load: before {before:?}, after warm-up {warm:?}, after {after:?}");

    assert_eq!(after.fds, before.fds, "file descriptors leaked");
    assert_eq!(after.threads, before.threads, "threads leaked");
    assert!(
        after.rss_kib <= warm.rss_kib + RSS_BOUND_KIB,
        "resident memory grew from {} KiB to {} KiB",
        warm.rss_kib,
        after.rss_kib
    );
}

/// Runs `sessions` threads of `transfers` operations each and panics with
/// every failure if any.
fn run_round(servers: &[(String, PathBuf)], sessions: usize, transfers: usize, round: &str) {
    let handles: Vec<_> = (0..sessions)
        .map(|i| {
            let (addr, root) = servers[i % servers.len()].clone();
            let round = round.to_owned();
            thread::Builder::new()
                .name(format!("load-{i}"))
                .spawn(move || session(&addr, &root, &format!("{round}-{i}"), i, transfers))
                .unwrap()
        })
        .collect();
    let failures: Vec<String> = handles
        .into_iter()
        .enumerate()
        .filter_map(|(i, h)| match h.join() {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(format!("session {i}: {e}")),
            Err(_) => Some(format!("session {i} panicked")),
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{round} round failures:\n{failures:#?}"
    );
}

/// One session: in its own directory, uploads, downloads of what it
/// uploaded, and listings, in a pseudo-random mix; every byte checked.
/// Odd sessions use active mode, even ones passive.
fn session(
    addr: &str,
    root: &Path,
    dir: &str,
    index: usize,
    transfers: usize,
) -> Result<(), String> {
    let mode = if index % 2 == 0 {
        DataMode::Passive
    } else {
        DataMode::Active
    };
    let config = Config::default()
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(30))
        .mode(mode);
    let mut c = Client::connect_with(addr, config).map_err(|e| format!("connect: {e}"))?;
    c.login_anonymous().map_err(|e| format!("login: {e}"))?;
    c.mkd(dir).map_err(|e| format!("mkd: {e}"))?;
    c.cwd(dir).map_err(|e| format!("cwd: {e}"))?;
    let mut files: Vec<(String, String)> = Vec::new();
    let mut rng = (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for n in 0..transfers {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let op = if files.is_empty() { 0 } else { rng % 4 };
        let step = |e: ftpkit::Error| format!("transfer {n} (op {op}): {e}");
        match op {
            0 | 1 => {
                let size = (rng >> 8) as usize % (MAX_SIZE + 1);
                let data = random_bytes(size, rng);
                let name = format!("f{n}");
                let sent = c.put(&name, &mut data.as_slice()).map_err(step)?;
                if sent != size as u64 {
                    return Err(format!("{name}: sent {sent} of {size}"));
                }
                let hash = sha256_hex(&data);
                let stored = sha256_file(root.join(dir).join(&name));
                if stored != hash {
                    return Err(format!("{name}: stored bytes differ"));
                }
                files.push((name, hash));
            }
            2 => {
                let (name, hash) = &files[(rng >> 16) as usize % files.len()];
                let mut back = Vec::new();
                c.get(name, &mut back).map_err(step)?;
                if &sha256_hex(&back) != hash {
                    return Err(format!("{name}: downloaded bytes differ"));
                }
            }
            _ => {
                let mut names: Vec<String> = c
                    .nlst("")
                    .map_err(step)?
                    .iter()
                    .map(|n| n.to_string())
                    .collect();
                names.sort();
                let mut want: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
                want.sort();
                if names != want {
                    return Err(format!("listing {names:?}, expected {want:?}"));
                }
            }
        }
    }
    c.quit().map_err(|e| format!("quit: {e}"))?;
    Ok(())
}
