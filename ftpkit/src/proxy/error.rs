//! How a proxy fails.

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
