//! `download` and `upload` against the in-memory fake server, each
//! scenario written once with `dialogue!` and run on both drivers: faults
//! at 10 %, 50 % and 99 % of a transfer end with byte-identical files
//! after automatic resume; offsets beyond 4 GiB are sent exactly; lying
//! servers give verification errors; a failed download never leaves its
//! final name.

use std::{
    fs,
    time::{Duration, Instant, UNIX_EPOCH},
};

use ftpkit::{Client, Config, Error, HashAlgorithm, RetryPolicy, Verify, VerifyError};
use ftpkit_testkit::{
    Behavior, Content, Fault, MemoryServer, random_bytes, sha256_file, sha256_hex,
};

const SIZE: usize = 1_000_000;

pub(crate) fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        retries: 3,
        initial_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
    }
}

/// The client configuration of these tests.
pub(crate) fn config() -> Config {
    Config::default()
        .timeout(Duration::from_secs(3))
        .connect_timeout(Duration::from_secs(3))
}

/// A client of `server`, logged in, on the driver of the `dialogue!` body
/// it is used in.
macro_rules! client {
    ($server:expr) => {{
        let mut c = connect!(&$server.addr().to_string(), crate::resume::config()).unwrap();
        w!(c.login("tester", "pw")).unwrap();
        c
    }};
}

/// `f.bin` of `server` downloaded into `dir` with quick retries, on the
/// dialogue's driver.
macro_rules! download {
    ($server:expr, $dir:expr) => {
        w!(client!($server)
            .download("f.bin", $dir.join("f.bin"))
            .retry(quick_retries())
            .run())
    };
}

pub(crate) fn rest_offsets(server: &MemoryServer) -> Vec<u64> {
    server
        .commands()
        .iter()
        .filter_map(|c| c.strip_prefix("REST ").and_then(|n| n.parse().ok()))
        .collect()
}

dialogue! {
    fn download_resumes_after_a_reset_at_10_50_and_99_percent() {
        for percent in [10, 50, 99] {
            let server = MemoryServer::start();
            let data = random_bytes(SIZE, percent);
            server.put_file("f.bin", data.clone());
            let cut = (SIZE * percent as usize / 100) as u64;
            server.push_fault(Fault::ResetDataAt(cut));
            let dir = tempfile::tempdir().unwrap();
            let report = download!(&server, dir.path()).unwrap();
            assert_eq!(
                sha256_file(dir.path().join("f.bin")),
                sha256_hex(&data),
                "{percent}%"
            );
            assert!(!dir.path().join("f.bin.part").exists());
            assert_eq!(report.retries, 1);
            assert_eq!(report.size, SIZE as u64);
            // Resumed before the cut (the reset may discard bytes in flight,
            // and an overlap is fetched again), not from the start.
            let rests = rest_offsets(&server);
            assert_eq!(rests.len(), 1, "{percent}%: {rests:?}");
            assert!(rests[0] > 0 && rests[0] < cut, "{rests:?}");
            assert!(report.transferred < SIZE as u64 + cut, "{report:?}");
            assert_eq!(
                report.verified.hash,
                Some(HashAlgorithm::Sha256),
                "HASH offered and compared"
            );
            assert_eq!(report.verified.size, Some(SIZE as u64));
        }
    }
}

dialogue! {
    fn download_reconnects_when_the_whole_connection_drops() {
        let server = MemoryServer::start();
        let data = random_bytes(SIZE, 7);
        server.put_file("f.bin", data.clone());
        server.push_fault(Fault::DropAllAt(400_000));
        let dir = tempfile::tempdir().unwrap();
        let mut c = client!(&server);
        w!(c.cwd("/")).unwrap();
        let report = w!(c
            .download("f.bin", dir.path().join("f.bin"))
            .retry(quick_retries())
            .run())
            .unwrap();
        assert_eq!(sha256_file(dir.path().join("f.bin")), sha256_hex(&data));
        assert_eq!(server.logins(), 2, "logged in again after the drop");
        let commands = server.commands();
        // The directory is restored on the new connection before resuming.
        let relogin = commands.iter().rposition(|c| c == "PASS pw").unwrap();
        assert!(
            commands[relogin..].iter().any(|c| c == "CWD /"),
            "{commands:?}"
        );
        assert!(report.retries >= 1);
        assert!(report.resumed_from == 0 && rest_offsets(&server)[0] > 300_000);
    }
}

dialogue! {
    fn upload_resumes_after_a_reset_at_10_50_and_99_percent() {
        for percent in [10u64, 50, 99] {
            let server = MemoryServer::start();
            let data = random_bytes(SIZE, 100 + percent);
            let dir = tempfile::tempdir().unwrap();
            let local = dir.path().join("up.bin");
            fs::write(&local, &data).unwrap();
            server.push_fault(Fault::ResetDataAt(SIZE as u64 * percent / 100));
            let report = w!(client!(&server)
                .upload(&local, "up.bin")
                .retry(quick_retries())
                .run())
                .unwrap();
            assert_eq!(
                server.file("up.bin"),
                Some(Content::Bytes(data.clone())),
                "{percent}%"
            );
            assert_eq!(report.retries, 1);
            assert_eq!(report.verified.hash, Some(HashAlgorithm::Sha256));
            let commands = server.commands();
            assert!(
                commands.iter().any(|c| c == "APPE up.bin"),
                "resumed with APPE: {commands:?}"
            );
            // Less than the whole file went twice.
            assert!(report.transferred < SIZE as u64 * 2 - SIZE as u64 * percent / 100 + 40_000);
        }
    }
}

dialogue! {
    fn upload_resumes_with_rest_stor_when_appe_is_missing() {
        let server = MemoryServer::with_behavior(Behavior {
            no_appe: true,
            ..Behavior::default()
        });
        let data = random_bytes(SIZE, 3);
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("up.bin");
        fs::write(&local, &data).unwrap();
        server.push_fault(Fault::ResetDataAt(600_000));
        w!(client!(&server)
            .upload(&local, "up.bin")
            .retry(quick_retries())
            .run())
            .unwrap();
        assert_eq!(server.file("up.bin"), Some(Content::Bytes(data)));
        let commands = server.commands();
        let appe = commands.iter().position(|c| c == "APPE up.bin").unwrap();
        let rest = appe
            + commands[appe..]
                .iter()
                .position(|c| c.starts_with("REST "))
                .unwrap();
        assert_eq!(commands[rest + 1], "STOR up.bin", "{commands:?}");
    }
}

dialogue! {
    fn offsets_beyond_4_gib_are_sent_exactly() {
        // Download: the server's file is 5 GiB + 12345 virtual zero bytes; the
        // local .part (sparse) holds all but the last 100,000.
        let total: u64 = (5 << 30) + 12_345;
        let have = total - 100_000;
        let server = MemoryServer::with_behavior(Behavior {
            hashes: vec![],
            ..Behavior::default()
        });
        server.put_content("f.bin", Content::Zeros(total));
        let dir = tempfile::tempdir().unwrap();
        let part = fs::File::create(dir.path().join("f.bin.part")).unwrap();
        part.set_len(have).unwrap();
        drop(part);
        let report = w!(client!(&server)
            .download("f.bin", dir.path().join("f.bin"))
            .verify(Verify::SizeOnly)
            .run())
            .unwrap();
        assert_eq!(rest_offsets(&server), vec![have - 32 * 1024]);
        assert_eq!(report.resumed_from, have);
        assert_eq!(report.transferred, 100_000 + 32 * 1024);
        assert_eq!(fs::metadata(dir.path().join("f.bin")).unwrap().len(), total);
        assert_eq!(report.verified.size, Some(total));

        // Upload with a temporary name: the server holds a 4.5 GiB `.part`.
        let server_have: u64 = (9 << 29) + 7;
        let local_len = server_have + 50_000;
        server.put_content("up.bin.part", Content::Zeros(server_have));
        let local = dir.path().join("up.bin");
        fs::File::create(&local)
            .unwrap()
            .set_len(local_len)
            .unwrap();
        let report = w!(client!(&server)
            .upload(&local, "up.bin")
            .temp_name(true)
            .verify(Verify::SizeOnly)
            .run())
            .unwrap();
        assert_eq!(server.file("up.bin"), Some(Content::Zeros(local_len)));
        assert_eq!(server.file("up.bin.part"), None);
        assert!(rest_offsets(&server).contains(&(server_have - 32 * 1024)));
        assert_eq!(report.resumed_from, server_have);
        assert_eq!(report.transferred, 50_000);
    }
}

dialogue! {
    fn a_lying_size_is_a_verification_error_and_leaves_no_final_file() {
        let server = MemoryServer::with_behavior(Behavior {
            size_lie: 1,
            ..Behavior::default()
        });
        server.put_file("f.bin", random_bytes(10_000, 1));
        let dir = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let err = download!(&server, dir.path()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Verification(VerifyError::Size {
                    remote: 10_001,
                    local: 10_000
                })
            ),
            "{err}"
        );
        assert!(!dir.path().join("f.bin").exists());
        assert!(
            dir.path().join("f.bin.part").exists(),
            "kept for inspection"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}

dialogue! {
    fn a_wrong_hash_is_a_verification_error_for_each_checksum_command() {
        for hash in ["HASH", "XSHA256", "XMD5", "XCRC"] {
            let server = MemoryServer::with_behavior(Behavior {
                hashes: vec![hash],
                hash_lie: true,
                ..Behavior::default()
            });
            server.put_file("f.bin", random_bytes(50_000, 2));
            let dir = tempfile::tempdir().unwrap();
            let err = download!(&server, dir.path()).unwrap_err();
            assert!(
                matches!(err, Error::Verification(VerifyError::Hash { .. })),
                "{hash}: {err}"
            );
            assert!(!dir.path().join("f.bin").exists());

            // The same file from an honest server verifies with that command.
            let honest = MemoryServer::with_behavior(Behavior {
                hashes: vec![hash],
                ..Behavior::default()
            });
            honest.put_file("f.bin", random_bytes(50_000, 2));
            let report = download!(&honest, dir.path()).unwrap();
            let want = match hash {
                "XMD5" => HashAlgorithm::Md5,
                "XCRC" => HashAlgorithm::Crc32,
                _ => HashAlgorithm::Sha256,
            };
            assert_eq!(report.verified.hash, Some(want), "{hash}");
        }
    }
}

dialogue! {
    fn a_wrong_hash_on_upload_is_an_error() {
        let server = MemoryServer::with_behavior(Behavior {
            hash_lie: true,
            ..Behavior::default()
        });
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("up.bin");
        fs::write(&local, random_bytes(20_000, 5)).unwrap();
        let err = w!(client!(&server)
            .upload(&local, "up.bin")
            .temp_name(true)
            .run())
            .unwrap_err();
        assert!(matches!(err, Error::Verification(VerifyError::Hash { .. })));
        // With a temporary name, the unverified upload never got the final name.
        assert_eq!(server.file("up.bin"), None);
        assert!(server.file("up.bin.part").is_some());
    }
}

dialogue! {
    fn a_remote_file_that_changed_before_the_resume_is_fetched_again_whole() {
        let server = MemoryServer::start();
        server.put_file("f.bin", random_bytes(SIZE, 1));
        server.set_modified("f.bin", UNIX_EPOCH + Duration::from_secs(1_600_000_000));
        let new = random_bytes(SIZE + 10, 2);
        server.push_fault(Fault::ResetAndChange(500_000, new.clone()));
        let dir = tempfile::tempdir().unwrap();
        let report = download!(&server, dir.path()).unwrap();
        assert_eq!(sha256_file(dir.path().join("f.bin")), sha256_hex(&new));
        assert_eq!(report.restarts, 1);
        assert!(rest_offsets(&server).is_empty(), "started over, no REST");
    }
}

dialogue! {
    fn a_server_that_ignores_rest_is_caught_by_the_overlap() {
        // REST is answered 350 but the data starts at byte 0: the overlap
        // differs from the local bytes, so the download starts over instead of
        // appending the file's start to its own middle.
        let server = MemoryServer::with_behavior(Behavior {
            ignore_rest: true,
            ..Behavior::default()
        });
        let data = random_bytes(SIZE, 9);
        server.put_file("f.bin", data.clone());
        server.push_fault(Fault::ResetDataAt(700_000));
        let dir = tempfile::tempdir().unwrap();
        let report = download!(&server, dir.path()).unwrap();
        assert_eq!(sha256_file(dir.path().join("f.bin")), sha256_hex(&data));
        assert_eq!(report.restarts, 1);
    }
}

dialogue! {
    fn a_stale_part_file_of_another_file_is_replaced() {
        let server = MemoryServer::start();
        let data = random_bytes(SIZE, 11);
        server.put_file("f.bin", data.clone());
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("f.bin.part"), random_bytes(300_000, 12)).unwrap();
        let report = download!(&server, dir.path()).unwrap();
        assert_eq!(sha256_file(dir.path().join("f.bin")), sha256_hex(&data));
        assert_eq!(report.restarts, 1);
    }
}

dialogue! {
    fn a_part_file_from_an_earlier_run_is_resumed() {
        let server = MemoryServer::start();
        let data = random_bytes(SIZE, 13);
        server.put_file("f.bin", data.clone());
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("f.bin.part"), &data[..600_000]).unwrap();
        let report = download!(&server, dir.path()).unwrap();
        assert_eq!(sha256_file(dir.path().join("f.bin")), sha256_hex(&data));
        assert_eq!(report.resumed_from, 600_000);
        assert_eq!(report.transferred, 400_000 + 32 * 1024);
    }
}

dialogue! {
    fn permanent_errors_are_not_retried() {
        let server = MemoryServer::start();
        server.put_file("f.bin", random_bytes(1000, 1));
        server.push_fault(Fault::Refuse("550 permission denied".into()));
        let dir = tempfile::tempdir().unwrap();
        let err = download!(&server, dir.path()).unwrap_err();
        assert_eq!(err.code(), Some(ftpkit::ReplyCode(550)));
        assert_eq!(server.transfers(), 1, "one attempt only");
        assert!(!dir.path().join("f.bin").exists());

        // 451 is transient: retried, then it succeeds.
        server.push_fault(Fault::Refuse("451 try later".into()));
        let report = download!(&server, dir.path()).unwrap();
        assert_eq!(report.retries, 1);
    }
}

dialogue! {
    fn a_refused_login_on_reconnect_is_never_retried() {
        let server = MemoryServer::with_behavior(Behavior {
            refuse_relogin: true,
            ..Behavior::default()
        });
        server.put_file("f.bin", random_bytes(SIZE, 1));
        server.push_fault(Fault::DropAllAt(100_000));
        let dir = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let err = download!(&server, dir.path()).unwrap_err();
        assert!(matches!(err, Error::LoginRefused(_)), "{err}");
        let passes = server
            .commands()
            .iter()
            .filter(|c| c.starts_with("PASS"))
            .count();
        assert_eq!(passes, 2, "one re-login, not retried");
        assert!(!dir.path().join("f.bin").exists());
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}

dialogue! {
    fn retries_are_bounded() {
        let server = MemoryServer::start();
        server.put_file("f.bin", random_bytes(SIZE, 1));
        for _ in 0..10 {
            server.push_fault(Fault::ResetDataAt(1000));
        }
        let dir = tempfile::tempdir().unwrap();
        let err = w!(client!(&server)
            .download("f.bin", dir.path().join("f.bin"))
            .retry(RetryPolicy {
                retries: 2,
                ..quick_retries()
            })
            .run())
            .unwrap_err();
        assert!(err.is_transient(), "{err}");
        assert_eq!(server.transfers(), 3, "the first attempt and two retries");
        assert!(!dir.path().join("f.bin").exists());
    }
}

dialogue! {
    fn modification_times_are_kept_both_ways() {
        let server = MemoryServer::start();
        let when = UNIX_EPOCH + Duration::from_secs(1_500_000_000);
        server.put_file("f.bin", random_bytes(1000, 1));
        server.set_modified("f.bin", when);
        let dir = tempfile::tempdir().unwrap();
        let report = download!(&server, dir.path()).unwrap();
        assert!(report.mtime_preserved);
        let local_time = fs::metadata(dir.path().join("f.bin"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(local_time, when);

        // Upload: MFMT copies the local time to the server.
        let local = dir.path().join("up.bin");
        fs::write(&local, b"hello").unwrap();
        let file = fs::File::options().write(true).open(&local).unwrap();
        let local_when = UNIX_EPOCH + Duration::from_secs(1_400_000_000);
        file.set_modified(local_when).unwrap();
        drop(file);
        let report = w!(client!(&server).upload(&local, "up.bin").run()).unwrap();
        assert!(report.mtime_preserved);
        assert_eq!(server.modified("up.bin"), Some(local_when));
        assert!(
            server
                .commands()
                .contains(&"MFMT 20140513165320 up.bin".to_string())
        );
    }
}

dialogue! {
    fn temp_name_uploads_appear_only_when_complete() {
        let server = MemoryServer::start();
        server.put_file("up.bin", b"old version".to_vec());
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("up.bin");
        let data = random_bytes(SIZE, 21);
        fs::write(&local, &data).unwrap();
        server.push_fault(Fault::ResetDataAt(250_000));
        w!(client!(&server)
            .upload(&local, "up.bin")
            .temp_name(true)
            .retry(quick_retries())
            .run())
            .unwrap();
        assert_eq!(server.file("up.bin"), Some(Content::Bytes(data)));
        assert_eq!(server.file("up.bin.part"), None);
        let commands = server.commands();
        assert!(commands.contains(&"STOR up.bin.part".to_string()));
        assert!(commands.contains(&"RNTO up.bin".to_string()));
    }
}

dialogue! {
    fn no_verify_and_no_resume_do_what_they_say() {
        let server = MemoryServer::with_behavior(Behavior {
            size_lie: 5,
            hash_lie: true,
            ..Behavior::default()
        });
        let data = random_bytes(100_000, 4);
        server.put_file("f.bin", data.clone());
        let dir = tempfile::tempdir().unwrap();
        // An earlier run's `.part`, longer than the file: emptied, not
        // resumed, and none of it left behind the new bytes.
        let mut earlier = data[..50_000].to_vec();
        earlier.extend(random_bytes(100_000, 5));
        fs::write(dir.path().join("f.bin.part"), &earlier).unwrap();
        let report = w!(client!(&server)
            .download("f.bin", dir.path().join("f.bin"))
            .verify(Verify::Off)
            .resume(false)
            .run())
            .unwrap();
        assert_eq!(
            report.verified.describe(),
            "not verified (no SIZE or hash offered)"
        );
        assert_eq!(report.resumed_from, 0);
        assert!(rest_offsets(&server).is_empty());
        assert_eq!(sha256_file(dir.path().join("f.bin")), sha256_hex(&data));
    }
}

dialogue! {
    fn limit_rate_paces_the_transfer() {
        // A lower bound only: 200,000 bytes at 400,000 B/s take at least
        // ~0.5 s however fast the machine is.
        let server = MemoryServer::start();
        let data = random_bytes(200_000, 8);
        server.put_file("f.bin", data.clone());
        let dir = tempfile::tempdir().unwrap();
        let started = Instant::now();
        w!(client!(&server)
            .download("f.bin", dir.path().join("f.bin"))
            .limit_rate(400_000)
            .run())
            .unwrap();
        assert!(started.elapsed() >= Duration::from_millis(450));
        assert_eq!(sha256_file(dir.path().join("f.bin")), sha256_hex(&data));
    }
}

dialogue! {
    /// The fault soak: 200 transfers, half down and half up, each broken at a
    /// random point (a data reset, or the whole session dropped) once or twice,
    /// all ending byte-identical after automatic resume, in bounded time.
    fn fault_soak_200_transfers_end_byte_identical() {
        let server = MemoryServer::start();
        let dir = tempfile::tempdir().unwrap();
        let mut c = client!(&server);
        let started = Instant::now();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut retries = 0;
        for i in 0..200u64 {
            let len = 1000 + (next() % 300_000) as usize;
            let data = random_bytes(len, 1000 + i);
            for _ in 0..=(next() % 2) {
                let at = next() % len as u64;
                server.push_fault(if next() % 4 == 0 {
                    Fault::DropAllAt(at)
                } else {
                    Fault::ResetDataAt(at)
                });
            }
            let name = format!("s{i}.bin");
            let report = if i % 2 == 0 {
                server.put_file(&name, data.clone());
                let report = w!(c
                    .download(&name, dir.path().join(&name))
                    .retry(quick_retries())
                    .run())
                    .unwrap_or_else(|e| panic!("download {i}: {e}"));
                assert_eq!(
                    sha256_file(dir.path().join(&name)),
                    sha256_hex(&data),
                    "download {i}"
                );
                report
            } else {
                let local = dir.path().join(&name);
                fs::write(&local, &data).unwrap();
                let report = w!(c
                    .upload(&local, &name)
                    .retry(quick_retries())
                    .run())
                    .unwrap_or_else(|e| panic!("upload {i}: {e}"));
                assert_eq!(server.file(&name), Some(Content::Bytes(data)), "upload {i}");
                report
            };
            assert_eq!(report.size, len as u64);
            retries += report.retries;
            // Faults the transfer did not consume stay queued for the next one;
            // clear them so each transfer meets only its own.
            server.clear_faults();
            assert_eq!(server.pending_faults(), 0);
        }
        assert!(
            retries >= 200,
            "every transfer was broken at least once: {retries}"
        );
        assert!(started.elapsed() < Duration::from_secs(120));
    }
}

dialogue! {
    fn download_tells_the_size_it_asked_once_and_adopts_a_file_left_under_the_final_name() {
        let server = MemoryServer::start();
        let data = random_bytes(200_000, 77);
        server.put_file("f.bin", data.clone());
        let dir = tempfile::tempdir().unwrap();
        // Another tool left the first half under the final name.
        fs::write(dir.path().join("f.bin"), &data[..100_000]).unwrap();
        let mut sizes = Vec::new();
        let mut last = 0;
        let report = w!(client!(&server)
            .download("f.bin", dir.path().join("f.bin"))
            .retry(quick_retries())
            .adopt_local(true)
            .on_size(|size| sizes.push(size))
            .progress(|done| last = done)
            .run())
            .unwrap();
        assert_eq!(sizes, [Some(200_000)], "told once, before the data");
        assert_eq!(last, 200_000);
        assert_eq!(report.resumed_from, 100_000, "the adopted file was resumed");
        assert_eq!(
            rest_offsets(&server).first().copied(),
            Some(100_000 - 32 * 1024)
        );
        assert_eq!(fs::read(dir.path().join("f.bin")).unwrap(), data);
        let sizes_asked = server
            .commands()
            .iter()
            .filter(|c| c.starts_with("SIZE "))
            .count();
        assert_eq!(
            sizes_asked,
            1,
            "one SIZE, before the data; the bytes that match it need no second: {:?}",
            server.commands()
        );

        // Without adopt_local, a file under the final name is replaced.
        fs::write(dir.path().join("f.bin"), b"junk").unwrap();
        let report = download!(&server, dir.path()).unwrap();
        assert_eq!(report.resumed_from, 0);
        assert_eq!(fs::read(dir.path().join("f.bin")).unwrap(), data);
    }
}

dialogue! {
    fn a_failed_download_leaves_no_empty_part_file() {
        let server = MemoryServer::start();
        server.put_file("f.bin", random_bytes(1000, 5));
        server.push_fault(Fault::Refuse("550 not today".into()));
        let dir = tempfile::tempdir().unwrap();
        let err = download!(&server, dir.path()).unwrap_err();
        assert!(matches!(err, Error::Reply { .. }), "{err:?}");
        assert!(
            !dir.path().join("f.bin.part").exists(),
            "an empty .part is removed"
        );
        assert!(!dir.path().join("f.bin").exists());
    }
}

// ----- on both drivers --------------------------------------------------------

dialogue! {
    fn download_resumes_after_a_reset_and_after_a_dropped_connection() {
        for fault in [Fault::ResetDataAt(500_000), Fault::DropAllAt(400_000)] {
            let server = MemoryServer::start();
            let data = random_bytes(SIZE, 41);
            server.put_file("f.bin", data.clone());
            let drop_all = matches!(fault, Fault::DropAllAt(_));
            server.push_fault(fault);
            let dir = tempfile::tempdir().unwrap();
            let mut c = client!(&server);
            w!(c.cwd("/")).unwrap();
            let report = w!(c
                .download("f.bin", dir.path().join("f.bin"))
                .retry(quick_retries())
                .run())
            .unwrap();
            assert_eq!(sha256_file(dir.path().join("f.bin")), sha256_hex(&data));
            assert!(!dir.path().join("f.bin.part").exists());
            assert_eq!(report.retries, 1);
            assert_eq!(report.size, SIZE as u64);
            assert_eq!(report.verified.size, Some(SIZE as u64));
            assert_eq!(report.verified.hash, Some(HashAlgorithm::Sha256));
            let rests = rest_offsets(&server);
            assert_eq!(rests.len(), 1, "{rests:?}");
            assert!(rests[0] > 0, "resumed, not restarted: {rests:?}");
            if drop_all {
                assert_eq!(server.logins(), 2, "logged in again after the drop");
                let commands = server.commands();
                let relogin = commands.iter().rposition(|c| c == "PASS pw").unwrap();
                assert!(
                    commands[relogin..].iter().any(|c| c == "CWD /"),
                    "{commands:?}"
                );
            }
        }
    }
}

dialogue! {
    fn small_blocks_and_a_rate_limit_move_every_byte_in_order() {
        // Hundreds of blocks: the file's side and the socket's overlap;
        // under a rate limit the data moves a block at a time, and no read
        // of the file may run ahead of what was sent.
        for limit in [None, Some(40_000_000)] {
            let server = MemoryServer::start();
            let data = random_bytes(SIZE, 43);
            server.put_file("f.bin", data.clone());
            let dir = tempfile::tempdir().unwrap();
            let local = dir.path().join("f.bin");
            let (mut down, mut up) = (Vec::new(), Vec::new());
            let config = Config::default()
                .timeout(Duration::from_secs(3))
                .connect_timeout(Duration::from_secs(3))
                .block_size(4096);
            let mut c = connect!(&server.addr().to_string(), config).unwrap();
            w!(c.login("tester", "pw")).unwrap();
            let options = ftpkit::TransferOptions {
                limit_rate: limit,
                ..ftpkit::TransferOptions::default()
            };
            w!(c
                .download("f.bin", &local)
                .options(options.clone())
                .progress(|n| down.push(n))
                .run())
            .unwrap();
            w!(c.upload(&local, "g.bin").options(options).progress(|n| up.push(n)).run()).unwrap();
            assert_eq!(sha256_file(&local), sha256_hex(&data), "{limit:?}");
            assert_eq!(
                server.file("g.bin"),
                Some(Content::Bytes(data)),
                "{limit:?}"
            );
            // An unpaced download of a plain connection on Linux moves its
            // data with `splice(2)` in chunks of up to 1 MiB (see
            // `Config::sendfile`) and reports each chunk, not each block.
            let spliced = limit.is_none() && cfg!(target_os = "linux");
            for (offsets, spliced) in [(&down, spliced), (&up, false)] {
                assert!(offsets.windows(2).all(|w| w[0] <= w[1]), "{offsets:?}");
                assert_eq!(offsets.last(), Some(&(SIZE as u64)), "{limit:?}");
                if !spliced {
                    assert!(offsets.len() >= SIZE / 4096, "{} reports", offsets.len());
                }
            }
        }
    }
}

dialogue! {
    fn a_plain_download_resumes_from_its_part_file_byte_exact_with_progress() {
        // Several MiB over a plain connection, unpaced: on Linux the bulk
        // after the overlap check goes through splice(2).
        const BIG: usize = (5 << 20) + 4321;
        const HAVE: usize = (1 << 20) + 777;
        let server = MemoryServer::start();
        let data = random_bytes(BIG, 44);
        server.put_file("big.bin", data.clone());
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("big.bin");
        std::fs::write(dir.path().join("big.bin.part"), &data[..HAVE]).unwrap();
        let mut offsets = Vec::new();
        let mut c = client!(server);
        let report = w!(c.download("big.bin", &local).progress(|n| offsets.push(n)).run()).unwrap();
        assert_eq!(std::fs::read(&local).unwrap(), data);
        assert!(!dir.path().join("big.bin.part").exists());
        assert_eq!(report.size, BIG as u64);
        assert_eq!(report.verified.size, Some(BIG as u64));
        let rests = rest_offsets(&server);
        assert_eq!(rests.len(), 1, "{rests:?}");
        assert!(
            rests[0] > 0 && rests[0] <= HAVE as u64,
            "resumed inside the part file: {rests:?}"
        );
        // REST goes back into the part file to compare the overlap.
        assert_eq!(report.resumed_from, HAVE as u64);
        assert_eq!(report.transferred, BIG as u64 - rests[0]);
        assert!(offsets.windows(2).all(|w| w[0] < w[1]), "{offsets:?}");
        assert!(offsets.len() >= 2, "{offsets:?}");
        assert!(offsets[0] > rests[0], "{offsets:?}");
        assert_eq!(offsets.last(), Some(&(BIG as u64)));
    }
}

dialogue! {
    fn upload_resumes_after_a_reset_through_a_temporary_name() {
        let server = MemoryServer::start();
        let data = random_bytes(SIZE, 42);
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("up.bin");
        std::fs::write(&local, &data).unwrap();
        server.push_fault(Fault::ResetDataAt(SIZE as u64 / 2));
        let mut offsets = Vec::new();
        let mut c = client!(&server);
        let report = w!(c
            .upload(&local, "up.bin")
            .temp_name(true)
            .retry(quick_retries())
            .progress(|n| offsets.push(n))
            .run())
        .unwrap();
        assert_eq!(server.file("up.bin"), Some(Content::Bytes(data)));
        assert_eq!(server.file("up.bin.part"), None);
        assert_eq!(report.retries, 1);
        assert_eq!(report.verified.hash, Some(HashAlgorithm::Sha256));
        assert_eq!(offsets.last(), Some(&(SIZE as u64)));
        let commands = server.commands();
        assert!(
            commands.iter().any(|c| c == "APPE up.bin.part"),
            "resumed with APPE: {commands:?}"
        );
        assert!(commands.iter().any(|c| c == "RNTO up.bin"), "{commands:?}");
    }
}
