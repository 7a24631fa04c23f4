//! Transfer faults: early closes, resets, stalls, missing final replies,
//! REST ignored, files changing and lying hashes: an error or the right
//! data, never a short file taken as complete.

use super::*;

/// The data connection closes early but the server says 226: fewer bytes
/// than announced is `Incomplete`, never a short file taken as complete.
#[test]
fn an_early_close_with_226_is_incomplete() {
    let (err, _) = against(
        binary_epsv()
            .expect("RETR f")
            .reply("150 Opening (1000 bytes)")
            .send_data_then(&[1u8; 1000], DataFault::CloseAt(300))
            .reply("226 Transfer complete"),
        BOUND,
        |c| c.get("f", &mut Vec::new()).unwrap_err(),
    );
    assert!(
        matches!(
            err,
            Error::Incomplete {
                expected: 1000,
                received: 300
            }
        ),
        "{err:?}"
    );
}

/// Without an announced size, a download's size check catches the short
/// file: a verification error, the `.part` kept, no final name.
#[test]
fn an_unannounced_short_download_fails_verification_and_keeps_no_final_file() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("f");
    let part = dir.path().join("f.part");
    let (err, _) = against(
        Script::new()
            .expect("TYPE I")
            .reply("200 ok")
            .expect("SIZE f")
            .reply("213 1000")
            .expect("MDTM f")
            .reply("550 no")
            .expect("EPSV")
            .epsv()
            .expect("RETR f")
            .reply("150 go")
            .send_data_then(&[1u8; 1000], DataFault::CloseAt(300))
            .reply("226 done")
            .expect("SIZE f")
            .reply("213 1000"),
        BOUND,
        move |c| c.download("f", &dest).retries(0).run().unwrap_err(),
    );
    assert!(
        matches!(
            err,
            Error::Verification(VerifyError::Size {
                remote: 1000,
                local: 300
            })
        ),
        "{err:?}"
    );
    assert!(!dir.path().join("f").exists());
    assert_eq!(std::fs::metadata(part).unwrap().len(), 300);
}

/// 426 and 451 after partial data: errors with the server's code, and
/// transient (worth a retry).
#[test]
fn a_426_or_451_after_partial_data_is_a_transient_error_with_its_code() {
    for code in [426u16, 451] {
        let (err, _) = against(
            binary_epsv()
                .expect("RETR f")
                .reply("150 go")
                .send_data_then(&[2u8; 5000], DataFault::CloseAt(1000))
                .reply(&format!("{code} transfer aborted")),
            BOUND,
            |c| c.get("f", &mut Vec::new()).unwrap_err(),
        );
        assert_eq!(err.code(), Some(ReplyCode(code)), "{err:?}");
        assert!(err.is_transient());
    }
}

/// A reset at byte N: a data error within the bound.
#[test]
fn a_reset_at_byte_n_is_a_data_error() {
    let (err, _) = against(
        binary_epsv()
            .expect("RETR f")
            .reply("150 go")
            .send_data_then(&[3u8; 200_000], DataFault::ResetAt(12_345))
            .reply("426 reset"),
        BOUND,
        |c| c.get("f", &mut Vec::new()).unwrap_err(),
    );
    assert!(err.is_transient(), "{err:?}");
}

/// The data arrives but the 226 never does: an idle timeout, and the
/// client is marked unusable (its next command would read a late reply).
#[test]
fn a_missing_226_times_out_and_leaves_the_client_unusable() {
    let (outcome, _) = against(
        binary_epsv()
            .expect("RETR f")
            .reply("150 go")
            .send_data(b"all the bytes")
            .never_reply(),
        Duration::from_secs(3),
        |c| {
            let err = c.get("f", &mut Vec::new()).unwrap_err();
            (err.is_timeout(), c.is_unusable())
        },
    );
    assert_eq!(outcome, (true, true));
}

/// Data that stalls mid-transfer: an idle timeout after about one timeout,
/// not a hang.
#[test]
fn stalled_data_times_out() {
    let (err, _) = against(
        binary_epsv()
            .expect("RETR f")
            .reply("150 go")
            .send_data_then(&[4u8; 100_000], DataFault::StallAt(10_000))
            .reply("226 never sent in time"),
        Duration::from_secs(4),
        |c| c.get("f", &mut Vec::new()).unwrap_err(),
    );
    assert!(err.is_timeout(), "{err:?}");
}

/// An upload whose data connection the server resets: an error, never a
/// success.
#[test]
fn an_upload_reset_by_the_server_is_an_error() {
    let (err, _) = against(
        binary_epsv()
            .expect("STOR f")
            .reply("150 go")
            .recv_data_then(DataFault::ResetAt(10_000))
            .reply("451 write failed"),
        BOUND,
        |c| c.put("f", &mut &[5u8; 2_000_000][..]).unwrap_err(),
    );
    assert!(err.is_transient(), "{err:?}");
}

/// REST answered 350 but the data sent from byte 0: the resume overlap
/// differs, so the download starts over and ends byte-identical.
#[test]
fn rest_ignored_by_the_server_is_caught_and_the_file_is_right() {
    let server = MemoryServer::with_behavior(Behavior {
        ignore_rest: true,
        ..Behavior::default()
    });
    let data = random_bytes(600_000, 70);
    server.put_file("f", data.clone());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.part"), &data[..300_000]).unwrap();
    let addr = server.addr().to_string();
    let dest = dir.path().join("f");
    let report = within(BOUND, move || {
        let mut c = Client::connect_with(&addr, quick()).unwrap();
        c.login("u", "p").unwrap();
        c.download("f", &dest).run()
    })
    .unwrap();
    assert_eq!(report.restarts, 1);
    assert_eq!(sha256_file(dir.path().join("f")), sha256_hex(&data));
}

/// The remote file changes between a failure and the resume: fetched
/// again whole, never spliced.
#[test]
fn a_file_changed_between_failure_and_resume_is_fetched_whole() {
    let server = MemoryServer::start();
    server.put_file("f", random_bytes(400_000, 71));
    let new = random_bytes(400_000, 72);
    server.push_fault(Fault::ResetAndChange(200_000, new.clone()));
    let dir = tempfile::tempdir().unwrap();
    let addr = server.addr().to_string();
    let dest = dir.path().join("f");
    let report = within(BOUND, move || {
        let mut c = Client::connect_with(&addr, quick()).unwrap();
        c.login("u", "p").unwrap();
        c.download("f", &dest)
            .retry(ftpkit::RetryPolicy {
                retries: 2,
                initial_delay: Duration::from_millis(10),
                max_delay: Duration::from_millis(10),
            })
            .run()
    })
    .unwrap();
    assert_eq!(report.restarts, 1);
    assert_eq!(sha256_file(dir.path().join("f")), sha256_hex(&new));
}

/// A server that lies about the content hash: a verification error.
#[test]
fn a_lying_hash_is_a_verification_error() {
    let server = MemoryServer::with_behavior(Behavior {
        hash_lie: true,
        ..Behavior::default()
    });
    server.put_file("f", random_bytes(10_000, 73));
    let dir = tempfile::tempdir().unwrap();
    let addr = server.addr().to_string();
    let dest = dir.path().join("f");
    let err = within(BOUND, move || {
        let mut c = Client::connect_with(&addr, quick()).unwrap();
        c.login("u", "p").unwrap();
        c.download("f", &dest)
            .verify(Verify::Auto)
            .run()
            .unwrap_err()
    });
    assert!(
        matches!(err, Error::Verification(VerifyError::Hash { .. })),
        "{err:?}"
    );
    assert!(!dir.path().join("f").exists());
}

/// A data connection reset before its first byte is a data error, never
/// an empty success.
#[test]
fn a_reset_at_byte_zero_is_an_error_not_an_empty_file() {
    let (server, mut client) = logged_in(
        binary_epsv()
            .expect("RETR f")
            .reply("150 Opening BINARY mode data connection (1000 bytes)")
            .send_data_then(&[1u8; 1000], DataFault::ResetAt(0))
            .reply("426 Connection reset"),
    );
    let err = timed(3 * SECOND, || client.get("f", &mut Vec::new()).unwrap_err());
    assert!(
        matches!(
            err,
            Error::Io {
                phase: Phase::Data,
                ..
            } | Error::Reply { .. }
                | Error::Incomplete { received: 0, .. }
        ),
        "{err:?}"
    );
    server.finish_allow_unplayed();
}

/// A reset after the last byte, followed by 226: either every byte arrived
/// (and the download succeeds with the right hash) or it is an error; a
/// silently short file is impossible.
#[test]
fn a_reset_after_the_last_byte_never_gives_a_short_success() {
    let data = random_bytes(300_000, 34);
    let (server, mut client) = logged_in(
        binary_epsv()
            .expect("RETR f")
            .reply("150 Opening BINARY mode data connection (300000 bytes)")
            .send_data_then(&data, DataFault::ResetAt(data.len()))
            .reply("226 done"),
    );
    let mut out = Vec::new();
    match timed(3 * SECOND, || client.get("f", &mut out)) {
        Ok(n) => {
            assert_eq!(n, data.len() as u64);
            assert_eq!(sha256_hex(&out), sha256_hex(&data));
        }
        Err(e) => assert!(
            matches!(e, Error::Io { .. } | Error::Incomplete { .. }),
            "{e:?}"
        ),
    }
    server.finish_allow_unplayed();
}

/// A server that stops reading an upload (and never replies) fails the
/// upload within a few idle timeouts, and the server records that it was
/// not a clean end.
#[test]
fn a_stalled_upload_times_out() {
    let data = vec![5u8; 32 << 20];
    let (server, mut client) = logged_in(
        binary_epsv()
            .expect("STOR big")
            .reply("150 go")
            .recv_data_then(DataFault::StallAt(64 * 1024))
            .never_reply(),
    );
    let err = timed(6 * SECOND, || {
        client.put("big", &mut data.as_slice()).unwrap_err()
    });
    assert!(
        err.is_timeout() || matches!(err, Error::Io { .. } | Error::Unusable),
        "{err:?}"
    );
    drop(client);
    let t = server.finish_allow_unplayed();
    assert!(t.uploads.first().is_none_or(|u| u.len() <= 64 * 1024));
}
