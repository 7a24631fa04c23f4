//! Segmented download (`download(..).segments(n)`) against the in-memory
//! fake server: a range whose data connection fails resumes on its own and
//! the file is byte-exact; an interrupted run leaves its ranges' progress
//! in `LOCAL.part.segments` and the next run fetches only what is missing;
//! a server that refuses the extra connections gets the file over one;
//! extra connections that log in late still take their part, and one that
//! fails to log in is done without; a file too small to split goes over
//! one connection. Each case runs on both drivers.

use std::{fs, path::Path};

use ftpkit::{Client, Error, HashAlgorithm, VerifyError};
use ftpkit_testkit::{Behavior, Fault, MemoryServer, random_bytes, sha256_file, sha256_hex};

use crate::resume::{quick_retries, rest_offsets};

/// Room for four ranges of 2 MiB: the client's connection starts with
/// the whole file and each other one, as it logs in, takes the far half
/// of the range with the most left while that half is 1 MiB or more.
const SIZE: usize = 8 * (1 << 20) + 1000;

/// Each connection's rate in these tests: the client's connection alone
/// would take half a second, time enough for the others to log in and
/// take their parts.
const RATE: u64 = 16 << 20;

/// `big.bin` into `dir` in 4 segments, retrying quickly (`client!` is
/// `resume.rs`'s).
macro_rules! fetch {
    ($server:expr, $dir:expr) => {
        w!(client!($server)
            .download("big.bin", $dir.join("big.bin"))
            .retry(quick_retries())
            .segments(4)
            .limit_rate(RATE)
            .run())
    };
}

/// Where the ranges started: the client's at the first byte, each other
/// at the offset of the first `REST` its connection sent that is not a
/// resume (a resume restarts within `resumed` bytes of a start).
fn resumes(rests: &[u64], within: u64) -> Vec<u64> {
    rests
        .iter()
        .copied()
        .filter(|&r| {
            std::iter::once(0)
                .chain(rests.iter().copied())
                .any(|start| r > start && r - start <= within)
        })
        .collect()
}

fn retrs(server: &MemoryServer) -> usize {
    server
        .commands()
        .iter()
        .filter(|c| c.starts_with("RETR "))
        .count()
}

fn serve(seed: u64) -> (MemoryServer, Vec<u8>) {
    let server = MemoryServer::start();
    let data = random_bytes(SIZE, seed);
    server.put_file("big.bin", data.clone());
    (server, data)
}

/// The file is in place, byte-exact, and neither `.part` nor sidecar is
/// left.
fn assert_complete(dir: &Path, data: &[u8]) {
    assert_eq!(sha256_file(dir.join("big.bin")), sha256_hex(data));
    assert!(!dir.join("big.bin.part").exists());
    assert!(!dir.join("big.bin.part.segments").exists());
}

/// One range's data connection is reset 300,000 bytes in: that range
/// alone is fetched again, from where it stopped (a `REST` inside a
/// range, not at a range's start), on its own connection.
fn assert_one_range_resumed(server: &MemoryServer, report: &ftpkit::TransferReport) {
    assert_eq!(report.retries, 1, "{report:?}");
    assert_eq!(report.size, SIZE as u64);
    assert_eq!(report.resumed_from, 0);
    assert_eq!(report.verified.hash, Some(HashAlgorithm::Sha256));
    let rests = rest_offsets(server);
    let inside = resumes(&rests, 300_000);
    assert_eq!(inside.len(), 1, "one resume inside a range: {rests:?}");
    // Four ranges (the client's from the first byte, without REST), one
    // fetched twice; every connection logged in once.
    assert_eq!(rests.len(), 4, "{rests:?}");
    assert_eq!(retrs(server), 5, "{:?}", server.commands());
    assert_eq!(server.logins(), 4);
    // Not much more than the file moved: the resumed range restarts where
    // its bytes stopped.
    assert!(report.transferred <= SIZE as u64, "{report:?}");
}

dialogue! {
    fn a_range_whose_data_connection_fails_resumes_and_the_file_is_exact() {
        let (server, data) = serve(1);
        server.push_fault(Fault::ResetDataAt(300_000));
        let dir = tempfile::tempdir().unwrap();
        let report = fetch!(&server, dir.path()).unwrap();
        assert_complete(dir.path(), &data);
        assert_one_range_resumed(&server, &report);
    }
}

dialogue! {
    fn an_interrupted_run_resumes_each_range_from_the_sidecar() {
        let (server, data) = serve(2);
        // The first range to start loses its connections, and nothing retries.
        server.push_fault(Fault::DropAllAt(600_000));
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("big.bin");
        let err = w!(client!(&server)
            .download("big.bin", &target)
            .retries(0)
            .segments(4)
            .limit_rate(RATE)
            .run())
            .unwrap_err();
        assert!(err.is_transient(), "{err}");
        assert!(!target.exists());
        let part = dir.path().join("big.bin.part");
        assert_eq!(
            fs::metadata(&part).unwrap().len(),
            SIZE as u64,
            "full length"
        );
        let sidecar = fs::read_to_string(dir.path().join("big.bin.part.segments")).unwrap();
        assert!(sidecar.starts_with("ftpkit segments 1\n"), "{sidecar}");
        // `range START END NEXT`: the four connections' ranges, in file
        // order, covering the file.
        let ranges: Vec<[u64; 3]> = sidecar
            .lines()
            .filter_map(|l| l.strip_prefix("range "))
            .map(|l| {
                let n: Vec<u64> = l.split(' ').map(|f| f.parse().unwrap()).collect();
                [n[0], n[1], n[2]]
            })
            .collect();
        assert_eq!(ranges.len(), 4, "{sidecar}");
        assert_eq!(ranges[0][0], 0);
        assert_eq!(ranges[3][1], SIZE as u64);
        assert!(ranges.windows(2).all(|w| w[0][1] == w[1][0]), "{sidecar}");
        // Where each range stopped that is under way: the next run starts
        // it there.
        let cut: Vec<u64> = ranges
            .iter()
            .filter(|[start, end, next]| next > start && next < end && *next > 0)
            .map(|r| r[2])
            .collect();
        assert!(!cut.is_empty(), "{sidecar}");

        let before = rest_offsets(&server).len();
        let mut done = 0;
        let report = w!(client!(&server)
            .download("big.bin", &target)
            .retry(quick_retries())
            .segments(4)
            .limit_rate(RATE)
            .progress(|n| done = n)
            .run())
            .unwrap();
        assert_complete(dir.path(), &data);
        // Resumed from exactly what the record said was done (how much
        // that is depends on when each connection had started).
        let recorded: u64 = ranges.iter().map(|[start, _, next]| next - start).sum();
        assert!(recorded > 0, "{sidecar}");
        assert_eq!(report.resumed_from, recorded, "{report:?} {sidecar}");
        assert_eq!(report.resumed_from + report.transferred, SIZE as u64);
        assert_eq!(report.retries, 0);
        assert_eq!(done, SIZE as u64, "progress counts every range");
        // The second run starts each range under way where it stopped.
        let rests = &rest_offsets(&server)[before..];
        assert!(
            cut.iter().all(|next| rests.contains(next)),
            "resumed at {cut:?}: {rests:?}"
        );
    }
}

dialogue! {
    fn a_server_that_refuses_more_connections_gets_the_file_over_one() {
        let server = MemoryServer::with_behavior(Behavior {
            refuse_relogin: true,
            ..Behavior::default()
        });
        let data = random_bytes(SIZE, 3);
        server.put_file("big.bin", data.clone());
        let dir = tempfile::tempdir().unwrap();
        let report = fetch!(&server, dir.path()).unwrap();
        assert_complete(dir.path(), &data);
        assert_eq!(report.retries, 0);
        // The whole file over the one connection that was let in, in one
        // RETR from the first byte: nothing to split, nothing to abort.
        assert_eq!(server.logins(), 1);
        assert_eq!(retrs(&server), 1);
        assert!(rest_offsets(&server).is_empty());
    }
}

dialogue! {
    fn connections_opened_beforehand_serve_the_extra_ranges_and_a_spare_is_closed() {
        let (server, data) = serve(7);
        let dir = tempfile::tempdir().unwrap();
        let mut client = client!(&server);
        // Four logged in beforehand: three serve as the extra ranges'
        // connections, the fourth is not needed.
        let helpers = vec![client!(&server), client!(&server), client!(&server), client!(&server)];
        assert_eq!(server.logins(), 5);
        let report = w!(client
            .download("big.bin", dir.path().join("big.bin"))
            .retry(quick_retries())
            .segments(4)
            .limit_rate(RATE)
            .helpers(helpers)
            .run())
            .unwrap();
        assert_complete(dir.path(), &data);
        assert_eq!(report.retries, 0);
        // No login during the download: every range over a connection
        // opened beforehand, and the spare said goodbye.
        assert_eq!(server.logins(), 5, "{:?}", server.commands());
        assert!(retrs(&server) >= 4, "{:?}", server.commands());
        let quits = server.commands().iter().filter(|c| *c == "QUIT").count();
        assert!(quits >= 1, "{:?}", server.commands());
    }
}

/// A connection to `server` (`None`: to a port nothing listens on, which
/// fails) opened and logged in `after` from now, on a thread or task of
/// its own, for `opening_helpers`.
macro_rules! helper_after {
    ($server:expr, $after:expr) => {{
        let addr = $server.map_or_else(
            || "127.0.0.1:1".to_owned(),
            |s: &MemoryServer| s.addr().to_string(),
        );
        opening!($after, {
            let mut c = connect!(&addr, crate::resume::config())?;
            w!(c.login("tester", "pw"))?;
            Ok(c)
        })
    }};
}

/// `big.bin` of `$server` into `$dir` over `$segments` connections at
/// `$rate` each: a new client's and the `opening_helpers` `$helpers`.
macro_rules! fetch_opening {
    ($server:expr, $dir:expr, $segments:expr, $rate:expr, $helpers:expr) => {
        w!(client!($server)
            .download("big.bin", $dir.join("big.bin"))
            .retry(quick_retries())
            .segments($segments)
            .limit_rate($rate)
            .opening_helpers($helpers)
            .run())
    };
}

dialogue! {
    fn a_connection_that_logs_in_late_still_takes_its_part() {
        let (server, data) = serve(8);
        let dir = tempfile::tempdir().unwrap();
        // At half of RATE: the client's connection and one more share the
        // file from the start; the third logs in 150 ms later, when each
        // of theirs still has some 2.9 MB to go, and takes the far part of
        // one of them.
        let late = std::time::Duration::from_millis(150);
        let helpers = vec![
            helper_after!(Some(&server), std::time::Duration::ZERO),
            helper_after!(Some(&server), late),
        ];
        let report = fetch_opening!(&server, dir.path(), 3, RATE / 2, helpers).unwrap();
        assert_complete(dir.path(), &data);
        assert_eq!(report.retries, 0);
        // Every byte once, and no other connection opened.
        assert_eq!(report.transferred, SIZE as u64);
        assert_eq!(server.logins(), 3, "{:?}", server.commands());
        // Each connection took a range (one RETR, and a REST but for the
        // client's): the late one too, the far part of a range under way.
        let rests = rest_offsets(&server);
        assert_eq!(rests.len(), 2, "{:?}", server.commands());
        assert_eq!(retrs(&server), 3, "{:?}", server.commands());
        let (first, late) = (rests[0], rests[1]);
        assert!(late > 1 << 20 && late.abs_diff(first) > 1 << 20, "{rests:?}");
    }
}

dialogue! {
    fn a_connection_that_fails_to_log_in_is_done_without() {
        let (server, data) = serve(9);
        let dir = tempfile::tempdir().unwrap();
        let soon = std::time::Duration::from_millis(20);
        let helpers = vec![
            helper_after!(Some(&server), soon),
            helper_after!(None, soon),
            helper_after!(Some(&server), soon),
        ];
        let report = fetch_opening!(&server, dir.path(), 4, RATE, helpers).unwrap();
        // Byte-exact over the three connections that opened.
        assert_complete(dir.path(), &data);
        assert_eq!(report.retries, 0);
        assert_eq!(report.transferred, SIZE as u64);
        assert_eq!(server.logins(), 3, "{:?}", server.commands());
        // A range each, or more where a connection done first took part of
        // another's (every byte still moved once, as `transferred` says).
        assert!(retrs(&server) >= 3, "{:?}", server.commands());
    }
}

dialogue! {
    fn a_file_too_small_to_split_goes_over_one_connection() {
        let server = MemoryServer::start();
        let data = random_bytes(1 << 20, 4);
        server.put_file("big.bin", data.clone());
        let dir = tempfile::tempdir().unwrap();
        let report = w!(client!(&server)
            .download("big.bin", dir.path().join("big.bin"))
            .segments(4)
            .run())
            .unwrap();
        assert_complete(dir.path(), &data);
        assert_eq!(report.size, 1 << 20);
        assert_eq!(server.logins(), 1);
        assert_eq!(retrs(&server), 1);
        assert!(rest_offsets(&server).is_empty());
    }
}

dialogue! {
    fn a_server_that_ignores_rest_is_caught_without_a_hash() {
        // 350 to REST, then the file from its first byte: the range that ends
        // with the file gets more data than the file's size.
        let server = MemoryServer::with_behavior(Behavior {
            ignore_rest: true,
            hashes: vec![],
            ..Behavior::default()
        });
        let data = random_bytes(SIZE, 6);
        server.put_file("big.bin", data);
        let dir = tempfile::tempdir().unwrap();
        let err = fetch!(&server, dir.path()).unwrap_err();
        assert!(
            matches!(err, Error::Verification(VerifyError::Size { .. })),
            "{err:?}"
        );
        assert!(!dir.path().join("big.bin").exists());
        // Nothing to resume from: the next run starts over.
        assert!(!dir.path().join("big.bin.part.segments").exists());
    }
}

dialogue! {
    fn extra_connections_say_goodbye_without_waiting_for_the_reply() {
        // The server reads each QUIT and answers nothing. The client waits
        // up to 20 s for a reply: a download that waited for one extra
        // connection's goodbye would take that long.
        let server = MemoryServer::with_behavior(Behavior {
            unanswered_quit: true,
            ..Behavior::default()
        });
        let data = random_bytes(SIZE, 9);
        server.put_file("big.bin", data.clone());
        let patient = crate::resume::config().timeout(std::time::Duration::from_secs(20));
        let mut client = connect!(&server.addr().to_string(), patient).unwrap();
        w!(client.login("tester", "pw")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let started = std::time::Instant::now();
        let report = w!(client
            .download("big.bin", dir.path().join("big.bin"))
            .retry(quick_retries())
            .segments(4)
            .limit_rate(RATE)
            .run())
            .unwrap();
        let took = started.elapsed();
        assert_complete(dir.path(), &data);
        assert_eq!(report.retries, 0);
        // The extra connection whose range ended with the file said QUIT
        // (the others hung up with ABOR); none waited for its 221.
        assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    }
}

/// Async only (a future dropped half-way): dropping a segmented
/// download's future stops its extra connections at once: none goes on to
/// fetch its range and send what follows (an `ABOR` once its range is
/// done, a `RETR` for more, a `QUIT`), which each would do within about a
/// second at this rate.
#[cfg(feature = "tokio")]
#[test]
fn async_a_dropped_segmented_download_stops_its_other_connections() {
    use std::time::Duration;
    let (server, _) = serve(7);
    let dir = tempfile::tempdir().unwrap();
    let (at_drop, later) = crate::driver::asynchronous::runtime().block_on(async {
        let mut c =
            ftpkit::AsyncClient::connect_with(&server.addr().to_string(), crate::resume::config())
                .await
                .unwrap();
        c.login("tester", "pw").await.unwrap();
        let mut download = Box::pin(
            c.download("big.bin", dir.path().join("big.bin"))
                .segments(4)
                .limit_rate(1 << 20)
                .run(),
        );
        // Run until the other connections are at work, then drop it.
        while retrs(&server) < 3 {
            tokio::select! {
                ended = &mut download => panic!("a 1 MiB range at 1 MiB/s ended early: {ended:?}"),
                () = tokio::time::sleep(Duration::from_millis(20)) => {}
            }
        }
        drop(download);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let at_drop = server.commands();
        // Time enough for every range to end, had the connections gone on.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        (at_drop, server.commands())
    });
    assert_eq!(later, at_drop);
}
