//! Proxies: SOCKS5 and HTTP CONNECT proxies started on loopback relay the
//! control and every passive data connection to libunftp (plain and
//! explicit TLS, both drivers, content hashes compared), with remote DNS,
//! authentication and its refusal; the FTP proxy logins against the
//! scripted fake server, with exact wire bytes. Every case runs on both
//! drivers.

use std::{net::IpAddr, time::Duration};

use ftpkit::{
    Client, Config, DataMode, Error, TlsMode,
    proxy::{FtpProxyLogin, Proxy, ProxyError},
};
use ftpkit_testkit::{
    FakeServer, ProxyProtocol, ProxyServer, Script, TestCerts, UnftpServer, random_bytes,
    sha256_hex,
};

use crate::{driver::Driver, tls::trusting};

/// A name only the proxies can resolve: reaching the server through it
/// proves the client sent the name, not an address.
const HIDDEN: &str = "ftp.behind-the-proxy.test";

fn config(proxy: &ProxyServer, credentials: Option<(&str, &str)>) -> Config {
    Config::default()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(10))
        .proxy(Proxy::parse(&proxy.url(credentials)).unwrap())
}

fn loopback() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}

/// Uploads and downloads through `client`, comparing hashes, and lists.
fn round_trip(driver: Driver, addr: &str, config: Config) {
    let data = random_bytes(3 << 20, 7);
    let mut c = driver.connect(addr, config).unwrap();
    c.login("proxied", "secret").unwrap();
    assert_eq!(c.put("through.bin", &data).unwrap(), data.len() as u64);
    let back = c.get("through.bin").unwrap();
    assert_eq!(sha256_hex(&back), sha256_hex(&data));
    let names = c.nlst("").unwrap();
    assert!(
        names.iter().any(|n| n.as_bytes() == b"through.bin"),
        "{names:?}"
    );
    c.quit().unwrap();
}

fn plain_through(protocol: ProxyProtocol, driver: Driver) {
    let server = UnftpServer::start();
    let proxy = ProxyServer::start(protocol);
    proxy.alias(HIDDEN, loopback());
    let addr = format!("{HIDDEN}:{}", server.addr().port());
    round_trip(driver, &addr, config(&proxy, None));
    let requests = proxy.requests();
    // The control connection, then STOR, RETR and NLST: each data
    // connection went through the proxy, by the server's name.
    assert_eq!(requests.len(), 4, "{requests:?}");
    assert_eq!(requests[0].target, addr);
    assert!(requests.iter().all(|r| r.by_name), "{requests:?}");
    assert!(
        requests
            .iter()
            .all(|r| r.target.starts_with(&format!("{HIDDEN}:")))
    );
}

fn tls_through(protocol: ProxyProtocol, driver: Driver) {
    let certs = TestCerts::generate();
    let server = UnftpServer::start_with_tls(&certs);
    let proxy = ProxyServer::with_auth(protocol, "alice", "pa:ss");
    proxy.alias(HIDDEN, loopback());
    let tls =
        || config(&proxy, Some(("alice", "pa:ss"))).tls(TlsMode::Explicit, Some(trusting(&certs)));
    // The certificate names localhost: TLS inside the tunnel is verified
    // against the server's name, not the proxy's address (127.0.0.1, which
    // the certificate also names).
    let addr = format!("localhost:{}", server.addr().port());
    round_trip(driver, &addr, tls());
    let requests = proxy.requests();
    assert_eq!(requests.len(), 4, "{requests:?}");
    assert!(
        requests
            .iter()
            .all(|r| r.target == format!("localhost:{}", r.target.rsplit(':').next().unwrap()))
    );
    assert!(
        requests
            .iter()
            .all(|r| r.credentials == Some(("alice".into(), "pa:ss".into())))
    );
    // The same server under a name its certificate lacks is refused, though
    // the proxy reaches it.
    let hidden = format!("{HIDDEN}:{}", server.addr().port());
    let err = driver.connect(&hidden, tls()).map(|_| ()).unwrap_err();
    assert!(err.certificate_rejected().is_some(), "{err}");
}

#[test]
fn socks5_relays_plain_ftp_by_name_blocking() {
    plain_through(ProxyProtocol::Socks5, Driver::Blocking);
}

#[test]
fn http_connect_relays_plain_ftp_by_name_blocking() {
    plain_through(ProxyProtocol::Http, Driver::Blocking);
}

#[test]
fn socks5_relays_explicit_tls_verified_against_the_server_blocking() {
    tls_through(ProxyProtocol::Socks5, Driver::Blocking);
}

#[test]
fn http_connect_relays_explicit_tls_verified_against_the_server_blocking() {
    tls_through(ProxyProtocol::Http, Driver::Blocking);
}

#[cfg(feature = "tokio")]
#[test]
fn socks5_relays_plain_ftp_by_name_async() {
    plain_through(ProxyProtocol::Socks5, Driver::Async);
}

#[cfg(feature = "tokio")]
#[test]
fn http_connect_relays_plain_ftp_by_name_async() {
    plain_through(ProxyProtocol::Http, Driver::Async);
}

#[cfg(feature = "tokio")]
#[test]
fn socks5_relays_explicit_tls_verified_against_the_server_async() {
    tls_through(ProxyProtocol::Socks5, Driver::Async);
}

#[cfg(feature = "tokio")]
#[test]
fn http_connect_relays_explicit_tls_verified_against_the_server_async() {
    tls_through(ProxyProtocol::Http, Driver::Async);
}

fn refusals(driver: Driver) {
    let server = UnftpServer::start();
    let addr = format!("127.0.0.1:{}", server.addr().port());
    for protocol in [ProxyProtocol::Socks5, ProxyProtocol::Http] {
        let proxy = ProxyServer::with_auth(protocol, "alice", "right");
        for given in [Some(("alice", "wrong")), None] {
            let err = driver
                .connect(&addr, config(&proxy, given))
                .map(|_| ())
                .unwrap_err();
            assert!(
                matches!(err, Error::Proxy(ProxyError::AuthRefused(_))),
                "{protocol:?} {given:?}: {err}"
            );
            assert!(err.to_string().contains("refused the authentication"));
        }
        // A destination the proxy cannot reach.
        let open = ProxyServer::start(protocol);
        let err = driver
            .connect("no-such-host.invalid:21", config(&open, None))
            .map(|_| ())
            .unwrap_err();
        assert!(
            matches!(&err, Error::Proxy(ProxyError::Refused { target, .. }) if target == "no-such-host.invalid:21"),
            "{protocol:?}: {err}"
        );
    }
}

#[test]
fn proxy_refusals_are_clear_errors_blocking() {
    refusals(Driver::Blocking);
}

#[cfg(feature = "tokio")]
#[test]
fn proxy_refusals_are_clear_errors_async() {
    refusals(Driver::Async);
}

dialogue! {
    fn socks5_resolves_locally_and_sends_the_address() {
        let server = UnftpServer::start();
        let proxy = ProxyServer::start(ProxyProtocol::Socks5);
        let config = Config::default()
            .timeout(Duration::from_secs(10))
            .proxy(Proxy::parse(&format!("socks5://{}", proxy.addr())).unwrap());
        let mut c =
            connect!(&format!("localhost:{}", server.addr().port()), config).unwrap();
        w!(c.login("u", "p")).unwrap();
        let mut back = Vec::new();
        w!(c.put("x", &mut &b"local dns"[..])).unwrap();
        w!(c.get("x", &mut back)).unwrap();
        assert_eq!(back, b"local dns");
        let requests = proxy.requests();
        assert_eq!(requests.len(), 3, "{requests:?}");
        assert!(requests.iter().all(|r| !r.by_name), "{requests:?}");
        assert!(c.peer_addr().ip().is_loopback());
    }
}

dialogue! {
    fn active_mode_through_a_tunnel_is_refused_before_anything_is_sent() {
        let server = FakeServer::start(vec![
            Script::login_anonymous()
                .expect("TYPE A")
                .reply("200 ascii")
                .expect("QUIT")
                .reply("221 bye")
                .end(),
        ]);
        let proxy = ProxyServer::start(ProxyProtocol::Http);
        let config = config(&proxy, None).mode(DataMode::Active);
        let mut c = connect!(&server.addr().to_string(), config).unwrap();
        w!(c.login_anonymous()).unwrap();
        let err = w!(c.nlst("")).unwrap_err();
        assert!(matches!(err, Error::Proxy(ProxyError::ActiveMode)), "{err}");
        w!(c.quit()).unwrap();
        let transcript = server.finish();
        // TYPE precedes the refusal, never PORT/EPRT.
        assert!(
            !transcript
                .commands
                .iter()
                .any(|c| c.starts_with("PORT") || c.starts_with("EPRT")),
            "{:?}",
            transcript.commands
        );
    }
}

fn ftp_proxy(server: &FakeServer, login: FtpProxyLogin) -> Proxy {
    Proxy::ftp("127.0.0.1", server.addr().port(), login)
}

dialogue! {
    fn ftp_proxy_user_at_host_login_then_passive_data_through_the_proxy() {
        let server = FakeServer::start(vec![
            Script::new()
                .reply("220 proxy ready")
                .expect("USER bob@ftp.origin.test:2100")
                .reply("331 password please")
                .expect("PASS hunter2")
                .reply("230 logged in at origin")
                .expect("TYPE I")
                .reply("200 binary")
                .expect("EPSV")
                .epsv()
                .expect("RETR f")
                .reply("150 relaying")
                .send_data(b"relayed")
                .reply("226 done")
                .expect("QUIT")
                .reply("221 bye")
                .end(),
        ]);
        let config = Config::default()
            .timeout(Duration::from_secs(5))
            .proxy(ftp_proxy(&server, FtpProxyLogin::UserAtHost));
        let mut c = connect!("ftp.origin.test:2100", config).unwrap();
        w!(c.login("bob", "hunter2")).unwrap();
        let mut out = Vec::new();
        w!(c.get("f", &mut out)).unwrap();
        assert_eq!(out, b"relayed");
        w!(c.quit()).unwrap();
        server.finish();
    }
}

dialogue! {
    fn ftp_proxy_site_and_open_log_in_to_the_proxy_then_name_the_server() {
        for (login, verb) in [(FtpProxyLogin::Site, "SITE"), (FtpProxyLogin::Open, "OPEN")] {
            let server = FakeServer::start(vec![
                Script::new()
                    .reply("220 proxy ready")
                    .expect("USER gate")
                    .reply("331 proxy password")
                    .expect("PASS gatepw")
                    .reply("230 proxy login ok")
                    .expect(&format!("{verb} ftp.origin.test"))
                    .reply("220 connected to origin")
                    .expect("USER anonymous")
                    .reply("331 password please")
                    .expect("PASS anonymous@")
                    .reply("230 logged in")
                    .expect("QUIT")
                    .reply("221 bye")
                    .end(),
            ]);
            let config = Config::default()
                .timeout(Duration::from_secs(5))
                .proxy(ftp_proxy(&server, login).credentials("gate", "gatepw"));
            let mut c = connect!("ftp.origin.test", config).unwrap();
            w!(c.login_anonymous()).unwrap();
            w!(c.quit()).unwrap();
            server.finish();
        }
    }
}

dialogue! {
    fn ftp_proxy_refuses_ftps_and_a_refused_site_command_is_the_servers_reply() {
        let err = connect!(
            "ftp.origin.test",
            Config::default()
                .tls(TlsMode::Explicit, None)
                .proxy(Proxy::ftp("127.0.0.1", 9, FtpProxyLogin::Site))
        )
        .unwrap_err();
        assert!(
            matches!(err, Error::Proxy(ProxyError::TlsThroughFtpProxy)),
            "{err}"
        );

        let server = FakeServer::start(vec![
            Script::new()
                .reply("220 proxy ready")
                .expect("SITE ftp.origin.test")
                .reply("530 no route to that host")
                .end(),
        ]);
        let config = Config::default()
            .timeout(Duration::from_secs(5))
            .proxy(ftp_proxy(&server, FtpProxyLogin::Site));
        let mut c = connect!("ftp.origin.test", config).unwrap();
        let err = w!(c.login("bob", "pw")).unwrap_err();
        assert_eq!(err.code(), Some(ftpkit::ReplyCode(530)));
        server.finish();
    }
}
