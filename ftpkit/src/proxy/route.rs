//! The way a client's connections go through its proxy.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::{
    error::ProxyError,
    http,
    settings::{Proxy, ProxyKind},
    socks5,
    tunnel::Tunnel,
    wire::Dest,
};
use crate::{
    config::Config,
    error::{Error, Result},
    proto::engine::Target,
};

/// The address reported as the control connection's peer when the server's
/// address is not known (the proxy resolved its name): data connections to
/// it are tunnelled to the server's name.
const BY_NAME: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

/// One connection to open: to the proxy, then through it to `dest` (none:
/// the proxy is the end, an FTP proxy).
#[derive(Debug)]
pub(crate) struct Hop {
    pub(crate) proxy_host: String,
    pub(crate) proxy_port: u16,
    pub(crate) dest: Option<Dest>,
    /// Resolve a [`Dest::Name`] locally before the handshake.
    pub(crate) resolve_locally: bool,
}

/// The way a client's connections go through its proxy.
#[derive(Clone, Debug)]
pub(crate) struct Route {
    proxy: Proxy,
    origin: String,
}

impl Route {
    /// The route for connections to `origin` under `config`, if it names a
    /// proxy.
    pub(crate) fn new(config: &Config, origin: &str) -> Option<Route> {
        config.proxy.clone().map(|proxy| Route {
            proxy,
            origin: origin.to_owned(),
        })
    }

    fn hop(&self, dest: Option<Dest>) -> Hop {
        Hop {
            proxy_host: self.proxy.host.clone(),
            proxy_port: self.proxy.port,
            resolve_locally: self.proxy.kind == ProxyKind::Socks5 { remote_dns: false },
            dest,
        }
    }

    /// The control connection to `target`.
    pub(crate) fn control(&self, target: &Target) -> Hop {
        if !self.proxy.is_tunnel() {
            return match target {
                Target::Addr(addr) if addr.ip() != BY_NAME => Hop {
                    proxy_host: addr.ip().to_string(),
                    proxy_port: addr.port(),
                    dest: None,
                    resolve_locally: false,
                },
                _ => self.hop(None),
            };
        }
        self.hop(Some(match target {
            Target::Host(host, port) => match host.parse::<IpAddr>() {
                Ok(ip) => Dest::Addr(SocketAddr::new(ip, *port)),
                Err(_) => Dest::Name(host.clone(), *port),
            },
            Target::Addr(addr) => self.to(*addr),
        }))
    }

    /// A passive data connection to `addr`: through the tunnel, or direct
    /// (`None`) for an FTP proxy, which relays data at the address it gave.
    pub(crate) fn data(&self, addr: SocketAddr) -> Option<Hop> {
        self.proxy
            .is_tunnel()
            .then(|| self.hop(Some(self.to(addr))))
    }

    fn to(&self, addr: SocketAddr) -> Dest {
        if addr.ip() == BY_NAME {
            Dest::Name(self.origin.clone(), addr.port())
        } else {
            Dest::Addr(addr)
        }
    }

    /// The control connection's peer to report to the session: the
    /// server's address when known, else a placeholder that later data
    /// connections turn back into the server's name.
    pub(crate) fn peer(dest: Option<&Dest>, tcp_peer: SocketAddr) -> SocketAddr {
        match dest {
            None => tcp_peer,
            Some(Dest::Addr(addr)) => *addr,
            Some(Dest::Name(_, port)) => SocketAddr::new(BY_NAME, *port),
        }
    }

    /// The handshake that opens a tunnel to `dest`.
    pub(crate) fn tunnel(&self, dest: Dest) -> Tunnel {
        let creds = self.proxy.user().zip(self.proxy.password());
        match self.proxy.kind {
            ProxyKind::HttpConnect => Tunnel::Http(http::Connect::new(dest, creds)),
            _ => Tunnel::Socks5(socks5::Socks5::new(dest, creds)),
        }
    }

    /// The refusal of active mode, for tunnels.
    pub(crate) fn refuse_active(&self) -> Result<()> {
        if self.proxy.is_tunnel() {
            return Err(Error::Proxy(ProxyError::ActiveMode));
        }
        Ok(())
    }
}
