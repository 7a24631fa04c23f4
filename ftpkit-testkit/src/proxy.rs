//! Small SOCKS5 and HTTP `CONNECT` proxies on loopback, on threads, that
//! relay to the destination they are asked for and record every request
//! (the destination as the client sent it: a name or an address).
//!
//! Names are resolved by the proxy: from its own table first
//! ([`ProxyServer::alias`], names the client cannot resolve, to prove
//! remote DNS), then by the system.

use std::{
    collections::HashMap,
    io::{self, BufRead, BufReader, Read, Write},
    net::{
        IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs,
    },
    sync::{Arc, Mutex},
    thread,
};

/// The protocol a [`ProxyServer`] speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyProtocol {
    /// SOCKS5 (RFC 1928, RFC 1929).
    Socks5,
    /// HTTP `CONNECT`.
    Http,
}

/// What a client asked the proxy for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyRequest {
    /// The destination as sent: `name:port` or `ip:port` (IPv6 in brackets).
    pub target: String,
    /// Whether the destination was a host name (remote DNS) rather than an
    /// address.
    pub by_name: bool,
    /// The credentials given, if any.
    pub credentials: Option<(String, String)>,
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<ProxyRequest>>,
    aliases: Mutex<HashMap<String, IpAddr>>,
}

/// A proxy listening on 127.0.0.1. Its threads live until the test process
/// ends.
pub struct ProxyServer {
    addr: SocketAddr,
    protocol: ProxyProtocol,
    shared: Arc<Shared>,
}

impl ProxyServer {
    /// A proxy of `protocol` without authentication.
    pub fn start(protocol: ProxyProtocol) -> ProxyServer {
        ProxyServer::spawn(protocol, None)
    }

    /// A proxy of `protocol` that requires `user` and `password`.
    pub fn with_auth(protocol: ProxyProtocol, user: &str, password: &str) -> ProxyServer {
        ProxyServer::spawn(protocol, Some((user.to_owned(), password.to_owned())))
    }

    fn spawn(protocol: ProxyProtocol, auth: Option<(String, String)>) -> ProxyServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let shared = Arc::new(Shared::default());
        let state = shared.clone();
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let state = state.clone();
                let auth = auth.clone();
                thread::spawn(move || {
                    let _ = serve(conn, protocol, auth.as_ref(), &state);
                });
            }
        });
        ProxyServer {
            addr,
            protocol,
            shared,
        }
    }

    /// Makes the proxy resolve `name` to `ip` (a name only it knows).
    pub fn alias(&self, name: &str, ip: IpAddr) -> &ProxyServer {
        self.shared
            .aliases
            .lock()
            .unwrap()
            .insert(name.to_owned(), ip);
        self
    }

    /// The proxy's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The proxy URL, with `user:password@` if given.
    pub fn url(&self, credentials: Option<(&str, &str)>) -> String {
        let scheme = match self.protocol {
            ProxyProtocol::Socks5 => "socks5h",
            ProxyProtocol::Http => "http",
        };
        match credentials {
            Some((user, password)) => format!("{scheme}://{user}:{password}@{}", self.addr),
            None => format!("{scheme}://{}", self.addr),
        }
    }

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<ProxyRequest> {
        self.shared.requests.lock().unwrap().clone()
    }
}

fn refuse(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

fn resolve(shared: &Shared, host: &str, port: u16) -> io::Result<TcpStream> {
    if let Some(ip) = shared.aliases.lock().unwrap().get(host) {
        return TcpStream::connect((*ip, port));
    }
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
    TcpStream::connect(&addrs[..])
}

fn serve(
    mut client: TcpStream,
    protocol: ProxyProtocol,
    auth: Option<&(String, String)>,
    shared: &Shared,
) -> io::Result<()> {
    let upstream = match protocol {
        ProxyProtocol::Socks5 => socks5(&mut client, auth, shared)?,
        ProxyProtocol::Http => http(&mut client, auth, shared)?,
    };
    relay(client, upstream)
}

fn socks5(
    client: &mut TcpStream,
    auth: Option<&(String, String)>,
    shared: &Shared,
) -> io::Result<TcpStream> {
    let mut head = [0u8; 2];
    client.read_exact(&mut head)?;
    let mut methods = vec![0u8; usize::from(head[1])];
    client.read_exact(&mut methods)?;
    let mut credentials = None;
    match auth {
        None if methods.contains(&0) => client.write_all(&[5, 0])?,
        Some(expected) if methods.contains(&2) => {
            client.write_all(&[5, 2])?;
            let mut ver_len = [0u8; 2];
            client.read_exact(&mut ver_len)?;
            let mut user = vec![0u8; usize::from(ver_len[1])];
            client.read_exact(&mut user)?;
            let mut len = [0u8; 1];
            client.read_exact(&mut len)?;
            let mut password = vec![0u8; usize::from(len[0])];
            client.read_exact(&mut password)?;
            let given = (
                String::from_utf8_lossy(&user).into_owned(),
                String::from_utf8_lossy(&password).into_owned(),
            );
            if &given != expected {
                client.write_all(&[1, 1])?;
                return Err(refuse("bad credentials"));
            }
            client.write_all(&[1, 0])?;
            credentials = Some(given);
        }
        _ => {
            client.write_all(&[5, 0xFF])?;
            return Err(refuse("no acceptable method"));
        }
    }
    let mut request = [0u8; 4];
    client.read_exact(&mut request)?;
    let (target, by_name, upstream) = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip)?;
            let port = read_port(client)?;
            let addr = SocketAddr::new(Ipv4Addr::from(ip).into(), port);
            (addr.to_string(), false, TcpStream::connect(addr))
        }
        4 => {
            let mut ip = [0u8; 16];
            client.read_exact(&mut ip)?;
            let port = read_port(client)?;
            let addr = SocketAddr::new(Ipv6Addr::from(ip).into(), port);
            (addr.to_string(), false, TcpStream::connect(addr))
        }
        3 => {
            let mut len = [0u8; 1];
            client.read_exact(&mut len)?;
            let mut name = vec![0u8; usize::from(len[0])];
            client.read_exact(&mut name)?;
            let name = String::from_utf8_lossy(&name).into_owned();
            let port = read_port(client)?;
            let upstream = resolve(shared, &name, port);
            (format!("{name}:{port}"), true, upstream)
        }
        _ => return Err(refuse("address type")),
    };
    shared.requests.lock().unwrap().push(ProxyRequest {
        target,
        by_name,
        credentials,
    });
    match upstream {
        Ok(upstream) => {
            client.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])?;
            Ok(upstream)
        }
        Err(e) => {
            client.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0])?;
            Err(e)
        }
    }
}

fn read_port(client: &mut TcpStream) -> io::Result<u16> {
    let mut port = [0u8; 2];
    client.read_exact(&mut port)?;
    Ok(u16::from_be_bytes(port))
}

fn http(
    client: &mut TcpStream,
    auth: Option<&(String, String)>,
    shared: &Shared,
) -> io::Result<TcpStream> {
    // Read the head byte by byte: nothing past it is the proxy's.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        client.read_exact(&mut byte)?;
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = BufReader::new(head.as_bytes()).lines();
    let first = lines.next().transpose()?.unwrap_or_default();
    let mut parts = first.split(' ');
    let (Some("CONNECT"), Some(authority)) = (parts.next(), parts.next()) else {
        client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")?;
        return Err(refuse("not CONNECT"));
    };
    let given = lines
        .map_while(Result::ok)
        .find_map(|line| {
            line.strip_prefix("Proxy-Authorization: Basic ")
                .map(str::to_owned)
        })
        .and_then(|b64| decode_base64(&b64))
        .and_then(|text| {
            text.split_once(':')
                .map(|(u, p)| (u.to_owned(), p.to_owned()))
        });
    if let Some(expected) = auth
        && given.as_ref() != Some(expected)
    {
        client.write_all(
            b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"t\"\r\n\r\n",
        )?;
        return Err(refuse("bad credentials"));
    }
    let (host, port) = authority
        .rsplit_once(':')
        .ok_or_else(|| refuse("authority"))?;
    let port: u16 = port.parse().map_err(|_| refuse("port"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let by_name = host.parse::<IpAddr>().is_err();
    shared.requests.lock().unwrap().push(ProxyRequest {
        target: authority.to_owned(),
        by_name,
        credentials: given,
    });
    match resolve(shared, host, port) {
        Ok(upstream) => {
            client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
            Ok(upstream)
        }
        Err(e) => {
            client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n")?;
            Err(e)
        }
    }
}

fn decode_base64(text: &str) -> Option<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.trim().bytes().filter(|&c| c != b'=') {
        let value = ALPHABET.iter().position(|&a| a == c)? as u32;
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    String::from_utf8(out).ok()
}

/// Copies both ways until each side ends, passing each end on as a
/// half-close so the far side sees it.
fn relay(client: TcpStream, upstream: TcpStream) -> io::Result<()> {
    let (mut client_read, mut upstream_write) = (client.try_clone()?, upstream.try_clone()?);
    let up = thread::spawn(move || {
        let _ = io::copy(&mut client_read, &mut upstream_write);
        let _ = upstream_write.shutdown(Shutdown::Write);
    });
    let (mut upstream_read, mut client_write) = (upstream, client);
    let _ = io::copy(&mut upstream_read, &mut client_write);
    let _ = client_write.shutdown(Shutdown::Write);
    let _ = up.join();
    Ok(())
}
