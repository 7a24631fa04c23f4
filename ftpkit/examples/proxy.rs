//! Connecting through a proxy: a SOCKS5 proxy on loopback relays to an
//! embedded server that it alone knows by name (remote DNS), for the
//! control connection and every data connection. Then the same through an
//! HTTP CONNECT proxy that requires a password, and what a wrong password
//! gives.
//!
//! Run it with `cargo run --example proxy`.

use std::{error::Error, net::IpAddr};

use ftpkit::{
    Client, Config,
    proxy::{Proxy, ProxyError},
};
use ftpkit_testkit::{ProxyProtocol, ProxyServer, UnftpServer, random_bytes, sha256_hex};

fn main() -> Result<(), Box<dyn Error>> {
    let server = UnftpServer::start();
    let origin = format!("ftp.only-the-proxy-knows.test:{}", server.addr().port());

    let socks = ProxyServer::start(ProxyProtocol::Socks5);
    socks.alias(
        "ftp.only-the-proxy-knows.test",
        IpAddr::from([127, 0, 0, 1]),
    );
    let proxy: Proxy = socks.url(None).parse()?;
    println!("proxy   {proxy}");
    let mut ftp = Client::connect_with(&origin, Config::default().proxy(proxy))?;
    ftp.login_anonymous()?;
    let data = random_bytes(1 << 20, 3);
    ftp.put("via-proxy.bin", &mut data.as_slice())?;
    let mut back = Vec::new();
    ftp.get("via-proxy.bin", &mut back)?;
    assert_eq!(sha256_hex(&back), sha256_hex(&data));
    println!("        1 MiB up and down, SHA-256 {}", sha256_hex(&back));
    ftp.quit()?;
    for request in socks.requests() {
        println!("        the proxy was asked for {}", request.target);
    }

    let http = ProxyServer::with_auth(ProxyProtocol::Http, "alice", "s3cret");
    let good: Proxy = http.url(Some(("alice", "s3cret"))).parse()?;
    println!("proxy   {good}   (Debug: {good:?})");
    let direct = server.addr().to_string();
    let mut ftp = Client::connect_with(&direct, Config::default().proxy(good))?;
    ftp.login_anonymous()?;
    println!(
        "        {} names listed through HTTP CONNECT",
        ftp.nlst("")?.len()
    );
    ftp.quit()?;

    let wrong: Proxy = http.url(Some(("alice", "guess"))).parse()?;
    match Client::connect_with(&direct, Config::default().proxy(wrong)) {
        Err(ftpkit::Error::Proxy(e @ ProxyError::AuthRefused(_))) => println!("        {e}"),
        other => return Err(format!("expected a refusal, got {:?}", other.map(|_| ())).into()),
    }
    Ok(())
}
