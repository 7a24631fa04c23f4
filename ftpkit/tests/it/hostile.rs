//! The hostile-server suite: what a malicious or broken server can do, and
//! the safe outcome ftpkit guarantees for each — a clear error (or the
//! right data), within a stated time bound, never a hang, a panic, a
//! truncated file that looks complete, or a command the caller did not ask
//! for.
//!
//! Every scenario runs its client on a separate thread and fails if no
//! result arrives within its bound; client timeouts are 1 s. More hostile
//! cases live beside the features they attack: `tls.rs` (certificates,
//! downgrade, plaintext after 234, close_notify), `fake.rs` (endless
//! replies, stalls, resets), `resume.rs` (lying SIZE and hashes, REST
//! ignored, files changing mid-transfer).

use std::{
    sync::mpsc,
    time::{Duration, Instant},
};

use ftpkit::{
    Client, Config, DataMode, Error, InvalidInput, ProtocolError, ReplyCode, TlsConfig, TlsMode,
    Verify, VerifyError,
};
use ftpkit_testkit::{
    Behavior, DataFault, FakeServer, Fault, MemoryServer, Script, random_bytes, sha256_file,
    sha256_hex,
};

/// Client timeouts for these tests.
fn quick() -> Config {
    Config::default()
        .timeout(Duration::from_secs(1))
        .connect_timeout(Duration::from_secs(1))
}

/// Runs `f` on its own thread and returns its result, failing the test if
/// it takes longer than `bound`.
fn within<T: Send + 'static>(bound: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    let result = match rx.recv_timeout(bound) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("no result within {bound:?}: the client hung")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the client thread panicked"),
    };
    assert!(started.elapsed() <= bound);
    result
}

const BOUND: Duration = Duration::from_secs(5);

/// A server that plays `script` after an anonymous login; the closure gets
/// a logged-in client.
fn against<T: Send + 'static>(
    script: Script,
    bound: Duration,
    f: impl FnOnce(&mut Client) -> T + Send + 'static,
) -> (T, ftpkit_testkit::Transcript) {
    let server = FakeServer::with_timeout(
        vec![Script::login_anonymous().then(script)],
        Duration::from_secs(4),
    );
    let addr = server.addr().to_string();
    let result = within(bound, move || {
        let mut c = Client::connect_with(&addr, quick()).expect("connect");
        c.login_anonymous().expect("login");
        f(&mut c)
    });
    (result, server.finish_allow_unplayed())
}

/// A server whose greeting is `greeting`; the closure gets the connect result.
fn greeting<T: Send + 'static>(
    greeting: &[u8],
    f: impl FnOnce(ftpkit::Result<Client>) -> T + Send + 'static,
) -> T {
    let server = FakeServer::with_timeout(
        vec![Script::new().raw(greeting).sleep(Duration::from_secs(3))],
        Duration::from_secs(4),
    );
    let addr = server.addr().to_string();
    let result = within(BOUND, move || f(Client::connect_with(&addr, quick())));
    server.finish_allow_unplayed();
    result
}

fn binary_epsv() -> Script {
    Script::new()
        .expect("TYPE I")
        .reply("200 ok")
        .expect("EPSV")
        .epsv()
}

// ----- malformed and oversized replies --------------------------------

/// A greeting without a reply code: a protocol error, not a session.
#[test]
fn a_greeting_without_a_code_is_a_protocol_error() {
    let err = greeting(b"hello there\r\n", |r| r.err());
    assert!(matches!(err, Some(Error::Protocol(_))), "{err:?}");
}

/// A code outside 100–599: refused as malformed.
#[test]
fn a_code_outside_the_range_is_a_protocol_error() {
    let err = greeting(b"600 ready\r\n", |r| r.err());
    assert!(matches!(err, Some(Error::Protocol(_))), "{err:?}");
}

/// A line ended by CR alone never completes: the idle timeout ends the wait.
#[test]
fn a_reply_that_never_ends_its_line_times_out() {
    let err = greeting(b"220 ready\r", |r| r.err());
    assert!(err.as_ref().is_some_and(Error::is_timeout), "{err:?}");
}

/// A bare LF ends a line as CRLF does (servers that forget the CR are
/// common and harmless): the session works.
#[test]
fn a_bare_lf_terminator_is_accepted() {
    let code = greeting(b"220 ready\n", |r| r.map(|c| c.welcome().code()).ok());
    assert_eq!(code, Some(ReplyCode(220)));
}

/// Non-UTF-8 and NUL bytes in the text are kept lossily, never a panic.
#[test]
fn non_utf8_and_nul_in_a_reply_are_kept_lossily() {
    let text = greeting(b"220 caf\xe9 \x00 \xff\xfe ready\r\n", |r| {
        r.map(|c| c.welcome().message()).ok()
    });
    let text = text.expect("connected");
    assert!(
        text.starts_with("caf\u{fffd}") && text.ends_with("ready"),
        "{text:?}"
    );
}

/// A megabyte line: refused at the 8 KiB line limit, memory bounded.
#[test]
fn a_megabyte_reply_line_is_refused_at_the_line_limit() {
    let (err, _) = against(Script::new().expect("PWD").endless_line(), BOUND, |c| {
        c.pwd().unwrap_err()
    });
    assert!(
        matches!(err, Error::Protocol(ProtocolError::LineTooLong { .. })),
        "{err:?}"
    );
}

/// A multi-line reply that never ends: refused at the 1 MiB reply limit.
#[test]
fn an_endless_multiline_reply_is_refused_at_the_reply_limit() {
    let (err, _) = against(
        Script::new().expect("PWD").endless_multiline(257),
        BOUND,
        |c| c.pwd().unwrap_err(),
    );
    assert!(
        matches!(err, Error::Protocol(ProtocolError::ReplyTooLong { .. })),
        "{err:?}"
    );
}

/// A multi-line reply ends only at its own code followed by a space;
/// lines that look like other replies inside it are text.
#[test]
fn lines_that_look_like_replies_inside_a_multiline_reply_are_text() {
    let (reply, _) = against(
        Script::new()
            .expect("NOOP")
            .raw(b"200-first\r\n530 not the end\r\n200-still going\r\n200 end\r\n"),
        BOUND,
        |c| c.noop().unwrap(),
    );
    assert_eq!(reply.code(), ReplyCode(200));
    assert_eq!(reply.lines().len(), 4);
}

/// A 1xx reply to a command that opens no transfer is a reply of the
/// wrong class: an error, and the next command does not read a stale reply.
#[test]
fn a_preliminary_reply_to_a_simple_command_is_an_error() {
    let (result, _) = against(
        Script::new().expect("CWD x").reply("150 what transfer?"),
        BOUND,
        |c| c.cwd("x").map(|r| r.code()),
    );
    assert!(result.is_err(), "{result:?}");
}

/// A server that goes silent after the greeting: the login times out
/// within the idle timeout and the client is unusable, not stuck.
#[test]
fn a_silent_server_times_out_within_the_idle_timeout() {
    let server = FakeServer::with_timeout(
        vec![Script::new().reply("220 hi").never_reply()],
        Duration::from_secs(4),
    );
    let addr = server.addr().to_string();
    let (err, usable_after) = within(Duration::from_secs(3), move || {
        let mut c = Client::connect_with(&addr, quick()).unwrap();
        let err = c.login("u", "p").unwrap_err();
        (err, !c.is_unusable())
    });
    assert!(err.is_timeout(), "{err:?}");
    assert!(!usable_after);
    server.finish_allow_unplayed();
}

/// A server that closes the control connection mid-session: a clear
/// "connection closed" (or reset) error at once.
#[test]
fn a_server_that_hangs_up_gives_a_clear_error() {
    let (err, _) = against(Script::new().expect("PWD").end(), BOUND, |c| {
        c.pwd().unwrap_err()
    });
    assert!(err.is_transient(), "{err:?}");
}

/// Numbers that overflow: SIZE, MDTM and the 150 size are refused or
/// ignored, never a panic.
#[test]
fn overflowing_numbers_in_replies_are_errors_not_panics() {
    let (results, _) = against(
        Script::new()
            .expect("TYPE I")
            .reply("200 ok")
            .expect("SIZE f")
            .reply("213 99999999999999999999999999")
            .expect("MDTM f")
            .reply("213 99999999999999")
            .expect("EPSV")
            .epsv()
            .expect("RETR f")
            .reply("150 Opening (18446744073709551616 bytes)")
            .send_data(b"data")
            .reply("226 ok"),
        BOUND,
        |c| {
            let size = c.size("f");
            let mdtm = c.mdtm("f");
            let mut out = Vec::new();
            let get = c.get("f", &mut out).map(|_| out);
            (size.is_err(), mdtm.is_err(), get.ok())
        },
    );
    assert_eq!(results, (true, true, Some(b"data".to_vec())));
}

/// A PWD reply without a quoted path: a protocol error naming the reply.
#[test]
fn a_pwd_reply_without_a_quoted_path_is_a_protocol_error() {
    let (err, _) = against(Script::new().expect("PWD").reply("257 /home"), BOUND, |c| {
        c.pwd().unwrap_err()
    });
    assert!(
        matches!(err, Error::Protocol(ProtocolError::UnparsableReply { .. })),
        "{err:?}"
    );
}

// ----- address games --------------------------------------------------

/// A 227 naming another host is ignored: the data connection goes to the
/// control connection's peer (CVE-2021-4189), and the transfer works.
#[test]
fn a_227_pointing_elsewhere_is_ignored() {
    let (data, t) = against(
        Script::new()
            .expect("TYPE I")
            .reply("200 ok")
            .expect("EPSV")
            .reply("500 no EPSV")
            .expect("PASV")
            .pasv_reply_addr([10, 66, 66, 66])
            .expect("RETR f")
            .reply("150 go")
            .send_data(b"from the real server")
            .reply("226 ok"),
        BOUND,
        |c| {
            let mut out = Vec::new();
            c.get("f", &mut out).map(|_| out)
        },
    );
    assert_eq!(data.unwrap(), b"from the real server");
    assert!(t.failure.is_none(), "{:?}", t.failure);
}

/// Malformed 227 and 229 replies: protocol errors, no connection attempt
/// to a made-up address, no panic.
#[test]
fn malformed_passive_replies_are_protocol_errors() {
    for (epsv, pasv) in [
        ("229 Entering Extended Passive Mode (|||0|)", None),
        ("229 Entering Extended Passive Mode (|||70000|)", None),
        ("229 Entering Extended Passive Mode (|||abc|)", None),
        ("229 no parentheses at all", None),
        ("500 no", Some("227 Entering Passive Mode (300,1,1,1,4,1)")),
        ("500 no", Some("227 Entering Passive Mode (1,2,3)")),
        ("500 no", Some("227 =,,,,,")),
    ] {
        let mut script = Script::new()
            .expect("TYPE I")
            .reply("200 ok")
            .expect("EPSV")
            .reply(epsv);
        if let Some(pasv) = pasv {
            script = script.expect("PASV").reply(pasv);
        }
        let (err, _) = against(script, BOUND, |c| c.get("f", &mut Vec::new()).unwrap_err());
        assert!(
            matches!(err, Error::Protocol(_)),
            "{epsv} / {pasv:?}: {err:?}"
        );
    }
}

/// Active mode: a data connection from another host is refused; the
/// server's own connection is the one read.
#[test]
fn an_active_data_connection_from_another_host_is_refused() {
    let server = FakeServer::with_timeout(
        vec![
            Script::login_anonymous()
                .expect("TYPE I")
                .reply("200 ok")
                .expect_prefix("PORT ")
                .active()
                .expect("RETR f")
                .intrude_from_other_host(b"injected")
                .reply("150 go")
                .send_data(b"genuine")
                .reply("226 ok"),
        ],
        Duration::from_secs(4),
    );
    let addr = server.addr().to_string();
    let data = within(BOUND, move || {
        let mut c = Client::connect_with(&addr, quick().mode(DataMode::Active)).unwrap();
        c.login_anonymous().unwrap();
        let mut out = Vec::new();
        c.get("f", &mut out).map(|_| out)
    });
    assert_eq!(data.unwrap(), b"genuine");
    server.finish();
}

// ----- transfer faults ------------------------------------------------

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

// ----- TLS downgrade --------------------------------------------------

fn tls_required() -> Config {
    let certs = ftpkit_testkit::TestCerts::generate();
    let tls = TlsConfig::builder()
        .without_system_roots()
        .add_ca_pem_file(&certs.ca_pem)
        .and_then(|b| b.build())
        .expect("TLS config");
    quick().tls(TlsMode::Explicit, Some(tls))
}

/// AUTH TLS refused while TLS is required: the session ends before USER
/// or PASS is sent.
#[test]
fn auth_refused_while_tls_is_required_sends_no_credentials() {
    let server = FakeServer::with_timeout(
        vec![
            Script::new()
                .reply("220 hi")
                .expect("AUTH TLS")
                .reply("500 AUTH not understood")
                .sleep(Duration::from_millis(500)),
        ],
        Duration::from_secs(4),
    );
    let addr = server.addr().to_string();
    let err = within(BOUND, move || {
        Client::connect_with(&addr, tls_required()).err()
    });
    assert!(err.is_some());
    let t = server.finish_allow_unplayed();
    assert_eq!(t.commands, ["AUTH TLS"]);
}

/// A greeting of 230 (logged in without asking) and a 230 answer to AUTH:
/// not a TLS session, so an error; no credentials, no command in clear.
#[test]
fn a_230_greeting_that_skips_login_does_not_skip_tls() {
    let server = FakeServer::with_timeout(
        vec![
            Script::new()
                .reply("230 already logged in")
                .expect("AUTH TLS")
                .reply("230 sure")
                .sleep(Duration::from_millis(500)),
        ],
        Duration::from_secs(4),
    );
    let addr = server.addr().to_string();
    let err = within(BOUND, move || {
        Client::connect_with(&addr, tls_required()).err()
    });
    assert!(err.is_some());
    let t = server.finish_allow_unplayed();
    assert_eq!(t.commands, ["AUTH TLS"]);
}

/// A 234 followed by bytes that are not TLS: a TLS error within the
/// bound, and no credentials ever sent.
#[test]
fn garbage_instead_of_a_tls_handshake_is_a_tls_error() {
    let server = FakeServer::with_timeout(
        vec![
            Script::new()
                .reply("220 hi")
                .expect("AUTH TLS")
                .reply("234 go ahead")
                .raw(b"this is not a TLS record at all\r\n")
                .sleep(Duration::from_millis(500)),
        ],
        Duration::from_secs(4),
    );
    let addr = server.addr().to_string();
    let err = within(BOUND, move || {
        Client::connect_with(&addr, tls_required()).err()
    });
    assert!(matches!(err, Some(Error::Tls { .. })), "{err:?}");
    let t = server.finish_allow_unplayed();
    assert_eq!(t.commands, ["AUTH TLS"]);
}

// ----- listings with traversal names ----------------------------------

const HOSTILE_NAMES: [&str; 7] = [
    "../x",
    "/etc/x",
    "a/b",
    "a\\b",
    "..",
    "bell\u{7}",
    "esc\u{1b}[2J",
];

/// An MLSD listing of traversal names: every entry comes back with the
/// server's bytes, none of them passes `Name::safe_component`, and `-R`
/// (a name, not an option) does.
#[test]
fn mlsd_traversal_names_are_reported_and_flagged_unsafe() {
    let mut listing = String::new();
    for name in HOSTILE_NAMES.iter().chain(["-R"].iter()) {
        listing.push_str(&format!("type=file;size=1; {name}\r\n"));
    }
    let (entries, t) = against(
        Script::new()
            .expect("FEAT")
            .reply("211-Features:\r\n EPSV\r\n MLST type*;size*;\r\n211 End")
            .expect("TYPE A")
            .reply("200 ok")
            .expect("EPSV")
            .epsv()
            .expect("MLSD")
            .reply("150 listing")
            .send_data(listing.as_bytes())
            .reply("226 done"),
        BOUND,
        |c| {
            c.list_entries("")
                .unwrap()
                .collect::<ftpkit::Result<Vec<_>>>()
                .unwrap()
        },
    );
    // Every name comes back as sent (a file the server calls `..` too:
    // only `type=cdir`/`type=pdir` entries are dropped).
    assert_eq!(entries.len(), HOSTILE_NAMES.len() + 1, "{:?}", t.failure);
    for e in &entries {
        let safe = e.name.safe_component().is_some();
        assert_eq!(safe, e.name.as_bytes() == b"-R", "{:?}", e.name);
    }
}

/// The same names in a Unix LIST: parsed, flagged unsafe, no panic.
#[test]
fn list_traversal_names_are_flagged_unsafe() {
    let mut listing = String::new();
    for name in HOSTILE_NAMES {
        listing.push_str(&format!("-rw-r--r--   1 ftp ftp  1 Jan 01 2024 {name}\r\n"));
    }
    let (entries, _) = against(
        Script::new()
            .expect("FEAT")
            .reply("211 no features")
            .expect("TYPE A")
            .reply("200 ok")
            .expect("EPSV")
            .epsv()
            .expect("LIST")
            .reply("150 listing")
            .send_data(listing.as_bytes())
            .reply("226 done"),
        BOUND,
        |c| {
            c.list_entries("")
                .unwrap()
                .collect::<ftpkit::Result<Vec<_>>>()
                .unwrap()
        },
    );
    assert!(!entries.is_empty());
    for e in &entries {
        assert!(e.name.safe_component().is_none(), "{:?}", e.name);
    }
}

/// A name with CR inside (from NLST) cannot become a second command: using
/// it in a command is refused before anything is sent.
#[test]
fn a_name_carrying_cr_cannot_inject_a_command() {
    let (outcome, t) = against(
        Script::new()
            .expect("TYPE A")
            .reply("200 ok")
            .expect("EPSV")
            .epsv()
            .expect("NLST")
            .reply("150 names")
            .send_data(b"evil\rDELE important\r\n")
            .reply("226 done"),
        BOUND,
        |c| {
            let names = c.nlst("").unwrap();
            let name = names.first().cloned().unwrap();
            matches!(
                c.delete(name.as_bytes()),
                Err(Error::InvalidInput(InvalidInput::LineBreak(_)))
            )
        },
    );
    assert!(outcome, "the name was refused as input");
    assert!(
        !t.commands.iter().any(|c| c.starts_with("DELE")),
        "{:?}",
        t.commands
    );
}

/// An endless listing line: bounded by the data line limit, never a
/// growing buffer; the listing ends with an error or an unknown entry.
#[test]
fn an_endless_listing_line_is_bounded() {
    let long = vec![b'x'; 4 << 20];
    let (outcome, _) = against(
        Script::new()
            .expect("FEAT")
            .reply("211 no features")
            .expect("TYPE A")
            .reply("200 ok")
            .expect("EPSV")
            .epsv()
            .expect("LIST")
            .reply("150 listing")
            .send_data(&long)
            .reply("226 done"),
        BOUND,
        |c| {
            let entries: Vec<_> = c.list_entries("").unwrap().collect();
            entries.iter().any(Result::is_err)
                || entries
                    .iter()
                    .all(|e| e.as_ref().is_ok_and(|e| e.raw.len() <= 1 << 20))
        },
    );
    assert!(outcome);
}
