//! Exact dialogues with the scripted fake server, written once and run on
//! both drivers.
//!
//! [`dialogue!`] turns one test body into a module with two tests:
//! `blocking` (the blocking [`Client`]) and, with the `tokio` feature,
//! `nonblocking` (the [`AsyncClient`] on a tokio runtime). In the body,
//! `w!(call)` is a client call (awaited on the async driver),
//! `logged_in!(script)` starts the fake server and logs in anonymously,
//! `connect!(addr, config)` opens a client, `connect_over!(to, addr,
//! config)` opens a TCP stream of the test's own to `to` and connects over
//! it to the server named `addr`, `entries!(listing)` collects the typed
//! entries of a listing into a `Result<Vec<Entry>>`, and
//! `next_entry!(listing)` takes the next one (`Option<Result<Entry>>`);
//! `driver!()` names the [`Driver`](crate::driver::Driver) running the
//! body, for the few checks that depend on a driver's own data path, and
//! the type `DriverPool` is that driver's connection pool.
//! `fn name() within(GUARD) { ... }` runs the body on a thread of its own
//! and fails the test if it is still running after `GUARD` (a hang guard
//! that works for both drivers: see [`guarded`]).
//! Readers and writers are used through `std::io::{Read, Write}` on one
//! driver and `tokio::io::{AsyncReadExt, AsyncWriteExt}` on the other: a
//! file of dialogues imports both, and `w!` awaits where the async one
//! needs it. Hostile dialogues live with their attack class in `hostile`.

use std::time::{Duration, Instant};

use ftpkit::{Client, Config, Error, ReplyCode};
use ftpkit_testkit::{DataFault, FakeServer, Script};

/// One dialogue, run on each driver: see the module docs.
macro_rules! dialogue {
    ($(#[$meta:meta])* fn $name:ident() within($guard:expr) $body:block) => {
        dialogue!(@guarded Some($guard), $(#[$meta])* fn $name() $body);
    };
    ($(#[$meta:meta])* fn $name:ident() $body:block) => {
        dialogue!(@guarded None, $(#[$meta])* fn $name() $body);
    };
    (@guarded $guard:expr, $(#[$meta:meta])* fn $name:ident() $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn blocking() {
                crate::dialogue::guarded($guard, move || {
                #[allow(unused_macros)]
                macro_rules! w {
                    ($e:expr) => {
                        $e
                    };
                }
                #[allow(unused_macros)]
                macro_rules! logged_in {
                    ($s:expr) => {
                        crate::dialogue::logged_in($s)
                    };
                }
                #[allow(unused_macros)]
                macro_rules! connect {
                    ($addr:expr, $c:expr) => {
                        Client::connect_with($addr, $c)
                    };
                }
                #[allow(unused_macros)]
                macro_rules! connect_over {
                    ($to:expr, $addr:expr, $c:expr) => {
                        ftpkit::Client::connect_over(std::net::TcpStream::connect($to).unwrap(), $addr, $c)
                    };
                }
                #[allow(unused_macros)]
                macro_rules! opening {
                    ($after:expr, $then:expr) => {
                        std::thread::spawn(move || {
                            std::thread::sleep($after);
                            $then
                        })
                    };
                }
                #[allow(dead_code)]
                type DriverPool = ftpkit::pool::Pool;
                #[allow(unused_macros)]
                macro_rules! driver {
                    () => {
                        crate::driver::Driver::Blocking
                    };
                }
                #[allow(unused_macros)]
                macro_rules! entries {
                    ($e:expr) => {
                        $e.collect::<ftpkit::Result<Vec<ftpkit::Entry>>>()
                    };
                }
                #[allow(unused_macros)]
                macro_rules! next_entry {
                    ($e:expr) => {
                        $e.next()
                    };
                }
                $body
                });
            }

            #[cfg(feature = "tokio")]
            #[test]
            fn nonblocking() {
                crate::dialogue::guarded($guard, move || {
                crate::driver::asynchronous::runtime().block_on(async move {
                    #[allow(unused_macros)]
                    macro_rules! w {
                        ($e:expr) => {
                            $e.await
                        };
                    }
                    #[allow(unused_macros)]
                    macro_rules! logged_in {
                        ($s:expr) => {
                            crate::dialogue::logged_in_async($s).await
                        };
                    }
                    #[allow(unused_macros)]
                    macro_rules! connect {
                        ($addr:expr, $c:expr) => {
                            ftpkit::AsyncClient::connect_with($addr, $c).await
                        };
                    }
                    #[allow(unused_macros)]
                    macro_rules! connect_over {
                        ($to:expr, $addr:expr, $c:expr) => {
                            ftpkit::AsyncClient::connect_over(
                                tokio::net::TcpStream::connect($to).await.unwrap(),
                                $addr,
                                $c,
                            )
                            .await
                        };
                    }
                    #[allow(unused_macros)]
                    macro_rules! opening {
                        ($after:expr, $then:expr) => {
                            tokio::spawn(async move {
                                tokio::time::sleep($after).await;
                                $then
                            })
                        };
                    }
                    #[allow(dead_code)]
                    type DriverPool = ftpkit::pool::AsyncPool;
                    #[allow(unused_macros)]
                    macro_rules! driver {
                        () => {
                            crate::driver::Driver::Async
                        };
                    }
                    #[allow(unused_macros)]
                    macro_rules! entries {
                        ($e:expr) => {
                            $e.collect_all().await
                        };
                    }
                    #[allow(unused_macros)]
                    macro_rules! next_entry {
                        ($e:expr) => {
                            $e.next_entry().await
                        };
                    }
                    $body
                })
                });
            }
        }
    };
}

/// Runs a test's body, on a thread of its own when a `guard` is given: a
/// body still running after it has hung, and fails the test (for either
/// driver: a blocked thread cannot hide from it). A panic in the body
/// fails the test as it would have.
pub(crate) fn guarded(guard: Option<Duration>, body: impl FnOnce() + Send + 'static) {
    let Some(guard) = guard else {
        return body();
    };
    let (done, ended) = std::sync::mpsc::channel();
    let body = std::thread::spawn(move || {
        body();
        let _ = done.send(());
    });
    match ended.recv_timeout(guard) {
        Ok(()) => {}
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("still running after {guard:?}: the client hung")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(panic) = body.join() {
                std::panic::resume_unwind(panic);
            }
        }
    }
}

#[test]
#[should_panic(expected = "the client hung")]
fn the_hang_guard_fails_a_body_still_running_after_it() {
    guarded(Some(Duration::from_millis(200)), || {
        std::thread::sleep(Duration::from_secs(3));
    });
}

#[test]
#[should_panic(expected = "a failing assertion")]
fn the_hang_guard_passes_a_failing_body_on() {
    guarded(Some(Duration::from_secs(5)), || {
        panic!("a failing assertion")
    });
}

#[test]
fn the_hang_guard_lets_a_prompt_body_pass() {
    let started = Instant::now();
    guarded(Some(Duration::from_secs(5)), || {
        std::thread::sleep(Duration::from_millis(50));
    });
    assert!(started.elapsed() >= Duration::from_millis(50));
}

/// A client config with short timeouts so fault tests end quickly.
pub(crate) fn quick() -> Config {
    Config::default()
        .timeout(Duration::from_secs(2))
        .connect_timeout(Duration::from_secs(2))
}

/// Starts one scripted connection and returns a logged-in blocking client.
pub(crate) fn logged_in(script: Script) -> (FakeServer, Client) {
    let server = FakeServer::start(vec![Script::login_anonymous().then(script)]);
    let mut client = Client::connect_with(&server.addr().to_string(), quick()).unwrap();
    client.login_anonymous().unwrap();
    (server, client)
}

/// Starts one scripted connection and returns a logged-in async client.
#[cfg(feature = "tokio")]
pub(crate) async fn logged_in_async(script: Script) -> (FakeServer, ftpkit::AsyncClient) {
    logged_in_async_with(script, quick()).await
}

/// [`logged_in_async`] with a config of the caller's.
#[cfg(feature = "tokio")]
pub(crate) async fn logged_in_async_with(
    script: Script,
    config: Config,
) -> (FakeServer, ftpkit::AsyncClient) {
    let server = FakeServer::start(vec![Script::login_anonymous().then(script)]);
    let mut client = ftpkit::AsyncClient::connect_with(&server.addr().to_string(), config)
        .await
        .unwrap();
    client.login_anonymous().await.unwrap();
    (server, client)
}

/// `TYPE I` and `EPSV`, the start of every binary passive transfer.
pub(crate) fn binary_epsv() -> Script {
    Script::new()
        .expect("TYPE I")
        .reply("200 binary")
        .expect("EPSV")
        .epsv()
}

/// A server whose FEAT offers MLST up to the `150` of `command` (an
/// `MLSD`), in `TYPE A` over `EPSV`.
pub(crate) fn mlsd_opened(command: &str, opened: &str) -> Script {
    Script::new()
        .expect("FEAT")
        .reply("211-Features:\r\n EPSV\r\n MLST type*;size*;\r\n211 End")
        .expect("TYPE A")
        .reply("200 ok")
        .expect("EPSV")
        .epsv()
        .expect(command)
        .reply(opened)
}

dialogue! {
    fn connect_reads_the_greeting_and_waits_through_120() {
        let server = FakeServer::start(vec![
            Script::new()
                .reply("120 ready in a moment")
                .reply("220-Welcome\r\n220 to the fake server")
                .expect("QUIT")
                .reply("221 bye")
                .end(),
        ]);
        let client = connect!(&server.addr().to_string(), quick()).unwrap();
        assert_eq!(client.welcome().code(), ReplyCode(220));
        assert_eq!(client.welcome().lines().len(), 2);
        assert_eq!(w!(client.quit()).unwrap().code(), ReplyCode(221));
        server.finish();
    }
}

dialogue! {
    fn a_refusing_greeting_is_an_error_with_its_code() {
        let server = FakeServer::start(vec![Script::new().reply("421 too many users").end()]);
        let err = connect!(&server.addr().to_string(), quick()).unwrap_err();
        assert_eq!(err.code(), Some(ReplyCode(421)));
        assert!(err.is_transient());
        server.finish();
    }
}

dialogue! {
    fn login_sends_user_pass_and_acct_and_never_logs_the_password() {
        let server = FakeServer::start(vec![
            Script::new()
                .reply("220 hi")
                .expect("USER alice")
                .reply("331 password please")
                .expect("PASS s3cret")
                .reply("332 account please")
                .expect("ACCT acct-9")
                .reply("230 in")
                .expect("ACCT more")
                .reply("202 superfluous"),
        ]);
        let mut client = connect!(&server.addr().to_string(), quick()).unwrap();
        let reply = w!(client.login_with_account("alice", "s3cret", "acct-9")).unwrap();
        assert_eq!(reply.code(), ReplyCode(230));
        assert_eq!(w!(client.acct("more")).unwrap().code(), ReplyCode(202));
        server.finish();
    }
}

dialogue! {
    fn anonymous_login_is_the_default() {
        let (server, mut client) = logged_in!(Script::new().expect("NOOP").reply("200 ok"));
        w!(client.noop()).unwrap();
        let t = server.finish();
        assert_eq!(t.commands[..2], ["USER anonymous", "PASS anonymous@"]);
    }
}

dialogue! {
    fn refused_login_is_login_refused() {
        let server = FakeServer::start(vec![
            Script::new()
                .reply("220 hi")
                .expect("USER bob")
                .reply("331 pw")
                .expect("PASS wrong")
                .reply("530 Login incorrect"),
        ]);
        let mut client = connect!(&server.addr().to_string(), quick()).unwrap();
        let err = w!(client.login("bob", "wrong")).unwrap_err();
        assert!(matches!(&err, Error::LoginRefused(r) if r.code() == ReplyCode(530)));
        assert!(err.is_permanent());
        assert!(!err.to_string().contains("wrong"));
        server.finish();
    }
}

dialogue! {
    fn epsv_refused_falls_back_to_pasv_and_the_227_address_is_ignored() {
        let (server, mut client) = logged_in!(
            Script::new()
                .expect("TYPE I")
                .reply("200 ok")
                .expect("EPSV")
                .reply("500 EPSV not understood")
                .expect("PASV")
                .pasv_reply_addr([10, 255, 255, 1])
                .expect("RETR a")
                .reply("150 go")
                .send_data(b"A")
                .reply("226 ok")
                .expect("PASV")
                .pasv()
                .expect("RETR b")
                .reply("150 go")
                .send_data(b"B")
                .reply("226 ok")
        );
        let mut out = Vec::new();
        w!(client.get("a", &mut out)).unwrap();
        w!(client.get("b", &mut out)).unwrap();
        assert_eq!(out, b"AB");
        server.finish();
    }
}

dialogue! {
    fn fewer_bytes_than_announced_is_incomplete_even_with_226() {
        let (server, mut client) = logged_in!(
            binary_epsv()
                .expect("RETR f")
                .reply("150 Opening BINARY mode (10 bytes)")
                .send_data_then(b"0123456789", DataFault::CloseAt(4))
                .reply("226 Transfer complete")
        );
        let err = w!(client.get("f", &mut Vec::new())).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Incomplete {
                    expected: 10,
                    received: 4
                }
            ),
            "{err}"
        );
        server.finish();
    }
}

dialogue! {
    fn a_426_after_partial_data_is_an_error_with_the_code() {
        let (server, mut client) = logged_in!(
            binary_epsv()
                .expect("RETR f")
                .reply("150 go")
                .send_data_then(&[9u8; 5000], DataFault::CloseAt(1000))
                .reply("426 Connection closed; transfer aborted")
                .expect("NOOP")
                .reply("200 still usable")
        );
        let err = w!(client.get("f", &mut Vec::new())).unwrap_err();
        assert_eq!(err.code(), Some(ReplyCode(426)));
        assert!(err.is_transient());
        w!(client.noop()).unwrap();
        server.finish();
    }
}

dialogue! {
    fn a_stalled_transfer_times_out_within_the_idle_timeout() {
        let (server, mut client) = logged_in!(
            binary_epsv()
                .expect("RETR f")
                .reply("150 go")
                .send_data_then(&[1u8; 10_000], DataFault::StallAt(5000))
        );
        let started = Instant::now();
        let err = w!(client.get("f", &mut Vec::new())).unwrap_err();
        assert!(err.is_timeout() || client.is_unusable(), "{err:?}");
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "took {:?}",
            started.elapsed()
        );
        server.finish_allow_unplayed();
    }
}

dialogue! {
    fn a_slow_but_live_transfer_is_not_cut_by_the_idle_timeout() {
        let data = vec![3u8; 3000];
        let server = FakeServer::start(vec![
            Script::login_anonymous()
                .then(binary_epsv())
                .expect("RETR slow")
                .reply("150 go")
                .send_data_then(
                    &data,
                    DataFault::Slow {
                        chunk: 500,
                        delay: Duration::from_millis(250),
                    },
                )
                .reply("226 done"),
        ]);
        let config = quick().timeout(Duration::from_millis(700));
        let mut client = connect!(&server.addr().to_string(), config).unwrap();
        w!(client.login_anonymous()).unwrap();
        let started = Instant::now();
        let mut out = Vec::new();
        w!(client.get("slow", &mut out)).unwrap();
        assert_eq!(out, data);
        assert!(
            started.elapsed() > Duration::from_millis(700),
            "the transfer was not slow"
        );
        server.finish();
    }
}

dialogue! {
    fn a_server_that_never_replies_times_out_and_the_client_becomes_unusable() {
        let (server, mut client) = logged_in!(Script::new().expect("PWD").never_reply());
        let started = Instant::now();
        let err = w!(client.pwd()).unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        // The idle timeout is 2 s: not cut short, not much overrun.
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(1900) && took < Duration::from_secs(5),
            "{took:?}"
        );
        assert!(matches!(w!(client.noop()), Err(Error::Unusable)));
        server.finish_allow_unplayed();
    }
}

dialogue! {
    fn a_421_makes_the_client_unusable() {
        let (server, mut client) = logged_in!(
            Script::new()
                .expect("NOOP")
                .reply("421 shutting down")
                .end()
        );
        assert_eq!(w!(client.noop()).unwrap_err().code(), Some(ReplyCode(421)));
        assert!(client.is_unusable());
        assert!(matches!(w!(client.pwd()), Err(Error::Unusable)));
        server.finish();
    }
}

dialogue! {
    fn reconnect_keeps_the_old_connection_on_failure_then_replays_login_and_directory() {
        // The fake server serves one connection after the other.
        let server = FakeServer::start(vec![
            Script::login_anonymous()
                .expect("CWD /pub")
                .reply("250 ok")
                .expect("PWD")
                .reply("257 \"/pub\" is the current directory")
                .end(),
            // The first reconnect is refused at login.
            Script::new()
                .reply("220 second")
                .expect("USER anonymous")
                .reply("530 not now"),
            // The second logs in and returns to the directory.
            Script::new()
                .reply("220 third")
                .expect("USER anonymous")
                .reply("331 password please")
                .expect("PASS anonymous@")
                .reply("230 logged in")
                .expect("CWD /pub")
                .reply("250 back")
                .expect("NOOP")
                .reply("200 new connection"),
        ]);
        let mut client = connect!(&server.addr().to_string(), quick()).unwrap();
        w!(client.login_anonymous()).unwrap();
        w!(client.cwd("/pub")).unwrap();
        w!(client.pwd()).unwrap();
        let err = w!(client.reconnect()).unwrap_err();
        assert!(matches!(&err, Error::LoginRefused(r) if r.code() == ReplyCode(530)), "{err:?}");
        // The client is the old connection still.
        assert_eq!(client.welcome().message(), "fake server ready");
        w!(client.reconnect()).unwrap();
        assert_eq!(client.welcome().message(), "third");
        assert_eq!(w!(client.noop()).unwrap().message(), "new connection");
        server.finish();
    }
}
