//! Hostile and mistaken user input: each gives one clear line on stderr and
//! its documented exit code, quickly, and nothing is sent that the user
//! did not mean (CR/LF/NUL never reach the server).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::{
    path::Path,
    process::Output,
    time::{Duration, Instant},
};

use ftpkit_testkit::{FakeServer, Script};

fn ftpkit(args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let out = ftpkit_testkit::command(env!("CARGO_BIN_EXE_ftpkit"))
        .args(["--timeout", "2", "-q", "--no-netrc"])
        .args(args)
        .current_dir(std::env::temp_dir())
        .env_remove("FTPKIT_PASSWORD")
        .output()
        .expect("run ftpkit");
    (out, started.elapsed())
}

fn check(out: &Output, code: i32, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("ftpkit: "), "{err}");
    assert!(
        err.to_lowercase().contains(&needle.to_lowercase()),
        "{needle:?} not in {err}"
    );
}

#[test]
fn line_breaks_and_nul_in_urls_and_paths_send_nothing() {
    let server = FakeServer::start(vec![]);
    let addr = server.addr();
    for bad in [
        format!("ftp://{addr}/a%0D%0ADELE%20b"),
        format!("ftp://{addr}/a%0Ab"),
        format!("ftp://{addr}/a%00b"),
        format!("ftp://us%0Aer:pw@{addr}/"),
        format!("ftp://user:p%0Dw@{addr}/"),
    ] {
        for command in [&["get"][..], &["ls"], &["rm"], &["size"], &["mkdir"]] {
            let mut args = command.to_vec();
            args.push(&bad);
            let (out, took) = ftpkit(&args);
            check(&out, 2, "CR, LF or NUL");
            assert!(took < Duration::from_secs(5));
        }
    }
    // `quote` with a line break inside an argument: refused before sending.
    let (out, _) = ftpkit(&["quote", &format!("ftp://{addr}/"), "NOOP\r\nDELE x"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = server.finish();
    assert!(t.commands.is_empty(), "nothing was sent: {:?}", t.commands);
}

#[test]
fn an_over_long_path_is_refused_before_sending() {
    let server = FakeServer::start(vec![
        Script::login_anonymous().expect("QUIT").reply("221 bye"),
    ]);
    let long = "a".repeat(10_000);
    let (out, _) = ftpkit(&["size", &format!("ftp://{}/{long}", server.addr())]);
    check(&out, 2, "limit");
    let t = server.finish_allow_unplayed();
    assert!(
        !t.commands.iter().any(|c| c.starts_with("SIZE")),
        "{:?}",
        t.commands
    );
}

#[test]
fn malformed_urls_are_usage_errors() {
    for (bad, needle) in [
        ("not a url", "URL"),
        ("http://example.com/x", "scheme"),
        ("ftp://example.com/x?y", "%3F"),
        ("ftp://:21/", "host"),
        ("ftp://example.com:99999/", "port"),
    ] {
        let (out, took) = ftpkit(&["ls", bad]);
        check(&out, 2, needle);
        assert!(took < Duration::from_secs(5));
    }
}

#[test]
fn a_closed_port_is_a_network_error_at_once() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (out, took) = ftpkit(&["ls", &format!("ftp://{closed}/")]);
    check(&out, 3, "refused");
    assert!(took < Duration::from_secs(5));
}

#[test]
fn an_unknown_host_is_a_network_error() {
    // .invalid never resolves (RFC 6761).
    let (out, took) = ftpkit(&["ls", "ftp://no-such-host.invalid/"]);
    check(&out, 3, "connecting");
    assert!(took < Duration::from_secs(30));
}

#[test]
fn an_unreachable_host_times_out_within_the_timeout() {
    // TEST-NET-1 (RFC 5737): nothing answers; the 2 s timeout ends it.
    let (out, took) = ftpkit(&["ls", "ftp://192.0.2.1/"]);
    let code = out.status.code();
    assert_eq!(code, Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn a_missing_local_file_is_a_local_error() {
    let server = FakeServer::start(vec![Script::login_anonymous()]);
    let missing = Path::new("/nonexistent/dir/file.bin");
    let (out, _) = ftpkit(&[
        "put",
        missing.to_str().unwrap(),
        &format!("ftp://{}/", server.addr()),
    ]);
    check(&out, 7, "file.bin");
    server.finish_allow_unplayed();
}

#[test]
fn bad_options_are_usage_errors() {
    for args in [
        &["--timeout", "0", "ls", "ftp://h/"][..],
        &["--limit-rate", "fast", "get", "ftp://h/x"],
        &["--insecure", "ls", "ftp://h/"],
    ] {
        let out = ftpkit_testkit::command(env!("CARGO_BIN_EXE_ftpkit"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn a_refused_url_never_shows_its_password() {
    for bad in [
        "ftp://bob:hunter2@example.com/x?y",
        "http://bob:hunter2@example.com/",
        "ftp://bob:hunter2@example.com:99999/",
    ] {
        let (out, _) = ftpkit(&["ls", bad]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
}

/// Percent-encoded CR, LF and NUL in the URL of every other command (cat,
/// ls -l, rmdir, stat, mv, quote, put) are refused before connecting.
#[test]
fn line_breaks_in_the_url_of_every_other_command_send_nothing() {
    let server = FakeServer::start(vec![]);
    let local = tempfile::NamedTempFile::new().unwrap();
    let local = local.path().to_str().unwrap().to_owned();
    for bad in ["a%0D%0ADELE%20b", "a%00b"] {
        let url = format!("ftp://{}/{bad}", server.addr());
        let runs: [&[&str]; 7] = [
            &["cat", &url],
            &["ls", "-l", &url],
            &["rmdir", &url],
            &["stat", &url],
            &["mv", &url, "new"],
            &["quote", &url, "NOOP"],
            &["put", &local, &url],
        ];
        for args in runs {
            let (out, took) = ftpkit(args);
            check(&out, 2, "CR, LF or NUL");
            assert!(took < Duration::from_secs(5), "{args:?}");
        }
    }
    assert!(server.finish().commands.is_empty());
}

/// Control characters written as such in a URL (not percent-encoded) are
/// refused, not silently dropped as URL parsing would do:
/// `ftp://h/a<CR><LF>DELE b` must not become a request for `aDELE b`.
#[test]
fn raw_control_characters_in_a_url_are_refused() {
    let server = FakeServer::start(vec![]);
    for bad in ["a\r\nDELE b", "a\nb", "a\tb", "a\u{1b}[2Jb"] {
        let url = format!("ftp://{}/{bad}", server.addr());
        let (out, took) = ftpkit(&["get", &url]);
        check(&out, 2, "control character");
        assert!(took < Duration::from_secs(5));
    }
    assert!(server.finish().commands.is_empty());
}

/// A host that is neither a host name nor an IP address (a space or a
/// line break written `%20`, `%0A`) is refused, never handed to the
/// resolver.
#[test]
fn hosts_that_are_not_names_or_addresses_are_refused() {
    for bad in ["ftps://bad%20host/f", "ftpes://bad%0Ahost/f", "ftpes:///f"] {
        let (out, took) = ftpkit(&["get", bad]);
        check(&out, 2, "host");
        assert!(took < Duration::from_secs(5));
    }
}

/// A line break in `mv`'s new path is refused before connecting: not even
/// USER is sent.
#[test]
fn a_line_break_in_the_new_path_of_mv_sends_nothing() {
    let server = FakeServer::start(vec![]);
    let url = format!("ftp://{}/old", server.addr());
    for new in ["new\r\nDELE important", "new\nx"] {
        let (out, took) = ftpkit(&["mv", &url, new]);
        check(&out, 2, "line break");
        assert!(took < Duration::from_secs(5));
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
    let started = Instant::now();
    let out = ftpkit_testkit::command(env!("CARGO_BIN_EXE_ftpkit"))
        .args(["--timeout", "2", "-q", "--no-netrc", "ls"])
        .arg(format!("ftp://alice@{}/", server.addr()))
        .current_dir(std::env::temp_dir())
        .env("FTPKIT_PASSWORD", "pw\r\nDELE important")
        .output()
        .unwrap();
    check(&out, 2, "line break");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(server.finish().commands.is_empty());
}

/// An argument that is not UTF-8 is refused by argument parsing (exit 2).
#[cfg(unix)]
#[test]
fn a_non_utf8_argument_is_a_usage_error() {
    use std::os::unix::ffi::OsStrExt;
    let out = ftpkit_testkit::command(env!("CARGO_BIN_EXE_ftpkit"))
        .arg("get")
        .arg(std::ffi::OsStr::from_bytes(b"ftp://127.0.0.1:9/\xff"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error:"));
}
