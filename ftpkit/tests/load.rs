//! Load: many concurrent sessions against a real server (libunftp,
//! in-process), each doing mixed transfers with hash checks, and then no
//! failure, no leaked file descriptor or thread, and flat memory.
//!
//! `FTPKIT_LOAD=1` (set by `.ci/run`) runs the full load: 64 sessions of
//! 50 transfers. Without it a small version (4 × 5) runs, so the test is
//! always exercised.
//!
//! This is a test binary of its own, with this one test in it: it counts
//! the process's file descriptors and threads, which tests running beside
//! it in the same process would change.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::{
    fs,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use ftpkit::{Client, Config, RetryPolicy};
use ftpkit_testkit::{UnftpServer, random_bytes, sha256_hex};

fn full() -> bool {
    std::env::var_os("FTPKIT_LOAD").is_some_and(|v| v == "1")
}

fn open_fds() -> usize {
    fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

fn threads() -> usize {
    fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

fn rss_kib() -> u64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// One session: `transfers` uploads, downloads and listings of random
/// files through the verified `upload`/`download` (which retry the
/// transient 425 libunftp answers under load), every byte checked again
/// here. Returns the bytes moved and the retries needed.
fn session(addr: &str, id: usize, transfers: usize) -> Result<(usize, u32), String> {
    let config = Config::default()
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10));
    let retry = RetryPolicy {
        retries: 5,
        initial_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(500),
    };
    let local = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut c = Client::connect_with(addr, config).map_err(|e| format!("{id}: connect: {e}"))?;
    c.login("", "").map_err(|e| format!("{id}: login: {e}"))?;
    let dir = format!("s{id}");
    c.mkd(&dir).map_err(|e| format!("{id}: mkd: {e}"))?;
    c.cwd(&dir).map_err(|e| format!("{id}: cwd: {e}"))?;
    let (mut moved, mut retries) = (0, 0);
    for i in 0..transfers {
        let len = (id * 7919 + i * 104_729) % (256 * 1024);
        let data = random_bytes(len, (id * 1000 + i) as u64);
        let name = format!("f{i}.bin");
        let src = local.path().join(&name);
        fs::write(&src, &data).map_err(|e| e.to_string())?;
        let up = c
            .upload(&src, &name)
            .retry(retry)
            .run()
            .map_err(|e| format!("{id}/{i}: upload: {e}"))?;
        let dst = local.path().join(format!("back{i}.bin"));
        let down = c
            .download(&name, &dst)
            .retry(retry)
            .run()
            .map_err(|e| format!("{id}/{i}: download: {e}"))?;
        let back = fs::read(&dst).map_err(|e| e.to_string())?;
        if sha256_hex(&back) != sha256_hex(&data) {
            return Err(format!("{id}/{i}: downloaded bytes differ"));
        }
        if i % 5 == 4 {
            let listed = c
                .list_entries("")
                .map_err(|e| format!("{id}/{i}: list: {e}"))?
                .filter(|e| e.as_ref().is_ok_and(|e| e.is_file()))
                .count();
            if listed != i + 1 {
                return Err(format!("{id}/{i}: listed {listed} files, not {}", i + 1));
            }
        }
        moved += 2 * len;
        retries += up.retries + down.retries;
    }
    c.quit().map_err(|e| format!("{id}: quit: {e}"))?;
    Ok((moved, retries))
}

#[test]
fn many_sessions_with_mixed_transfers_leak_nothing() {
    let (sessions, transfers) = if full() { (64, 50) } else { (4, 5) };
    let server = UnftpServer::start_for_many_sessions();
    let addr = server.addr().to_string();
    // Warm up: the server's runtime threads and the first connection.
    session(&addr, 9999, 1).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let (fds_before, threads_before, rss_before) = (open_fds(), threads(), rss_kib());

    let started = Instant::now();
    let failures = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..sessions)
        .map(|id| {
            let addr = addr.clone();
            let failures = failures.clone();
            std::thread::spawn(move || match session(&addr, id, transfers) {
                Ok(done) => done,
                Err(e) => {
                    eprintln!("load: {e}");
                    failures.fetch_add(1, Ordering::SeqCst);
                    (0, 0)
                }
            })
        })
        .collect();
    let results: Vec<(usize, u32)> = handles
        .into_iter()
        .map(|h| h.join().unwrap_or((0, 0)))
        .collect();
    let moved: usize = results.iter().map(|r| r.0).sum();
    let retries: u32 = results.iter().map(|r| r.1).sum();
    let elapsed = started.elapsed();
    assert_eq!(failures.load(Ordering::SeqCst), 0, "sessions failed");

    // The in-process server closes its side of each session
    // asynchronously, and its runtime keeps idle blocking threads for 10 s
    // (the client itself starts no thread): wait for both to settle.
    let deadline = Instant::now() + Duration::from_secs(15);
    while (open_fds() > fds_before + 2 || threads() > threads_before + 2)
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    let (fds_after, threads_after, rss_after) = (open_fds(), threads(), rss_kib());
    eprintln!(
        "load: {sessions} sessions x {transfers} transfers, {} MiB moved in {elapsed:?}, \
         {retries} retries; \
         fds {fds_before} -> {fds_after}, threads {threads_before} -> {threads_after}, \
         RSS {rss_before} -> {rss_after} KiB",
        moved >> 20
    );
    assert!(
        fds_after <= fds_before + 2,
        "file descriptors leaked: {fds_before} -> {fds_after}"
    );
    assert!(
        threads_after <= threads_before + 2,
        "threads leaked: {threads_before} -> {threads_after}"
    );
    // Flat memory: what 64 sessions held is returned (allocator slack
    // allowed), nothing grows with the number of transfers.
    assert!(
        rss_after < rss_before + 64 * 1024,
        "memory grew: {rss_before} -> {rss_after} KiB"
    );
    assert!(moved > 0);
}
