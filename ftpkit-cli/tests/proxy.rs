//! The `ftpkit` command through SOCKS5 and HTTP CONNECT proxies started on
//! loopback: `--proxy`, `all_proxy`/`ftp_proxy` from the environment, and
//! `no_proxy`/`--noproxy` bypassing them.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::{fs, net::IpAddr, path::Path, process::Output};

use ftpkit_testkit::{
    ProxyProtocol, ProxyServer, UnftpServer, random_bytes, sha256_file, sha256_hex,
};

/// A name only the proxies resolve: reaching the server by it proves the
/// name went to the proxy.
const HIDDEN: &str = "ftp.behind-the-proxy.test";

/// Runs `ftpkit` with exactly the proxy variables given.
fn ftpkit(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    let mut command = ftpkit_testkit::command(env!("CARGO_BIN_EXE_ftpkit"));
    command
        .args(["--timeout", "5", "-q"])
        .args(args)
        .current_dir(cwd)
        .env_remove("FTPKIT_PASSWORD");
    // ftpkit_testkit::command cleared the proxy variables; the test's own
    // come back here.
    command.envs(env.iter().copied());
    command.output().expect("run ftpkit")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn hidden_proxy(protocol: ProxyProtocol) -> ProxyServer {
    let proxy = ProxyServer::start(protocol);
    proxy.alias(HIDDEN, IpAddr::from([127, 0, 0, 1]));
    proxy
}

#[test]
fn put_and_get_through_the_proxy_option() {
    let server = UnftpServer::start();
    let proxy = hidden_proxy(ProxyProtocol::Socks5);
    let dir = tempfile::tempdir().unwrap();
    let data = random_bytes(1 << 20, 5);
    fs::write(dir.path().join("p.bin"), &data).unwrap();
    let base = format!("ftp://{HIDDEN}:{}/", server.addr().port());
    let url = proxy.url(None);
    let out = ftpkit(&["--proxy", &url, "put", "p.bin", &base], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(sha256_file(server.root().join("p.bin")), sha256_hex(&data));
    let down = tempfile::tempdir().unwrap();
    let out = ftpkit(
        &["--proxy", &url, "get", &format!("{base}p.bin")],
        down.path(),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(sha256_file(down.path().join("p.bin")), sha256_hex(&data));
    let requests = proxy.requests();
    assert!(requests.len() >= 4, "{requests:?}");
    assert!(
        requests
            .iter()
            .all(|r| r.by_name && r.target.starts_with(HIDDEN))
    );
}

#[test]
fn all_proxy_and_ftp_proxy_from_the_environment_are_used() {
    let server = UnftpServer::start();
    fs::write(server.root().join("seen.txt"), b"x").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let base = format!("ftp://{HIDDEN}:{}/", server.addr().port());
    for variable in ["all_proxy", "ALL_PROXY", "ftp_proxy"] {
        let proxy = hidden_proxy(ProxyProtocol::Http);
        let out = ftpkit(&["ls", &base], dir.path(), &[(variable, &proxy.url(None))]);
        assert_eq!(out.status.code(), Some(0), "{variable}: {}", stderr(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "seen.txt\n");
        assert_eq!(proxy.requests().len(), 2, "{variable}: control and NLST");
    }
    // ftp_proxy wins over all_proxy.
    let ftp = hidden_proxy(ProxyProtocol::Http);
    let all = hidden_proxy(ProxyProtocol::Socks5);
    let out = ftpkit(
        &["ls", &base],
        dir.path(),
        &[("ftp_proxy", &ftp.url(None)), ("all_proxy", &all.url(None))],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!((ftp.requests().len(), all.requests().len()), (2, 0));
}

#[test]
fn no_proxy_and_noproxy_bypass_the_proxy() {
    let server = UnftpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let base = format!("ftp://127.0.0.1:{}/", server.addr().port());
    let proxy = ProxyServer::start(ProxyProtocol::Socks5);
    let url = proxy.url(None);
    let out = ftpkit(
        &["ls", &base],
        dir.path(),
        &[("all_proxy", &url), ("no_proxy", "example.com,127.0.0.1")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = ftpkit(
        &["--proxy", &url, "--noproxy", "*", "ls", &base],
        dir.path(),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // An empty --proxy turns the environment's off.
    let out = ftpkit(
        &["--proxy", "", "ls", &base],
        dir.path(),
        &[("all_proxy", &url)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(proxy.requests().is_empty(), "{:?}", proxy.requests());
    // --noproxy replaces no_proxy: this host is no longer bypassed.
    let out = ftpkit(
        &["--noproxy", "example.com", "ls", &base],
        dir.path(),
        &[("all_proxy", &url), ("no_proxy", "127.0.0.1")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(proxy.requests().len(), 2);
}

#[test]
fn a_refused_proxy_login_exits_4_without_showing_the_password() {
    let server = UnftpServer::start();
    let proxy = ProxyServer::with_auth(ProxyProtocol::Http, "alice", "right");
    let dir = tempfile::tempdir().unwrap();
    let wrong = format!("http://alice:wrong-pw@{}", proxy.addr());
    let out = ftpkit(
        &[
            "-v",
            "--proxy",
            &wrong,
            "ls",
            &format!("ftp://{}/", server.addr()),
        ],
        dir.path(),
        &[],
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("proxy refused the authentication"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("wrong-pw"), "{}", stderr(&out));
    let out = ftpkit(
        &["--proxy", "gopher://p", "ls", "ftp://h/"],
        dir.path(),
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--proxy"), "{}", stderr(&out));
}
