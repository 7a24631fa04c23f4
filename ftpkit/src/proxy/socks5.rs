//! The SOCKS5 handshake (RFC 1928), with username/password authentication
//! (RFC 1929), as a state machine over bytes.

use super::{
    error::ProxyError,
    wire::{Dest, Progress},
};

const VERSION: u8 = 5;
const NO_AUTH: u8 = 0x00;
const USER_PASS: u8 = 0x02;
const NO_ACCEPTABLE: u8 = 0xFF;
const CONNECT: u8 = 0x01;
const ATYP_V4: u8 = 0x01;
const ATYP_NAME: u8 = 0x03;
const ATYP_V6: u8 = 0x04;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for the method choice (2 bytes).
    Method,
    /// Waiting for the authentication status (2 bytes).
    Auth,
    /// Waiting for the first 5 bytes of the reply.
    ReplyHead,
    /// Waiting for the rest of the reply (bound address and port).
    ReplyTail,
    Done,
}

/// A SOCKS5 `CONNECT` to one destination.
#[derive(Debug)]
pub(crate) struct Socks5 {
    dest: Dest,
    credentials: Option<(String, String)>,
    state: State,
    buf: Vec<u8>,
    need: usize,
}

fn protocol(what: &str) -> ProxyError {
    ProxyError::Protocol(format!("SOCKS5: {what}"))
}

/// RFC 1928's reply codes.
fn reason(code: u8) -> &'static str {
    match code {
        1 => "general SOCKS server failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown SOCKS5 error",
    }
}

/// A field of at most 255 bytes, truncated beyond (RFC 1929 limits).
fn short(bytes: &[u8]) -> &[u8] {
    bytes.get(..255).unwrap_or(bytes)
}

impl Socks5 {
    pub(crate) fn new(dest: Dest, credentials: Option<(&str, &str)>) -> Socks5 {
        Socks5 {
            dest,
            credentials: credentials.map(|(u, p)| (u.to_owned(), p.to_owned())),
            state: State::Method,
            buf: Vec::new(),
            need: 2,
        }
    }

    /// The greeting: the methods offered (username/password only when
    /// credentials were given).
    pub(crate) fn start(&mut self) -> Vec<u8> {
        if self.credentials.is_some() {
            vec![VERSION, 2, NO_AUTH, USER_PASS]
        } else {
            vec![VERSION, 1, NO_AUTH]
        }
    }

    pub(crate) fn wanted(&self) -> usize {
        self.need.saturating_sub(self.buf.len())
    }

    fn expect(&mut self, state: State, need: usize) {
        self.state = state;
        self.buf.clear();
        self.need = need;
    }

    fn request(&mut self) -> Result<Vec<u8>, ProxyError> {
        let mut out = vec![VERSION, CONNECT, 0];
        let port = match &self.dest {
            Dest::Addr(addr) => {
                match addr.ip() {
                    std::net::IpAddr::V4(ip) => {
                        out.push(ATYP_V4);
                        out.extend_from_slice(&ip.octets());
                    }
                    std::net::IpAddr::V6(ip) => {
                        out.push(ATYP_V6);
                        out.extend_from_slice(&ip.octets());
                    }
                }
                addr.port()
            }
            Dest::Name(host, port) => {
                let len = u8::try_from(host.len())
                    .map_err(|_| protocol("the host name is longer than 255 bytes"))?;
                out.push(ATYP_NAME);
                out.push(len);
                out.extend_from_slice(host.as_bytes());
                *port
            }
        };
        out.extend_from_slice(&port.to_be_bytes());
        self.expect(State::ReplyHead, 5);
        Ok(out)
    }

    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Result<Progress, ProxyError> {
        let take = bytes.get(..self.wanted()).unwrap_or(bytes);
        self.buf.extend_from_slice(take);
        if self.buf.len() < self.need {
            return Ok(Progress::More);
        }
        match (self.state, self.buf.as_slice()) {
            (State::Method, [VERSION, NO_AUTH]) => self.request().map(Progress::Send),
            (State::Method, [VERSION, USER_PASS]) => match self.credentials.take() {
                Some((user, password)) => {
                    let (user, password) = (short(user.as_bytes()), short(password.as_bytes()));
                    let mut out = vec![1, user.len() as u8];
                    out.extend_from_slice(user);
                    out.push(password.len() as u8);
                    out.extend_from_slice(password);
                    self.expect(State::Auth, 2);
                    Ok(Progress::Send(out))
                }
                None => Err(protocol("chose username/password, which was not offered")),
            },
            (State::Method, [VERSION, NO_ACCEPTABLE]) => {
                Err(ProxyError::AuthRefused(if self.credentials.is_some() {
                    "SOCKS5: no acceptable authentication method".into()
                } else {
                    "SOCKS5: the proxy requires credentials (give user:password in the proxy URL)"
                        .into()
                }))
            }
            (State::Method, [VERSION, other]) => Err(protocol(&format!(
                "chose authentication method {other:#04x}, which was not offered"
            ))),
            (State::Auth, [1, 0]) => self.request().map(Progress::Send),
            (State::Auth, [1, status]) => Err(ProxyError::AuthRefused(format!(
                "SOCKS5: user name or password refused (status {status})"
            ))),
            (State::ReplyHead, [VERSION, 0, 0, atyp, first]) => {
                let rest = match *atyp {
                    ATYP_V4 => 4 - 1 + 2,
                    ATYP_V6 => 16 - 1 + 2,
                    ATYP_NAME => usize::from(*first) + 2,
                    other => return Err(protocol(&format!("unknown address type {other}"))),
                };
                self.expect(State::ReplyTail, rest);
                Ok(Progress::More)
            }
            (State::ReplyHead, [VERSION, code, ..]) => Err(ProxyError::Refused {
                target: self.dest.to_string(),
                reason: format!("{} (SOCKS5 reply {code})", reason(*code)),
            }),
            (State::ReplyTail, _) => {
                self.expect(State::Done, 0);
                Ok(Progress::Done)
            }
            (State::Done, _) => Ok(Progress::Done),
            (_, [version, ..]) => Err(protocol(&format!(
                "version {version} in a reply (not a SOCKS5 proxy?)"
            ))),
            (_, []) => Err(protocol("empty reply")),
        }
    }
}
