//! [`FtpUrl`]: `ftp://`, `ftpes://` and `ftps://` URLs, parsed and checked
//! before anything is sent.
//!
//! ```
//! use ftpkit::{TlsMode, url::FtpUrl};
//!
//! let url = FtpUrl::parse("ftpes://bob:p%40ss@ftp.example.com/pub/a%20b.txt")?;
//! assert_eq!((url.host(), url.port(), url.user()), ("ftp.example.com", 21, "bob"));
//! assert_eq!(url.password(), Some("p@ss"));
//! assert_eq!(url.path(), b"pub/a b.txt");
//! assert_eq!(url.tls_mode(), Some(TlsMode::Explicit));
//! assert!(!format!("{url:?}").contains("p@ss"));
//! # Ok::<(), ftpkit::url::UrlError>(())
//! ```
//!
//! The schemes follow FileZilla and lftp: `ftp://` is plain FTP (port 21),
//! `ftpes://` explicit TLS (`AUTH TLS`, port 21), `ftps://` implicit TLS
//! (port 990). The path is percent-decoded to bytes and is relative to the
//! login directory unless it starts with `/` (written `%2F`:
//! `ftp://host/%2Fetc/motd`), as RFC 1738 says. User, password and path are
//! refused if they decode to CR, LF or NUL, which would end an FTP command
//! early and inject another, and so is a URL with a control character
//! written as such; `?` and `#` must be written `%3F` and `%23`.

use std::fmt;

use crate::{proto::command::MAX_ARG_LEN, tls::TlsMode};

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// Not a URL at all.
    #[error("not a URL: {0}")]
    Syntax(String),
    /// A scheme other than `ftp`, `ftpes` or `ftps`.
    #[error("unsupported URL scheme {0:?}: use ftp://, ftpes:// or ftps://")]
    Scheme(String),
    /// A query (`?`) or fragment (`#`): FTP URLs have neither.
    #[error("the URL has a query or fragment: write ? and # in file names as %3F and %23")]
    QueryOrFragment,
    /// No host, or a host that cannot be a host name or address.
    #[error("the URL names no usable host")]
    Host,
    /// A control character (CR, LF, tab, NUL...) written as such in the
    /// URL: URL parsing would drop some of them silently and change the
    /// path, so the URL is refused instead.
    #[error("the URL contains a control character: refused")]
    ControlCharacter,
    /// A part that decodes to CR, LF or NUL.
    #[error("the URL's {0} contains CR, LF or NUL: refused")]
    LineBreak(&'static str),
    /// A user name or password that is not UTF-8 once decoded.
    #[error("the URL's {0} is not UTF-8")]
    NotUtf8(&'static str),
    /// A path longer than an FTP argument may be.
    #[error("the URL's path is {0} bytes long; the limit is {MAX_ARG_LEN}")]
    TooLong(usize),
}

/// A parsed FTP URL. The password never shows in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct FtpUrl {
    host: String,
    port: u16,
    user: String,
    password: Option<String>,
    path: Vec<u8>,
    tls: Option<TlsMode>,
}

impl FtpUrl {
    /// Parses and checks `text`.
    pub fn parse(text: &str) -> Result<FtpUrl, UrlError> {
        // URL parsing would silently drop tabs and line breaks: refuse them.
        if text.chars().any(char::is_control) {
            return Err(UrlError::ControlCharacter);
        }
        let url = ::url::Url::parse(text).map_err(|e| UrlError::Syntax(e.to_string()))?;
        let (tls, default_port) = match url.scheme() {
            "ftp" => (None, 21),
            "ftpes" => (Some(TlsMode::Explicit), 21),
            "ftps" => (Some(TlsMode::Implicit), 990),
            other => return Err(UrlError::Scheme(other.to_owned())),
        };
        if url.query().is_some() || url.fragment().is_some() {
            return Err(UrlError::QueryOrFragment);
        }
        let host = url.host_str().ok_or(UrlError::Host)?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if !is_host(host) {
            return Err(UrlError::Host);
        }
        let user = decode_text(url.username(), "user name")?;
        let password = url
            .password()
            .map(|p| decode_text(p, "password"))
            .transpose()?;
        let raw_path = url.path().strip_prefix('/').unwrap_or(url.path());
        let path = decode(raw_path, "path")?;
        if path.len() > MAX_ARG_LEN {
            return Err(UrlError::TooLong(path.len()));
        }
        Ok(FtpUrl {
            host: host.to_owned(),
            port: url.port().unwrap_or(default_port),
            user,
            password,
            path,
            tls,
        })
    }

    /// The host name or address (IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port: from the URL, else 21 (990 for `ftps://`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port`, with brackets around an IPv6 address: what
    /// [`Client::connect_with`](crate::Client::connect_with) takes.
    pub fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The user name, decoded; empty when the URL names none (anonymous).
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The password, decoded, if the URL holds one.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// The path, decoded to bytes, without the `/` that separates it from
    /// the host: relative to the login directory unless it starts with `/`.
    pub fn path(&self) -> &[u8] {
        &self.path
    }

    /// The TLS mode the scheme asks for: `None` for `ftp://`.
    pub fn tls_mode(&self) -> Option<TlsMode> {
        self.tls
    }

    /// The last component of the path (empty for a directory URL).
    pub fn file_name(&self) -> &[u8] {
        self.path.rsplit(|&b| b == b'/').next().unwrap_or_default()
    }

    /// Whether the URL names a directory: no path, or one ending in `/`.
    pub fn is_dir(&self) -> bool {
        self.path.is_empty() || self.path.ends_with(b"/")
    }
}

impl fmt::Debug for FtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FtpUrl")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "****"))
            .field("path", &String::from_utf8_lossy(&self.path))
            .field("tls", &self.tls)
            .finish()
    }
}

/// A host name (letters, digits, `-`, `.`, `_`) or an IP address; nothing
/// that could carry a percent sequence, a space or a control character to
/// the resolver.
fn is_host(host: &str) -> bool {
    if host.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

/// Percent-decodes `text`, refusing CR, LF and NUL.
fn decode(text: &str, what: &'static str) -> Result<Vec<u8>, UrlError> {
    let bytes: Vec<u8> = percent_encoding::percent_decode_str(text).collect();
    if bytes.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err(UrlError::LineBreak(what));
    }
    Ok(bytes)
}

fn decode_text(text: &str, what: &'static str) -> Result<String, UrlError> {
    String::from_utf8(decode(text, what)?).map_err(|_| UrlError::NotUtf8(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = FtpUrl::parse("ftp://bob:p%40ss@example.com:2121/dir/a%20b.txt").unwrap();
        assert_eq!((u.host(), u.port(), u.user()), ("example.com", 2121, "bob"));
        assert_eq!(u.password(), Some("p@ss"));
        assert_eq!(
            (u.path(), u.file_name()),
            (&b"dir/a b.txt"[..], &b"a b.txt"[..])
        );
        assert_eq!(u.tls_mode(), None);
        assert!(!u.is_dir());
        let shown = format!("{u:?}");
        assert!(shown.contains("****") && !shown.contains("p@ss"), "{shown}");

        assert_eq!(
            FtpUrl::parse("ftp://example.com/%2Fetc/motd")
                .unwrap()
                .path(),
            b"/etc/motd"
        );
        let u = FtpUrl::parse("ftps://[::1]/x").unwrap();
        assert_eq!(
            (u.addr().as_str(), u.tls_mode()),
            ("[::1]:990", Some(TlsMode::Implicit))
        );
        let u = FtpUrl::parse("ftpes://h/").unwrap();
        assert_eq!(
            (u.port(), u.tls_mode(), u.is_dir(), u.user(), u.password()),
            (21, Some(TlsMode::Explicit), true, "", None)
        );
        assert_eq!(FtpUrl::parse("ftps://h:2990").unwrap().port(), 2990);
        assert_eq!(
            FtpUrl::parse("ftp://h/caf%C3%A9").unwrap().path(),
            "café".as_bytes()
        );
        assert_eq!(
            FtpUrl::parse("ftp://h/a/../b").unwrap().path(),
            b"b",
            "dot segments are resolved by URL rules"
        );
        assert_eq!(
            FtpUrl::parse("ftp://h/%FF").unwrap().path(),
            b"\xff",
            "paths are bytes"
        );
        assert_eq!(
            FtpUrl::parse("ftp://10.0.0.1/").unwrap().addr(),
            "10.0.0.1:21"
        );
    }

    #[test]
    fn hostile_urls_are_refused() {
        let cases: [(&str, UrlError); 18] = [
            ("ftp://h/a\r\nDELE b", UrlError::ControlCharacter),
            ("ftp://h/a\tb", UrlError::ControlCharacter),
            ("ftp://h/a\0b", UrlError::ControlCharacter),
            ("ftp://u\n@h/", UrlError::ControlCharacter),
            ("ftp://h/a%0D%0ADELE%20b", UrlError::LineBreak("path")),
            ("ftp://h/a%0Ab", UrlError::LineBreak("path")),
            ("ftp://h/a%00b", UrlError::LineBreak("path")),
            ("ftp://u%0D%0A:p@h/", UrlError::LineBreak("user name")),
            ("ftp://u:p%0A@h/", UrlError::LineBreak("password")),
            ("ftp://u%FF@h/", UrlError::NotUtf8("user name")),
            ("http://h/x", UrlError::Scheme("http".into())),
            ("ftp://h/x?y", UrlError::QueryOrFragment),
            ("ftp://h/x#y", UrlError::QueryOrFragment),
            ("ftpes://a%0Ab/x", UrlError::Host),
            ("ftps://a%20b/x", UrlError::Host),
            ("ftpes:///x", UrlError::Host),
            ("ftpes:/x", UrlError::Host),
            ("ftps://caf\u{e9}.example/", UrlError::Host),
        ];
        for (bad, want) in cases {
            assert_eq!(FtpUrl::parse(bad), Err(want), "{bad}");
        }
        assert!(matches!(
            FtpUrl::parse("not a url"),
            Err(UrlError::Syntax(_))
        ));
        assert!(matches!(
            FtpUrl::parse("ftp://"),
            Err(UrlError::Syntax(_) | UrlError::Host)
        ));
        let long = format!("ftp://h/{}", "a".repeat(MAX_ARG_LEN + 1));
        assert_eq!(
            FtpUrl::parse(&long),
            Err(UrlError::TooLong(MAX_ARG_LEN + 1))
        );
        assert!(FtpUrl::parse(&format!("ftp://h/{}", "a".repeat(MAX_ARG_LEN))).is_ok());
    }
}
