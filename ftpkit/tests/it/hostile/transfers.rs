//! Transfer faults: early closes, resets, stalls, missing final replies,
//! REST ignored, files changing and lying hashes: an error or the right
//! data, never a short file taken as complete.

use super::*;

dialogue! {
    /// The data connection closes early but the server says 226: fewer
    /// bytes than announced is `Incomplete`, never a short file taken as
    /// complete.
    fn an_early_close_with_226_is_incomplete() within(GUARD) {
        let (server, mut c) = hostile_login!(
            binary_epsv()
                .expect("RETR f")
                .reply("150 Opening (1000 bytes)")
                .send_data_then(&[1u8; 1000], DataFault::CloseAt(300))
                .reply("226 Transfer complete")
        );
        let err = timed!(BOUND, w!(c.get("f", &mut Vec::new()))).unwrap_err();
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
        drop(c);
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// Without an announced size, a download's size check catches the
    /// short file: a verification error, the `.part` kept, no final name.
    fn an_unannounced_short_download_fails_verification_and_keeps_no_final_file() within(GUARD) {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f");
        let part = dir.path().join("f.part");
        let (server, mut c) = hostile_login!(
            Script::new()
                .expect("TYPE I")
                .reply("200 ok")
                .expect("FEAT")
                .reply("211-Features:\r\n EPSV\r\n SIZE\r\n211 End")
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
                .reply("213 1000")
        );
        let err = timed!(BOUND, w!(c.download("f", &dest).retries(0).run())).unwrap_err();
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
        drop(c);
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// 426 and 451 after partial data: errors with the server's code, and
    /// transient (worth a retry).
    fn a_426_or_451_after_partial_data_is_a_transient_error_with_its_code() within(GUARD) {
        for code in [426u16, 451] {
            let (server, mut c) = hostile_login!(
                binary_epsv()
                    .expect("RETR f")
                    .reply("150 go")
                    .send_data_then(&[2u8; 5000], DataFault::CloseAt(1000))
                    .reply(&format!("{code} transfer aborted"))
            );
            let err = timed!(BOUND, w!(c.get("f", &mut Vec::new()))).unwrap_err();
            assert_eq!(err.code(), Some(ReplyCode(code)), "{err:?}");
            assert!(err.is_transient());
            drop(c);
            server.finish_allow_unplayed();
        }
    }
}

dialogue! {
    /// A reset at byte N: a data error within the bound.
    fn a_reset_at_byte_n_is_a_data_error() within(GUARD) {
        let (server, mut c) = hostile_login!(
            binary_epsv()
                .expect("RETR f")
                .reply("150 go")
                .send_data_then(&[3u8; 200_000], DataFault::ResetAt(12_345))
                .reply("426 reset")
        );
        let err = timed!(BOUND, w!(c.get("f", &mut Vec::new()))).unwrap_err();
        assert!(err.is_transient(), "{err:?}");
        drop(c);
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// The data arrives but the 226 never does: an idle timeout, and the
    /// client is marked unusable (its next command would read a late
    /// reply).
    fn a_missing_226_times_out_and_leaves_the_client_unusable() within(GUARD) {
        let (server, mut c) = hostile_login!(
            binary_epsv()
                .expect("RETR f")
                .reply("150 go")
                .send_data(b"all the bytes")
                .never_reply()
        );
        let err = timed!(3 * SECOND, w!(c.get("f", &mut Vec::new()))).unwrap_err();
        assert_eq!((err.is_timeout(), c.is_unusable()), (true, true), "{err:?}");
        drop(c);
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// Data that stalls mid-transfer: an idle timeout after about one
    /// timeout, not a hang.
    fn stalled_data_times_out() within(GUARD) {
        let (server, mut c) = hostile_login!(
            binary_epsv()
                .expect("RETR f")
                .reply("150 go")
                .send_data_then(&[4u8; 100_000], DataFault::StallAt(10_000))
                .reply("226 never sent in time")
        );
        let err = timed!(4 * SECOND, w!(c.get("f", &mut Vec::new()))).unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        drop(c);
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// An upload whose data connection the server resets: an error, never
    /// a success.
    fn an_upload_reset_by_the_server_is_an_error() within(GUARD) {
        let (server, mut c) = hostile_login!(
            binary_epsv()
                .expect("STOR f")
                .reply("150 go")
                .recv_data_then(DataFault::ResetAt(10_000))
                .reply("451 write failed")
        );
        let err = timed!(BOUND, w!(c.put("f", &mut &[5u8; 2_000_000][..]))).unwrap_err();
        assert!(err.is_transient(), "{err:?}");
        drop(c);
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// REST answered 350 but the data sent from byte 0: the resume overlap
    /// differs, so the download starts over and ends byte-identical.
    fn rest_ignored_by_the_server_is_caught_and_the_file_is_right() within(GUARD) {
        let server = MemoryServer::with_behavior(Behavior {
            ignore_rest: true,
            ..Behavior::default()
        });
        let data = random_bytes(600_000, 70);
        server.put_file("f", data.clone());
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f.part"), &data[..300_000]).unwrap();
        let dest = dir.path().join("f");
        let report = timed!(BOUND, {
            let mut c = connect!(&server.addr().to_string(), quick()).unwrap();
            w!(c.login("u", "p")).unwrap();
            w!(c.download("f", &dest).run())
        })
        .unwrap();
        assert_eq!(report.restarts, 1);
        assert_eq!(sha256_file(dir.path().join("f")), sha256_hex(&data));
    }
}

dialogue! {
    /// The remote file changes between a failure and the resume: fetched
    /// again whole, never spliced.
    fn a_file_changed_between_failure_and_resume_is_fetched_whole() within(GUARD) {
        let server = MemoryServer::start();
        server.put_file("f", random_bytes(400_000, 71));
        let new = random_bytes(400_000, 72);
        server.push_fault(Fault::ResetAndChange(200_000, new.clone()));
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f");
        let report = timed!(BOUND, {
            let mut c = connect!(&server.addr().to_string(), quick()).unwrap();
            w!(c.login("u", "p")).unwrap();
            w!(c.download("f", &dest)
                .retry(ftpkit::RetryPolicy {
                    retries: 2,
                    initial_delay: Duration::from_millis(10),
                    max_delay: Duration::from_millis(10),
                })
                .run())
        })
        .unwrap();
        assert_eq!(report.restarts, 1);
        assert_eq!(sha256_file(dir.path().join("f")), sha256_hex(&new));
    }
}

dialogue! {
    /// A server that lies about the content hash: a verification error.
    fn a_lying_hash_is_a_verification_error() within(GUARD) {
        let server = MemoryServer::with_behavior(Behavior {
            hash_lie: true,
            ..Behavior::default()
        });
        server.put_file("f", random_bytes(10_000, 73));
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f");
        let err = timed!(BOUND, {
            let mut c = connect!(&server.addr().to_string(), quick()).unwrap();
            w!(c.login("u", "p")).unwrap();
            w!(c.download("f", &dest).verify(Verify::Auto).run()).unwrap_err()
        });
        assert!(
            matches!(err, Error::Verification(VerifyError::Hash { .. })),
            "{err:?}"
        );
        assert!(!dir.path().join("f").exists());
    }
}

dialogue! {
    /// A data connection reset before its first byte is a data error, never
    /// an empty success.
    fn a_reset_at_byte_zero_is_an_error_not_an_empty_file() within(GUARD) {
        let (server, mut client) = hostile_login!(
            binary_epsv()
                .expect("RETR f")
                .reply("150 Opening BINARY mode data connection (1000 bytes)")
                .send_data_then(&[1u8; 1000], DataFault::ResetAt(0))
                .reply("426 Connection reset")
        );
        let err = timed!(3 * SECOND, w!(client.get("f", &mut Vec::new()))).unwrap_err();
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
        drop(client);
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// A reset after the last byte, followed by 226: either every byte
    /// arrived (and the download succeeds with the right hash) or it is an
    /// error; a silently short file is impossible.
    fn a_reset_after_the_last_byte_never_gives_a_short_success() within(GUARD) {
        let data = random_bytes(300_000, 34);
        let (server, mut client) = hostile_login!(
            binary_epsv()
                .expect("RETR f")
                .reply("150 Opening BINARY mode data connection (300000 bytes)")
                .send_data_then(&data, DataFault::ResetAt(data.len()))
                .reply("226 done")
        );
        let mut out = Vec::new();
        match timed!(3 * SECOND, w!(client.get("f", &mut out))) {
            Ok(n) => {
                assert_eq!(n, data.len() as u64);
                assert_eq!(sha256_hex(&out), sha256_hex(&data));
            }
            Err(e) => assert!(
                matches!(e, Error::Io { .. } | Error::Incomplete { .. }),
                "{e:?}"
            ),
        }
        drop(client);
        server.finish_allow_unplayed();
    }
}

dialogue! {
    /// A server that stops reading an upload (and never replies) fails the
    /// upload within a few idle timeouts, and the server records that it
    /// was not a clean end.
    fn a_stalled_upload_times_out() within(GUARD) {
        let data = vec![5u8; 32 << 20];
        let (server, mut client) = hostile_login!(
            binary_epsv()
                .expect("STOR big")
                .reply("150 go")
                .recv_data_then(DataFault::StallAt(64 * 1024))
                .never_reply()
        );
        let err = timed!(6 * SECOND, w!(client.put("big", &mut data.as_slice()))).unwrap_err();
        assert!(
            err.is_timeout() || matches!(err, Error::Io { .. } | Error::Unusable),
            "{err:?}"
        );
        drop(client);
        let t = server.finish_allow_unplayed();
        assert!(t.uploads.first().is_none_or(|u| u.len() <= 64 * 1024));
    }
}
