//! Connection settings, with their defaults and the reasons for them.

use std::{net::IpAddr, ops::RangeInclusive, time::Duration};

use crate::{
    charset::Charset,
    proto::{DataMode, Protection, ReplyLimits},
    proxy::Proxy,
    tls::{TlsConfig, TlsMode},
};

/// How a [`Client`](crate::Client) connects and behaves.
///
/// Every setting has a safe default; build on [`Config::default`]:
///
/// ```
/// use std::time::Duration;
/// let config = ftpkit::Config::default()
///     .timeout(Duration::from_secs(10))
///     .mode(ftpkit::DataMode::Active);
/// assert_eq!(config.timeout, Duration::from_secs(10));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Idle timeout for every read and write on the control and data
    /// connections, and for waiting on an active-mode connection. A slow
    /// transfer that keeps moving never hits it. Default: 60 seconds.
    pub timeout: Duration,
    /// Time allowed to open a connection: TCP, the TLS handshake and the
    /// greeting together (a greeting dripped one byte at a time cannot
    /// stretch it), and each data connection. Default: 30 seconds.
    pub connect_timeout: Duration,
    /// Time allowed for one whole reply on the control connection, however
    /// slowly its bytes arrive (the idle timeout restarts with every byte;
    /// this does not). `None` (the default): the idle timeout, [`Config::timeout`].
    pub reply_timeout: Option<Duration>,
    /// Time allowed for one whole operation: a `download` or `upload` with
    /// its retries, reconnects and backoff waits, a connect, a listing.
    /// When it passes the operation ends with
    /// [`Error::Deadline`](crate::Error::Deadline) naming
    /// [`Deadline::Operation`](crate::Deadline::Operation), and no retry
    /// starts that could not finish in time. Default: none (the CLI's
    /// `--max-time`).
    pub deadline: Option<Duration>,
    /// TCP keepalive on the control connection: probes after this much
    /// silence and then at this interval, so that a NAT or firewall does
    /// not drop the connection while it sits idle during a long transfer.
    /// `None` turns it off. Default: 15 seconds.
    pub keepalive: Option<Duration>,
    /// Local address to bind before connecting (ftplib's `source_address`).
    /// Default: none, the system chooses.
    pub source_address: Option<IpAddr>,
    /// Passive (default, as in ftplib) or active data connections.
    pub mode: DataMode,
    /// Connect to the IP address a 227 reply names instead of the control
    /// connection's peer. Off by default: a hostile server could otherwise
    /// make the client connect anywhere (CVE-2021-4189; ftplib's
    /// `trust_server_pasv_ipv4_address`).
    pub trust_pasv_address: bool,
    /// Try EPSV before PASV on IPv4. Default: on (a refusal falls back to PASV
    /// once per session). EPSV is always used on IPv6.
    pub use_epsv: bool,
    /// Limits on reply lines and whole replies (ftplib's `maxline`).
    pub reply_limits: ReplyLimits,
    /// Longest line accepted in a line-mode transfer or listing. Default: 64 KiB.
    pub max_data_line: usize,
    /// Bytes moved per read or write in transfers. Default: 256 KiB. A
    /// connection keeps its buffers (one block, two for the async client's
    /// file transfers) from one transfer to the next, so a file's transfer
    /// allocates none.
    pub block_size: usize,
    /// Uploads from a file with `sendfile(2)` on plain FTP under Linux:
    /// the kernel moves the bytes, saving the client about half its CPU.
    /// Default: off, because on loopback block-sized writes reached a
    /// higher rate: `sendfile` queues as much of the file as the socket
    /// takes, and the receiving server then spends its own CPU on that
    /// queue (vsftpd 0.47 s per 256 MiB, against 0.25 s for block writes
    /// with the data connection's cap on unsent bytes). On a real network
    /// the client's CPU saving usually wins. Downloads always use
    /// `splice(2)` where they can: it was the fastest there.
    pub sendfile: bool,
    /// The most an upload's data connection keeps queued in the kernel but
    /// not yet sent (`TCP_NOTSENT_LOWAT`, Linux; ignored elsewhere; a
    /// download's, which sends nothing, is left alone); `None` leaves
    /// the kernel's default (on Linux, a whole send buffer, up to 4 MiB).
    /// An upload's write then waits until the peer has taken nearly all it
    /// was given, and sends the next bytes from the client's own time
    /// slice. Left to itself the kernel queues a whole send buffer; on
    /// loopback and fast links the server then transmits that backlog
    /// itself each time it reads and opens its window, and the server's
    /// CPU is what bounds an upload there (vsftpd spent 0.34 s per 256 MiB
    /// received without a cap and 0.25 s with one of 256 KiB). Bytes in
    /// flight are not limited, so a long link's window is still filled.
    /// Default: 64 KiB, which uploaded to vsftpd in 0.87 of the time
    /// 256 KiB took (medians of 20 paired runs of 256 MiB on loopback) and
    /// was level with it against pure-ftpd and over TLS to proftpd.
    pub unsent_limit: Option<u32>,
    /// Pipelining: the commands of a download whose replies do not change
    /// what is sent next (`TYPE`, `SIZE`, `MDTM`, `EPSV`/`PASV`) go out
    /// together and are answered in one round trip, and the size the
    /// server gave before the transfer verifies it instead of a second
    /// `SIZE` (RFC 959 lets a client send commands before the replies).
    /// A server seen to mishandle a batch (a reply missing or not
    /// answering its command) gets one command at a time for the rest of
    /// the client's life, on a new connection unless it only reordered
    /// replies that can be told apart (libunftp). Default: on (vsftpd,
    /// proftpd, pure-ftpd and pyftpdlib answer batches in order, plain
    /// and over TLS). With it, a `download` told the file that follows
    /// (`followed_by`) sends that file's `SIZE`, `MDTM` and passive
    /// command behind its own `RETR`, so that consecutive downloads take
    /// one round trip each; a server that answers them during the
    /// transfer has that file fetched again on a new connection and gets
    /// nothing behind a transfer again.
    pub pipelining: bool,
    /// FTPS: explicit (`AUTH TLS`) or implicit TLS. Default: none, plain FTP.
    /// When set, credentials are never sent in clear.
    pub tls_mode: Option<TlsMode>,
    /// TLS settings; `None` means the system's trust store with full
    /// verification ([`TlsConfig::system`]).
    pub tls: Option<TlsConfig>,
    /// Protection of data connections under TLS: `Private` (`PROT P`, the
    /// default: data encrypted too) or `Clear` (`PROT C`).
    pub data_protection: Protection,

    // ----- reaching servers behind NAT, firewalls and in other time zones
    /// Active mode: the local ports a data listener may use, for a
    /// firewall that opens only these (FileZilla's "limit local ports").
    /// Ports in use are skipped; when every one is taken the transfer
    /// fails. Default: none, the system chooses.
    pub active_ports: Option<RangeInclusive<u16>>,
    /// Active mode: the address to advertise in `PORT`/`EPRT` instead of
    /// the control connection's local address, for a client behind NAT
    /// (its public address, with the port range forwarded to it).
    /// Default: none, the local address.
    pub active_address: Option<IpAddr>,
    /// How the times of `LIST` lines are read (they are the server's local
    /// time); `MLSD`, `MLST` and `MDTM` times are UTC by RFC 3659 and never
    /// shifted. Default: UTC.
    pub list_time_offset: ListTimeOffset,
    /// The charset of the server's names, for turning them into text and
    /// text into names ([`Name::decode`](crate::Name::decode),
    /// [`Client::encode_path`](crate::Client::encode_path)). Names keep
    /// their bytes on the wire either way. Default: UTF-8.
    pub encoding: Charset,
    /// A proxy for the control connection and every data connection
    /// (SOCKS5, HTTP `CONNECT` or an FTP proxy; see [`crate::proxy`]).
    /// Default: none. The library reads no environment variable for it.
    pub proxy: Option<Proxy>,
}

/// The time zone of a server's `LIST` times; see
/// [`Config::list_time_offset`].
///
/// ```
/// use ftpkit::{Config, ListTimeOffset};
/// let config = Config::default().list_time_offset(ListTimeOffset::Fixed(2 * 3600));
/// assert_eq!(config.list_time_offset, ListTimeOffset::Fixed(7200));
/// assert_eq!("-05:30".parse(), Ok(ListTimeOffset::Fixed(-19_800)));
/// assert_eq!("auto".parse(), Ok(ListTimeOffset::Auto));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListTimeOffset {
    /// The server's clock is this many seconds ahead of UTC (east of
    /// Greenwich): `3600` for UTC+01:00. `Fixed(0)` is the default.
    Fixed(i32),
    /// Learned once per connection, as FileZilla does: the time a `LIST`
    /// shows for one file is compared with its `MDTM` (UTC), and the
    /// difference, rounded to a quarter of an hour, applies to every `LIST`
    /// time from then on. Until a listing shows a file with a time of day
    /// and `MDTM` answers for it, `LIST` times are read as UTC; after three
    /// listings that taught nothing, no more are tried.
    Auto,
}

impl Default for ListTimeOffset {
    fn default() -> ListTimeOffset {
        ListTimeOffset::Fixed(0)
    }
}

impl std::str::FromStr for ListTimeOffset {
    type Err = String;

    /// `auto`, `UTC`/`Z`, or an offset: `+02:00`, `-0530`, `+3`, `-11`.
    fn from_str(text: &str) -> Result<ListTimeOffset, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("auto") {
            return Ok(ListTimeOffset::Auto);
        }
        if text.eq_ignore_ascii_case("utc") || text.eq_ignore_ascii_case("z") {
            return Ok(ListTimeOffset::Fixed(0));
        }
        let bad = || format!("{text:?} is not a time offset: use auto, UTC, +02:00 or -0530");
        let (sign, rest) = match text.as_bytes().first() {
            Some(b'+') => (1, text.get(1..).unwrap_or_default()),
            Some(b'-') => (-1, text.get(1..).unwrap_or_default()),
            _ => return Err(bad()),
        };
        let (hours, minutes) = match rest.split_once(':') {
            Some((h, m)) => (h, m),
            None if rest.len() == 4 => (
                rest.get(..2).unwrap_or_default(),
                rest.get(2..).unwrap_or_default(),
            ),
            None => (rest, "0"),
        };
        let digits =
            |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(hours) || !digits(minutes) {
            return Err(bad());
        }
        let hours: i32 = hours.parse().map_err(|_| bad())?;
        let minutes: i32 = minutes.parse().map_err(|_| bad())?;
        if hours > 14 || minutes > 59 {
            return Err(bad());
        }
        Ok(ListTimeOffset::Fixed(sign * (hours * 3600 + minutes * 60)))
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(30),
            reply_timeout: None,
            deadline: None,
            keepalive: Some(Duration::from_secs(15)),
            source_address: None,
            mode: DataMode::Passive,
            trust_pasv_address: false,
            use_epsv: true,
            reply_limits: ReplyLimits::default(),
            max_data_line: 64 * 1024,
            block_size: 256 * 1024,
            sendfile: false,
            unsent_limit: Some(64 * 1024),
            pipelining: true,
            tls_mode: None,
            tls: None,
            data_protection: Protection::Private,
            proxy: None,
            active_ports: None,
            active_address: None,
            list_time_offset: ListTimeOffset::Fixed(0),
            encoding: Charset::UTF_8,
        }
    }
}

impl Config {
    /// Sets [`Config::timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets [`Config::connect_timeout`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets [`Config::reply_timeout`].
    pub fn reply_timeout(mut self, timeout: Duration) -> Self {
        self.reply_timeout = Some(timeout);
        self
    }

    /// Sets [`Config::deadline`]: the time allowed for one whole operation.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Sets [`Config::keepalive`] (`None`: no TCP keepalive).
    pub fn keepalive(mut self, interval: Option<Duration>) -> Self {
        self.keepalive = interval;
        self
    }

    /// The time allowed for one whole reply.
    pub(crate) fn whole_reply_timeout(&self) -> Duration {
        self.reply_timeout.unwrap_or(self.timeout)
    }

    /// Sets [`Config::source_address`].
    pub fn source_address(mut self, addr: IpAddr) -> Self {
        self.source_address = Some(addr);
        self
    }

    /// Sets [`Config::mode`].
    pub fn mode(mut self, mode: DataMode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets [`Config::trust_pasv_address`]. Only for servers behind a NAT
    /// that needs it; see the field's documentation for the risk.
    pub fn trust_pasv_address(mut self, trust: bool) -> Self {
        self.trust_pasv_address = trust;
        self
    }

    /// Sets [`Config::use_epsv`].
    pub fn use_epsv(mut self, on: bool) -> Self {
        self.use_epsv = on;
        self
    }

    /// Sets [`Config::reply_limits`].
    pub fn reply_limits(mut self, limits: ReplyLimits) -> Self {
        self.reply_limits = limits;
        self
    }

    /// Sets [`Config::block_size`] (at least 1).
    pub fn block_size(mut self, size: usize) -> Self {
        self.block_size = size.max(1);
        self
    }

    /// Sets [`Config::sendfile`].
    pub fn sendfile(mut self, on: bool) -> Self {
        self.sendfile = on;
        self
    }

    /// Sets [`Config::unsent_limit`] (`None`: the kernel's default; a
    /// limit is at least 1 byte).
    pub fn unsent_limit(mut self, limit: Option<u32>) -> Self {
        self.unsent_limit = limit.map(|limit| limit.max(1));
        self
    }

    /// Sets [`Config::pipelining`].
    pub fn pipelining(mut self, on: bool) -> Self {
        self.pipelining = on;
        self
    }

    /// Asks for FTPS: explicit (`AUTH TLS`) or implicit, with these TLS
    /// settings (`None`: the system's trust store).
    pub fn tls(mut self, mode: TlsMode, tls: Option<TlsConfig>) -> Self {
        self.tls_mode = Some(mode);
        self.tls = tls;
        self
    }

    /// Sets [`Config::data_protection`].
    pub fn data_protection(mut self, protection: Protection) -> Self {
        self.data_protection = protection;
        self
    }

    /// Sets [`Config::active_ports`] (a range such as `50000..=50100`).
    pub fn active_ports(mut self, ports: RangeInclusive<u16>) -> Self {
        self.active_ports = Some(ports);
        self
    }

    /// Sets [`Config::active_address`].
    pub fn active_address(mut self, addr: IpAddr) -> Self {
        self.active_address = Some(addr);
        self
    }

    /// Sets [`Config::list_time_offset`].
    pub fn list_time_offset(mut self, offset: ListTimeOffset) -> Self {
        self.list_time_offset = offset;
        self
    }

    /// Sets [`Config::encoding`].
    pub fn encoding(mut self, charset: Charset) -> Self {
        self.encoding = charset;
        self
    }

    /// Sets [`Config::proxy`].
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = Some(proxy);
        self
    }
}
