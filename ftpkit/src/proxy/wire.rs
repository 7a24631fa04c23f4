//! What a handshake exchanges with the drivers: where a tunnel leads and
//! what the handshake wants next.

use std::{fmt, net::SocketAddr};

use crate::error::{Error, Result};

/// Where a tunnel leads: an address, or a name the proxy resolves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Dest {
    Addr(SocketAddr),
    Name(String, u16),
}

impl fmt::Display for Dest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dest::Addr(addr) => write!(f, "{addr}"),
            Dest::Name(host, port) => write!(f, "{host}:{port}"),
        }
    }
}

impl Dest {
    /// The destination `host:port` resolved to the first of `addrs`.
    pub(crate) fn resolved(
        host: &str,
        addrs: impl IntoIterator<Item = SocketAddr>,
        phase: crate::error::Phase,
    ) -> Result<Dest> {
        addrs.into_iter().next().map(Dest::Addr).ok_or_else(|| {
            Error::io(phase)(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{host} has no address"),
            ))
        })
    }
}

/// What a tunnel handshake wants next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Progress {
    /// Write these bytes, then read.
    Send(Vec<u8>),
    /// Read more (at most [`Tunnel::wanted`](super::tunnel::Tunnel::wanted) bytes).
    More,
    /// The tunnel is open: the next byte is the server's.
    Done,
}
