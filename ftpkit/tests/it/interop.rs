//! The scenarios against real servers nobody here wrote: vsftpd, proftpd,
//! pure-ftpd and pyftpdlib, started on loopback by
//! `scripts/interop-servers.sh start`, which writes the servers' addresses
//! to `servers.env` (`$FTPKIT_INTEROP_DIR`, default `/tmp/ftpkit-interop`).
//!
//! Each server runs every scenario with the blocking client and, with the
//! `tokio` feature, the async client.
//!
//! In CI (`CI` set) a missing server is a failure; elsewhere the tests say
//! that they skipped.

use std::{collections::BTreeMap, time::Duration};

use ftpkit::{Config, DataMode, TlsConfig, TlsMode, TlsVersion};

use crate::scenarios::{self, Driver, Target};

/// The variables of `servers.env`, or `None` when the servers are not running.
fn servers_env() -> Option<BTreeMap<String, String>> {
    let dir = std::env::var("FTPKIT_INTEROP_DIR").unwrap_or_else(|_| "/tmp/ftpkit-interop".into());
    let text = std::fs::read_to_string(format!("{dir}/servers.env")).ok()?;
    Some(
        text.lines()
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().trim_matches('"').to_owned()))
            .collect(),
    )
}

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
}

/// The address of `server` in the list `key`, or `None` (with a skip
/// message) off CI; in CI a missing server fails the test.
fn lookup(key: &str, server: &str) -> Option<(String, BTreeMap<String, String>)> {
    let found = servers_env().and_then(|env| {
        let addr = env.get(key)?.split_whitespace().find_map(|pair| {
            pair.strip_prefix(server)?
                .strip_prefix('=')
                .map(str::to_owned)
        })?;
        Some((addr, env))
    });
    if found.is_none() {
        let msg = format!(
            "interop: {server} ({key}) is not running; start the servers with scripts/interop-servers.sh install && scripts/interop-servers.sh start"
        );
        assert!(!in_ci(), "{msg}");
        eprintln!("SKIPPED {msg}");
    }
    found
}

fn target(key: &str, server: &str, tls: Option<TlsMode>) -> Option<Target> {
    let (addr, env) = lookup(key, server)?;
    let mut config = Config::default()
        .timeout(Duration::from_secs(20))
        .connect_timeout(Duration::from_secs(5));
    if let Some(mode) = tls {
        let ca = env
            .get("FTPKIT_INTEROP_CA")
            .expect("servers.env names FTPKIT_INTEROP_CA");
        // The servers' certificate is self-signed (openssl req -x509,
        // CA:TRUE); ca.pem is that very file. TLS 1.3 is on, except for
        // proftpd's streaming scenarios: proftpd 1.3.8 refuses every other
        // TLS 1.3 data connection (425, no session ticket left), which only
        // download/upload recover from, by falling back to TLS 1.2
        // (`proftpd_tls13_falls_back_to_tls12` below).
        let max = if server == "proftpd" {
            TlsVersion::Tls12
        } else {
            TlsVersion::Tls13
        };
        let tls_config = TlsConfig::builder()
            .without_system_roots()
            .add_ca_pem_file(ca)
            .map(|b| b.max_version(max))
            .and_then(|b| b.build())
            .expect("the interop CA loads");
        config = config.tls(mode, Some(tls_config));
    }
    Some(Target {
        name: format!("{server} ({key})"),
        addr,
        user: env.get("FTPKIT_INTEROP_USER").cloned().unwrap_or_default(),
        pass: env.get("FTPKIT_INTEROP_PASS").cloned().unwrap_or_default(),
        config,
        mlsd: server != "vsftpd",
        mdtm: true,
        big: 16 << 20,
    })
}

/// The client's warnings (retries, restarts, fallbacks) go to the test's
/// captured output, shown when it fails: a real server's timing decides
/// which of those paths a run takes.
fn show_warnings() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .try_init();
}

macro_rules! interop {
    ($($test:ident: $key:literal, $server:literal, $tls:expr;)*) => {$(
        mod $test {
            use super::*;

            #[test]
            fn blocking() {
                show_warnings();
                if let Some(target) = target($key, $server, $tls) {
                    scenarios::run_all(&target, Driver::Blocking);
                }
            }

            #[cfg(feature = "tokio")]
            #[test]
            fn nonblocking() {
                show_warnings();
                if let Some(target) = target($key, $server, $tls) {
                    scenarios::run_all(&target, Driver::Async);
                }
            }
        }
    )*};
}

interop! {
    vsftpd_plain: "FTPKIT_INTEROP_SERVERS", "vsftpd", None;
    proftpd_plain: "FTPKIT_INTEROP_SERVERS", "proftpd", None;
    pureftpd_plain: "FTPKIT_INTEROP_SERVERS", "pureftpd", None;
    pyftpdlib_plain: "FTPKIT_INTEROP_SERVERS", "pyftpdlib", None;
    vsftpd_explicit_tls: "FTPKIT_INTEROP_TLS_SERVERS", "vsftpd", Some(TlsMode::Explicit);
    proftpd_explicit_tls: "FTPKIT_INTEROP_TLS_SERVERS", "proftpd", Some(TlsMode::Explicit);
    pureftpd_explicit_tls: "FTPKIT_INTEROP_TLS_SERVERS", "pureftpd", Some(TlsMode::Explicit);
    pyftpdlib_explicit_tls: "FTPKIT_INTEROP_TLS_SERVERS", "pyftpdlib", Some(TlsMode::Explicit);
    vsftpd_implicit_tls: "FTPKIT_INTEROP_IMPLICIT_SERVERS", "vsftpd", Some(TlsMode::Implicit);
    proftpd_implicit_tls: "FTPKIT_INTEROP_IMPLICIT_SERVERS", "proftpd", Some(TlsMode::Implicit);
}

/// proftpd over TLS 1.3: downloads and uploads succeed without a single
/// retry, the client falling back to TLS 1.2 at the first refused data
/// connection, on the explicit and the implicit port.
#[test]
fn proftpd_tls13_falls_back_to_tls12() {
    for (key, mode) in [
        ("FTPKIT_INTEROP_TLS_SERVERS", TlsMode::Explicit),
        ("FTPKIT_INTEROP_IMPLICIT_SERVERS", TlsMode::Implicit),
    ] {
        let Some((addr, env)) = lookup(key, "proftpd") else {
            return;
        };
        let ca = env
            .get("FTPKIT_INTEROP_CA")
            .expect("servers.env names FTPKIT_INTEROP_CA");
        let tls = TlsConfig::builder()
            .without_system_roots()
            .add_ca_pem_file(ca)
            .and_then(|b| b.build())
            .expect("the interop CA loads");
        let config = Config::default()
            .timeout(Duration::from_secs(20))
            .tls(mode, Some(tls));
        let mut c = ftpkit::Client::connect_with(&addr, config).unwrap();
        c.login(
            env.get("FTPKIT_INTEROP_USER").map_or("", String::as_str),
            env.get("FTPKIT_INTEROP_PASS").map_or("", String::as_str),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let data = ftpkit_testkit::random_bytes(200_000, 7);
        let local = dir.path().join("up.bin");
        std::fs::write(&local, &data).unwrap();
        let mut options = ftpkit::TransferOptions::default();
        options.retry.retries = 0;
        for i in 0..4 {
            let remote = format!("tls13-fallback-{}-{i}.bin", std::process::id());
            c.upload(&local, &remote)
                .options(options.clone())
                .run()
                .unwrap();
            let back = dir.path().join(format!("back{i}"));
            c.download(&remote, &back)
                .options(options.clone())
                .run()
                .unwrap();
            assert_eq!(std::fs::read(&back).unwrap(), data, "{mode:?} round {i}");
            c.delete(&remote).unwrap();
        }
        c.quit().unwrap();
    }
}

/// The transfer scenario (STOR, RETR, APPE, a streaming RETR, hashes
/// compared) against every real server over explicit TLS, through a SOCKS5
/// and an HTTP CONNECT proxy on loopback, with both drivers: the control
/// connection and every passive data connection went through the proxy, and
/// TLS inside the tunnel was verified against the server. (Active mode
/// would need SOCKS BIND, which ftpkit does not offer: passive only.)
#[test]
fn every_server_through_socks5_and_http_connect() {
    use ftpkit::proxy::Proxy;
    use ftpkit_testkit::{ProxyProtocol, ProxyServer};

    for server in ["vsftpd", "proftpd", "pureftpd", "pyftpdlib"] {
        for (protocol, driver) in [
            (ProxyProtocol::Socks5, Driver::Blocking),
            (ProxyProtocol::Http, Driver::Blocking),
            #[cfg(feature = "tokio")]
            (ProxyProtocol::Socks5, Driver::Async),
        ] {
            let Some(mut target) = target(
                "FTPKIT_INTEROP_TLS_SERVERS",
                server,
                Some(TlsMode::Explicit),
            ) else {
                continue;
            };
            let proxy = ProxyServer::start(protocol);
            let via = Proxy::parse(&proxy.url(None)).expect("the proxy's URL parses");
            target.config = target.config.clone().proxy(via);
            target.name = format!("{} via {protocol:?}", target.name);
            scenarios::transfers(&target, driver, DataMode::Passive);
            let requests = proxy.requests();
            // The control connection, then STOR, RETR, APPE and RETR.
            assert!(requests.len() >= 5, "{}: {requests:?}", target.name);
            assert!(
                requests.iter().all(|r| r.target.starts_with("127.0.0.1:")),
                "{}: {requests:?}",
                target.name
            );
            assert_eq!(requests[0].target, target.addr, "{}", target.name);
        }
    }
}
