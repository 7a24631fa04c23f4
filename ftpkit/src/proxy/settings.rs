//! A proxy as configured: its kind, address and credentials, parsed from a
//! URL; and the login an FTP proxy needs.

use std::{fmt, str::FromStr};

use crate::error::{Error, InvalidInput, Result};

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
    pub(super) kind: ProxyKind,
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) credentials: Option<(String, String)>,
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

    /// Parses a proxy URL (see the [module documentation](crate::proxy) for the
    /// schemes). User and password are percent-decoded. Refused: another
    /// scheme, a missing host, a path, a query other than `login=` on
    /// `ftp://`, and CR, LF or NUL in any part.
    pub fn parse(text: &str) -> Result<Proxy> {
        let shown = crate::redact::redact(text);
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
