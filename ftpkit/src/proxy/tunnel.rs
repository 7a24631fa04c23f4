//! A SOCKS5 or HTTP `CONNECT` handshake, whichever the proxy speaks.

use super::{error::ProxyError, http, socks5, wire::Progress};

/// A SOCKS5 or HTTP `CONNECT` handshake. The driver writes
/// [`Tunnel::start`], then reads at most [`Tunnel::wanted`] bytes at a time
/// (never more, so no byte of the server is read by mistake) and feeds them
/// to [`Tunnel::feed`] until it says [`Progress::Done`].
#[derive(Debug)]
pub(crate) enum Tunnel {
    Socks5(socks5::Socks5),
    Http(http::Connect),
}

impl Tunnel {
    /// The bytes to write first.
    pub(crate) fn start(&mut self) -> Vec<u8> {
        match self {
            Tunnel::Socks5(t) => t.start(),
            Tunnel::Http(t) => t.start(),
        }
    }

    /// How many bytes to read at most.
    pub(crate) fn wanted(&self) -> usize {
        match self {
            Tunnel::Socks5(t) => t.wanted(),
            Tunnel::Http(t) => t.wanted(),
        }
    }

    /// Feeds bytes read from the proxy.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Result<Progress, ProxyError> {
        match self {
            Tunnel::Socks5(t) => t.feed(bytes),
            Tunnel::Http(t) => t.feed(bytes),
        }
    }
}
