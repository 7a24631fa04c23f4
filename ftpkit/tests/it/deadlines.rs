//! Deadlines and finished-is-finished against hostile servers, on both
//! drivers: a dripping greeting or reply is bounded as a whole, a transfer
//! whose final reply never comes (the control connection silent or closed)
//! is confirmed on a new connection and never moved twice, and a server
//! that answers 4xx forever ends within the retries or the operation
//! deadline. Each case asserts its time bound: three times the deadline
//! in force, so a loaded machine does not fail it, yet far below the
//! "forever" it guards against.

use std::{
    path::Path,
    sync::mpsc,
    time::{Duration, Instant},
};

use ftpkit::{Client, Config, Deadline, Error, Phase, ReplyCode, RetryPolicy, Verify};
use ftpkit_testkit::{DataFault, FakeServer, Script, Transcript};

/// The idle timeout of these clients.
const IDLE: Duration = Duration::from_secs(1);

fn config() -> Config {
    Config::default()
        .timeout(IDLE)
        .connect_timeout(Duration::from_secs(2))
}

/// Runs `f` on its own thread; fails the test if it takes longer than
/// `bound`. Returns the result and the time it took.
fn within<T: Send + 'static>(
    bound: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> (T, Duration) {
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    let result = rx
        .recv_timeout(bound)
        .unwrap_or_else(|e| panic!("no result within {bound:?} ({e}): the client hung"));
    (result, started.elapsed())
}

#[cfg(feature = "tokio")]
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    crate::driver::asynchronous::runtime().block_on(f)
}

/// A greeting of `text` dripped one byte every `every`.
fn dripping(text: &str, every: Duration) -> Script {
    text.bytes().fold(Script::new(), |script, byte| {
        script.raw(&[byte]).sleep(every)
    })
}

// ----- the connect and reply deadlines ------------------------------------

/// A greeting dripped one byte every 300 ms never trips the 1 s idle
/// timeout; the 2 s connect deadline ends it, and says so.
#[test]
fn a_dripping_greeting_ends_at_the_connect_deadline_on_both_drivers() {
    let greeting = "220 a very slow welcome to this server\r\n";
    let every = Duration::from_millis(300);
    // The reply deadline (the idle timeout by default) would end the
    // greeting first: make it longer to see the connect deadline.
    let config = || config().reply_timeout(Duration::from_secs(30));
    let server = FakeServer::start(vec![dripping(greeting, every)]);
    let addr = server.addr().to_string();
    let (err, took) = within(Duration::from_secs(6), move || {
        Client::connect_with(&addr, config()).unwrap_err()
    });
    assert_eq!(err.deadline(), Some(Deadline::Connect), "{err}");
    assert!(err.to_string().contains("connect deadline"), "{err}");
    assert!(took >= Duration::from_millis(1900), "{took:?}");
    server.finish_allow_unplayed();

    #[cfg(feature = "tokio")]
    {
        let server = FakeServer::start(vec![dripping(greeting, every)]);
        let addr = server.addr().to_string();
        let (err, took) = within(Duration::from_secs(6), move || {
            block_on(ftpkit::AsyncClient::connect_with(&addr, config())).unwrap_err()
        });
        assert_eq!(err.deadline(), Some(Deadline::Connect), "{err}");
        assert!(took >= Duration::from_millis(1900), "{took:?}");
        server.finish_allow_unplayed();
    }
}

/// A reply dripped one byte every 300 ms: bounded as a whole by the reply
/// deadline (the idle timeout by default), not restarted by each byte.
#[test]
fn a_dripping_reply_ends_at_the_reply_deadline_on_both_drivers() {
    let script = || {
        Script::login_anonymous().expect("PWD").then(dripping(
            "257 \"/a/long/way/down\" is here\r\n",
            Duration::from_millis(300),
        ))
    };
    let server = FakeServer::start(vec![script()]);
    let addr = server.addr().to_string();
    let (outcome, took) = within(Duration::from_secs(3), move || {
        let mut c = Client::connect_with(&addr, config()).unwrap();
        c.login_anonymous().unwrap();
        let err = c.pwd().unwrap_err();
        (err.deadline(), c.is_unusable())
    });
    assert_eq!(outcome, (Some(Deadline::Reply), true));
    assert!(took >= IDLE, "{took:?}");
    server.finish_allow_unplayed();

    #[cfg(feature = "tokio")]
    {
        let server = FakeServer::start(vec![script()]);
        let addr = server.addr().to_string();
        let (deadline, _) = within(Duration::from_secs(3), move || {
            block_on(async {
                let mut c = ftpkit::AsyncClient::connect_with(&addr, config())
                    .await
                    .unwrap();
                c.login_anonymous().await.unwrap();
                c.pwd().await.unwrap_err().deadline()
            })
        });
        assert_eq!(deadline, Some(Deadline::Reply));
        server.finish_allow_unplayed();
    }
}

// ----- finished is finished ------------------------------------------------

const DATA: &[u8] = b"every byte of the file, all of it";

/// The first connection of a download of `f` of `size` bytes (SIZE and
/// MDTM, then RETR) up to the data.
fn retr(size: usize) -> Script {
    Script::login_anonymous()
        .expect("TYPE I")
        .reply("200 ok")
        .expect("SIZE f")
        .reply(&format!("213 {size}"))
        .expect("MDTM f")
        .reply("550 not available")
        .expect("EPSV")
        .epsv()
        .expect("RETR f")
        .reply(&format!("150 here ({size} bytes)"))
}

/// A download of `f` whose data is sent whole; `after` plays what follows
/// on the control connection instead of the 226.
fn download_without_226(after: Script) -> Script {
    retr(DATA.len())
        .send_data_then(
            DATA,
            DataFault::Slow {
                chunk: 8,
                delay: Duration::from_millis(20),
            },
        )
        .then(after)
}

/// The new connection that confirms: login again, then SIZE matches.
fn confirmation() -> Script {
    Script::login_anonymous()
        .expect("TYPE I")
        .reply("200 ok")
        .expect("SIZE f")
        .reply(&format!("213 {}", DATA.len()))
}

fn retrs(transcript: &Transcript) -> usize {
    transcript
        .commands
        .iter()
        .filter(|c| c.starts_with("RETR"))
        .count()
}

fn check_downloaded(dir: &Path, transcript: &Transcript) {
    assert_eq!(std::fs::read(dir.join("f")).unwrap(), DATA);
    assert!(!dir.join("f.part").exists());
    assert_eq!(retrs(transcript), 1, "{:?}", transcript.commands);
}

/// Downloads `f` into `dir` with the blocking client, or the async one
/// if `tokio`.
fn download(addr: String, dir: &Path, tokio: bool) -> ftpkit::Result<ftpkit::TransferReport> {
    let dest = dir.join("f");
    if tokio {
        #[cfg(feature = "tokio")]
        return block_on(async move {
            let mut c = ftpkit::AsyncClient::connect_with(&addr, config()).await?;
            c.login_anonymous().await?;
            c.download("f", &dest).verify(Verify::Off).run().await
        });
    }
    let mut c = Client::connect_with(&addr, config())?;
    c.login_anonymous()?;
    c.download("f", &dest).verify(Verify::Off).run()
}

fn drivers() -> Vec<bool> {
    if cfg!(feature = "tokio") {
        vec![false, true]
    } else {
        vec![false]
    }
}

/// A download whose control connection plays `after` instead of the 226,
/// then a new connection that confirms, on each driver: the file is there
/// whole, verified by SIZE, moved once. Returns the longest time taken.
fn recovers(after: Script, bound: Duration) -> Duration {
    let mut longest = Duration::ZERO;
    for tokio in drivers() {
        let server = FakeServer::start(vec![download_without_226(after.clone()), confirmation()]);
        let addr = server.addr().to_string();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let (report, took) = within(bound, move || download(addr, &path, tokio));
        let report = report.unwrap();
        assert_eq!(report.transferred, DATA.len() as u64);
        assert_eq!(report.verified.size, Some(DATA.len() as u64));
        check_downloaded(dir.path(), &server.finish_allow_unplayed());
        longest = longest.max(took);
    }
    longest
}

/// All the bytes arrive, then the control connection goes silent (a NAT
/// dropped it): after the idle timeout the client reconnects, SIZE
/// confirms the file, and the download ends — one RETR, not four.
#[test]
fn a_226_that_never_comes_after_every_byte_is_confirmed_not_redownloaded() {
    let took = recovers(
        Script::new().never_reply(),
        3 * IDLE + Duration::from_secs(1),
    );
    assert!(took >= IDLE, "{took:?}");
}

/// The server closes the control connection right after the data, with
/// no 226: reconnect, confirm, done at once (no timeout to wait out).
#[test]
fn a_control_connection_closed_after_the_data_is_recovered_without_a_second_transfer() {
    recovers(Script::new().end(), 3 * IDLE);
}

/// The new connection will not tell the size (and offers no hash): a
/// clear error, no second transfer, the `.part` kept.
#[test]
fn a_lost_226_that_cannot_be_confirmed_fails_clearly() {
    let server = FakeServer::start(vec![
        download_without_226(Script::new().end()),
        Script::login_anonymous()
            .expect("TYPE I")
            .reply("200 ok")
            .expect("SIZE f")
            .reply("550 not telling"),
    ]);
    let addr = server.addr().to_string();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let (err, _) = within(3 * IDLE, move || download(addr, &path, false).unwrap_err());
    assert!(
        matches!(err, Error::Verification(ftpkit::VerifyError::Unconfirmed)),
        "{err:?}"
    );
    assert!(dir.path().join("f.part").exists());
    assert_eq!(retrs(&server.finish()), 1);
}

/// An upload whose 226 never comes: SIZE on a new connection confirms
/// what the server holds, no second STOR.
#[test]
fn an_upload_whose_226_never_comes_is_confirmed_not_resent() {
    for tokio in drivers() {
        let server = FakeServer::start(vec![
            Script::login_anonymous()
                .expect("TYPE I")
                .reply("200 ok")
                .expect("EPSV")
                .epsv()
                .expect("STOR up")
                .reply("150 go")
                .recv_data()
                .never_reply(),
            Script::login_anonymous()
                .expect("TYPE I")
                .reply("200 ok")
                .expect("SIZE up")
                .reply(&format!("213 {}", DATA.len()))
                // The time, without a FEAT first: refused here.
                .expect_prefix("MFMT ")
                .reply("500 unknown command"),
        ]);
        let addr = server.addr().to_string();
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("up");
        std::fs::write(&local, DATA).unwrap();
        let (report, _) = within(3 * IDLE + Duration::from_secs(1), move || {
            if tokio {
                #[cfg(feature = "tokio")]
                return block_on(async move {
                    let mut c = ftpkit::AsyncClient::connect_with(&addr, config()).await?;
                    c.login_anonymous().await?;
                    c.upload(&local, "up").verify(Verify::Off).run().await
                });
            }
            let mut c = Client::connect_with(&addr, config())?;
            c.login_anonymous()?;
            c.upload(&local, "up").verify(Verify::Off).run()
        });
        let transcript = server.finish_allow_unplayed();
        let report = report.unwrap_or_else(|e| panic!("{e}: {transcript:?}"));
        assert_eq!(report.transferred, DATA.len() as u64);
        assert_eq!(report.verified.size, Some(DATA.len() as u64));
        assert_eq!(transcript.uploads, vec![DATA.to_vec()]);
        let stors = transcript
            .commands
            .iter()
            .filter(|c| c.starts_with("STOR"))
            .count();
        assert_eq!(stors, 1, "{:?}", transcript.commands);
    }
}

// ----- retries ---------------------------------------------------------------

fn quick_retries(retries: u32) -> RetryPolicy {
    RetryPolicy {
        retries,
        initial_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(1),
    }
}

/// A server that answers the batch of attempt `n` (`SIZE f`, `MDTM f`,
/// `EPSV`, pipelined) with `reply(n)` to each command, up to `attempts` of
/// them.
fn busy(attempts: u32, reply: impl Fn(u32) -> String) -> Script {
    (0..attempts).fold(
        // The first batch asks FEAT too (the checksum a verification
        // would use); asked once.
        Script::login_anonymous()
            .expect("TYPE I")
            .reply("200 ok")
            .expect("FEAT")
            .reply("211-Features:\r\n EPSV\r\n SIZE\r\n MDTM\r\n211 End"),
        |script, n| {
            ["SIZE f", "MDTM f", "EPSV"]
                .iter()
                .fold(script, |script, command| {
                    script.expect(command).reply(&reply(n))
                })
        },
    )
}

fn sizes(transcript: &Transcript) -> usize {
    transcript
        .commands
        .iter()
        .filter(|c| c.starts_with("SIZE"))
        .count()
}

/// The same 450 to a retry with nothing changed: not retried a third
/// time, although the policy allows ten.
#[test]
fn the_same_4xx_again_is_not_retried_again() {
    for tokio in drivers() {
        let server = FakeServer::start(vec![busy(11, |_| "450 busy, try later".into())]);
        let addr = server.addr().to_string();
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f");
        let (err, took) = within(Duration::from_secs(3), move || {
            if tokio {
                #[cfg(feature = "tokio")]
                return block_on(async move {
                    let mut c = ftpkit::AsyncClient::connect_with(&addr, config()).await?;
                    c.login_anonymous().await?;
                    c.download("f", &dest).retry(quick_retries(10)).run().await
                });
            }
            let mut c = Client::connect_with(&addr, config())?;
            c.login_anonymous()?;
            c.download("f", &dest).retry(quick_retries(10)).run()
        });
        let err = err.unwrap_err();
        assert_eq!(err.code(), Some(ReplyCode(450)), "{err}");
        // One retry, after 100 to 200 ms of jittered backoff.
        assert!(took >= Duration::from_millis(100), "{took:?}");
        assert_eq!(sizes(&server.finish_allow_unplayed()), 2);
    }
}

/// The same `425` (and `426`) to every retry: each attempt opens a new
/// data connection, so the rule above does not stop it; retried within the
/// policy until the server lets the data through.
#[test]
fn a_refused_data_connection_is_retried_however_often_it_repeats() {
    for code in [
        "425 Can't open data connection",
        "426 Connection closed; transfer aborted",
    ] {
        for tokio in drivers() {
            let attempt = |script: Script| {
                script
                    .expect("SIZE f")
                    .reply(&format!("213 {}", DATA.len()))
                    .expect("MDTM f")
                    .reply("550 not available")
                    .expect("EPSV")
                    .epsv()
                    .expect("RETR f")
            };
            let mut script = Script::login_anonymous().expect("TYPE I").reply("200 ok");
            for _ in 0..3 {
                script = attempt(script).reply(code);
            }
            script = attempt(script)
                .reply("150 here")
                .send_data(DATA)
                .reply("226 done");
            let server = FakeServer::start(vec![script]);
            let addr = server.addr().to_string();
            let dir = tempfile::tempdir().unwrap();
            let dest = dir.path().join("f");
            let (report, _) = within(Duration::from_secs(10), move || {
                if tokio {
                    #[cfg(feature = "tokio")]
                    return block_on(async move {
                        let mut c = ftpkit::AsyncClient::connect_with(&addr, config()).await?;
                        c.login_anonymous().await?;
                        c.download("f", &dest)
                            .verify(Verify::Off)
                            .retry(quick_retries(5))
                            .run()
                            .await
                    });
                }
                let mut c = Client::connect_with(&addr, config())?;
                c.login_anonymous()?;
                c.download("f", &dest)
                    .verify(Verify::Off)
                    .retry(quick_retries(5))
                    .run()
            });
            let report = report.unwrap_or_else(|e| panic!("{code} (tokio: {tokio}): {e}"));
            assert_eq!(report.retries, 3, "{code}");
            assert_eq!(std::fs::read(dir.path().join("f")).unwrap(), DATA);
            assert_eq!(retrs(&server.finish_allow_unplayed()), 4, "{code}");
        }
    }
}

/// `retries(0)`: one attempt, no wait.
#[test]
fn zero_retries_is_one_attempt() {
    let server = FakeServer::start(vec![busy(3, |_| "450 busy".into())]);
    let addr = server.addr().to_string();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("f");
    let (err, _) = within(Duration::from_secs(3), move || {
        let mut c = Client::connect_with(&addr, config()).unwrap();
        c.login_anonymous().unwrap();
        c.download("f", &dest).retries(0).run().unwrap_err()
    });
    assert_eq!(err.code(), Some(ReplyCode(450)));
    assert_eq!(sizes(&server.finish_allow_unplayed()), 1);
}

/// A different 4xx every time, forever: retried with backoff until the
/// operation deadline leaves no time for another attempt, which the error
/// names along with the last refusal.
#[test]
fn a_4xx_forever_ends_at_the_operation_deadline_on_both_drivers() {
    let deadline = Duration::from_millis(1500);
    for tokio in drivers() {
        let server = FakeServer::start(vec![busy(40, |n| format!("451 busy ({n})"))]);
        let addr = server.addr().to_string();
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f");
        let (err, took) = within(3 * deadline, move || {
            let config = config().deadline(deadline);
            if tokio {
                #[cfg(feature = "tokio")]
                return block_on(async move {
                    let mut c = ftpkit::AsyncClient::connect_with(&addr, config).await?;
                    c.login_anonymous().await?;
                    c.download("f", &dest).retry(quick_retries(30)).run().await
                });
            }
            let mut c = Client::connect_with(&addr, config)?;
            c.login_anonymous()?;
            c.download("f", &dest).retry(quick_retries(30)).run()
        });
        let err = err.unwrap_err();
        assert!(
            matches!(
                &err,
                Error::Deadline {
                    deadline: Deadline::Operation,
                    phase: Phase::Retry,
                    last: Some(last),
                } if last.code() == Some(ReplyCode(451))
            ),
            "{err:?}"
        );
        assert!(!err.is_transient());
        assert!(err.to_string().contains("451 busy"), "{err}");
        assert!(took < deadline + Duration::from_millis(500), "{took:?}");
        let sizes = sizes(&server.finish_allow_unplayed());
        assert!((2..=8).contains(&sizes), "{sizes} attempts");
    }
}

/// Data that keeps trickling in, never idle long enough for the idle
/// timeout: the operation deadline ends the download and names itself.
#[test]
fn a_trickling_download_ends_at_the_operation_deadline() {
    let deadline = Duration::from_millis(1500);
    let server = FakeServer::start(vec![retr(100_000).send_data_then(
        &[7u8; 100_000],
        DataFault::Slow {
            chunk: 100,
            delay: Duration::from_millis(50),
        },
    )]);
    let addr = server.addr().to_string();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("f");
    let (err, took) = within(3 * deadline, move || {
        let mut c = Client::connect_with(&addr, config().deadline(deadline)).unwrap();
        c.login_anonymous().unwrap();
        c.download("f", &dest).run().unwrap_err()
    });
    assert_eq!(err.deadline(), Some(Deadline::Operation), "{err}");
    assert!(took < 2 * deadline, "{took:?}");
    drop(server);
}
