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

mod error;
mod http;
mod route;
mod settings;
mod socks5;
mod tunnel;
mod wire;

pub use error::ProxyError;
pub(crate) use route::{Hop, Route};
pub use settings::{FtpProxyLogin, Proxy, ProxyKind};
pub(crate) use settings::{FtpProxyPlan, ftp_login_plan};
pub(crate) use wire::{Dest, Progress};

#[cfg(test)]
mod tests;
