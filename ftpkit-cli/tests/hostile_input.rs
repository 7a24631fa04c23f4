//! Hostile or broken user input to the `ftpkit` binary: line breaks and NUL
//! in paths, URLs and commands (nothing may be sent), over-long paths,
//! malformed URLs, and the network failures a wrong address gives (refused
//! port, unknown host, unreachable host). Each must end with one clear
//! line on stderr, the documented exit code (`ftpkit --help`), and in
//! bounded time.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::{
    path::Path,
    process::{Command, Output},
    time::{Duration, Instant},
};

use ftpkit_testkit::{FakeServer, Script};

/// Exit codes, as `ftpkit --help` documents them.
const USAGE: i32 = 2;
const NETWORK: i32 = 3;
const LOCAL: i32 = 7;

/// Runs ftpkit with a 2-second timeout and returns its output and how long
/// it took.
fn ftpkit(args: &[&str], cwd: &Path) -> (Output, Duration) {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_ftpkit"))
        .args(["--timeout", "2", "-q"])
        .args(args)
        .current_dir(cwd)
        .env_remove("FTPKIT_PASSWORD")
        .output()
        .expect("run ftpkit");
    (out, started.elapsed())
}

/// Asserts the exit code, one line on stderr starting `ftpkit: `, and the
/// time bound; returns the line.
fn fails_with(out: &Output, took: Duration, code: i32, bound: Duration, what: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{what}: {err}");
    assert!(
        err.starts_with("ftpkit: ") && err.ends_with('\n') && err.lines().count() == 1,
        "{what}: not one clear line: {err:?}"
    );
    assert!(took < bound, "{what}: took {took:?}");
    err
}

/// A fake server that expects no connection: its transcript proves that
/// nothing was sent.
fn silent_server() -> FakeServer {
    FakeServer::start(vec![])
}

/// Percent-encoded CR, LF and NUL in the path of every command's URL are
/// refused before connecting (exit 2): the server receives nothing.
#[test]
fn line_breaks_and_nul_in_url_paths_are_refused_for_every_command() {
    let server = silent_server();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("local.txt"), b"x").unwrap();
    let base = format!("ftp://{}", server.addr());
    for bad in ["a%0D%0ADELE%20b", "a%0Ab", "a%0Db", "a%00b"] {
        let url = format!("{base}/{bad}");
        let runs: [&[&str]; 12] = [
            &["get", &url],
            &["cat", &url],
            &["ls", &url],
            &["ls", "-l", &url],
            &["rm", &url],
            &["mkdir", "-p", &url],
            &["rmdir", &url],
            &["size", &url],
            &["stat", &url],
            &["mv", &url, "new"],
            &["quote", &url, "NOOP"],
            &["put", "local.txt", &url],
        ];
        for args in runs {
            let (out, took) = ftpkit(args, dir.path());
            let line = fails_with(
                &out,
                took,
                USAGE,
                Duration::from_secs(5),
                &format!("{args:?}"),
            );
            assert!(line.contains("CR, LF or NUL"), "{line}");
        }
    }
    assert!(server.finish().commands.is_empty());
}

/// CR, LF and NUL in the user name or password of a URL are refused before
/// connecting.
#[test]
fn line_breaks_in_url_credentials_are_refused() {
    let server = silent_server();
    let dir = tempfile::tempdir().unwrap();
    for userinfo in ["u%0D%0APASS%20x", "u:p%0ASITE%20x", "u:p%00"] {
        let url = format!("ftp://{userinfo}@{}/f", server.addr());
        let (out, took) = ftpkit(&["get", &url], dir.path());
        fails_with(&out, took, USAGE, Duration::from_secs(5), &url);
    }
    assert!(server.finish().commands.is_empty());
}

/// Control characters written as such in a URL (not percent-encoded) are
/// refused, not silently dropped as URL parsing would: `ftp://h/a<CR><LF>DELE b`
/// must not become a request for `aDELE b`.
#[test]
fn raw_control_characters_in_a_url_are_refused() {
    let server = silent_server();
    let dir = tempfile::tempdir().unwrap();
    for bad in ["a\r\nDELE b", "a\nb", "a\tb", "a\u{1b}[2Jb"] {
        let url = format!("ftp://{}/{bad}", server.addr());
        let (out, took) = ftpkit(&["get", &url], dir.path());
        let line = fails_with(&out, took, USAGE, Duration::from_secs(5), &url);
        assert!(line.contains("control character"), "{line}");
    }
    assert!(server.finish().commands.is_empty());
}

/// A line break in `mv`'s new path or in a `quote` command is refused
/// before connecting: not even USER is sent.
#[test]
fn line_breaks_in_mv_and_quote_arguments_send_nothing() {
    let server = silent_server();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("ftp://{}/old", server.addr());
    for args in [
        vec!["mv", url.as_str(), "new\r\nDELE important"],
        vec!["mv", url.as_str(), "new\0"],
        vec!["quote", url.as_str(), "NOOP\r\nDELE important"],
        vec!["quote", url.as_str(), "SITE", "x\ny"],
    ] {
        // A NUL cannot be passed as an argument at all.
        if args.iter().any(|a| a.contains('\0')) {
            continue;
        }
        let (out, took) = ftpkit(&args, dir.path());
        let line = fails_with(
            &out,
            took,
            USAGE,
            Duration::from_secs(5),
            &format!("{args:?}"),
        );
        assert!(line.contains("line break"), "{line}");
    }
    assert!(server.finish().commands.is_empty());
}

/// A password from `FTPKIT_PASSWORD` with a line break is refused before
/// PASS (or anything else) is sent.
#[test]
fn a_line_break_in_the_password_variable_sends_no_command() {
    let server = FakeServer::start(vec![
        Script::new()
            .reply("220 hi")
            .sleep(Duration::from_millis(500)),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_ftpkit"))
        .args(["--timeout", "2", "-q", "ls"])
        .arg(format!("ftp://alice@{}/", server.addr()))
        .current_dir(dir.path())
        .env("FTPKIT_PASSWORD", "pw\r\nDELE important")
        .output()
        .unwrap();
    fails_with(
        &out,
        started.elapsed(),
        USAGE,
        Duration::from_secs(5),
        "password",
    );
    assert!(server.finish().commands.is_empty());
}

/// A remote path longer than an FTP argument may be (4096 bytes) is
/// refused before connecting.
#[test]
fn an_over_long_remote_path_is_refused_before_connecting() {
    let server = silent_server();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("ftp://{}/{}", server.addr(), "d/".repeat(3000));
    for args in [["ls", url.as_str()], ["rm", url.as_str()]] {
        let (out, took) = ftpkit(&args, dir.path());
        let line = fails_with(&out, took, USAGE, Duration::from_secs(5), args[0]);
        assert!(line.contains("limit"), "{line}");
    }
    assert!(server.finish().commands.is_empty());
}

/// An over-long local path is a local file error (exit 7), found before
/// connecting.
#[test]
fn an_over_long_local_path_is_a_local_error() {
    let server = silent_server();
    let dir = tempfile::tempdir().unwrap();
    let local = "x".repeat(5000);
    let url = format!("ftp://{}/", server.addr());
    let (out, took) = ftpkit(&["put", &local, &url], dir.path());
    fails_with(&out, took, LOCAL, Duration::from_secs(5), "put");
    assert!(server.finish().commands.is_empty());
}

/// Malformed URLs are usage errors (exit 2), one line each.
#[test]
fn malformed_urls_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [
        "not a url",
        "example.com/file",
        "http://example.com/file",
        "sftp://example.com/file",
        "ftp://",
        "ftp:///file",
        "ftp://example.com:99999/file",
        "ftp://example.com:port/file",
        "ftp://[::1/file",
        "ftp://example.com/file?x=1",
        "ftp://example.com/file#top",
        "ftps://bad%20host/file",
        "ftpes://bad%0Ahost/file",
    ] {
        let (out, took) = ftpkit(&["get", bad], dir.path());
        fails_with(&out, took, USAGE, Duration::from_secs(5), bad);
    }
}

/// Arguments that are not UTF-8 are refused by argument parsing (exit 2).
#[cfg(unix)]
#[test]
fn a_non_utf8_argument_is_a_usage_error() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ftpkit"))
        .arg("get")
        .arg(std::ffi::OsStr::from_bytes(b"ftp://127.0.0.1:9/\xff"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(USAGE));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error:"));
}

/// A timeout that is not a positive number is a usage error.
#[test]
fn bad_timeouts_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    for t in ["0", "-1", "NaN", "inf"] {
        let out = Command::new(env!("CARGO_BIN_EXE_ftpkit"))
            .args(["--timeout", t, "ls", "ftp://127.0.0.1:9/"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(USAGE), "--timeout {t}");
    }
}

/// A port where nothing listens: connection refused, exit 3, at once.
#[test]
fn a_refused_port_exits_3() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (out, took) = ftpkit(&["ls", &format!("ftp://{closed}/")], dir.path());
    let line = fails_with(&out, took, NETWORK, Duration::from_secs(3), "refused");
    assert!(line.contains("connecting"), "{line}");
}

/// A host name that does not resolve (`.invalid` never does, RFC 6761):
/// exit 3 with one line.
#[test]
fn an_unresolvable_host_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let (out, took) = ftpkit(&["ls", "ftp://nonexistent.invalid/"], dir.path());
    let line = fails_with(&out, took, NETWORK, Duration::from_secs(30), "DNS");
    assert!(line.contains("connecting"), "{line}");
}

/// An unreachable host (TEST-NET-1, RFC 5737): exit 3 within the timeout,
/// whether the network drops the packets or reports it unreachable.
#[test]
fn an_unreachable_host_exits_3_within_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_ftpkit"))
        .args(["--timeout", "1", "-q", "ls", "ftp://192.0.2.1/"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let line = fails_with(
        &out,
        started.elapsed(),
        NETWORK,
        Duration::from_secs(4),
        "TEST-NET",
    );
    assert!(line.contains("connecting"), "{line}");
}
