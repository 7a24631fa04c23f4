//! Reaching servers behind NAT and firewalls, distributed servers that
//! need `PRET`, and servers in other time zones: exact dialogues with the
//! scripted fake server, for the blocking and the async client.

use std::{net::TcpListener, time::Duration};

use ftpkit::{Client, Config, DataMode, Error};
use ftpkit_testkit::{FakeServer, Script};

fn quick() -> Config {
    Config::default()
        .timeout(Duration::from_secs(2))
        .connect_timeout(Duration::from_secs(2))
}

/// `PORT` argument for `ip` and `port`.
fn port_arg(ip: [u8; 4], port: u16) -> String {
    let [a, b, c, d] = ip;
    format!("PORT {a},{b},{c},{d},{},{}", port >> 8, port & 0xff)
}

/// Two consecutive loopback ports: the first held by a listener (taken),
/// the second free.
fn taken_then_free() -> (TcpListener, u16) {
    for _ in 0..50 {
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return (held, port);
        }
    }
    panic!("no two consecutive free ports");
}

/// The dialogue of one active-mode download through `port` of the range.
fn active_download(port: u16) -> Script {
    Script::login_anonymous()
        .expect("TYPE I")
        .reply("200 ok")
        .expect(&port_arg([127, 0, 0, 1], port))
        .active()
        .expect("RETR f")
        .reply("150 connecting")
        .send_data(b"through the firewall")
        .reply("226 ok")
}

#[test]
fn active_ports_skip_a_taken_port_and_stay_in_the_range() {
    let (_held, taken) = taken_then_free();
    let server = FakeServer::start(vec![active_download(taken + 1)]);
    let config = quick()
        .mode(DataMode::Active)
        .active_ports(taken..=taken + 1);
    let mut client = Client::connect_with(&server.addr().to_string(), config).unwrap();
    client.login_anonymous().unwrap();
    let mut out = Vec::new();
    client.get("f", &mut out).unwrap();
    assert_eq!(out, b"through the firewall");
    server.finish();
}

#[test]
fn active_ports_all_taken_fail_with_addr_in_use() {
    let (held, taken) = taken_then_free();
    let server = FakeServer::start(vec![
        Script::login_anonymous().expect("TYPE I").reply("200 ok"),
    ]);
    let config = quick().mode(DataMode::Active).active_ports(taken..=taken);
    let mut client = Client::connect_with(&server.addr().to_string(), config).unwrap();
    client.login_anonymous().unwrap();
    let err = client.get("f", &mut Vec::new()).unwrap_err();
    assert!(
        matches!(&err, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::AddrInUse),
        "{err:?}"
    );
    drop(held);
    server.finish();
}

#[test]
fn active_address_is_advertised_in_port() {
    let (_held, taken) = taken_then_free();
    let server = FakeServer::start(vec![
        Script::login_anonymous()
            .expect("TYPE I")
            .reply("200 ok")
            .expect(&port_arg([198, 51, 100, 7], taken + 1))
            .reply("200 PORT ok")
            .expect("RETR f")
            .reply("425 Can't open data connection"),
    ]);
    let config = quick()
        .mode(DataMode::Active)
        .active_ports(taken + 1..=taken + 1)
        .active_address([198, 51, 100, 7].into());
    let mut client = Client::connect_with(&server.addr().to_string(), config).unwrap();
    client.login_anonymous().unwrap();
    let err = client.get("f", &mut Vec::new()).unwrap_err();
    assert!(
        matches!(&err, Error::Reply { reply, .. } if reply.code().0 == 425),
        "{err:?}"
    );
    server.finish();
}

/// A drftpd-like server: FEAT lists PRET; EPSV and PASV are refused
/// without it.
fn pret_after_feat() -> Script {
    Script::login_anonymous()
        .expect("FEAT")
        .reply("211-Features:\r\n PRET\r\n EPSV\r\n SIZE\r\n211 End")
        .expect("TYPE I")
        .reply("200 ok")
        .expect("PRET RETR dist/file")
        .reply("200 OK, will use slave 'node3' for upcoming transfer")
        .expect("EPSV")
        .epsv()
        .expect("RETR dist/file")
        .reply("150 Opening")
        .send_data(b"from node3")
        .reply("226 ok")
}

/// The same server with no FEAT asked: the refusals lead to FEAT, then
/// PRET.
fn pret_after_refusal() -> Script {
    Script::login_anonymous()
        .expect("TYPE I")
        .reply("200 ok")
        .expect("EPSV")
        .reply("500 You need to use a client supporting PRET (PRE Transfer) to use EPSV")
        .expect("PASV")
        .reply("500 You need to use a client supporting PRET (PRE Transfer) to use PASV")
        .expect("FEAT")
        .reply("211-Features:\r\n PRET\r\n211 End")
        .expect("PRET STOR up")
        .reply("200 OK")
        .expect("PASV")
        .pasv()
        .expect("STOR up")
        .reply("150 go")
        .recv_data()
        .reply("226 ok")
}

#[test]
fn pret_precedes_epsv_when_feat_lists_it() {
    let server = FakeServer::start(vec![pret_after_feat()]);
    let mut client = Client::connect_with(&server.addr().to_string(), quick()).unwrap();
    client.login_anonymous().unwrap();
    assert!(client.features().unwrap().supports("PRET"));
    let mut out = Vec::new();
    client.get("dist/file", &mut out).unwrap();
    assert_eq!(out, b"from node3");
    server.finish();
}

#[test]
fn a_refused_passive_mode_asks_feat_and_retries_with_pret() {
    let server = FakeServer::start(vec![pret_after_refusal()]);
    let mut client = Client::connect_with(&server.addr().to_string(), quick()).unwrap();
    client.login_anonymous().unwrap();
    client.put("up", &mut &b"payload"[..]).unwrap();
    assert_eq!(server.finish().uploads[0], b"payload");
}

#[test]
fn a_refused_passive_mode_without_pret_stays_an_error() {
    let server = FakeServer::start(vec![
        Script::login_anonymous()
            .expect("TYPE I")
            .reply("200 ok")
            .expect("EPSV")
            .reply("500 no")
            .expect("PASV")
            .reply("500 no")
            .expect("FEAT")
            .reply("211-Features:\r\n SIZE\r\n211 End"),
    ]);
    let mut client = Client::connect_with(&server.addr().to_string(), quick()).unwrap();
    client.login_anonymous().unwrap();
    let err = client.get("f", &mut Vec::new()).unwrap_err();
    assert!(
        matches!(&err, Error::Reply { command, .. } if command == "PASV"),
        "{err:?}"
    );
    server.finish();
}

#[cfg(feature = "tokio")]
mod asynchronous {
    use ftpkit::AsyncClient;

    use super::*;
    use crate::driver::asynchronous::runtime;

    async fn client(server: &FakeServer, config: Config) -> AsyncClient {
        let mut client = AsyncClient::connect_with(&server.addr().to_string(), config)
            .await
            .unwrap();
        client.login_anonymous().await.unwrap();
        client
    }

    #[test]
    fn active_ports_and_address_in_the_async_client() {
        let (_held, taken) = taken_then_free();
        let server = FakeServer::start(vec![active_download(taken + 1)]);
        let config = quick()
            .mode(DataMode::Active)
            .active_ports(taken..=taken + 1);
        let mut out = Vec::new();
        runtime().block_on(async {
            let mut c = client(&server, config).await;
            c.get("f", &mut out).await.unwrap();
        });
        assert_eq!(out, b"through the firewall");
        server.finish();

        let server = FakeServer::start(vec![
            Script::login_anonymous()
                .expect("TYPE I")
                .reply("200 ok")
                .expect(&port_arg([192, 0, 2, 1], taken + 1))
                .reply("500 no"),
        ]);
        let config = quick()
            .mode(DataMode::Active)
            .active_ports(taken + 1..=taken + 1)
            .active_address([192, 0, 2, 1].into());
        runtime().block_on(async {
            let mut c = client(&server, config).await;
            assert!(c.get("f", &mut Vec::new()).await.is_err());
        });
        server.finish();
    }

    #[test]
    fn pret_in_the_async_client() {
        let server = FakeServer::start(vec![pret_after_feat()]);
        let mut out = Vec::new();
        runtime().block_on(async {
            let mut c = client(&server, quick()).await;
            assert!(c.features().await.unwrap().supports("PRET"));
            c.get("dist/file", &mut out).await.unwrap();
        });
        assert_eq!(out, b"from node3");
        server.finish();

        let server = FakeServer::start(vec![pret_after_refusal()]);
        runtime().block_on(async {
            let mut c = client(&server, quick()).await;
            c.put("up", &mut &b"payload"[..]).await.unwrap();
        });
        assert_eq!(server.finish().uploads[0], b"payload");
    }
}
