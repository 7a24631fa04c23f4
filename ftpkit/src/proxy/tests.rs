use super::{tunnel::Tunnel, *};
use crate::{
    config::Config,
    error::{Error, InvalidInput},
    proto::engine::Target,
};

fn run(tunnel: &mut Tunnel, replies: &[&[u8]]) -> (Vec<Vec<u8>>, Result<Progress, ProxyError>) {
    let mut sent = vec![tunnel.start()];
    let mut last = Ok(Progress::More);
    for reply in replies {
        let mut rest: &[u8] = reply;
        while !rest.is_empty() {
            let n = tunnel.wanted().min(rest.len());
            assert!(n > 0, "the tunnel wants nothing but bytes remain");
            let (now, later) = rest.split_at(n);
            rest = later;
            last = tunnel.feed(now);
            match &last {
                Ok(Progress::Send(bytes)) => sent.push(bytes.clone()),
                Ok(_) => {}
                Err(_) => return (sent, last),
            }
        }
    }
    (sent, last)
}

fn socks(dest: Dest, creds: Option<(&str, &str)>) -> Tunnel {
    Tunnel::Socks5(socks5::Socks5::new(dest, creds))
}

#[test]
fn socks5_without_auth_sends_the_host_name_for_remote_dns() {
    let mut t = socks(Dest::Name("ftp.example.com".into(), 21), None);
    let (sent, last) = run(&mut t, &[&[5, 0], &[5, 0, 0, 1, 127, 0, 0, 1, 0x30, 0x39]]);
    assert_eq!(last, Ok(Progress::Done));
    let mut request = vec![5, 1, 0, 3, 15];
    request.extend_from_slice(b"ftp.example.com");
    request.extend_from_slice(&[0, 21]);
    assert_eq!(sent, vec![vec![5, 1, 0], request]);
    assert_eq!(t.wanted(), 0);
}

#[test]
fn socks5_with_auth_sends_rfc1929_credentials_then_the_address() {
    let dest = Dest::Addr("192.0.2.7:2121".parse().unwrap());
    let mut t = socks(dest, Some(("al", "pw!")));
    // The reply carries a domain-name bound address: its length byte says
    // how much more to read, and nothing past it is consumed.
    let (sent, last) = run(
        &mut t,
        &[&[5, 2], &[1, 0], &[5, 0, 0, 3, 2, b'h', b'i', 0, 80]],
    );
    assert_eq!(last, Ok(Progress::Done));
    assert_eq!(
        sent,
        vec![
            vec![5, 2, 0, 2],
            vec![1, 2, b'a', b'l', 3, b'p', b'w', b'!'],
            vec![5, 1, 0, 1, 192, 0, 2, 7, 0x08, 0x49],
        ]
    );
}

#[test]
fn socks5_reads_exactly_the_reply_of_an_ipv6_bound_address() {
    let dest = Dest::Addr("[2001:db8::1]:21".parse().unwrap());
    let mut t = socks(dest, None);
    let mut reply = vec![5, 0, 0, 4];
    reply.extend_from_slice(&[0; 16]);
    reply.extend_from_slice(&[0, 21]);
    let (sent, last) = run(&mut t, &[&[5, 0], &reply]);
    assert_eq!(last, Ok(Progress::Done));
    let request = sent.get(1).unwrap();
    assert_eq!(request.get(..4).unwrap(), &[5, 1, 0, 4]);
    assert_eq!(request.len(), 4 + 16 + 2);
}

#[test]
fn socks5_refusals_are_clear_errors() {
    let name = || Dest::Name("h".into(), 21);
    let (_, last) = run(&mut socks(name(), Some(("u", "bad"))), &[&[5, 2], &[1, 1]]);
    assert!(matches!(last, Err(ProxyError::AuthRefused(ref m)) if m.contains("refused")));
    let (_, last) = run(&mut socks(name(), None), &[&[5, 0xFF]]);
    assert!(
        matches!(last, Err(ProxyError::AuthRefused(ref m)) if m.contains("requires credentials"))
    );
    let (_, last) = run(&mut socks(name(), None), &[&[5, 0], &[5, 5, 0, 1, 0]]);
    assert_eq!(
        last,
        Err(ProxyError::Refused {
            target: "h:21".into(),
            reason: "connection refused (SOCKS5 reply 5)".into()
        })
    );
    let (_, last) = run(&mut socks(name(), None), &[b"HT"]);
    assert!(matches!(last, Err(ProxyError::Protocol(_))));
    // A method that was not offered.
    let (_, last) = run(&mut socks(name(), None), &[&[5, 2]]);
    assert!(matches!(last, Err(ProxyError::Protocol(_))));
}

#[test]
fn http_connect_sends_basic_auth_and_stops_at_the_end_of_the_head() {
    let mut t = Tunnel::Http(http::Connect::new(
        Dest::Name("ftp.example.com".into(), 21),
        Some(("Aladdin", "open sesame")),
    ));
    let reply = b"HTTP/1.1 200 Connection established\r\nVia: x\r\n\r\n";
    let (sent, last) = run(&mut t, &[reply]);
    assert_eq!(last, Ok(Progress::Done));
    assert_eq!(
        sent,
        vec![
            b"CONNECT ftp.example.com:21 HTTP/1.1\r\nHost: ftp.example.com:21\r\n\
              Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n"
                .to_vec()
        ]
    );
    assert_eq!(t.wanted(), 0, "no byte past the head may be read");
}

#[test]
fn http_connect_refusals_are_clear_errors() {
    let dest = || Dest::Addr("[::1]:21".parse().unwrap());
    let mut t = Tunnel::Http(http::Connect::new(dest(), None));
    assert_eq!(
        t.start(),
        b"CONNECT [::1]:21 HTTP/1.1\r\nHost: [::1]:21\r\n\r\n"
    );
    let (_, last) = run(
        &mut t,
        &[b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"],
    );
    assert_eq!(
        last,
        Err(ProxyError::AuthRefused(
            "HTTP: HTTP/1.1 407 Proxy Authentication Required".into()
        ))
    );
    let mut t = Tunnel::Http(http::Connect::new(dest(), None));
    let (_, last) = run(&mut t, &[b"HTTP/1.0 502 Bad Gateway\r\n\r\n"]);
    assert!(matches!(last, Err(ProxyError::Refused { ref reason, .. }) if reason.contains("502")));
    let mut t = Tunnel::Http(http::Connect::new(dest(), None));
    let (_, last) = run(&mut t, &[b"220 ftp ready\r\n\r\n"]);
    assert!(matches!(last, Err(ProxyError::Protocol(_))));
}

#[test]
fn base64_matches_rfc4648_vectors() {
    for (input, expected) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(http::base64_for_tests(input.as_bytes()), expected);
    }
}

#[test]
fn proxy_urls_parse_with_defaults_and_redaction() {
    let p = Proxy::parse("socks5://proxy.example:9050").unwrap();
    assert_eq!(p.kind(), ProxyKind::Socks5 { remote_dns: false });
    assert_eq!(
        (p.host(), p.port(), p.user()),
        ("proxy.example", 9050, None)
    );
    let p = Proxy::parse("http://u%40corp:p%3Ass@[::1]").unwrap();
    assert_eq!(p.kind(), ProxyKind::HttpConnect);
    assert_eq!((p.host(), p.port()), ("::1", 8080));
    assert_eq!((p.user(), p.password()), (Some("u@corp"), Some("p:ss")));
    assert_eq!(p.to_string(), "http://u@corp:****@[::1]:8080");
    assert!(!format!("{p:?}").contains("p:ss"));
    let p = Proxy::parse("ftp://gw.example?login=site").unwrap();
    assert_eq!(p.kind(), ProxyKind::Ftp(FtpProxyLogin::Site));
    assert_eq!(p.to_string(), "ftp://gw.example:21?login=site");
    assert_eq!(
        Proxy::parse("ftp://gw").unwrap().kind(),
        ProxyKind::Ftp(FtpProxyLogin::UserAtHost)
    );
    for bad in [
        "https://proxy",
        "socks4://proxy",
        "socks5://",
        "http://proxy/path",
        "http://proxy?login=site",
        "ftp://gw?login=telnet",
        "http://u:p%0D%0A@proxy",
    ] {
        let e = Proxy::parse(bad).unwrap_err();
        assert!(
            matches!(e, Error::InvalidInput(InvalidInput::Url(_))),
            "{bad}: {e}"
        );
    }
    let e = Proxy::parse("bogus://u:hunter2@proxy").unwrap_err();
    assert!(!e.to_string().contains("hunter2"));
}

#[test]
fn routes_tunnel_the_origin_name_and_map_the_placeholder_back() {
    let config = Config::default().proxy(Proxy::http("127.0.0.1", 3128));
    let route = Route::new(&config, "ftp.example.com").unwrap();
    let hop = route.control(&Target::Host("ftp.example.com".into(), 21));
    assert_eq!(
        (hop.proxy_host.as_str(), hop.proxy_port),
        ("127.0.0.1", 3128)
    );
    assert_eq!(hop.dest, Some(Dest::Name("ftp.example.com".into(), 21)));
    let peer = Route::peer(hop.dest.as_ref(), "127.0.0.1:3128".parse().unwrap());
    assert_eq!(peer, "0.0.0.0:21".parse().unwrap());
    // A passive connection to the placeholder goes to the name; a reconnect too.
    let data = route.data("0.0.0.0:40000".parse().unwrap()).unwrap();
    assert_eq!(data.dest, Some(Dest::Name("ftp.example.com".into(), 40000)));
    assert_eq!(
        route.control(&Target::Addr(peer)).dest,
        Some(Dest::Name("ftp.example.com".into(), 21))
    );
    // A trusted PASV address is tunnelled as it is.
    let data = route.data("192.0.2.9:40000".parse().unwrap()).unwrap();
    assert_eq!(
        data.dest,
        Some(Dest::Addr("192.0.2.9:40000".parse().unwrap()))
    );
    assert!(matches!(
        route.refuse_active(),
        Err(Error::Proxy(ProxyError::ActiveMode))
    ));
    // socks5:// resolves locally; socks5h:// does not.
    let local = Config::default().proxy(Proxy::parse("socks5://p").unwrap());
    let hop = Route::new(&local, "h")
        .unwrap()
        .control(&Target::Host("h".into(), 21));
    assert!(hop.resolve_locally);
    let remote = Config::default().proxy(Proxy::parse("socks5h://p").unwrap());
    let hop = Route::new(&remote, "h")
        .unwrap()
        .control(&Target::Host("h".into(), 21));
    assert!(!hop.resolve_locally);
}

#[test]
fn ftp_proxy_routes_go_to_the_proxy_and_plan_the_login() {
    let proxy = Proxy::ftp("gw", 2121, FtpProxyLogin::UserAtHost);
    let config = Config::default().proxy(proxy.clone());
    let route = Route::new(&config, "origin").unwrap();
    let hop = route.control(&Target::Host("origin".into(), 21));
    assert_eq!(
        (hop.proxy_host.as_str(), hop.proxy_port, hop.dest),
        ("gw", 2121, None)
    );
    assert!(route.data("192.0.2.1:5000".parse().unwrap()).is_none());
    assert!(route.refuse_active().is_ok());
    assert!(matches!(
        ftp_login_plan(&proxy, "bob", "origin", 21),
        Some(FtpProxyPlan::User(u)) if u == "bob@origin"
    ));
    assert!(matches!(
        ftp_login_plan(&proxy, "", "origin", 2100),
        Some(FtpProxyPlan::User(u)) if u == "anonymous@origin:2100"
    ));
    let site = Proxy::ftp("gw", 21, FtpProxyLogin::Open).credentials("pu", "pp");
    assert!(matches!(
        ftp_login_plan(&site, "bob", "origin", 21),
        Some(FtpProxyPlan::Command { proxy_login: Some((u, p)), command })
            if u == "pu" && p == "pp" && command == "OPEN origin"
    ));
    assert!(ftp_login_plan(&Proxy::socks5("p", 1), "bob", "origin", 21).is_none());
}
