//! What the blocking and the tokio driver share beyond `crate::api` (the
//! command methods), written once. Each macro is expanded by both drivers,
//! the async one with `async` and `.await`:
//!
//! - `perform_actions!` (in each `io.rs`): the one `perform`, the match
//!   over every [`Action`](crate::proto::engine::Action) of the core;
//! - `connectors!` (`net.rs`): host, control and data connections, proxy
//!   tunnels;
//! - `client_data_api!` (`streaming.rs`): the streaming methods (listings,
//!   line transfers, `get`/`put`, the raw reader and writer, typed
//!   entries, `stat`); `entries!` (`listing.rs`): the typed entries of a
//!   listing over [`EntryLines`], the line-by-line parser;
//! - `data_end!` and `data_ends!` (`transfer.rs`): the data readers and
//!   writers themselves (their structs, counts, `finish`, `abort`, what a
//!   dropped one leaves), their decisions being the core's `flow`;
//!   `transfer_builder!`: the `retrieve`/`store` builders;
//! - `file_builders!` (`files.rs`): the `download`/`upload` builders and
//!   the loop that runs their plan; `segmented_download!`: the segmented
//!   download's prepare, workers and finish;
//! - `pool_half!` (`pool.rs`): the pools' struct and bookkeeping around
//!   `pool::Slots`.
//!
//! A driver keeps only what its I/O makes its own: the `Read` and `Write`
//! or `AsyncRead` and `AsyncWrite` impls of its readers and writers, how a
//! deadline bounds an action (socket timeouts or tokio timers), its sockets
//! and TLS streams, its bulk data path, how it starts and joins the extra
//! connections of a segmented download, and how a pool waits.

use std::{io, time::SystemTime};

use crate::{
    error::{Error, Phase, Result},
    list::Entry,
    proto::{LineSplitter, rules::ListingFormat},
};

/// The error of a connection to `host` that failed at every address
/// (`last`: the last address's error), or that has no address.
pub(crate) fn unreachable_host(host: &str, last: Option<io::Error>) -> Error {
    Error::io(Phase::Connect)(last.unwrap_or_else(|| {
        io::Error::new(io::ErrorKind::NotFound, format!("{host} has no address"))
    }))
}

/// The error of an active-mode data connection the server did not open in
/// time.
pub(crate) fn accept_timed_out() -> Error {
    Error::io(Phase::DataAccept)(io::Error::new(
        io::ErrorKind::TimedOut,
        "the server did not open the data connection",
    ))
}

/// What [`EntryLines::next`] found.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// An entry, an error (a line over the limit), or the end.
    Item(Option<Result<Entry>>),
    /// More data is needed: read into [`EntryLines::buf`] and call
    /// [`EntryLines::fed`].
    NeedData,
}

/// The typed entries of a listing, parsed line by line as its data arrives,
/// so memory stays flat whatever the size of the directory. A line no
/// parser recognises is an entry of unknown kind with its raw text; after
/// an error the entries end.
#[derive(Debug)]
pub(crate) struct EntryLines {
    splitter: LineSplitter,
    buf: crate::block::Block,
    format: ListingFormat,
    now: SystemTime,
    /// Seconds to subtract from `LIST` times (the server's time zone).
    offset: i32,
    ended: bool,
    failed: bool,
}

impl EntryLines {
    /// A parser for a listing in `format`, with lines of at most `max_line`
    /// and `LIST` times read at the server's `offset` from UTC.
    pub(crate) fn new(format: ListingFormat, max_line: usize, offset: i32) -> EntryLines {
        EntryLines {
            splitter: LineSplitter::new(max_line),
            buf: crate::block::Block::new(64 * 1024),
            format,
            now: SystemTime::now(),
            offset,
            ended: false,
            failed: false,
        }
    }

    /// The command the entries come from.
    pub(crate) fn format(&self) -> ListingFormat {
        self.format
    }

    /// The next entry from the data fed so far, or a request for more.
    pub(crate) fn next(&mut self) -> Parsed {
        if self.failed {
            return Parsed::Item(None);
        }
        let (format, now, offset) = (self.format, self.now, self.offset);
        loop {
            match self.splitter.next_line() {
                Ok(Some(line)) => {
                    if let Some(entry) = format.parse_with_offset(line, now, offset) {
                        return Parsed::Item(Some(Ok(entry)));
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    self.failed = true;
                    return Parsed::Item(Some(Err(e.into())));
                }
            }
        }
        if self.ended {
            return Parsed::Item(
                self.splitter
                    .finish()
                    .and_then(|line| format.parse_with_offset(line, now, offset))
                    .map(Ok),
            );
        }
        Parsed::NeedData
    }

    /// The buffer to read the listing's data into.
    pub(crate) fn buf(&mut self) -> &mut [u8] {
        self.buf.as_mut()
    }

    /// Takes the result of a read into [`EntryLines::buf`] (0: the data
    /// ended); a failed read is returned, and ends the entries.
    pub(crate) fn fed(&mut self, read: Result<usize>) -> Option<Error> {
        match read {
            Ok(0) => self.ended = true,
            Ok(n) => self.splitter.feed(self.buf.filled(n)),
            Err(e) => {
                self.failed = true;
                return Some(e);
            }
        }
        None
    }
}

/// A driver's listing entries (`$entries`, documented by `$doc`): the
/// struct over its data `$reader` (from its `transfer` module) and the
/// shared [`EntryLines`], and the command they come from. The driver adds
/// its iterator or stream.
macro_rules! entries {
    ($(#[$doc:meta])* $entries:ident, $reader:ident) => {
        use super::transfer::$reader;

        $(#[$doc])*
        #[derive(Debug)]
        pub struct $entries<'c> {
            pub(crate) reader: $reader<'c>,
            pub(crate) lines: $crate::driver::EntryLines,
        }

        impl $entries<'_> {
            /// The command the entries come from.
            pub fn format(&self) -> $crate::list::ListingFormat {
                self.lines.format()
            }
        }
    };
}

/// The streaming methods of a client, for both drivers (the types named
/// come from the driver's `client`, `listing` and `transfer` modules):
/// `$client` has `open_data` (from `client_api!`), its reader and writer
/// types have
/// `new`, `read_data`/`write_data`, `finish` and `abort`, and its entries
/// type is built from a reader and an [`EntryLines`]. The bracketed
/// arguments are the bounds of the `get`, `put` and `store_lines` sources
/// and sinks, with the extension traits their methods need.
macro_rules! client_data_api {
    (
        $client:ident, $reader:ident, $writer:ident, $entries:ident, $retrieve:ident, $store:ident,
        write: [$($write:tt)+], read: [$($read:tt)+], lines: [$($lines:tt)+], $lines_ext:path,
        [$($async:ident)?], [$($aw:tt)*]
    ) => {
        use super::{
            client::$client,
            listing::$entries,
            transfer::{$reader, $writer, $retrieve, $store, Download, Upload},
        };

        impl $client {
            /// Names in a directory (`NLST`; an empty path lists the working
            /// directory). ftplib: `nlst()`.
            pub $($async)? fn nlst(&mut self, path: impl AsRef<[u8]>) -> $crate::Result<Vec<$crate::name::Name>> {
                let command = $crate::proto::Command::Nlst($crate::proto::rules::optional_path(path.as_ref())?);
                let mut names = Vec::new();
                self.lines_of(command, |line| names.push($crate::name::Name::from(line))) $($aw)* ?;
                Ok(names)
            }

            /// The raw lines of a `LIST` (an empty path lists the working
            /// directory). ftplib: `dir()`.
            pub $($async)? fn list(&mut self, path: impl AsRef<[u8]>) -> $crate::Result<Vec<$crate::name::Name>> {
                let command = $crate::proto::Command::List($crate::proto::rules::optional_path(path.as_ref())?);
                let mut lines = Vec::new();
                self.lines_of(command, |line| lines.push($crate::name::Name::from(line))) $($aw)* ?;
                Ok(lines)
            }

            /// A machine listing (`MLSD`, RFC 3659): each entry's name and
            /// facts. Lines that are not valid MLSD are skipped.
            /// ftplib: `mlsd(path)`.
            pub $($async)? fn mlsd(&mut self, path: impl AsRef<[u8]>) -> $crate::Result<Vec<$crate::MlsdEntry>> {
                let command = $crate::proto::Command::Mlsd($crate::proto::rules::optional_path(path.as_ref())?);
                let mut entries = Vec::new();
                self.lines_of(command, |line| entries.extend($crate::list::parse_mlsd_line(line))) $($aw)* ?;
                Ok(entries)
            }

            /// Runs a raw transfer command in `TYPE A` and calls `callback`
            /// with each line, terminator removed (`"RETR notes.txt"`,
            /// `"LIST -a"`). ftplib: `retrlines(cmd, callback)`.
            pub $($async)? fn retr_lines(&mut self, command: &str, callback: impl FnMut(&[u8])) -> $crate::Result<$crate::Reply> {
                self.lines_of($crate::proto::Command::raw(command)?, callback) $($aw)*
            }

            $($async)? fn lines_of(
                &mut self,
                command: $crate::proto::Command,
                mut callback: impl FnMut(&[u8]),
            ) -> $crate::Result<$crate::Reply> {
                let max_line = self.core.config.max_data_line;
                let mut reader = self.open_reader(command, $crate::proto::TransferType::Ascii, None) $($aw)* ?;
                let mut splitter = $crate::proto::LineSplitter::new(max_line);
                let mut block = $crate::block::Block::new(64 * 1024);
                let buf = block.as_mut();
                loop {
                    let n = reader.read_data(buf) $($aw)* ?;
                    if n == 0 {
                        break;
                    }
                    splitter.feed(buf.get(..n).unwrap_or_default());
                    loop {
                        match splitter.next_line() {
                            Ok(Some(line)) => callback(line),
                            Ok(None) => break,
                            Err(e) => {
                                let _ = reader.abort() $($aw)*;
                                return Err(e.into());
                            }
                        }
                    }
                }
                if let Some(line) = splitter.finish() {
                    callback(line);
                }
                reader.finish() $($aw)*
            }

            /// Uploads lines in `TYPE A`, each line's end sent as CRLF.
            /// ftplib: `storlines(cmd, fp)`.
            pub $($async)? fn store_lines(
                &mut self,
                path: impl AsRef<[u8]>,
                mut lines: impl $($lines)+,
            ) -> $crate::Result<$crate::Reply> {
                #[allow(unused_imports)]
                use $lines_ext as _;
                let command = $crate::proto::Command::Stor($crate::proto::Arg::path(path)?);
                let mut writer = self.open_writer(command, $crate::proto::TransferType::Ascii, None) $($aw)* ?;
                let mut line = Vec::new();
                let mut out = Vec::new();
                loop {
                    line.clear();
                    let n = match lines.read_until(b'\n', &mut line) $($aw)* {
                        Ok(n) => n,
                        Err(e) => {
                            let _ = writer.abort() $($aw)*;
                            return Err($crate::Error::io($crate::Phase::Local)(e));
                        }
                    };
                    if n == 0 {
                        break;
                    }
                    out.clear();
                    $crate::proto::to_crlf_line(&line, &mut out);
                    writer.write_data(&out) $($aw)* ?;
                }
                writer.finish() $($aw)*
            }

            /// Starts a download of `path` in binary mode; set options on
            /// the returned builder and finish with `to_writer`,
            /// `for_each_chunk` or `reader`. ftplib: `retrbinary("RETR path", ...)`.
            pub fn retrieve(&mut self, path: impl AsRef<[u8]>) -> $retrieve<'_> {
                $retrieve::new(self, $crate::proto::Arg::path(path), Download)
            }

            /// Starts an upload to `path` in binary mode; set options on the
            /// returned builder and finish with `from_reader` or `writer`.
            /// ftplib: `storbinary("STOR path", fp)`.
            pub fn store(&mut self, path: impl AsRef<[u8]>) -> $store<'_> {
                $store::new(self, $crate::proto::Arg::path(path), Upload::default())
            }

            /// Downloads `path` into `out` in binary mode and returns the
            /// byte count. ftplib: `retrbinary("RETR path", out.write)`.
            pub $($async)? fn get<W: $($write)+ + ?Sized>(&mut self, path: impl AsRef<[u8]>, out: &mut W) -> $crate::Result<u64> {
                self.retrieve(path).to_writer(out) $($aw)*
            }

            /// Uploads everything `input` yields to `path` in binary mode
            /// (`STOR`) and returns the byte count.
            /// ftplib: `storbinary("STOR path", fp)`.
            pub $($async)? fn put<R: $($read)+ + ?Sized>(&mut self, path: impl AsRef<[u8]>, input: &mut R) -> $crate::Result<u64> {
                self.store(path).from_reader(input) $($aw)*
            }

            /// Appends everything `input` yields to `path` (`APPE`).
            /// ftplib: `storbinary("APPE path", fp)`.
            pub $($async)? fn append<R: $($read)+ + ?Sized>(&mut self, path: impl AsRef<[u8]>, input: &mut R) -> $crate::Result<u64> {
                self.store(path).append().from_reader(input) $($aw)*
            }

            /// Opens a data connection for a raw transfer command that sends
            /// data to the client, and returns a reader over it. ftplib:
            /// `transfercmd(cmd, rest)` / `ntransfercmd`.
            pub $($async)? fn transfer_reader(
                &mut self,
                command: impl AsRef<[u8]>,
                ty: $crate::proto::TransferType,
                rest: Option<u64>,
            ) -> $crate::Result<$reader<'_>> {
                self.open_reader($crate::proto::Command::raw(command.as_ref())?, ty, rest) $($aw)*
            }

            /// Opens a data connection for a raw transfer command that
            /// receives data from the client (`"STOU"`, `"APPE x"`), and
            /// returns a writer.
            pub $($async)? fn transfer_writer(
                &mut self,
                command: impl AsRef<[u8]>,
                ty: $crate::proto::TransferType,
                rest: Option<u64>,
            ) -> $crate::Result<$writer<'_>> {
                self.open_writer($crate::proto::Command::raw(command.as_ref())?, ty, rest) $($aw)*
            }

            pub(crate) $($async)? fn open_reader(
                &mut self,
                command: $crate::proto::Command,
                ty: $crate::proto::TransferType,
                rest: Option<u64>,
            ) -> $crate::Result<$reader<'_>> {
                let request = $crate::proto::DataRequest { command: command.clone(), transfer_type: ty, rest };
                let (stream, announced) = self.open_data(request) $($aw)* ?;
                let flow = $crate::proto::engine::flow::Flow::download(command, announced, ty, rest);
                Ok($reader::new(self, stream, flow))
            }

            pub(crate) $($async)? fn open_writer(
                &mut self,
                command: $crate::proto::Command,
                ty: $crate::proto::TransferType,
                rest: Option<u64>,
            ) -> $crate::Result<$writer<'_>> {
                let request = $crate::proto::DataRequest { command: command.clone(), transfer_type: ty, rest };
                let (stream, _) = self.open_data(request) $($aw)* ?;
                Ok($writer::new(self, stream, $crate::proto::engine::flow::Flow::upload(command)))
            }

            /// The entries of a directory (an empty path: the working
            /// directory), typed and streamed. Uses `MLSD` when the
            /// server's FEAT lists `MLST` (RFC 3659), `LIST` otherwise, with
            /// every common `LIST` format recognised line by line. The
            /// listed directory itself and its parent are left out.
            pub $($async)? fn list_entries(&mut self, path: impl AsRef<[u8]>) -> $crate::Result<$entries<'_>> {
                let arg = $crate::proto::rules::optional_path(path.as_ref())?;
                let (format, command) = $crate::proto::rules::listing_command(self.features() $($aw)* ?, arg);
                if format == $crate::list::ListingFormat::List && self.core.wants_offset_probe() {
                    self.learn_list_time_offset(path.as_ref()) $($aw)* ?;
                }
                self.entries_from(command, format) $($aw)*
            }

            /// One entry, typed: from `MLST` (over the control connection)
            /// when the server's FEAT lists it, else the first entry of a
            /// `LIST` of the path. `None` when the listing names nothing.
            pub $($async)? fn stat(&mut self, path: impl AsRef<[u8]>) -> $crate::Result<Option<$crate::Entry>> {
                let arg = $crate::proto::rules::optional_path(path.as_ref())?;
                if $crate::proto::rules::stat_uses_mlst(self.features() $($aw)* ?) {
                    let command = $crate::proto::Command::Mlst(arg);
                    let reply = self.exchange(&command) $($aw)* ?;
                    let reply = $crate::proto::expect(&command, reply, $crate::proto::Expect::Completion)?;
                    return Ok($crate::proto::rules::mlst_entry(&reply));
                }
                let list = $crate::proto::Command::List(arg);
                let mut entries = self.entries_from(list, $crate::list::ListingFormat::List) $($aw)* ?;
                let mut first = None;
                // Read the rest so the transfer completes instead of being aborted.
                while let Some(entry) = entries.next_entry() $($aw)* {
                    let entry = entry?;
                    first.get_or_insert(entry);
                }
                Ok(first)
            }

            /// The typed entries of a `LIST`, whatever the server's features
            /// (useful when a server's MLSD is broken).
            pub $($async)? fn list_entries_from_list(&mut self, path: impl AsRef<[u8]>) -> $crate::Result<$entries<'_>> {
                let list = $crate::proto::Command::List($crate::proto::rules::optional_path(path.as_ref())?);
                if self.core.wants_offset_probe() {
                    self.learn_list_time_offset(path.as_ref()) $($aw)* ?;
                }
                self.entries_from(list, $crate::list::ListingFormat::List) $($aw)*
            }

            $($async)? fn entries_from(
                &mut self,
                command: $crate::proto::Command,
                format: $crate::list::ListingFormat,
            ) -> $crate::Result<$entries<'_>> {
                let lines = $crate::driver::EntryLines::new(
                    format,
                    self.core.config.max_data_line,
                    self.core.list_offset(),
                );
                let reader = self.open_reader(command, $crate::proto::TransferType::Ascii, None) $($aw)* ?;
                Ok($entries { reader, lines })
            }
        }
    };
}

/// Asks the kernel to reset, rather than close, a connection when it is
/// dropped (an aborted upload: the server must not take it for complete).
pub(crate) fn reset_on_close(socket: socket2::SockRef<'_>) {
    let _ = socket.set_linger(Some(std::time::Duration::ZERO));
}

/// Turns on TCP keepalive probes every `every` (at least a second).
pub(crate) fn set_keepalive(
    socket: socket2::SockRef<'_>,
    every: std::time::Duration,
) -> io::Result<()> {
    let every = every.max(std::time::Duration::from_secs(1));
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(every)
        .with_interval(every);
    socket.set_tcp_keepalive(&keepalive)
}

/// Caps the bytes a data connection keeps queued in the kernel unsent at
/// `limit` ([`Config::unsent_limit`](crate::Config::unsent_limit), which
/// says why; `None` leaves the kernel's default; Linux, elsewhere a
/// no-op). A download sends nothing on its data connection.
pub(crate) fn limit_unsent(socket: socket2::SockRef<'_>, limit: Option<u32>) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(limit) = limit {
        let _ = socket.set_tcp_notsent_lowat(limit);
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = (socket, limit);
}

/// Test helper: checks that `limit_unsent` applied `limit` to `socket`
/// (where the platform has the option; an unset option reads 0).
#[cfg(test)]
pub(crate) fn assert_unsent_limited(socket: socket2::SockRef<'_>, limit: Option<u32>) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    assert_eq!(socket.tcp_notsent_lowat().unwrap(), limit.unwrap_or(0));
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = (socket, limit);
}

/// The most a `ReadData` reads at once (a listing's data, a range of a
/// segmented download).
pub(crate) const DATA_READ: usize = 64 * 1024;

/// A TCP socket for `addr`, bound to `source` if given, not connected yet;
/// with `TCP_NODELAY` if it `writes`.
pub(crate) fn socket_for(
    addr: std::net::SocketAddr,
    source: Option<std::net::IpAddr>,
    writes: bool,
) -> io::Result<socket2::Socket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // Every connection ftpkit writes on, control, data or proxy hop: the
    // end of an upload, a command and a TLS close_notify go out at once
    // instead of waiting for an ACK (Nagle). Set here, once, before the
    // connect; an accepted data connection gets it in `accept_from`. A
    // plain download's data connection, only read, goes without.
    if writes {
        socket.set_tcp_nodelay(true)?;
    }
    if let Some(ip) = source {
        socket.bind(&std::net::SocketAddr::new(ip, 0).into())?;
    }
    Ok(socket)
}

/// The connectors both drivers share: a host by name, a proxy hop, the
/// control connection to a target and a data connection, each through the
/// proxy route when one applies, and the active-mode accept. They are
/// written over the driver's `set_idle_timeout(tcp, wait)`, `bounded!`
/// and three steps whose bodies the driver gives here (documented by its
/// own doc comments): `resolve` (`host`, `port`, `wait`, `phase`: a name
/// to its addresses), `connect_socket` (`socket`, `addr`, `wait`: one TCP
/// connection from a socket made by [`socket_for`]) and `accept_by`
/// (`listener`, `deadline`: one incoming connection).
macro_rules! connectors {
    (
        $tcp:ty, $listener:ty, [$($async:ident)?], [$($aw:tt)*],
        $(#[$rdoc:meta])*
        resolve($host:ident, $port:ident, $rwait:ident, $phase:ident) $resolve:block
        $(#[$cdoc:meta])*
        connect_socket($socket:ident, $addr:ident, $cwait:ident) $connect:block
        $(#[$adoc:meta])*
        accept_by($from:ident, $deadline:ident) $accept:block
    ) => {
        $(#[$rdoc])*
        $($async)? fn resolve(
            $host: &str,
            $port: u16,
            $rwait: std::time::Duration,
            $phase: $crate::Phase,
        ) -> $crate::Result<Vec<std::net::SocketAddr>> $resolve

        $(#[$cdoc])*
        $($async)? fn connect_socket(
            $socket: socket2::Socket,
            $addr: std::net::SocketAddr,
            $cwait: std::time::Duration,
        ) -> std::io::Result<$tcp> $connect

        $(#[$adoc])*
        $($async)? fn accept_by(
            $from: &$listener,
            $deadline: std::time::Instant,
        ) -> $crate::Result<($tcp, std::net::SocketAddr)> $accept

        /// Connects to `addr` within `wait`, bound to `source` if given,
        /// with `TCP_NODELAY` if ftpkit `writes` on it.
        $($async)? fn connect_addr(
            addr: std::net::SocketAddr,
            wait: std::time::Duration,
            source: Option<std::net::IpAddr>,
            writes: bool,
        ) -> std::io::Result<$tcp> {
            let socket = $crate::driver::socket_for(addr, source, writes)?;
            connect_socket(socket, addr, wait) $($aw)*
        }

        /// Connects to the proxy of `hop` and, for a tunnel, runs its
        /// handshake to the destination, all within `wait`. Returns the
        /// stream, ready for the server's bytes, and the destination it
        /// leads to (its address once resolved locally).
        $($async)? fn connect_via(
            route: &$crate::proxy::Route,
            hop: $crate::proxy::Hop,
            wait: std::time::Duration,
            source: Option<std::net::IpAddr>,
            phase: $crate::Phase,
        ) -> $crate::Result<($tcp, Option<$crate::proxy::Dest>)> {
            let deadline = std::time::Instant::now() + wait;
            bounded!(wait, $($async)? {
                let mut tcp = connect_host(&hop.proxy_host, hop.proxy_port, wait, source) $($aw)* ?;
                let Some(dest) = hop.dest else {
                    return Ok((tcp, None));
                };
                let left = $crate::driver::left(deadline);
                set_idle_timeout(&tcp, left).map_err($crate::Error::io(phase))?;
                let dest = tunnel(route, &mut tcp, dest, hop.resolve_locally, left, phase) $($aw)* ?;
                Ok((tcp, Some(dest)))
            }, $crate::error::timed_out(phase))
        }

        /// Waits up to `wait` for a connection from `server_ip`;
        /// connections from any other address are closed and ignored (a
        /// third party must not be able to inject or steal data; the rule
        /// is `rules::accepts_data_from`).
        pub(crate) $($async)? fn accept_from(
            listener: &$listener,
            server_ip: std::net::IpAddr,
            wait: std::time::Duration,
        ) -> $crate::Result<$tcp> {
            let deadline = std::time::Instant::now() + wait;
            loop {
                let (stream, from) = accept_by(listener, deadline) $($aw)* ?;
                if $crate::proto::rules::accepts_data_from(from.ip(), server_ip) {
                    // As `socket_for` gives every connection opened here.
                    let _ = stream.set_nodelay(true);
                    return Ok(stream);
                }
                tracing::warn!(%from, expected = %server_ip, "refused a data connection from another host");
            }
        }

        /// Connects to `host`: every address it resolves to, in order.
        pub(crate) $($async)? fn connect_host(
            host: &str,
            port: u16,
            wait: std::time::Duration,
            source: Option<std::net::IpAddr>,
        ) -> $crate::Result<$tcp> {
            let addrs = resolve(host, port, wait, $crate::Phase::Connect) $($aw)* ?;
            let mut last = None;
            for addr in addrs {
                match connect_addr(addr, wait, source, true) $($aw)* {
                    Ok(stream) => return Ok(stream),
                    Err(e) => last = Some(e),
                }
            }
            Err($crate::driver::unreachable_host(host, last))
        }

        /// Runs the proxy's tunnel handshake to `dest` on `tcp` (the name
        /// resolved here first if the proxy wants an address); returns
        /// the destination as the proxy was told it.
        $($async)? fn tunnel(
            route: &$crate::proxy::Route,
            tcp: &mut $tcp,
            mut dest: $crate::proxy::Dest,
            resolve_locally: bool,
            wait: std::time::Duration,
            phase: $crate::Phase,
        ) -> $crate::Result<$crate::proxy::Dest> {
            use $crate::{Error, proxy::{Dest, Progress, ProxyError}};
            if resolve_locally && let Dest::Name(host, port) = &dest {
                let addrs = resolve(host, *port, wait, phase) $($aw)* ?;
                dest = Dest::resolved(host, addrs, phase)?;
            }
            let mut tunnel = route.tunnel(dest.clone());
            tcp.write_all(&tunnel.start()) $($aw)* .map_err(Error::io(phase))?;
            let mut buf = [0u8; 512];
            loop {
                let want = tunnel.wanted().min(buf.len());
                let got = tcp
                    .read(buf.get_mut(..want).unwrap_or_default()) $($aw)*
                    .map_err(Error::io(phase))?;
                if got == 0 {
                    return Err(ProxyError::Protocol("the proxy closed the connection".into()).into());
                }
                match tunnel.feed(buf.get(..got).unwrap_or_default())? {
                    Progress::More => {}
                    Progress::Send(bytes) => tcp.write_all(&bytes) $($aw)* .map_err(Error::io(phase))?,
                    Progress::Done => return Ok(dest),
                }
            }
        }

        /// The control connection to `target`, through `route` if any:
        /// the stream and the server's address.
        pub(crate) $($async)? fn connect_control(
            route: Option<&$crate::proxy::Route>,
            target: $crate::proto::engine::Target,
            wait: std::time::Duration,
            source: Option<std::net::IpAddr>,
        ) -> $crate::Result<($tcp, std::net::SocketAddr)> {
            use $crate::{Error, Phase, proto::engine::Target, proxy::Route};
            let (tcp, dest) = match (route, target) {
                (Some(route), target) => {
                    let hop = route.control(&target);
                    connect_via(route, hop, wait, source, Phase::Connect) $($aw)* ?
                }
                (None, Target::Host(host, port)) => (connect_host(&host, port, wait, source) $($aw)* ?, None),
                (None, Target::Addr(addr)) => (
                    connect_addr(addr, wait, source, true) $($aw)* .map_err(Error::io(Phase::Connect))?,
                    None,
                ),
            };
            let peer = tcp.peer_addr().map_err(Error::io(Phase::Connect))?;
            Ok((tcp, Route::peer(dest.as_ref(), peer)))
        }

        /// The server's address for a control connection the caller
        /// supplied: the target's, resolved if a name.
        pub(crate) $($async)? fn target_addr(
            target: $crate::proto::engine::Target,
            wait: std::time::Duration,
        ) -> $crate::Result<std::net::SocketAddr> {
            use $crate::proto::engine::Target;
            match target {
                Target::Addr(addr) => Ok(addr),
                Target::Host(host, port) => resolve(&host, port, wait, $crate::Phase::Connect) $($aw)* ?
                    .into_iter()
                    .next()
                    .ok_or_else(|| $crate::driver::unreachable_host(&host, None)),
            }
        }

        /// A data connection to `addr`, through `route` if it covers data
        /// connections.
        pub(crate) $($async)? fn connect_data(
            route: Option<&$crate::proxy::Route>,
            addr: std::net::SocketAddr,
            wait: std::time::Duration,
            source: Option<std::net::IpAddr>,
            writes: bool,
        ) -> $crate::Result<$tcp> {
            use $crate::{Error, Phase};
            match route.map(|route| (route, route.data(addr))) {
                Some((route, Some(hop))) => connect_via(route, hop, wait, source, Phase::DataConnect) $($aw)*
                    .map(|(tcp, _)| tcp),
                _ => connect_addr(addr, wait, source, writes) $($aw)* .map_err(Error::io(Phase::DataConnect)),
            }
        }
    };
}

/// How far a socket timeout already set may be from the one wanted and
/// still stand: setting it is two system calls, and a command and its
/// reply each want one, about the idle timeout every time.
const TIMEOUT_SLACK: std::time::Duration = std::time::Duration::from_millis(5);

/// One direction of a socket, for its timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Receiving: a timeout shorter than wanted only wakes a read early,
    /// and the read waits on (`Action::Read`).
    Read,
    /// Sending: the timeout must be the one wanted, since a write cut short
    /// cannot be taken up again.
    Write,
}

/// Whether the socket timeout `set` last (`None`: not known) can stand for
/// `wanted` in `direction`: for writes within [`TIMEOUT_SLACK`] of it, so
/// a blocking call ends at most that much before or after its deadline;
/// for reads also any shorter one (a read woken before its deadline waits
/// on), so a short wait (a batch's grace) and the long ones around it do
/// not set the socket again each time.
pub(crate) fn timeout_holds(
    set: Option<std::time::Duration>,
    wanted: std::time::Duration,
    direction: Direction,
) -> bool {
    set.is_some_and(|set| match direction {
        Direction::Read => set <= wanted + TIMEOUT_SLACK,
        Direction::Write => set.abs_diff(wanted) <= TIMEOUT_SLACK,
    })
}

/// The read and the write timeout last set on a control socket, so that
/// each is set again only when it must be (`None`: unknown).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ControlTimeouts {
    read: Option<std::time::Duration>,
    write: Option<std::time::Duration>,
}

impl ControlTimeouts {
    /// The timeout last set in `direction`.
    pub(crate) fn of(&mut self, direction: Direction) -> &mut Option<std::time::Duration> {
        match direction {
            Direction::Read => &mut self.read,
            Direction::Write => &mut self.write,
        }
    }
}

/// Whether a read woken by its socket's timeout is still before its
/// `deadline` (by more than [`TIMEOUT_SLACK`]): the timeout was a shorter
/// one kept from an earlier wait, and the read goes on.
pub(crate) fn woke_early(deadline: std::time::Instant) -> bool {
    std::time::Instant::now() + TIMEOUT_SLACK < deadline
}

/// The time left until `deadline`, at least a millisecond (a zero socket
/// timeout would mean none).
pub(crate) fn left(deadline: std::time::Instant) -> std::time::Duration {
    deadline
        .saturating_duration_since(std::time::Instant::now())
        .max(std::time::Duration::from_millis(1))
}

/// A driver's `Io` (the sockets of one client), `drive` (the loop that
/// runs an operation) and `Io::perform`, the one match over the core's
/// actions both drivers run, written over the driver's `Stream` and
/// `Socket`, its `net` connectors and `net::set_idle_timeout`, its
/// `TcpStream` and `TcpListener`, `pause(until)`, `bounded!` and
/// `within!` (how an action is bounded by its deadline: tokio awaits it
/// with a timer, the blocking driver has set the socket's timeout).
macro_rules! perform_actions {
    ([$($async:ident)?], [$($aw:tt)*]) => {
        use super::{net, stream::{Socket, Stream}};

        /// The sockets of one client.
        #[derive(Debug, Default)]
        pub(crate) struct Io {
            pub(crate) control: Option<Stream>,
            /// The data connection being set up, until a reader or writer
            /// takes it, and again when one leaves it to be closed.
            pub(crate) data: Option<Stream>,
            listener: Option<TcpListener>,
            /// The proxy connections go through, if any.
            pub(crate) route: Option<$crate::proxy::Route>,
            /// A control connection the caller supplied, until `Connect`
            /// takes it.
            pub(crate) supplied: Option<Socket>,
            /// The timeouts last set on the control socket.
            pub(crate) control_timeouts: $crate::driver::ControlTimeouts,
            /// Block buffers of this connection's transfers, kept between
            /// them (`Block::keep`), so that a file's transfer does not allocate and
            /// zero its own ([`Io::take_block`], [`Io::keep_block`]).
            pub(crate) blocks: Vec<$crate::block::Block>,
            /// The `splice(2)` pipe of this connection's plain downloads,
            /// kept between them; only ever put back empty (after a move
            /// that drained it), so no byte of one file reaches another.
            #[cfg(target_os = "linux")]
            pub(crate) pipe: Option<$crate::splice::Pipe>,
        }

        /// Runs an operation to its end, performing each action it asks
        /// for. (Async: dropping this future leaves the core's in-flight
        /// mark set, so the next operation sees the connection is out of
        /// step.)
        pub(crate) $($async)? fn drive<T>(
            io: &mut Io,
            mut op: $crate::proto::engine::Operation<'_, T>,
        ) -> $crate::Result<T> {
            use $crate::proto::engine::{Event, Step};
            let mut event = Event::Start;
            loop {
                match op.resume(event, std::time::Instant::now()) {
                    Step::Done(result) => return result,
                    Step::Act(action) => event = io.perform(action) $($aw)*,
                }
            }
        }

        impl Io {
            /// A block buffer of `len` bytes: one this connection kept if
            /// any.
            pub(crate) fn take_block(&mut self, len: usize) -> $crate::block::Block {
                $crate::block::Block::take(&mut self.blocks, len)
            }

            /// Keeps `block` for the next transfer.
            pub(crate) fn keep_block(&mut self, block: $crate::block::Block) {
                $crate::block::Block::keep(&mut self.blocks, block)
            }

            /// The open data connection (`Unusable` when there is none).
            pub(super) fn data(&mut self) -> $crate::Result<&mut Stream> {
                self.data.as_mut().ok_or($crate::Error::Unusable)
            }

            /// The control connection, its socket's timeout in `direction`
            /// set from `deadline` unless the one set last will do
            /// ([`timeout_holds`]($crate::driver::timeout_holds)).
            fn control(
                &mut self,
                deadline: std::time::Instant,
                direction: $crate::driver::Direction,
            ) -> $crate::Result<&mut Stream> {
                self.control_timeout(deadline, direction, direction)?;
                self.control.as_mut().ok_or($crate::Error::Unusable)
            }

            /// The control connection for a TLS handshake or shutdown,
            /// which reads and writes and cannot be taken up again after a
            /// timeout: both directions' timeouts as `deadline` wants.
            fn control_exact(&mut self, deadline: std::time::Instant) -> $crate::Result<&mut Stream> {
                use $crate::driver::Direction;
                self.control_timeout(deadline, Direction::Read, Direction::Write)?;
                self.control(deadline, Direction::Write)
            }

            /// Sets the control socket's timeout in `direction` from
            /// `deadline` unless the one set last holds by `rule`'s measure.
            fn control_timeout(
                &mut self,
                deadline: std::time::Instant,
                direction: $crate::driver::Direction,
                rule: $crate::driver::Direction,
            ) -> $crate::Result<()> {
                use $crate::{Error, Phase};
                let stream = self.control.as_ref().ok_or(Error::Unusable)?;
                if let Some(tcp) = stream.tcp() {
                    let wanted = $crate::driver::left(deadline);
                    let set = self.control_timeouts.of(direction);
                    if !$crate::driver::timeout_holds(*set, wanted, rule) {
                        *set = None;
                        net::set_timeout(tcp, direction, wanted).map_err(Error::io(Phase::Control))?;
                        *set = Some(wanted);
                    }
                }
                Ok(())
            }

            /// Takes a new data connection (with `TCP_NODELAY` from
            /// `socket_for` or `accept_from`), its idle timeout set for
            /// reads and, if it `writes`, for writes, its unsent bytes
            /// capped at `unsent` (`limit_unsent`) and its TLS handshake
            /// begun within it.
            $($async)? fn open_data(
                &mut self,
                tcp: TcpStream,
                idle: std::time::Duration,
                (writes, unsent): (bool, Option<u32>),
                tls: Option<$crate::proto::engine::TlsParams>,
            ) -> $crate::Result<()> {
                use $crate::{Error, Phase, driver::Direction};
                let idle = idle.max(std::time::Duration::from_millis(1));
                net::set_timeout(&tcp, Direction::Read, idle).map_err(Error::io(Phase::DataConnect))?;
                if writes {
                    net::set_timeout(&tcp, Direction::Write, idle).map_err(Error::io(Phase::DataConnect))?;
                }
                $crate::driver::limit_unsent(socket2::SockRef::from(&tcp), unsent);
                let sock = Socket::Tcp(tcp);
                self.data = Some(match tls {
                    Some(tls) => bounded!(idle, Stream::begin_tls(sock, tls.config, tls.name))
                        .map_err(Error::io(Phase::DataConnect))?,
                    None => Stream::Plain(sock),
                });
                Ok(())
            }

            /// Completes the data connection's TLS handshake.
            $($async)? fn finish_data(&mut self) -> $crate::Result<()> {
                use $crate::{Error, Phase};
                let data = self.data()?;
                data.finish_handshake() $($aw)* .map_err(Error::io(Phase::DataConnect))
            }
            /// Performs one action and returns the event that answers it.
            pub(crate) $($async)? fn perform(&mut self, action: $crate::proto::engine::Action) -> $crate::proto::engine::Event {
                use $crate::{Error, Phase, proto::engine::{Action, Event, flow::read_outcome}};
                match action {
                    Action::Connect { target, source, deadline, keepalive } => within!(deadline, {
                        let (socket, peer) = match self.supplied.take() {
                            // The caller's own control connection: the
                            // server's address is the target's.
                            Some(socket) => (socket, net::target_addr(target, $crate::driver::left(deadline)) $($aw)* ?),
                            None => {
                                let (tcp, peer) = net::connect_control(
                                    self.route.as_ref(), target, $crate::driver::left(deadline), source,
                                ) $($aw)* ?;
                                if let Some(every) = keepalive
                                    && let Err(e) = $crate::driver::set_keepalive(socket2::SockRef::from(&tcp), every)
                                {
                                    tracing::debug!(target: "ftpkit::control", %e, "TCP keepalive refused");
                                }
                                (Socket::Tcp(tcp), peer)
                            }
                        };
                        self.control = Some(Stream::Plain(socket));
                        self.control_timeouts = $crate::driver::ControlTimeouts::default();
                        Ok(Event::Connected(peer))
                    }),
                    Action::Send { bytes, deadline } => within!(deadline, {
                        let stream = self.control(deadline, $crate::driver::Direction::Write)?;
                        stream.write_all(&bytes) $($aw)* .map_err(Error::io(Phase::Control))?;
                        stream.flush() $($aw)* .map_err(Error::io(Phase::Control))?;
                        Ok(Event::Done)
                    }),
                    Action::Read { deadline } => within!(deadline, {
                        let mut buf = [0u8; 4096];
                        loop {
                            let control = self.control(deadline, $crate::driver::Direction::Read)?;
                            break match control.read(&mut buf) $($aw)* {
                                Ok(n) => Ok(match buf.get(..n) {
                                    Some([]) | None => Event::Eof,
                                    Some(bytes) => Event::Bytes(bytes.to_vec()),
                                }),
                                // A socket timeout (the blocking driver's
                                // bound): a shorter one kept from an earlier
                                // wait wakes the read early, which waits on.
                                Err(e) => match Error::io(Phase::Control)(e) {
                                    e if e.is_timeout() && $crate::driver::woke_early(deadline) => {
                                        *self.control_timeouts.of($crate::driver::Direction::Read) = None;
                                        continue;
                                    }
                                    e if e.is_timeout() => Ok(Event::TimedOut),
                                    e => Err(e),
                                },
                            };
                        }
                    }),
                    Action::StartTls { tls, deadline } => within!(deadline, {
                        let version = self.control_exact(deadline)?
                            .upgrade(tls.config, tls.name) $($aw)*
                            .map_err(Error::io(Phase::Control))?;
                        Ok(Event::Secured(version))
                    }),
                    Action::StopTls { deadline } => within!(deadline, {
                        self.control_exact(deadline)?.downgrade() $($aw)* .map_err(Error::io(Phase::Control))?;
                        Ok(Event::Done)
                    }),
                    Action::OpenData { addr, source, deadline, idle, writes, unsent, tls } => within!(deadline, {
                        let tcp = net::connect_data(self.route.as_ref(), addr, $crate::driver::left(deadline), source, writes) $($aw)* ?;
                        self.open_data(tcp, idle, (writes, unsent), tls) $($aw)* ?;
                        Ok(Event::Done)
                    }),
                    Action::Listen { port } => match self.listen(port) $($aw)* {
                        Ok(addr) => Event::Listening(addr),
                        Err(e) => Event::Failed(e),
                    },
                    Action::Accept { from, deadline, idle, writes, unsent, tls } => within!(deadline, {
                        let listener = self.listener.take().ok_or(Error::Unusable)?;
                        let tcp = net::accept_from(&listener, from, $crate::driver::left(deadline)) $($aw)* ?;
                        self.open_data(tcp, idle, (writes, unsent), tls) $($aw)* ?;
                        Ok(Event::Done)
                    }),
                    Action::FinishData { deadline } => within!(deadline, {
                        self.finish_data() $($aw)* ?;
                        Ok(Event::Done)
                    }),
                    Action::ReadData { deadline } => within!(deadline, {
                        // Read into this connection's kept block (no
                        // zeroed buffer a read); the event takes a copy of
                        // the bytes read.
                        let mut block = self.take_block($crate::driver::DATA_READ);
                        let stream = self.data()?;
                        let event = loop {
                            let read = read_outcome(stream.read(block.as_mut()) $($aw)*, stream.is_tls());
                            if let Some(event) = Event::of_data_read(read, &block) {
                                break event;
                            }
                        };
                        self.keep_block(block);
                        if matches!(event, Event::Eof) {
                            self.data = None;
                        }
                        Ok(event)
                    }),
                    Action::FinishUpload { deadline } => match self.data.take() {
                        Some(stream) => match stream.finish_upload($crate::driver::left(deadline)) $($aw)* {
                            Ok(()) => Event::Done,
                            Err(e) => Event::Failed(e),
                        },
                        None => Event::Failed(Error::Unusable),
                    },
                    Action::Sleep { until } => {
                        pause(until) $($aw)*;
                        Event::Done
                    }
                    // Nobody here asked for the size.
                    Action::RemoteSize(_) => Event::Done,
                    // The plans' actions: `drive_files` performs them.
                    Action::Pump { .. } | Action::Progress(_) | Action::Local(_) => {
                        Event::Failed(Error::Unusable)
                    }
                    Action::CloseData { reset } => {
                        if let Some(data) = self.data.take()
                            && reset
                            && let Some(socket) = data.socket()
                        {
                            $crate::driver::reset_on_close(socket);
                        }
                        Event::Done
                    }
                }
            }

            /// Binds the active-mode listener on the control connection's
            /// local address (refused through a proxy tunnel).
            $($async)? fn listen(&mut self, port: u16) -> $crate::Result<std::net::SocketAddr> {
                use $crate::{Error, Phase};
                if let Some(route) = &self.route {
                    route.refuse_active()?;
                }
                let control = self.control.as_ref().ok_or(Error::Unusable)?;
                let local = control.local_addr().map_err(Error::io(Phase::DataAccept))?;
                let listener = TcpListener::bind(std::net::SocketAddr::new(local.ip(), port)) $($aw)*
                    .map_err(Error::io(Phase::DataAccept))?;
                let addr = listener.local_addr().map_err(Error::io(Phase::DataAccept))?;
                self.listener = Some(listener);
                Ok(addr)
            }
        }
    };
}

/// The idle timer of an async reader or writer, armed for its client's
/// idle timeout (`async, client`), and its type (`async`).
#[cfg_attr(not(feature = "tokio"), allow(unused_macros))]
macro_rules! idle_timer {
    (async, $client:ident) => {
        Box::pin(tokio::time::sleep($client.idle()))
    };
    (async) => {
        std::pin::Pin<Box<tokio::time::Sleep>>
    };
}

/// What a driver's streaming reader and writer (`$end`) share: the struct
/// (documented by `$doc`), `new`, `abandon`, which gives the transfer up,
/// leaving the core what to settle and the client the data connection it
/// needs for that, and what a drop does: the blocking driver (`$settle`,
/// the client's method that settles at once) aborts the transfer there and
/// then, in `abort_quietly`; tokio leaves it to the client's next call.
macro_rules! data_end {
    (
        $client:ident, $(#[$doc:meta])* $end:ident,
        [$($async:ident)?], [$($settle:ident)?]
    ) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $end<'c> {
            client: &'c mut $client,
            stream: Option<super::stream::Stream>,
            flow: $crate::proto::engine::flow::Flow,
            // tokio's idle timer; the blocking driver's sockets time out.
            $(idle: idle_timer!($async),)?
        }

        impl<'c> $end<'c> {
            pub(crate) fn new(
                client: &'c mut $client,
                stream: super::stream::Stream,
                flow: $crate::proto::engine::flow::Flow,
            ) -> $end<'c> {
                $end {
                    $(idle: idle_timer!($async, client),)?
                    client,
                    stream: Some(stream),
                    flow,
                }
            }

            fn abandon(&mut self) {
                let stream = self.stream.take();
                match self.flow.abandon(&mut self.client.core) {
                    Some(true) => self.client.io.data = stream,
                    Some(false) => self.client.io.data = None,
                    None => {}
                }
            }

            $(
                /// Gives the transfer up and aborts it at once.
                pub(crate) fn abort_quietly(&mut self) {
                    self.abandon();
                    let _ = self.client.$settle();
                }
            )?
        }

        impl Drop for $end<'_> {
            fn drop(&mut self) {
                self.abandon();
                $(let _ = self.client.$settle();)?
            }
        }
    };
}

/// The methods a driver's streaming data reader (`$reader`) and writer
/// (`$writer`) share, both structs (`data_end!`) with a `client: &mut
/// $client`, the data `stream: Option<Stream>` (the driver's
/// `stream::Stream`) and the core's `flow`
/// (`proto::engine::flow::Flow`). The driver adds the reader's `read_data`
/// and the writer's `write_some` (one write, as the core judges it) and
/// its `Read`/`Write` glue; `[$($settle)?]` is what a drop does (see
/// `data_end!`).
macro_rules! data_ends {
    (
        $client:ident,
        $(#[$rdoc:meta])* reader: $reader:ident,
        $(#[$wdoc:meta])* writer: $writer:ident,
        [$($async:ident)?], [$($aw:tt)*], [$($settle:ident)?]
    ) => {
        data_end!($client, $(#[$rdoc])* $reader, [$($async)?], [$($settle)?]);
        data_end!($client, $(#[$wdoc])* $writer, [$($async)?], [$($settle)?]);

        impl<'c> $reader<'c> {
            /// The size the server announced in its 150 reply, if it did.
            pub fn announced_size(&self) -> Option<u64> {
                self.flow.announced()
            }

            /// Bytes read so far.
            pub fn bytes_read(&self) -> u64 {
                self.flow.moved()
            }

            /// Reads whatever is left, then returns the server's final
            /// reply. To stop early, use `abort` instead.
            pub $($async)? fn finish(mut self) -> $crate::Result<$crate::Reply> {
                let mut sink = vec![0u8; 16 * 1024];
                while self.flow.is_open() {
                    self.read_data(&mut sink) $($aw)* ?;
                }
                self.flow.take_reply()
            }

            /// Stops the transfer: `ABOR`, close the data connection, and
            /// consume the server's replies. The client stays usable.
            pub $($async)? fn abort(mut self) -> $crate::Result<()> {
                use $crate::proto::engine::flow::Stage;
                match self.flow.stage() {
                    Stage::Data => {
                        self.abandon();
                        self.client.settle() $($aw)*
                    }
                    Stage::FinalReply => self.finish() $($aw)* .map(drop),
                    Stage::Done | Stage::Failed => Ok(()),
                }
            }
        }

        impl<'c> $writer<'c> {
            /// Bytes written so far.
            pub fn bytes_written(&self) -> u64 {
                self.flow.moved()
            }

            /// Writes all of `data`. A failure aborts the transfer before
            /// it is returned.
            pub(crate) $($async)? fn write_data(&mut self, mut data: &[u8]) -> $crate::Result<()> {
                use $crate::proto::engine::flow::Moved;
                while !data.is_empty() {
                    match self.write_some(data) $($aw)* {
                        Moved::Bytes(n) => data = data.get(n..).unwrap_or_default(),
                        Moved::Again | Moved::End => {}
                        Moved::Failed(e) => {
                            self.abandon();
                            let _ = self.client.settle() $($aw)*;
                            return Err(e);
                        }
                    }
                }
                Ok(())
            }

            /// Ends the upload: flushes, ends TLS with close_notify and
            /// reads the server's, closes the data connection, and returns
            /// the server's final reply (2xx), or the error it sent.
            pub $($async)? fn finish(mut self) -> $crate::Result<$crate::Reply> {
                if !self.flow.close() {
                    return Err($crate::Error::Unusable);
                }
                self.client.io.data = self.stream.take();
                self.client.conclude(&mut self.flow) $($aw)*
            }

            /// Stops the upload: resets the data connection, sends `ABOR`
            /// and consumes the server's replies. The client stays usable.
            pub $($async)? fn abort(mut self) -> $crate::Result<()> {
                self.abandon();
                self.client.settle() $($aw)*
            }
        }
    };
}

/// The `retrieve`/`store` builder of a driver: the struct `$transfer` over
/// `$client`, its markers `Download` and `Upload`, the names of its two
/// kinds (`$retrieve` and `$store`, documented by `$rdoc` and `$sdoc`),
/// its options, and the ways to finish it that both drivers share. `[$($send)*]` are the extra
/// bounds of a progress callback (`+ Send` for tokio); `$read_ext` the
/// trait that gives `read` on an upload's source, `$write_ext` the one that
/// gives `write_all` on a download's sink, and `$flushed` what is done
/// with that sink at the end (tokio flushes it; the blocking driver leaves
/// that to the caller).
macro_rules! transfer_builder {
    (
        $transfer:ident, $client:ident, $reader:ident, $writer:ident,
        $(#[$rdoc:meta])* retrieve: $retrieve:ident,
        $(#[$sdoc:meta])* store: $store:ident,
        read: [$($read:tt)+], $read_ext:path,
        write: [$($write:tt)+], $write_ext:path, $flushed:path, [$($send:tt)*],
        [$($async:ident)?], [$($aw:tt)*]
    ) => {
        /// A progress callback: called with the file offset reached so far
        /// (restart offset included) after each block.
        type Progress<'c> = Box<dyn FnMut(u64) $($send)* + 'c>;

        /// Marks a transfer builder that downloads (`RETR`).
        #[derive(Debug, Default)]
        pub struct Download;

        /// Marks a transfer builder that uploads (`STOR`, or `APPE`).
        #[derive(Debug, Default)]
        pub struct Upload {
            append: bool,
        }

        $(#[$rdoc])*
        pub type $retrieve<'c> = $transfer<'c, Download>;

        $(#[$sdoc])*
        pub type $store<'c> = $transfer<'c, Upload>;

        /// A transfer being set up: the options both directions share, and
        /// the client and path. Built by the client's `retrieve` (to
        /// download) and `store` (to upload).
        pub struct $transfer<'c, D> {
            client: &'c mut $client,
            path: std::result::Result<$crate::proto::Arg, $crate::InvalidInput>,
            rest: Option<u64>,
            ty: $crate::proto::TransferType,
            block_size: usize,
            progress: Option<Progress<'c>>,
            direction: D,
        }

        impl<'c, D> $transfer<'c, D> {
            pub(crate) fn new(
                client: &'c mut $client,
                path: std::result::Result<$crate::proto::Arg, $crate::InvalidInput>,
                direction: D,
            ) -> $transfer<'c, D> {
                let block_size = client.core.config.block_size;
                $transfer {
                    client,
                    path,
                    rest: None,
                    ty: $crate::proto::TransferType::Binary,
                    block_size,
                    progress: None,
                    direction,
                }
            }

            /// Starts at byte `offset` of the remote file (`REST`); 0 means
            /// the start. For an upload, the source must yield the file's
            /// bytes from that offset on.
            pub fn rest(mut self, offset: u64) -> Self {
                self.rest = (offset > 0).then_some(offset);
                self
            }

            /// Transfers in `TYPE A` (text) instead of binary. Bytes move as
            /// they are: downloads keep the CRLF line ends of the wire; use
            /// the client's `retr_lines` and `store_lines` to convert.
            pub fn ascii(mut self) -> Self {
                self.ty = $crate::proto::TransferType::Ascii;
                self
            }

            /// Bytes per read (and per chunk given to `for_each_chunk`);
            /// default from [`Config::block_size`]($crate::Config::block_size).
            pub fn block_size(mut self, size: usize) -> Self {
                self.block_size = size.max(1);
                self
            }

            /// Calls `f` with the offset reached after each block.
            pub fn progress(mut self, f: impl FnMut(u64) $($send)* + 'c) -> Self {
                self.progress = Some(Box::new(f));
                self
            }
        }

        impl<'c> $transfer<'c, Download> {
            /// Opens the transfer and returns a reader over its data.
            pub $($async)? fn reader(self) -> $crate::Result<$reader<'c>> {
                let path = self.path?;
                self.client.open_reader($crate::proto::Command::Retr(path), self.ty, self.rest) $($aw)*
            }

            /// Downloads, calling `f` with each chunk of at most the block
            /// size (ftplib's `retrbinary` callback); returns the bytes
            /// received, not counting the restart offset. A failure of `f`
            /// aborts the transfer.
            pub $($async)? fn for_each_chunk(self, f: impl FnMut(&[u8]) -> std::io::Result<()>) -> $crate::Result<u64> {
                // No sink: every chunk goes to `f`.
                self.download_into(None::<&mut Vec<u8>>, f) $($aw)*
            }

            /// Downloads into `out`; returns the bytes received, not
            /// counting the restart offset. A failure writing `out` aborts
            /// the transfer. The async client flushes `out` at the end;
            /// its future dropped mid-way, the client's next call aborts
            /// the transfer.
            pub $($async)? fn to_writer<W: $($write)+ + ?Sized>(self, out: &mut W) -> $crate::Result<u64> {
                self.download_into(Some(out), |_| Ok(())) $($aw)*
            }

            /// Downloads each block into `out` if given, else to `f`.
            $($async)? fn download_into<W: $($write)+ + ?Sized>(
                self,
                mut out: Option<&mut W>,
                mut f: impl FnMut(&[u8]) -> std::io::Result<()>,
            ) -> $crate::Result<u64> {
                #[allow(unused_imports)]
                use $write_ext as _;
                let $transfer { client, path, rest, ty, block_size, mut progress, .. } = self;
                let offset = rest.unwrap_or(0);
                // The connection's block, back in it once the data is in.
                let mut block = client.io.take_block(block_size);
                let buf = block.as_mut();
                let mut reader = client.open_reader($crate::proto::Command::Retr(path?), ty, rest) $($aw)* ?;
                loop {
                    let n = reader.read_data(buf) $($aw)* ?;
                    if n == 0 {
                        break;
                    }
                    let chunk = buf.get(..n).unwrap_or_default();
                    let written = match out.as_mut() {
                        Some(out) => out.write_all(chunk) $($aw)*,
                        None => f(chunk),
                    };
                    if let Err(e) = written {
                        let _ = reader.abort() $($aw)*;
                        return Err($crate::Error::io($crate::Phase::Local)(e));
                    }
                    if let Some(progress) = progress.as_mut() {
                        progress(offset + reader.bytes_read());
                    }
                }
                let received = reader.bytes_read();
                reader.client.io.keep_block(block);
                if let Some(out) = out {
                    $flushed(out) $($aw)* .map_err($crate::Error::io($crate::Phase::Local))?;
                }
                Ok(received)
            }
        }

        impl<'c> $transfer<'c, Upload> {
            /// Appends to the remote file (`APPE`) instead of replacing it.
            pub fn append(mut self) -> Self {
                self.direction.append = true;
                self
            }

            fn command(path: $crate::proto::Arg, append: bool) -> $crate::proto::Command {
                if append {
                    $crate::proto::Command::Appe(path)
                } else {
                    $crate::proto::Command::Stor(path)
                }
            }

            /// Opens the transfer and returns a writer; call its `finish`
            /// when done.
            pub $($async)? fn writer(self) -> $crate::Result<$writer<'c>> {
                let command = Self::command(self.path?, self.direction.append);
                self.client.open_writer(command, self.ty, self.rest) $($aw)*
            }

            /// Uploads everything `input` yields; returns the bytes sent. A
            /// failure reading `input` aborts the upload, so no partial file
            /// is left looking complete.
            pub $($async)? fn from_reader<R: $($read)+ + ?Sized>(self, input: &mut R) -> $crate::Result<u64> {
                #[allow(unused_imports)]
                use $read_ext as _;
                let $transfer { client, path, rest, ty, block_size, mut progress, direction } = self;
                let offset = rest.unwrap_or(0);
                // The connection's block, back in it once the data is out.
                let mut block = client.io.take_block(block_size);
                let buf = block.as_mut();
                let command = Self::command(path?, direction.append);
                let mut writer = client.open_writer(command, ty, rest) $($aw)* ?;
                loop {
                    let n = match input.read(buf) $($aw)* {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(e) => {
                            let _ = writer.abort() $($aw)*;
                            return Err($crate::Error::io($crate::Phase::Local)(e));
                        }
                    };
                    writer.write_data(buf.get(..n).unwrap_or_default()) $($aw)* ?;
                    if let Some(progress) = progress.as_mut() {
                        progress(offset + writer.bytes_written());
                    }
                }
                let sent = writer.bytes_written();
                writer.client.io.keep_block(block);
                writer.finish() $($aw)* ?;
                Ok(sent)
            }
        }
    };
}

/// The `download`/`upload` builders of a driver (`$download`, `$upload`),
/// the client methods that make them, and `drive_files`, the loop that
/// runs a plan: it performs the plan's progress and size reports and hands
/// its local file operations to `Local::local_op`, its bulk data moves to
/// `Local::pump` (the driver's own, with the connection's buffers), and every other
/// action to the client's `$io`. `[$($send)*]` are the extra bounds of a
/// callback (`+ Send` for tokio).
macro_rules! file_builders {
    (
        $client:ident, $download:ident, $upload:ident, $io:ty, [$($send:tt)*],
        [$($async:ident)?], [$($aw:tt)*]
    ) => {
        /// The local side of a `download` or `upload`: its file and
        /// callbacks, next to the client's sockets (and their buffers).
        struct Local<'p> {
            io: &'p mut $io,
            file: $crate::local::LocalFile,
            progress: Option<Progress<'p>>,
            on_size: Option<SizeCallback<'p>>,
        }

        /// Runs a file plan, performing its local actions here and the
        /// others on the client's sockets.
        $($async)? fn drive_files<T>(
            io: &mut $io,
            mut op: $crate::proto::engine::Operation<'_, T>,
            progress: Option<Progress<'_>>,
            on_size: Option<SizeCallback<'_>>,
        ) -> $crate::Result<T> {
            use $crate::proto::engine::{Action, Event, Step};
            let mut local = Local { io, file: Default::default(), progress, on_size };
            let mut event = Event::Start;
            loop {
                let action = match op.resume(event, std::time::Instant::now()) {
                    Step::Done(result) => return result,
                    Step::Act(action) => action,
                };
                event = match action {
                    Action::Local(op) => local.local_op(op) $($aw)*,
                    Action::Progress(offset) => {
                        local.report(offset);
                        Event::Done
                    }
                    Action::RemoteSize(size) => {
                        if let Some(f) = local.on_size.as_mut() {
                            f(size);
                        }
                        Event::Done
                    }
                    Action::Pump { direction, offset, max, block, idle } => {
                        match local.pump(direction, offset, max, block, idle) $($aw)* {
                            Ok((bytes, eof)) => Event::Pumped { bytes, eof },
                            Err(e) => Event::Failed(e),
                        }
                    }
                    other => local.io.perform(other) $($aw)*,
                };
            }
        }

        segmented_download!($client, [$($async)?], [$($aw)*]);

        impl Local<'_> {
            fn report(&mut self, offset: u64) {
                if let Some(progress) = self.progress.as_mut() {
                    progress(offset);
                }
            }
        }

        /// A progress callback: the file offset reached so far.
        type Progress<'c> = Box<dyn FnMut(u64) $($send)* + 'c>;

        /// A callback told the remote size before the data flows.
        type SizeCallback<'c> = Box<dyn FnMut(Option<u64>) $($send)* + 'c>;

        /// A download being set up: see the client's `download`.
        pub struct $download<'c> {
            client: &'c mut $client,
            remote: Vec<u8>,
            local: std::path::PathBuf,
            options: $crate::TransferOptions,
            progress: Option<Progress<'c>>,
            known: Option<$crate::RemoteStat>,
            on_size: Option<SizeCallback<'c>>,
            adopt_local: bool,
            helpers: Vec<$client>,
            opening: Vec<Opening>,
            next: Option<Vec<u8>>,
        }

        /// An upload being set up: see the client's `upload`.
        pub struct $upload<'c> {
            client: &'c mut $client,
            local: std::path::PathBuf,
            remote: Vec<u8>,
            options: $crate::TransferOptions,
            progress: Option<Progress<'c>>,
        }

        impl<'c> $download<'c> {
            transfer_setters!(common $($send)*);
            transfer_setters!(download);

            /// Calls `f` with the remote file's size (`None` when the server
            /// will not tell) before each attempt's data flows, from the
            /// `SIZE` the download asks anyway (or the size given to
            /// `known_stat`): what a progress bar needs for its total,
            /// without asking the server again.
            pub fn on_size(mut self, f: impl FnMut(Option<u64>) $($send)* + 'c) -> Self {
                self.on_size = Some(Box::new(f));
                self
            }

            /// Also resume from `LOCAL` itself when there is no
            /// `LOCAL.part`: a partial file another tool left under the
            /// final name is moved to `LOCAL.part` first, and its bytes are
            /// checked like those of a `.part` (default: off; `LOCAL` is
            /// then replaced, never read).
            pub fn adopt_local(mut self, on: bool) -> Self {
                self.adopt_local = on;
                self
            }

            /// Logged-in connections to the same server, in the same
            /// directory as this client, for the extra ranges of a
            /// segmented download (see `segments`), used before any new
            /// one is opened: a caller that opens them while this client
            /// logs in saves the extra connections' login time. Those the
            /// download does not need are closed with `QUIT`.
            pub fn helpers(mut self, clients: Vec<$client>) -> Self {
                self.helpers = clients;
                self
            }

            /// Connections to the same server still being opened and logged
            /// in, each on a thread or task of the caller's, for the extra
            /// ranges of a segmented download after those of `helpers`: the
            /// download starts on the connections that are ready, and each
            /// of these takes its part of what is left as soon as it is
            /// logged in (see `segments`), so that none waits for the
            /// slowest login. One that fails to open is done without; those
            /// the download does not need are closed with `QUIT` once open.
            pub fn opening_helpers(mut self, pending: Vec<Opening>) -> Self {
                self.opening = pending;
                self
            }

            /// The remote file this client downloads next, right after
            /// this one (with the same options): its `SIZE`, `MDTM` and
            /// passive command (`EPSV`/`PASV`) go out in the same write as
            /// this file's `RETR`, and the next `download` of that file
            /// uses their replies, so that it starts with its own `RETR`:
            /// one round trip a file where two were needed. Only with
            /// [`Config::pipelining`]($crate::Config::pipelining) on and
            /// the passive mode; a server that answers those commands
            /// before this transfer's final reply (one that reads them
            /// during the transfer) has this file downloaded again from
            /// its start on a new connection at once (a restart within the
            /// retry policy, with no wait), and is sent nothing behind a
            /// transfer again. Replies read ahead for a file that is not
            /// downloaded next are dropped. Without resume and kept times,
            /// a server whose `150` states the size is asked no `SIZE`
            /// once that count was seen to match it.
            pub fn followed_by(mut self, remote: impl AsRef<[u8]>) -> Self {
                self.next = Some(remote.as_ref().to_vec());
                self
            }

            /// The path of the file the data goes to before it is verified
            /// and renamed: `LOCAL.part`.
            pub fn part_path(&self) -> std::path::PathBuf {
                $crate::proto::resume::part_path(&self.local)
            }

            /// Downloads, retrying and resuming as set, and returns what
            /// happened.
            ///
            /// The data goes to `LOCAL.part`, renamed to `LOCAL` only once
            /// complete and verified; on failure the `.part` file stays if
            /// it holds bytes (a later call resumes from it), an empty one
            /// is removed, and `LOCAL` is untouched.
            pub $($async)? fn run(self) -> $crate::Result<$crate::TransferReport> {
                let $download { client, remote, local, options, progress, known, on_size, adopt_local, helpers, opening, next } = self;
                let remote = $crate::proto::Arg::path(remote)?;
                let next = next.map($crate::proto::Arg::path).transpose()?;
                if options.segments > 1 {
                    // Over several connections: the plan is the core's,
                    // the threads or tasks the driver's.
                    let parts = $crate::proto::engine::segments::Parts { remote, local, options, known, adopt_local };
                    return segmented(client, parts, (helpers, opening), progress, on_size) $($aw)*;
                }
                for spare in helpers {
                    let _ = spare.quit() $($aw)*;
                }
                opening.into_iter().for_each(quit_when_open);
                let op = client.core.op(|core| {
                    $crate::proto::engine::files::download(core, remote, local, options, known, adopt_local, next)
                });
                drive_files(&mut client.io, op, progress, on_size) $($aw)*
            }
        }

        impl<'c> $upload<'c> {
            transfer_setters!(common $($send)*);
            transfer_setters!(upload);

            /// Uploads, retrying and resuming as set, and returns what
            /// happened.
            ///
            /// Within one call, a failed upload resumes from the size the
            /// server reports (after comparing an overlap). A file already
            /// on the server under the final name is replaced, never
            /// appended to.
            pub $($async)? fn run(self) -> $crate::Result<$crate::TransferReport> {
                let $upload { client, local, remote, options, progress } = self;
                let op = client
                    .core
                    .op(|core| $crate::proto::engine::files::upload(core, local, remote, options));
                drive_files(&mut client.io, op, progress, None) $($aw)*
            }
        }

        impl $client {
            /// Downloads `remote` to the local file `local`: resumes from
            /// `LOCAL.part` if one is there, retries transient failures
            /// (reconnecting and logging in again when the connection was
            /// lost), starts over if the remote file changed, verifies the
            /// size and, where the server offers
            /// `HASH`/`XSHA256`/`XSHA1`/`XMD5`/`XCRC`, a content hash, sets
            /// the local modification time from `MDTM`, and renames
            /// `LOCAL.part` to `LOCAL` only when all that succeeded.
            pub fn download(
                &mut self,
                remote: impl AsRef<[u8]>,
                local: impl AsRef<std::path::Path>,
            ) -> $download<'_> {
                $download {
                    client: self,
                    remote: remote.as_ref().to_vec(),
                    local: local.as_ref().to_path_buf(),
                    options: $crate::TransferOptions::default(),
                    progress: None,
                    known: None,
                    on_size: None,
                    adopt_local: false,
                    helpers: Vec::new(),
                    opening: Vec::new(),
                    next: None,
                }
            }

            /// Uploads the local file `local` to `remote`, retrying and
            /// resuming within the call, verifying the size and (where
            /// offered) a content hash, and setting the remote modification
            /// time with `MFMT` where offered. See the builder's
            /// `temp_name` for an upload that appears under its final name
            /// only when complete.
            pub fn upload(
                &mut self,
                local: impl AsRef<std::path::Path>,
                remote: impl AsRef<[u8]>,
            ) -> $upload<'_> {
                $upload {
                    client: self,
                    local: local.as_ref().to_path_buf(),
                    remote: remote.as_ref().to_vec(),
                    options: $crate::TransferOptions::default(),
                    progress: None,
                }
            }
        }
    };
}

/// A segmented download (the `download` builder's `segments`), for both
/// drivers: the plan is the core's (`proto::engine::segments`). The
/// client's own connection runs worker 0 in the caller's thread or task;
/// each extra connection runs `run_worker` on a thread or in a task the
/// driver starts with its `spawn(other, job, i)` and waits for with its
/// `joined(worker)`. Each connection has its own sockets and its own handle
/// on the `.part` file (positional writes, so they never share a position).
macro_rules! segmented_download {
    ($client:ident, [$($async:ident)?], [$($aw:tt)*]) => {
        /// Sets the operation deadline of the client's next operation to
        /// `left`, returning the one it had.
        fn limit(client: &mut $client, left: Option<std::time::Duration>) -> Option<std::time::Duration> {
            std::mem::replace(&mut client.core.config.deadline, left)
        }

        /// Runs worker `i` of `job` on an extra connection, then closes
        /// it (the worker says `QUIT` without waiting for the reply); one
        /// still in step after a worker that ended early says goodbye
        /// first.
        $($async)? fn run_worker(
            mut other: $client,
            job: std::sync::Arc<$crate::proto::engine::segments::Job>,
            i: usize,
        ) -> $crate::Result<()> {
            // A helper the caller opened is logged in already.
            let connected = other.io.control.is_some();
            let op = other.core.op(|core| $crate::proto::engine::segments::worker(core, job, i, connected));
            let result = drive_files(&mut other.io, op, None, None) $($aw)*;
            if !other.core.is_unusable() && other.io.control.is_some() {
                let _ = other.quit() $($aw)*;
            }
            result
        }

        /// Runs worker `i` of `job` on the connection `pending` gives once
        /// it is logged in (the driver's `opened`), with what is left of the
        /// download's deadline then; one that failed to open is done
        /// without, as a new connection the server refuses is
        /// (`segments::worker`).
        $($async)? fn run_opening(
            pending: Opening,
            job: std::sync::Arc<$crate::proto::engine::segments::Job>,
            i: usize,
            clock: $crate::proto::engine::segments::Clock,
        ) -> $crate::Result<()> {
            match opened(pending) $($aw)* {
                Some(mut other) => {
                    limit(&mut other, clock.left());
                    run_worker(other, job, i) $($aw)*
                }
                None => Ok(()),
            }
        }

        /// Says goodbye on a connection not needed, once it is open.
        $($async)? fn quit_opened(pending: Opening) {
            if let Some(spare) = opened(pending) $($aw)* {
                let _ = spare.quit() $($aw)*;
            }
        }

        /// Downloads over several connections (see the builder's `segments`).
        $($async)? fn segmented(
            client: &mut $client,
            parts: $crate::proto::engine::segments::Parts,
            (mut helpers, mut opening): (Vec<$client>, Vec<Opening>),
            mut progress: Option<Progress<'_>>,
            mut on_size: Option<SizeCallback<'_>>,
        ) -> $crate::Result<$crate::TransferReport> {
            use $crate::proto::engine::{files, segments::{self, Clock, Parts, Prepared}};
            let clock = Clock::start(client.core.config.deadline);
            let sizes = on_size.as_mut().map(|f| Box::new(f) as SizeCallback<'_>);
            let saved = limit(client, clock.left());
            let (remote, local) = (parts.remote.clone(), parts.local.clone());
            let op = client
                .core
                .op(|core| segments::prepare(core, remote, local, parts.options.clone(), parts.known));
            let prepared = drive_files(&mut client.io, op, None, sizes) $($aw)*;
            limit(client, saved);
            let job = match prepared? {
                Prepared::Segments(job) => job,
                Prepared::Single(stat) => {
                    for spare in helpers {
                        let _ = spare.quit() $($aw)*;
                    }
                    opening.into_iter().for_each(quit_when_open);
                    let Parts { remote, local, options, adopt_local, .. } = parts;
                    let saved = limit(client, clock.left());
                    let op = client
                        .core
                        .op(|core| files::download(core, remote, local, options, Some(stat), adopt_local, None));
                    let result = drive_files(&mut client.io, op, progress, on_size) $($aw)*;
                    limit(client, saved);
                    return result;
                }
            };
            // Connections ready first, then those still logging in (each
            // starts once it is), then new ones.
            opening.reverse();
            let workers: Vec<Worker> = (1..job.connections())
                .map(|i| {
                    if helpers.is_empty() && let Some(pending) = opening.pop() {
                        return spawn_opening(pending, job.clone(), i, clock);
                    }
                    let other = match helpers.pop() {
                        Some(mut helper) => {
                            limit(&mut helper, clock.left());
                            helper
                        }
                        None => {
                            let mut io = Io::default();
                            io.route = client.io.route.clone();
                            let core = segments::sibling(&client.core, clock.left());
                            $client { core, io }
                        }
                    };
                    spawn(other, job.clone(), i)
                })
                .collect();
            for spare in helpers {
                let _ = spare.quit() $($aw)*;
            }
            opening.into_iter().for_each(quit_when_open);
            let saved = limit(client, clock.left());
            let op = client.core.op(|core| segments::worker(core, job.clone(), 0, true));
            let reports = progress.as_mut().map(|f| Box::new(f) as Progress<'_>);
            let mine = drive_files(&mut client.io, op, reports, None) $($aw)*;
            limit(client, saved);
            // Every worker is waited for, whatever the others gave.
            let mut theirs = Ok(());
            for worker in workers {
                theirs = theirs.and(joined(worker) $($aw)*);
            }
            let workers = mine.and(theirs);
            let saved = limit(client, clock.left());
            let op = client.core.op(|core| segments::finish(core, job, workers));
            let result = drive_files(&mut client.io, op, progress, None) $($aw)*;
            limit(client, saved);
            result
        }
    };
}

/// What the blocking and the async pool share around [`Slots`](crate::pool::Slots)
/// (`crate::pool`, where every decision is): the state behind a pool
/// (the pool `$pool` over its `Shared` state, with `$freed` to wake
/// waiters), the guard of a reserved slot, and the borrowed client
/// `$pooled` that goes back to the pool when dropped. `$factory` is the
/// type of the pool's connection factory.
macro_rules! pool_half {
    (
        $(#[$pool_doc:meta])* pool: $pool:ident,
        $(#[$doc:meta])* pooled: $pooled:ident,
        $client:ident, $freed:ty, $factory:ty,
        [$($async:ident)?], [$($aw:tt)*]
    ) => {
        $(#[$pool_doc])*
        #[derive(Clone)]
        pub struct $pool {
            shared: std::sync::Arc<Shared>,
        }

        struct Shared {
            slots: std::sync::Mutex<$crate::pool::Slots<$client>>,
            freed: $freed,
            factory: Box<$factory>,
            config: $crate::pool::PoolConfig,
        }

        impl Shared {
            fn lock(&self) -> std::sync::MutexGuard<'_, $crate::pool::Slots<$client>> {
                // A thread that panicked while holding the lock left the
                // counts consistent (no code between lock and unlock can
                // panic).
                self.slots
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            }

        }

        impl std::fmt::Debug for $pool {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let slots = self.shared.lock();
                f.debug_struct(stringify!($pool))
                    .field("in_use", &slots.in_use())
                    .field("idle", &slots.idle())
                    .finish_non_exhaustive()
            }
        }

        impl $pool {
            /// A pool whose connections come from `factory`.
            fn with(config: $crate::pool::PoolConfig, factory: Box<$factory>) -> $pool {
                let shared = Shared {
                    slots: std::sync::Mutex::new($crate::pool::Slots::new(&config)),
                    freed: <$freed>::new(),
                    factory,
                    config,
                };
                $pool { shared: std::sync::Arc::new(shared) }
            }

            /// Connections handed out and idle.
            pub fn status(&self) -> (usize, usize) {
                let slots = self.shared.lock();
                (slots.in_use(), slots.idle())
            }

            /// Hands out the client a checkout gave: an idle one (checked
            /// with `NOOP` if it was idle long, replaced if that fails) or a
            /// new one. The slot is ours from here on: a failure (or, async,
            /// a drop) before the client is handed out gives it back.
            $($async)? fn hand_out(&self, step: $crate::pool::Checkout<$client>) -> $crate::Result<$pooled> {
                let mut slot = Slot {
                    shared: &self.shared,
                    armed: true,
                };
                let client = match step {
                    $crate::pool::Checkout::Reuse { mut conn, check } => {
                        if !check || conn.noop() $($aw)* .is_ok() {
                            conn
                        } else {
                            tracing::debug!(target: "ftpkit::pool", "an idle connection failed its health check; reconnecting");
                            (self.shared.factory)() $($aw)* ?
                        }
                    }
                    _ => (self.shared.factory)() $($aw)* ?,
                };
                slot.armed = false;
                Ok($pooled {
                    client,
                    keep: true,
                    shared: self.shared.clone(),
                })
            }
        }

        /// A reserved slot that is given back unless disarmed.
        struct Slot<'a> {
            shared: &'a Shared,
            armed: bool,
        }

        impl Drop for Slot<'_> {
            fn drop(&mut self) {
                if self.armed {
                    self.shared.lock().discard();
                    self.shared.freed.notify_one();
                }
            }
        }

        $(#[$doc])*
        pub struct $pooled {
            client: $client,
            /// Whether the client goes back to the pool when the guard
            /// ends (`discard` clears it).
            keep: bool,
            shared: std::sync::Arc<Shared>,
        }

        impl std::fmt::Debug for $pooled {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_tuple(stringify!($pooled)).field(&self.client).finish()
            }
        }

        impl $pooled {
            /// Closes this connection instead of returning it to the pool.
            pub fn discard(mut self) {
                self.keep = false;
            }
        }

        impl std::ops::Deref for $pooled {
            type Target = $client;

            fn deref(&self) -> &$client {
                &self.client
            }
        }

        impl std::ops::DerefMut for $pooled {
            fn deref_mut(&mut self) -> &mut $client {
                &mut self.client
            }
        }

        impl Drop for $pooled {
            fn drop(&mut self) {
                let mut slots = self.shared.lock();
                if self.keep && !self.client.is_unusable() {
                    // The client moves to the pool; one never connected
                    // (no socket, nothing to close) is left in its place.
                    let config = self.client.core.config.clone();
                    let inert = $client {
                        core: $crate::proto::engine::Core::new(String::new(), config),
                        io: Default::default(),
                    };
                    let client = std::mem::replace(&mut self.client, inert);
                    slots.checkin(client, std::time::Instant::now());
                } else {
                    // Closed with the guard, as when dropped.
                    slots.discard();
                }
                drop(slots);
                self.shared.freed.notify_one();
            }
        }
    };
}

/// The test each driver runs on its `Io` (as below): reads of a data
/// connection (`ReadData`) go into one block the connection keeps, not a
/// new zeroed buffer each, and each gives the bytes read.
#[cfg(test)]
macro_rules! data_reads_reuse_one_block {
    ([$($aw:tt)*], $write:expr) => {{
        use $crate::proto::engine::{Action, Event};
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let idle = std::time::Duration::from_secs(5);
        let server = TcpListener::bind("127.0.0.1:0") $($aw)* .unwrap();
        let mut io = Io::default();
        let addr = server.local_addr().unwrap();
        let opened = io.perform(Action::OpenData { addr, source: None, deadline, idle, writes: false, unsent: None, tls: None }) $($aw)*;
        assert!(matches!(opened, Event::Done), "{opened:?}");
        let (mut peer, _) = server.accept() $($aw)* .unwrap();
        let mut kept = None;
        for text in [&b"first chunk"[..], b"second"] {
            $write(&mut peer, text) $($aw)* .unwrap();
            let event = io.perform(Action::ReadData { deadline }) $($aw)*;
            assert!(matches!(&event, Event::Bytes(b) if b == text), "{event:?}");
            // One block, kept between reads: the same storage each time.
            assert_eq!(io.blocks.len(), 1);
            let at = io.blocks.first().unwrap().filled(1).as_ptr();
            assert_eq!(*kept.get_or_insert(at), at);
        }
        drop(peer);
        let end = io.perform(Action::ReadData { deadline }) $($aw)*;
        assert!(matches!(end, Event::Eof), "{end:?}");
    }};
}

/// The test each driver runs on its `Io` (`[]`, or `[.await]` on tokio,
/// with the driver's `Io`, `Stream`, `Socket`, `TcpListener` and
/// `TcpStream` in scope): a passive and an active data connection, each
/// taken with `TCP_NODELAY` (the passive one has it from its socket's
/// making, unless only read) and the unsent limit its action asked for.
#[cfg(test)]
macro_rules! data_connections_take_nodelay {
    ([$($aw:tt)*]) => {{
        use $crate::proto::engine::{Action, Event};
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let idle = std::time::Duration::from_secs(5);
        let nodelay = |io: &Io| io.data.as_ref().and_then(Stream::socket).map(|s| s.tcp_nodelay().unwrap());
        let server = TcpListener::bind("127.0.0.1:0") $($aw)* .unwrap();
        let mut io = Io::default();
        let addr = server.local_addr().unwrap();
        // Set once, where the socket is made, before it connects: nothing
        // after the connect sets it again.
        assert!($crate::driver::socket_for(addr, None, true).unwrap().tcp_nodelay().unwrap());
        let unsent = Some(24 * 1024);
        let opened = io.perform(Action::OpenData { addr, source: None, deadline, idle, writes: true, unsent, tls: None }) $($aw)*;
        assert!(matches!(opened, Event::Done), "{opened:?}");
        assert_eq!(nodelay(&io), Some(true), "passive");
        $crate::driver::assert_unsent_limited(io.data.as_ref().and_then(Stream::socket).unwrap(), unsent);
        // A plain download's, which ftpkit only reads, goes without.
        let opened = io.perform(Action::OpenData { addr, source: None, deadline, idle, writes: false, unsent: None, tls: None }) $($aw)*;
        assert!(matches!(opened, Event::Done), "{opened:?}");
        assert_eq!(nodelay(&io), Some(false), "passive, only read");
        // Active: the listener takes the control connection's address.
        let control = TcpStream::connect(addr) $($aw)* .unwrap();
        io.control = Some(Stream::Plain(Socket::Tcp(control)));
        let Event::Listening(port) = io.perform(Action::Listen { port: 0 }) $($aw)* else {
            panic!("no listener");
        };
        let _server_side = TcpStream::connect(port) $($aw)* .unwrap();
        let from = port.ip();
        let unsent = Some(40 * 1024);
        let accepted = io.perform(Action::Accept { from, deadline, idle, writes: true, unsent, tls: None }) $($aw)*;
        assert!(matches!(accepted, Event::Done), "{accepted:?}");
        assert_eq!(nodelay(&io), Some(true), "active");
        $crate::driver::assert_unsent_limited(io.data.as_ref().and_then(Stream::socket).unwrap(), unsent);
    }};
}
