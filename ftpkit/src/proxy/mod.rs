//! Proxies: SOCKS5, HTTP `CONNECT` and the classic FTP proxies.
//!
//! A [`Proxy`] is set in [`Config::proxy`](crate::Config::proxy), built with
//! its constructors or parsed from a URL ([`Proxy::parse`]):
//!
//! | URL | What ftpkit does |
//! |-----|------------------|
//! | `socks5://[user:pass@]host[:1080]` | SOCKS5 (RFC 1928, with RFC 1929 username/password); the FTP server's name is resolved locally |
//! | `socks5h://[user:pass@]host[:1080]` | the same, but the name is sent to the proxy, which resolves it (remote DNS) |
//! | `http://[user:pass@]host[:8080]` | HTTP `CONNECT` (RFC 9110), with Basic authentication; the name is sent to the proxy |
//! | `ftp://[user:pass@]host[:21][?login=user\|site\|open]` | an FTP server that relays: `USER user@host` (the default), `SITE host` or `OPEN host` after logging in to the proxy |
//!
//! Through SOCKS5 and HTTP the control connection and every passive data
//! connection are tunnelled to the FTP server; TLS runs inside the tunnel and
//! the certificate is verified against the FTP server's name, never the
//! proxy's. Active mode cannot work through a tunnel (the server would
//! connect to the proxy's side) and is refused with [`ProxyError::ActiveMode`].
//! Through an FTP proxy the proxy relays the data connections itself;
//! FTPS through one is refused ([`ProxyError::TlsThroughFtpProxy`]).
//!
//! When the proxy resolves the server's name (`socks5h://`, `http://`),
//! the client never learns the server's address: `peer_addr` then reports
//! `0.0.0.0` with the server's port, and passive connections go to the
//! server's name through the proxy.
//!
//! The library only uses the proxy it is given: it reads no environment
//! variable (the `ftpkit` command reads `ftp_proxy`, `all_proxy` and
//! `no_proxy`). Proxy passwords never show in `Debug` or `Display`.
//!
//! The handshakes are sans-IO state machines over bytes, run by the
//! drivers on their sockets.

mod http;
mod socks5;

use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    str::FromStr,
};

use crate::{
    config::Config,
    error::{Error, InvalidInput, Result},
    proto::engine::Target,
};

/// The kind of proxy, and how it is spoken to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyKind {
    /// SOCKS5; with `remote_dns` the FTP server's name is sent to the proxy
    /// (`socks5h://`), else it is resolved locally and its address sent
    /// (`socks5://`).
    Socks5 {
        /// Send the host name to the proxy instead of resolving it locally.
        remote_dns: bool,
    },
    /// HTTP `CONNECT`; the host name is sent to the proxy.
    HttpConnect,
    /// An FTP proxy: an FTP server that relays to the origin server after a
    /// login that names it.
    Ftp(FtpProxyLogin),
}

/// How an FTP proxy is told which server to relay to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FtpProxyLogin {
    /// `USER user@host` (`user@host:port` off port 21), then the server's
    /// `PASS`. The proxy's own credentials are not used.
    UserAtHost,
    /// `USER`/`PASS` to the proxy if it has credentials, `SITE host`, then
    /// the server's login.
    Site,
    /// `USER`/`PASS` to the proxy if it has credentials, `OPEN host`, then
    /// the server's login.
    Open,
}

/// A proxy to connect through: its kind, address and credentials.
///
/// ```
/// use ftpkit::proxy::{Proxy, ProxyKind};
///
/// let proxy: Proxy = "socks5h://alice:s3cret@proxy.example.com".parse()?;
/// assert_eq!(proxy.kind(), ProxyKind::Socks5 { remote_dns: true });
/// assert_eq!(proxy.port(), 1080);
/// assert_eq!(proxy.user(), Some("alice"));
/// assert!(!format!("{proxy:?} {proxy}").contains("s3cret"));
/// # Ok::<(), ftpkit::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    kind: ProxyKind,
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("kind", &self.kind)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user())
            .field("password", &self.credentials.as_ref().map(|_| "****"))
            .finish()
    }
}

/// The proxy as a URL, with its password shown as `****`.
impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.kind {
            ProxyKind::Socks5 { remote_dns: false } => "socks5",
            ProxyKind::Socks5 { remote_dns: true } => "socks5h",
            ProxyKind::HttpConnect => "http",
            ProxyKind::Ftp(_) => "ftp",
        };
        write!(f, "{scheme}://")?;
        if let Some((user, _)) = &self.credentials {
            write!(f, "{user}:****@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)?;
        } else {
            write!(f, "{}:{}", self.host, self.port)?;
        }
        match self.kind {
            ProxyKind::Ftp(FtpProxyLogin::Site) => f.write_str("?login=site"),
            ProxyKind::Ftp(FtpProxyLogin::Open) => f.write_str("?login=open"),
            _ => Ok(()),
        }
    }
}

impl FromStr for Proxy {
    type Err = Error;

    fn from_str(text: &str) -> Result<Proxy> {
        Proxy::parse(text)
    }
}

fn bad_url(shown: &str, why: impl fmt::Display) -> Error {
    Error::InvalidInput(InvalidInput::Url(format!("proxy {shown:?}: {why}")))
}

impl Proxy {
    /// A proxy of `kind` at `host:port`, without credentials.
    pub fn new(kind: ProxyKind, host: impl Into<String>, port: u16) -> Proxy {
        Proxy {
            kind,
            host: host.into(),
            port,
            credentials: None,
        }
    }

    /// A SOCKS5 proxy that resolves names itself (`socks5h://`).
    pub fn socks5(host: impl Into<String>, port: u16) -> Proxy {
        Proxy::new(ProxyKind::Socks5 { remote_dns: true }, host, port)
    }

    /// An HTTP proxy, spoken to with `CONNECT`.
    pub fn http(host: impl Into<String>, port: u16) -> Proxy {
        Proxy::new(ProxyKind::HttpConnect, host, port)
    }

    /// An FTP proxy with the given login style.
    pub fn ftp(host: impl Into<String>, port: u16, login: FtpProxyLogin) -> Proxy {
        Proxy::new(ProxyKind::Ftp(login), host, port)
    }

    /// Sets the user name and password given to the proxy.
    pub fn credentials(mut self, user: impl Into<String>, password: impl Into<String>) -> Proxy {
        self.credentials = Some((user.into(), password.into()));
        self
    }

    /// Parses a proxy URL (see the [module documentation](self) for the
    /// schemes). User and password are percent-decoded. Refused: another
    /// scheme, a missing host, a path, a query other than `login=` on
    /// `ftp://`, and CR, LF or NUL in any part.
    pub fn parse(text: &str) -> Result<Proxy> {
        let shown = crate::url::redact(text);
        if text.chars().any(char::is_control) {
            return Err(bad_url(&shown, "the URL contains a control character"));
        }
        let url = ::url::Url::parse(text).map_err(|e| bad_url(&shown, e))?;
        let (mut kind, default_port) = match url.scheme() {
            "socks5" => (ProxyKind::Socks5 { remote_dns: false }, 1080),
            "socks5h" => (ProxyKind::Socks5 { remote_dns: true }, 1080),
            "http" => (ProxyKind::HttpConnect, 8080),
            "ftp" => (ProxyKind::Ftp(FtpProxyLogin::UserAtHost), 21),
            other => {
                return Err(bad_url(
                    &shown,
                    format!("unknown scheme {other:?} (socks5, socks5h, http or ftp)"),
                ));
            }
        };
        let host = match url.host() {
            Some(::url::Host::Ipv6(ip)) => ip.to_string(),
            Some(host) => host.to_string(),
            None => return Err(bad_url(&shown, "no host")),
        };
        if host.is_empty() {
            return Err(bad_url(&shown, "no host"));
        }
        if !matches!(url.path(), "" | "/") || url.fragment().is_some() {
            return Err(bad_url(&shown, "a proxy URL has no path"));
        }
        for (key, value) in url.query_pairs() {
            kind = match (kind, key.as_ref(), value.as_ref()) {
                (ProxyKind::Ftp(_), "login", "user") => ProxyKind::Ftp(FtpProxyLogin::UserAtHost),
                (ProxyKind::Ftp(_), "login", "site") => ProxyKind::Ftp(FtpProxyLogin::Site),
                (ProxyKind::Ftp(_), "login", "open") => ProxyKind::Ftp(FtpProxyLogin::Open),
                _ => {
                    return Err(bad_url(
                        &shown,
                        format!("unknown option {key}={value} (ftp:// takes login=user|site|open)"),
                    ));
                }
            };
        }
        let decode = |part: &str| {
            percent_encoding::percent_decode_str(part)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| bad_url(&shown, "user or password is not UTF-8"))
        };
        let user = decode(url.username())?;
        let password = decode(url.password().unwrap_or_default())?;
        if [&user, &password]
            .iter()
            .any(|s| s.contains(['\r', '\n', '\0']))
        {
            return Err(bad_url(&shown, "CR, LF or NUL in user or password"));
        }
        let mut proxy = Proxy::new(kind, host, url.port().unwrap_or(default_port));
        if !user.is_empty() || !password.is_empty() {
            proxy = proxy.credentials(user, password);
        }
        Ok(proxy)
    }

    /// The kind of proxy.
    pub fn kind(&self) -> ProxyKind {
        self.kind
    }

    /// The proxy's host name or address.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The user name given to the proxy, if any.
    pub fn user(&self) -> Option<&str> {
        self.credentials.as_ref().map(|(user, _)| user.as_str())
    }

    /// Whether connections are tunnelled (SOCKS5, HTTP) rather than relayed
    /// by an FTP proxy.
    pub fn is_tunnel(&self) -> bool {
        !matches!(self.kind, ProxyKind::Ftp(_))
    }

    pub(crate) fn password(&self) -> Option<&str> {
        self.credentials.as_ref().map(|(_, p)| p.as_str())
    }
}

/// Ways a proxy fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy refused the credentials, or asked for some that were not
    /// given.
    #[error("the proxy refused the authentication: {0}")]
    AuthRefused(String),
    /// The proxy would not open the connection to the server.
    #[error("the proxy could not connect to {target}: {reason}")]
    Refused {
        /// Where the proxy was asked to connect.
        target: String,
        /// The proxy's reason.
        reason: String,
    },
    /// The proxy answered something that is not its protocol.
    #[error("the proxy broke its protocol: {0}")]
    Protocol(String),
    /// Active mode through a SOCKS5 or HTTP proxy: the server would have to
    /// connect back through it.
    #[error("active mode cannot work through a SOCKS5 or HTTP proxy; use passive mode")]
    ActiveMode,
    /// FTPS through an FTP proxy: the proxy ends the control connection
    /// itself, so TLS could not be verified against the server.
    #[error("FTPS cannot run through an FTP proxy; use a SOCKS5 or HTTP proxy")]
    TlsThroughFtpProxy,
}

// ----- what the drivers run ------------------------------------------------

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
    /// Read more (at most [`Tunnel::wanted`] bytes).
    More,
    /// The tunnel is open: the next byte is the server's.
    Done,
}

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

/// The `USER` argument and the command that names the server, for an FTP
/// proxy's login style: what the engine sends in place of a plain login.
pub(crate) enum FtpProxyPlan {
    /// Log in as `user` (`user@host`).
    User(String),
    /// Log in to the proxy (if credentials), send the command, then log in.
    Command {
        proxy_login: Option<(String, String)>,
        command: String,
    },
}

/// The FTP-proxy login plan for `user` at `host:port`, if `proxy` is one.
pub(crate) fn ftp_login_plan(
    proxy: &Proxy,
    user: &str,
    host: &str,
    port: u16,
) -> Option<FtpProxyPlan> {
    let ProxyKind::Ftp(style) = proxy.kind else {
        return None;
    };
    let host = if port == crate::proto::rules::DEFAULT_PORT {
        host.to_owned()
    } else if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let proxy_login = proxy.credentials.clone();
    Some(match style {
        FtpProxyLogin::UserAtHost => {
            let user = if user.is_empty() { "anonymous" } else { user };
            FtpProxyPlan::User(format!("{user}@{host}"))
        }
        FtpProxyLogin::Site => FtpProxyPlan::Command {
            proxy_login,
            command: format!("SITE {host}"),
        },
        FtpProxyLogin::Open => FtpProxyPlan::Command {
            proxy_login,
            command: format!("OPEN {host}"),
        },
    })
}

#[cfg(test)]
mod tests;
