//! Segmented download (`download(..).segments(n)`) against the in-memory
//! fake server: a range whose data connection fails resumes on its own and
//! the file is byte-exact; an interrupted run leaves its ranges' progress
//! in `LOCAL.part.segments` and the next run fetches only what is missing;
//! a server that refuses the extra connections gets the file over one;
//! a file too small to split goes over one connection. Each case runs on
//! both drivers.

use std::{fs, path::Path};

use ftpkit::{Client, Error, HashAlgorithm, VerifyError};
use ftpkit_testkit::{Behavior, Fault, MemoryServer, random_bytes, sha256_file, sha256_hex};

use crate::resume::{quick_retries, rest_offsets};

/// Four ranges of 1 MiB, and a few bytes the last one takes.
const SIZE: usize = 4 * (1 << 20) + 1000;
const STEP: u64 = SIZE as u64 / 4;

/// `big.bin` into `dir` in 4 segments, retrying quickly (`client!` is
/// `resume.rs`'s).
macro_rules! fetch {
    ($server:expr, $dir:expr) => {
        w!(client!($server)
            .download("big.bin", $dir.join("big.bin"))
            .retry(quick_retries())
            .segments(4)
            .run())
    };
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
    let inside: Vec<u64> = rests.iter().copied().filter(|r| r % STEP != 0).collect();
    assert_eq!(inside.len(), 1, "one resume inside a range: {rests:?}");
    assert!(inside[0] % STEP <= 300_000, "{rests:?}");
    // Four ranges, one fetched twice; every connection logged in once.
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
        assert_eq!(
            sidecar.lines().filter(|l| l.starts_with("range ")).count(),
            4
        );

        let before = rest_offsets(&server).len();
        let mut done = 0;
        let report = w!(client!(&server)
            .download("big.bin", &target)
            .retry(quick_retries())
            .segments(4)
            .progress(|n| done = n)
            .run())
            .unwrap();
        assert_complete(dir.path(), &data);
        assert!(report.resumed_from >= 500_000, "{report:?}");
        assert_eq!(report.resumed_from + report.transferred, SIZE as u64);
        assert_eq!(report.retries, 0);
        assert_eq!(done, SIZE as u64, "progress counts every range");
        // The second run starts the cut range where it stopped.
        let rests = &rest_offsets(&server)[before..];
        assert!(
            rests.iter().any(|r| r % STEP >= 500_000),
            "resumed inside the cut range: {rests:?}"
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
        // Every range over the one connection that was let in.
        assert_eq!(server.logins(), 1);
        assert_eq!(retrs(&server), 4);
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
