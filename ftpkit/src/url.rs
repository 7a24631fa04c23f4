//! `ftp://`, `ftpes://` and `ftps://` URLs (RFC 1738 section 3.2, with the
//! common FTPS schemes): parsed, percent-decoded, and checked before
//! anything is sent.
//!
//! ```
//! use ftpkit::{TlsMode, url::FtpUrl};
//!
//! let url = FtpUrl::parse("ftpes://bob:p%40ss@ftp.example.com/pub/a%20b.txt")?;
//! assert_eq!(url.host, "ftp.example.com");
//! assert_eq!(url.addr(), "ftp.example.com:21");
//! assert_eq!(url.tls, Some(TlsMode::Explicit));
//! assert_eq!(url.password.as_deref(), Some("p@ss"));
//! assert_eq!(url.path, b"pub/a b.txt");
//! assert!(!format!("{url:?}").contains("p@ss"));
//! # Ok::<(), ftpkit::Error>(())
//! ```

use std::fmt;

use crate::{
    Client, Config,
    error::{Error, InvalidInput, Result},
    proto::MAX_ARG_LEN,
    tls::TlsMode,
};

/// A parsed FTP URL.
#[derive(Clone, PartialEq, Eq)]
pub struct FtpUrl {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port: from the URL, or 21 (990 for `ftps://`).
    pub port: u16,
    /// User name, decoded; empty for anonymous.
    pub user: String,
    /// Password, decoded, if the URL has one. Never shown in `Debug`.
    pub password: Option<String>,
    /// The path, percent-decoded, as bytes: relative to the login directory
    /// unless it starts with `/` (written `%2F` in the URL).
    pub path: Vec<u8>,
    /// TLS from the scheme: `ftpes://` explicit, `ftps://` implicit.
    pub tls: Option<TlsMode>,
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

fn bad(text: String) -> Error {
    Error::InvalidInput(InvalidInput::Url(text))
}

impl FtpUrl {
    /// Parses an `ftp://`, `ftpes://` or `ftps://` URL. Refused: other
    /// schemes, a missing host, a query or fragment (write `?` and `#` in
    /// names as `%3F` and `%23`), CR, LF or NUL anywhere once decoded, a
    /// control character written as such (URL parsing would drop tabs and
    /// line breaks silently and change the path), a host that is neither a
    /// host name nor an IP address, and a path longer than an FTP argument
    /// may be ([`crate::proto::MAX_ARG_LEN`]).
    pub fn parse(text: &str) -> Result<FtpUrl> {
        // Error messages show the URL with any password hidden.
        let shown = redact(text);
        let text_shown = &shown;
        if text.chars().any(char::is_control) {
            return Err(bad(format!(
                "{text_shown:?}: the URL contains a control character"
            )));
        }
        let url = ::url::Url::parse(text).map_err(|e| bad(format!("{text_shown:?}: {e}")))?;
        let (tls, default_port) = match url.scheme() {
            "ftp" => (None, 21),
            "ftpes" => (Some(TlsMode::Explicit), 21),
            "ftps" => (Some(TlsMode::Implicit), 990),
            other => {
                return Err(bad(format!(
                    "unsupported scheme {other:?}: use ftp://, ftpes:// or ftps://"
                )));
            }
        };
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad(format!(
                "{text_shown:?}: write ? and # in file names as %3F and %23"
            )));
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad(format!("{text_shown:?} names no host")))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        if !is_host(&host) {
            return Err(bad(format!("{text_shown:?} names no usable host")));
        }
        let user = decode_text(url.username(), "user name")?;
        let password = url
            .password()
            .map(|p| decode_text(p, "password"))
            .transpose()?;
        let raw_path = url.path().strip_prefix('/').unwrap_or(url.path());
        let path = decode(raw_path, "path")?;
        if path.len() > MAX_ARG_LEN {
            return Err(bad(format!(
                "the path is {} bytes long; the limit is {MAX_ARG_LEN}",
                path.len()
            )));
        }
        Ok(FtpUrl {
            host,
            port: url.port().unwrap_or(default_port),
            user,
            password,
            path,
            tls,
        })
    }

    /// `host:port`, with brackets around an IPv6 address.
    pub fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Connects with `config` (TLS as the scheme says, verified against the
    /// system's roots unless `config` brings its own TLS settings) and logs
    /// in: as the URL's user, or anonymously.
    pub fn connect(&self, mut config: Config) -> Result<Client> {
        if let Some(mode) = self.tls {
            let settings = config.tls.clone();
            config = config.tls(mode, settings);
        }
        let mut client = Client::connect_with(&self.addr(), config)?;
        client.login(&self.user, self.password.as_deref().unwrap_or_default())?;
        Ok(client)
    }
}

pub use crate::redact::redact;

/// A host name (letters, digits, `-`, `.`, `_`) or an IP address: nothing
/// that could carry a percent sequence, a space or a control character to
/// the resolver. (Non-ASCII names in `ftpes://` and `ftps://` URLs must be
/// written in their `xn--` form.)
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
fn decode(text: &str, what: &str) -> Result<Vec<u8>> {
    let bytes: Vec<u8> = percent_encoding::percent_decode_str(text).collect();
    if bytes.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err(bad(format!("the {what} contains CR, LF or NUL")));
    }
    Ok(bytes)
}

fn decode_text(text: &str, what: &str) -> Result<String> {
    String::from_utf8(decode(text, what)?).map_err(|_| bad(format!("the {what} is not UTF-8")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = FtpUrl::parse("ftp://example.com/%2Fetc/motd").unwrap();
        assert_eq!(u.path, b"/etc/motd");
        assert_eq!(u.password, None);
        let u = FtpUrl::parse("ftps://[::1]/x").unwrap();
        assert_eq!(
            (u.addr().as_str(), u.tls),
            ("[::1]:990", Some(TlsMode::Implicit))
        );
        let u = FtpUrl::parse("ftp://h:2121/caf%C3%A9").unwrap();
        assert_eq!((u.port, u.path.as_slice()), (2121, "café".as_bytes()));
    }

    #[test]
    fn errors_never_show_the_password() {
        for bad in [
            "ftp://bob:hunter2@h/x?y",
            "ftp://bob:hunter2@/x",
            "http://bob:hunter2@h/",
            "ftp://bob:hunter2@h:99999/",
        ] {
            let err = FtpUrl::parse(bad).unwrap_err().to_string();
            assert!(!err.contains("hunter2"), "{err}");
            assert!(err.contains("bob:****@") || !err.contains("bob"), "{err}");
        }
        assert_eq!(redact("ftp://a:b@h/p@q"), "ftp://a:****@h/p@q");
        assert_eq!(redact("ftp://a@h/"), "ftp://a@h/");
        assert_eq!(redact("not a url"), "not a url");
    }

    #[test]
    fn hostile_urls_are_refused() {
        for bad in [
            "ftp://h/a%0D%0ADELE%20b",
            "ftp://h/a%0Ab",
            "ftp://h/a%00b",
            "ftp://u%0D%0A:p@h/",
            "ftp://u:p%0A@h/",
            "ftp://u:%FF@h/",
            "http://h/x",
            "ftp://h/x?y",
            "ftp://h/x#y",
            "not a url",
            "",
            "ftp://h/a\r\nDELE b",
            "ftp://h/a\tb",
            "ftp://h/a\0b",
            "ftp://u\n@h/",
            "ftpes://a%0Ab/x",
            "ftps://a%20b/x",
            "ftpes:///x",
            "ftps://caf\u{e9}.example/",
        ] {
            assert!(
                matches!(
                    FtpUrl::parse(bad),
                    Err(Error::InvalidInput(InvalidInput::Url(_)))
                ),
                "{bad}"
            );
        }
        let long = format!("ftp://h/{}", "a".repeat(MAX_ARG_LEN + 1));
        assert!(FtpUrl::parse(&long).is_err());
        assert!(FtpUrl::parse(&format!("ftp://h/{}", "a".repeat(MAX_ARG_LEN))).is_ok());
        assert_eq!(
            FtpUrl::parse("ftp://10.0.0.1/").unwrap().addr(),
            "10.0.0.1:21"
        );
        let err = FtpUrl::parse("ftp://bob:hunter2@h/a\nb")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2") && !err.contains('\n'), "{err}");
    }
}
