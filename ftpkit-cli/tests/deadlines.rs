//! The command line against hostile servers: `--max-time`, the reply
//! deadline and a lost 226, each ending within its bound with the exit
//! code and message it documents.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::{
    fs,
    path::Path,
    process::Output,
    time::{Duration, Instant},
};

use ftpkit_testkit::{DataFault, FakeServer, Script};

/// Runs `ftpkit` with `args` in `cwd`; returns its output and how long it took.
fn ftpkit(args: &[&str], cwd: &Path) -> (Output, Duration) {
    let started = Instant::now();
    let out = ftpkit_testkit::command(env!("CARGO_BIN_EXE_ftpkit"))
        .arg("-q")
        .args(args)
        .current_dir(cwd)
        .env_remove("FTPKIT_PASSWORD")
        .output()
        .expect("run ftpkit");
    (out, started.elapsed())
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn help_documents_max_time_and_keepalive() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = ftpkit(&["get", "--help"], dir.path());
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("--max-time <SECS>"), "{help}");
    assert!(help.contains("--keepalive <SECS>"), "{help}");
    let (out, _) = ftpkit(&["--max-time", "0", "ls", "ftp://127.0.0.1/"], dir.path());
    assert_eq!(code(&out), 2, "{}", stderr(&out));
}

/// A different 451 to every SIZE, forever: with `--retries 10` and
/// `--max-time 2`, the command ends near 2 s (bound: 3×), exit 3, naming
/// the operation deadline and the last refusal.
#[test]
fn max_time_bounds_a_server_that_answers_4xx_forever() {
    // Each attempt's pipelined SIZE, MDTM and EPSV, each refused (the
    // first batch asks FEAT too, once).
    let script = (0..40).fold(
        Script::login_anonymous()
            .expect("TYPE I")
            .reply("200 ok")
            .expect("FEAT")
            .reply("211 no features"),
        |script, n| {
            ["SIZE f", "MDTM f", "EPSV"]
                .iter()
                .fold(script, |script, command| {
                    script.expect(command).reply(&format!("451 busy ({n})"))
                })
        },
    );
    let server = FakeServer::start(vec![script]);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("ftp://{}/f", server.addr());
    let (out, took) = ftpkit(
        &["--max-time", "2", "get", "--retries", "10", &url],
        dir.path(),
    );
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(took < Duration::from_secs(6), "{took:?}");
    let err = stderr(&out);
    assert!(
        err.contains("operation deadline") && err.contains("451 busy"),
        "{err}"
    );
    server.finish_allow_unplayed();
}

/// A greeting dripped one byte every 300 ms: `--timeout 1` (which also
/// caps the connect deadline) bounds the whole greeting, not each byte.
#[test]
fn a_dripping_greeting_is_bounded_by_the_timeout_as_a_whole() {
    let greeting = "220 a very slow welcome to this server\r\n";
    let script = greeting.bytes().fold(Script::new(), |script, byte| {
        script.raw(&[byte]).sleep(Duration::from_millis(300))
    });
    let server = FakeServer::start(vec![script]);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("ftp://{}/", server.addr());
    let (out, took) = ftpkit(&["--timeout", "1", "ls", &url], dir.path());
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(
        stderr(&out).contains("the connect deadline passed"),
        "{}",
        stderr(&out)
    );
    server.finish_allow_unplayed();
}

/// Every byte arrives, then the control connection closes without a 226:
/// `get` confirms the size on a new connection and succeeds, one RETR.
#[test]
fn get_confirms_a_download_whose_226_was_lost_instead_of_fetching_it_again() {
    let data = b"all of the file, every byte".to_vec();
    let size = format!("213 {}", data.len());
    let server = FakeServer::start(vec![
        Script::login_anonymous()
            .expect("TYPE I")
            .reply("200 ok")
            .expect("FEAT")
            .reply("211 no features")
            .expect("SIZE f")
            .reply(&size)
            .expect("MDTM f")
            .reply("550 not available")
            .expect("EPSV")
            .epsv()
            .expect("RETR f")
            .reply("150 go")
            .send_data_then(
                &data,
                DataFault::Slow {
                    chunk: 8,
                    delay: Duration::from_millis(10),
                },
            )
            .end(),
        Script::login_anonymous()
            .expect("TYPE I")
            .reply("200 ok")
            .expect("SIZE f")
            .reply(&size)
            .expect("FEAT")
            .reply("211 no features")
            .expect("QUIT")
            .reply("221 bye"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("ftp://{}/f", server.addr());
    let (out, took) = ftpkit(&["--timeout", "2", "get", &url], dir.path());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(took < Duration::from_secs(6), "{took:?}");
    assert_eq!(fs::read(dir.path().join("f")).unwrap(), data);
    let transcript = server.finish();
    let retrs = transcript
        .commands
        .iter()
        .filter(|c| c.starts_with("RETR"))
        .count();
    assert_eq!(retrs, 1, "{:?}", transcript.commands);
}
