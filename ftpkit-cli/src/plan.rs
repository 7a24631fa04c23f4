//! From raw arguments to what to do, once: [`Settings`] (the options,
//! checked), the URL parsed and checked, the password found, the library's
//! `Config` built. Commands work from these and never see the raw
//! arguments. Nothing here does I/O beyond reading the environment and the
//! CA file.

use std::{fmt, path::PathBuf, time::Duration};

use ftpkit::{
    Config, DataMode, KnownHosts, Protection, TlsConfig, TlsMode, TlsVersion, TransferOptions,
    Verify,
};

use crate::{
    args::{Global, TransferArgs},
    failure::Failure,
};

/// The options of a command line, checked once: the connection, TLS,
/// login, output and transfer settings every command works from.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The idle timeout (positive and finite).
    pub timeout: Duration,
    /// `--max-time`: the deadline of each operation.
    pub max_time: Option<Duration>,
    /// `--keepalive`: TCP keepalive on the control connection (`None`: off).
    pub keepalive: Option<Duration>,
    /// Active mode (PORT/EPRT) instead of passive.
    pub active: bool,
    /// Pipelined commands (off with `--no-pipelining`).
    pub pipelining: bool,
    /// `-v` count.
    pub verbose: u8,
    /// No progress bar, no result lines.
    pub quiet: bool,
    /// Require explicit TLS on an `ftp://` URL.
    pub tls: bool,
    /// Extra CA certificates (PEM file).
    pub cacert: Option<PathBuf>,
    /// The only server certificate accepted, by SHA-256.
    pub pin_sha256: Option<String>,
    /// Accept any certificate.
    pub insecure: bool,
    /// The highest TLS version to offer (1.3 unless `--tls-max 1.2`).
    pub tls_max: Option<TlsVersion>,
    /// Client certificate (PEM) for mutual TLS.
    pub cert: Option<PathBuf>,
    /// Private key (PEM) of `cert`.
    pub key: Option<PathBuf>,
    /// Clear the control connection after login (CCC).
    pub ccc: bool,
    /// Data connections in clear under TLS (PROT C).
    pub no_prot_p: bool,
    /// The netrc file named on the command line.
    pub netrc_file: Option<PathBuf>,
    /// Read no netrc file.
    pub no_netrc: bool,
    /// `--proxy URL` (empty: none, whatever the environment says).
    pub proxy: Option<String>,
    /// `--noproxy LIST`.
    pub noproxy: Option<String>,
    /// Flush downloads to disk before the rename.
    pub fsync: bool,
    /// Uploads through sendfile(2).
    pub sendfile: bool,
    /// The cap on a data connection's unsent bytes (`None`: the kernel's).
    pub unsent_limit: Option<u32>,
    /// A JSON Lines summary of each transfer on stdout.
    pub json_summary: bool,
    /// Retries, verification and rate for the library's transfers, and
    /// the segments a `get` asks for.
    pub transfer: TransferOptions,
    /// `--segments`, if given.
    pub segments: Option<u16>,
    /// `--segment-threshold`: the smallest file `mirror` downloads in
    /// segments.
    pub segment_threshold: u64,
    /// NAT, firewall and time zone options.
    pub reach: crate::reach::ReachArgs,
}

impl Settings {
    /// Checks and resolves the global options and, for the commands that
    /// move files, their transfer options.
    pub fn new(global: &Global, transfer: Option<&TransferArgs>) -> Result<Settings, Failure> {
        if !(global.timeout.is_finite() && global.timeout > 0.0) {
            return Err(Failure::Usage(
                "--timeout must be a positive number of seconds".into(),
            ));
        }
        let max_time = match global.max_time {
            Some(secs) if !(secs.is_finite() && secs > 0.0) => {
                return Err(Failure::Usage(
                    "--max-time must be a positive number of seconds".into(),
                ));
            }
            other => other.map(Duration::from_secs_f64),
        };
        if !(global.keepalive.is_finite() && global.keepalive >= 0.0) {
            return Err(Failure::Usage(
                "--keepalive must be a number of seconds (0: off)".into(),
            ));
        }
        let keepalive = (global.keepalive > 0.0).then(|| Duration::from_secs_f64(global.keepalive));
        let defaults = TransferArgs::default();
        let t = transfer.unwrap_or(&defaults);
        let mut options = TransferOptions {
            limit_rate: t.limit_rate,
            ..TransferOptions::default()
        };
        options.retry.retries = t.retries;
        options.segments = t.segments.unwrap_or(1);
        if t.no_verify {
            options.verify = Verify::Off;
        }
        Ok(Settings {
            timeout: Duration::from_secs_f64(global.timeout),
            max_time,
            keepalive,
            active: global.active,
            pipelining: !global.no_pipelining,
            verbose: global.verbose,
            quiet: global.quiet,
            tls: global.tls,
            cacert: global.cacert.clone(),
            pin_sha256: global.pin_sha256.clone(),
            insecure: global.insecure,
            tls_max: global.tls_max,
            cert: global.cert.clone(),
            key: global.key.clone(),
            ccc: global.ccc,
            no_prot_p: global.no_prot_p,
            netrc_file: global.netrc_file.clone(),
            no_netrc: global.no_netrc,
            proxy: global.proxy.clone(),
            noproxy: global.noproxy.clone(),
            fsync: t.fsync,
            sendfile: t.sendfile,
            unsent_limit: t.unsent_limit.0,
            json_summary: t.json_summary,
            transfer: options,
            segments: t.segments,
            segment_threshold: t.segment_threshold,
            reach: global.reach.clone(),
        })
    }
}

impl Settings {
    /// Parses a URL as [`parse_url`] does, with `--tls`, and writes its
    /// path in the server's charset (`--encoding`).
    pub fn url(&self, text: &str) -> Result<Target, Failure> {
        let mut target = parse_url(text, self.tls)?;
        target.path = crate::reach::encode_url_path(target.path, self.reach.charset())?;
        Ok(target)
    }
}

/// A password that never shows in `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Password(pub String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// A server and a path on it, from a URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// User; empty means anonymous.
    pub user: String,
    /// Password; empty for anonymous.
    pub password: Password,
    /// The path, decoded, as bytes: relative to the login directory unless
    /// it starts with `/` (written `%2F` in the URL).
    pub path: Vec<u8>,
    /// TLS, from the scheme or `--tls`.
    pub tls: Option<TlsMode>,
}

impl Target {
    /// `host:port`, with brackets around IPv6 addresses.
    pub fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The last path component, for naming a download.
    pub fn file_name(&self) -> &[u8] {
        self.path.rsplit(|&b| b == b'/').next().unwrap_or_default()
    }

    /// Whether the URL names a directory (ends in `/`, or has no path).
    pub fn is_dir(&self) -> bool {
        self.path.is_empty() || self.path.ends_with(b"/")
    }
}

/// Parses `ftp://`, `ftpes://` (explicit TLS) and `ftps://` (implicit TLS)
/// URLs with [`ftpkit::url::FtpUrl`]. `--tls` makes an `ftp://` URL require
/// explicit TLS. The password comes from the URL or, failing that, from
/// `FTPKIT_PASSWORD`.
pub fn parse_url(text: &str, require_tls: bool) -> Result<Target, Failure> {
    let url = ftpkit::url::FtpUrl::parse(text).map_err(|e| match e {
        ftpkit::Error::InvalidInput(ftpkit::InvalidInput::Url(msg)) => Failure::Usage(msg),
        other => Failure::Usage(other.to_string()),
    })?;
    let tls = match url.tls {
        None if require_tls => Some(TlsMode::Explicit),
        other => other,
    };
    let password = match url.password {
        Some(p) => p,
        None if !url.user.is_empty() => std::env::var("FTPKIT_PASSWORD").unwrap_or_default(),
        None => String::new(),
    };
    Ok(Target {
        host: url.host,
        port: url.port,
        user: url.user,
        password: Password(password),
        path: url.path,
        tls,
    })
}

/// The library configuration for these options and this target.
pub fn config(global: &Settings, target: &Target) -> Result<Config, Failure> {
    let timeout = global.timeout;
    let mut config = Config::default()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(30)))
        .keepalive(global.keepalive)
        .sendfile(global.sendfile)
        .unsent_limit(global.unsent_limit)
        .pipelining(global.pipelining)
        .mode(if global.active {
            DataMode::Active
        } else {
            DataMode::Passive
        });
    config = global.reach.apply(config);
    if let Some(proxy) = proxy_for(global, &target.host)? {
        config = config.proxy(proxy);
    }
    if let Some(max) = global.max_time {
        let connect = config.connect_timeout.min(max);
        config = config.deadline(max).connect_timeout(connect);
    }
    if let Some(mode) = target.tls {
        config = config.tls(mode, Some(tls_config(global)?));
        if global.no_prot_p {
            config = config.data_protection(Protection::Clear);
        }
    } else if global.cacert.is_some()
        || global.pin_sha256.is_some()
        || global.insecure
        || global.ccc
        || global.cert.is_some()
        || global.tls_max.is_some()
    {
        return Err(Failure::Usage(
            "TLS options given for a plain ftp:// URL: add --tls, or use ftpes:// or ftps://"
                .into(),
        ));
    }
    Ok(config)
}

/// The proxy for `host`: `--proxy`, else `ftp_proxy`/`all_proxy`, unless
/// `--noproxy` (else `no_proxy`) names the host.
pub fn proxy_for(global: &Settings, host: &str) -> Result<Option<ftpkit::proxy::Proxy>, Failure> {
    crate::proxy_env::choose(
        global.proxy.as_deref(),
        global.noproxy.as_deref(),
        host,
        |name| std::env::var(name).ok(),
    )
}

/// The TLS settings from the command line, with the known-hosts file (see
/// `ftpkit trust`) when there is one.
fn tls_config(global: &Settings) -> Result<TlsConfig, Failure> {
    let mut builder = TlsConfig::builder();
    if let Some(path) = KnownHosts::default_path().filter(|p| p.exists()) {
        builder = builder.known_hosts(KnownHosts::open(path).map_err(Failure::Ftp)?);
    }
    if let (Some(cert), Some(key)) = (&global.cert, &global.key) {
        builder = builder
            .client_cert_pem_files(cert, key)
            .map_err(Failure::Ftp)?;
    }
    if let Some(version) = global.tls_max {
        builder = builder.max_version(version);
    }
    if let Some(ca) = &global.cacert {
        builder = builder.add_ca_pem_file(ca).map_err(Failure::Ftp)?;
    }
    if let Some(pin) = &global.pin_sha256 {
        builder = builder.pin_sha256(pin).map_err(Failure::Ftp)?;
    }
    if global.insecure {
        builder = builder.danger_accept_invalid_certs();
    }
    builder.build().map_err(Failure::Ftp)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--unsent-limit` reaches the library's configuration: a size, none,
    /// and the library's default when not given.
    #[test]
    fn the_unsent_limit_reaches_the_config() {
        use clap::Parser;
        let config_for = |extra: &[&str]| {
            let mut argv = vec!["ftpkit", "put"];
            argv.extend_from_slice(extra);
            argv.extend_from_slice(&["f", "ftp://h/"]);
            let cli = crate::args::Cli::try_parse_from(argv).unwrap();
            let settings = Settings::new(&cli.global, cli.command.transfer()).unwrap();
            config(&settings, &parse_url("ftp://h/", false).unwrap())
                .unwrap()
                .unsent_limit
        };
        assert_eq!(config_for(&["--unsent-limit", "16K"]), Some(16 << 10));
        assert_eq!(config_for(&["--unsent-limit", "none"]), None);
        assert_eq!(config_for(&[]), Config::default().unsent_limit);
    }

    #[test]
    fn urls() {
        let t = parse_url("ftp://bob:p%40ss@example.com:2121/dir/a%20b.txt", false).unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.user.as_str()),
            ("example.com", 2121, "bob")
        );
        assert_eq!(t.password.0, "p@ss");
        assert_eq!(t.path, b"dir/a b.txt");
        assert_eq!(t.file_name(), b"a b.txt");
        assert_eq!(format!("{:?}", t.password), "****");

        let t = parse_url("ftp://example.com/%2Fetc/motd", false).unwrap();
        assert_eq!(t.path, b"/etc/motd");
        let t = parse_url("ftps://[::1]/x", false).unwrap();
        assert_eq!(
            (t.addr().as_str(), t.tls),
            ("[::1]:990", Some(TlsMode::Implicit))
        );
        let t = parse_url("ftpes://h/", false).unwrap();
        assert_eq!(
            (t.port, t.tls, t.is_dir()),
            (21, Some(TlsMode::Explicit), true)
        );
        let t = parse_url("ftp://h/f", true).unwrap();
        assert_eq!(t.tls, Some(TlsMode::Explicit));
        assert_eq!(
            parse_url("ftp://h/caf%C3%A9", false).unwrap().path,
            "café".as_bytes()
        );
    }

    #[test]
    fn hostile_urls_are_refused() {
        for bad in [
            "ftp://h/a%0D%0ADELE%20b",
            "ftp://h/a%0Ab",
            "ftp://h/a%00b",
            "ftp://u%0D%0A:p@h/",
            "ftp://u:p%0A@h/",
            "http://h/x",
            "ftp://h/x?y",
            "not a url",
        ] {
            assert!(
                matches!(parse_url(bad, false), Err(Failure::Usage(_))),
                "{bad}"
            );
        }
    }
}
