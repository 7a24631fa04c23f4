//! The HTTP `CONNECT` handshake (RFC 9110 section 9.3.6), with Basic
//! authentication, as a state machine over bytes.

use super::{
    error::ProxyError,
    wire::{Dest, Progress},
};

/// Longest response head accepted.
const MAX_HEAD: usize = 16 * 1024;

/// An HTTP `CONNECT` to one destination.
#[derive(Debug)]
pub(crate) struct Connect {
    authority: String,
    authorization: Option<String>,
    head: Vec<u8>,
    done: bool,
}

/// Standard base64 (RFC 4648, with padding).
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let index = ((n >> (18 - 6 * i)) & 63) as usize;
                out.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'=')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

impl Connect {
    pub(crate) fn new(dest: Dest, credentials: Option<(&str, &str)>) -> Connect {
        let authority = match dest {
            Dest::Addr(addr) => addr.to_string(),
            Dest::Name(host, port) if host.contains(':') => format!("[{host}]:{port}"),
            Dest::Name(host, port) => format!("{host}:{port}"),
        };
        Connect {
            authority,
            authorization: credentials
                .map(|(user, password)| base64(format!("{user}:{password}").as_bytes())),
            head: Vec::new(),
            done: false,
        }
    }

    pub(crate) fn start(&mut self) -> Vec<u8> {
        let mut request = format!("CONNECT {0} HTTP/1.1\r\nHost: {0}\r\n", self.authority);
        if let Some(auth) = &self.authorization {
            request.push_str(&format!("Proxy-Authorization: Basic {auth}\r\n"));
        }
        request.push_str("\r\n");
        request.into_bytes()
    }

    /// One byte at a time: the head ends at an empty line, and what follows
    /// is the server's.
    pub(crate) fn wanted(&self) -> usize {
        usize::from(!self.done)
    }

    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Result<Progress, ProxyError> {
        for &byte in bytes {
            if self.done {
                break;
            }
            self.head.push(byte);
            if self.head.len() > MAX_HEAD {
                return Err(ProxyError::Protocol(format!(
                    "HTTP: response head longer than {MAX_HEAD} bytes"
                )));
            }
            if self.head.ends_with(b"\r\n\r\n") || self.head.ends_with(b"\n\n") {
                self.done = true;
            }
        }
        if !self.done {
            return Ok(Progress::More);
        }
        let head = String::from_utf8_lossy(&self.head);
        let status_line = head.lines().next().unwrap_or_default().trim_end();
        let mut parts = status_line.splitn(3, ' ');
        let (version, code) = (parts.next(), parts.next());
        let code = match (version, code.and_then(|c| c.parse::<u16>().ok())) {
            (Some(v), Some(code)) if v.starts_with("HTTP/1.") => code,
            _ => {
                return Err(ProxyError::Protocol(format!(
                    "HTTP: not a status line: {:?}",
                    status_line.chars().take(80).collect::<String>()
                )));
            }
        };
        let shown: String = status_line.chars().take(200).collect();
        match code {
            200..=299 => Ok(Progress::Done),
            407 => Err(ProxyError::AuthRefused(format!("HTTP: {shown}"))),
            _ => Err(ProxyError::Refused {
                target: self.authority.clone(),
                reason: format!("HTTP: {shown}"),
            }),
        }
    }
}

#[cfg(test)]
pub(super) fn base64_for_tests(input: &[u8]) -> String {
    base64(input)
}
