//! The native core of the `ftpkit` Python package.
//!
//! It binds ftpkit's public blocking API ([`ftpkit::Client`], [`Config`],
//! [`TlsConfig`], [`ftpkit::pool::Pool`]) for the Python modules
//! `ftpkit.ftplib` (a drop-in for the standard library's `ftplib`) and
//! `ftpkit` (`Client`, `Pool`). The GIL is released around every network
//! and disk operation and held while Python callbacks run; between blocks
//! of a transfer pending signals are checked, so Ctrl-C aborts the transfer
//! (`ABOR`) and raises `KeyboardInterrupt`.

use std::{
    io::{Read, Write},
    net::IpAddr,
    sync::{Mutex, mpsc},
    thread::JoinHandle,
    time::{Duration, UNIX_EPOCH},
};

use ftpkit::{
    Charset, Client, Config, DataMode, EntryKind, Error, ListTimeOffset, Protection, Reply,
    TlsConfig, TlsMode, TransferReport, TransferType, Verify,
    block::Block,
    pool::{Pool, PoolConfig, PooledClient},
    proto::ReplyLimits,
    proxy::Proxy,
};
use pyo3::{
    create_exception,
    exceptions::PyException,
    prelude::*,
    types::{PyBytes, PyDict, PyList},
};

create_exception!(
    _native,
    NativeError,
    PyException,
    "An ftpkit error: args are (kind, message, code, lines); the Python layer maps it to ftplib's exceptions."
);

/// The Python form of a reply: `(code, [line bytes, ...])`.
fn reply_py(py: Python<'_>, reply: &Reply) -> PyResult<PyObject> {
    let lines = PyList::empty(py);
    for line in reply.lines() {
        lines.append(PyBytes::new(py, line))?;
    }
    Ok((reply.code().0, lines)
        .into_pyobject(py)?
        .into_any()
        .unbind())
}

/// A short name for each kind of ftpkit error, for the Python layer.
fn kind_of(e: &Error) -> &'static str {
    match e {
        Error::Reply { .. } | Error::LoginRefused(_) => "reply",
        Error::Protocol(_) => "proto",
        Error::InvalidInput(_) => "invalid",
        Error::Io { .. } if e.is_timeout() => "timeout",
        Error::Io { .. } => "io",
        Error::Deadline { .. } => "timeout",
        Error::Tls { .. } | Error::Certificate { .. } => "tls",
        Error::ConnectionClosed(_) => "eof",
        Error::Incomplete { .. } => "incomplete",
        Error::Verification(_) => "verify",
        Error::Unusable => "unusable",
        _ => "other",
    }
}

/// A Python progress callback as the library's: called with the GIL held,
/// with the offset reached; an exception it raises is printed, not
/// propagated (the transfer goes on), as for a callback in a thread.
fn progress_callback(cb: PyObject) -> impl FnMut(u64) {
    move |n| {
        Python::with_gil(|py| {
            if let Err(e) = cb.call1(py, (n,)) {
                e.print(py);
            }
        })
    }
}

/// Turns an ftpkit error into a `NativeError(kind, message, code, lines)`.
fn to_py(e: Error) -> PyErr {
    Python::with_gil(|py| {
        let (code, lines) = match e.reply() {
            Some(reply) => match reply_py(py, reply) {
                Ok(obj) => (Some(reply.code().0), Some(obj)),
                Err(err) => return err,
            },
            // For I/O errors, the OS error number (Python builds the
            // matching OSError subclass from it, ConnectionRefusedError...).
            None => match &e {
                Error::Io { source, .. } => (
                    source.raw_os_error().and_then(|n| u16::try_from(n).ok()),
                    None,
                ),
                _ => (None, None),
            },
        };
        let lines = lines.and_then(|obj| obj.bind(py).get_item(1).ok().map(Bound::unbind));
        NativeError::new_err((kind_of(&e), e.to_string(), code, lines))
    })
}

/// An error raised by the binding itself (not by ftpkit).
fn local_err(kind: &str, message: impl Into<String>) -> PyErr {
    NativeError::new_err((
        kind.to_string(),
        message.into(),
        None::<u16>,
        None::<PyObject>,
    ))
}

/// Recovers the ftpkit error that a data stream's `Read`/`Write` wrapped.
fn from_io(e: std::io::Error) -> Error {
    match e.into_inner() {
        Some(inner) => match inner.downcast::<Error>() {
            Ok(e) => *e,
            Err(other) => Error::Io {
                phase: ftpkit::Phase::Data,
                source: std::io::Error::other(other),
            },
        },
        None => Error::Io {
            phase: ftpkit::Phase::Data,
            source: std::io::Error::other("data connection failed"),
        },
    }
}

/// Fills `buf` as far as the stream allows; returns fewer bytes only at the end.
fn read_block(reader: &mut impl Read, buf: &mut [u8]) -> Result<usize, Error> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..) {
        if rest.is_empty() {
            break;
        }
        match reader.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(from_io(e)),
        }
    }
    Ok(filled)
}

/// Bytes per read and write on the download-to-file path.
#[cfg(unix)]
const FD_BLOCK: usize = 1 << 20;

/// How long the file-descriptor paths move data between two checks for
/// pending signals (Ctrl-C), at most.
#[cfg(unix)]
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

/// A file of our own on the same open file as Python's descriptor `fd`
/// (`dup`: same position, same flags), so that the transfer does not
/// depend on the Python object while the GIL is released.
#[cfg(unix)]
fn dup_fd(fd: i32) -> PyResult<std::fs::File> {
    use std::os::fd::BorrowedFd;
    if fd < 0 {
        return Err(local_err("invalid", format!("bad file descriptor {fd}")));
    }
    // SAFETY: the caller passed the descriptor of a file object it holds
    // open for the length of this call, and we hold the GIL, so no Python
    // code can close it before it is duplicated here.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let owned = borrowed.try_clone_to_owned().map_err(|e| {
        to_py(Error::Io {
            phase: ftpkit::Phase::Local,
            source: e,
        })
    })?;
    Ok(std::fs::File::from(owned))
}

/// Moves data from `reader` into `out` for up to [`SIGNAL_CHECK`], in
/// writes of a full `buf` where the data comes fast enough; `true` at the
/// end of the data (the final reply read).
#[cfg(unix)]
fn pump_to_file(
    reader: &mut impl Read,
    out: &mut std::fs::File,
    buf: &mut [u8],
) -> Result<bool, Error> {
    let start = std::time::Instant::now();
    let mut end = false;
    while !end && start.elapsed() < SIGNAL_CHECK {
        let mut filled = 0;
        while let Some(rest) = buf.get_mut(filled..).filter(|r| !r.is_empty()) {
            match reader.read(rest) {
                Ok(0) => {
                    end = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(from_io(e)),
            }
            if start.elapsed() >= SIGNAL_CHECK {
                break;
            }
        }
        out.write_all(buf.get(..filled).unwrap_or_default())
            .map_err(|source| Error::Io {
                phase: ftpkit::Phase::Local,
                source,
            })?;
    }
    Ok(end)
}

/// Runs `slice` (one [`SIGNAL_CHECK`]'s worth of moving data) with the GIL
/// released until it reports the end, checking for pending signals
/// between slices: a Ctrl-C comes back as `KeyboardInterrupt`, for the
/// caller to abort the transfer.
#[cfg(unix)]
fn in_slices(
    py: Python<'_>,
    mut slice: impl FnMut() -> Result<bool, Error> + Send,
) -> PyResult<()> {
    while !py.allow_threads(&mut slice).map_err(to_py)? {
        py.check_signals()?;
    }
    Ok(())
}

/// A buffer for a download of blocks of at most `block` bytes: no larger
/// than the size the server announced (plus one byte, to see the end in
/// the same read), so that many small files do not each clear a large
/// buffer. Page-aligned, as the engine's own blocks (`ftpkit::block`):
/// the kernel copies file data fastest to and from such a buffer.
fn block_buffer(block: usize, announced: Option<u64>) -> Block {
    let len = announced
        .and_then(|size| usize::try_from(size.saturating_add(1)).ok())
        .map_or(block, |size| size.min(block));
    Block::new(len.max(1))
}

/// Moves bytes of `input` from offset `*at` into `writer` for up to
/// [`SIGNAL_CHECK`], advancing `*at`; `true` at the end of the file.
#[cfg(unix)]
fn pump_from_file(
    input: &std::fs::File,
    at: &mut u64,
    writer: &mut impl Write,
    buf: &mut [u8],
) -> Result<bool, Error> {
    use std::os::unix::fs::FileExt;
    let start = std::time::Instant::now();
    while start.elapsed() < SIGNAL_CHECK {
        let n = loop {
            match input.read_at(buf, *at) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(Error::Io {
                        phase: ftpkit::Phase::Local,
                        source,
                    });
                }
            }
        };
        if n == 0 {
            return Ok(true);
        }
        writer
            .write_all(buf.get(..n).unwrap_or_default())
            .map_err(from_io)?;
        *at += n as u64;
    }
    Ok(false)
}

/// How to connect: everything `FTP(...)`, `FTP_TLS(...)` and `Client(...)` accept.
#[derive(Clone)]
struct Settings {
    config: Config,
}

/// TLS as the Python layer asks for it, a tuple `(mode, ca_der, ca_file,
/// verify)`: the mode `"none"`, `"capable"` (TLS on request, ftplib's
/// `FTP_TLS.auth()`), `"explicit"` or `"implicit"`; CA certificates (DER)
/// and a CA file (PEM) to trust beside the system's; verification on or off.
#[derive(FromPyObject)]
struct TlsArgs(String, Vec<Vec<u8>>, Option<String>, bool);

/// Seconds as a duration: `None` for anything not finite and positive.
fn seconds(value: Option<f64>) -> Option<Duration> {
    value
        .filter(|t| t.is_finite() && *t > 0.0)
        .map(Duration::from_secs_f64)
}

/// An IP address argument.
fn ip_arg(what: &str, addr: &str) -> PyResult<IpAddr> {
    addr.parse()
        .map_err(|_| local_err("invalid", format!("bad {what} {addr:?}")))
}

/// Applies the options beyond TLS that `FTP(...)`, `Client(...)` and
/// `Pool(...)` take as keywords, given as a dict: `timeout`,
/// `connect_timeout`, `reply_timeout`, `deadline`, `keepalive` (seconds;
/// `None` or 0: off), `source_address`, `passive`, `trust_pasv`,
/// `use_epsv`, `max_line`, `active_ports` (`(first, last)`),
/// `active_address`, `list_time_offset` (`"auto"`, `"+02:00"` or seconds
/// east of UTC), `encoding` (a charset label; the engine keeps UTF-8 for
/// labels it does not know: the Python layer encodes and decodes names with
/// Python's codec either way), `proxy` (a URL: `socks5://`, `socks5h://`,
/// `http://`, `ftp://`). An unknown key is an error, a `None` value leaves
/// the default.
fn apply_options(mut config: Config, options: Option<&Bound<'_, PyDict>>) -> PyResult<Config> {
    let Some(options) = options else {
        return Ok(config);
    };
    for (key, value) in options.iter() {
        let key: String = key.extract()?;
        if value.is_none() && key != "keepalive" {
            continue;
        }
        config = match key.as_str() {
            "timeout" => match seconds(value.extract()?) {
                Some(d) => config.timeout(d).connect_timeout(d),
                None => config,
            },
            "connect_timeout" => match seconds(value.extract()?) {
                Some(d) => config.connect_timeout(d),
                None => config,
            },
            "reply_timeout" => match seconds(value.extract()?) {
                Some(d) => config.reply_timeout(d),
                None => config,
            },
            "deadline" => match seconds(value.extract()?) {
                Some(d) => config.deadline(d),
                None => config,
            },
            "keepalive" => config.keepalive(seconds(value.extract()?)),
            "source_address" => {
                let addr: String = value.extract()?;
                if addr.is_empty() {
                    config
                } else {
                    config.source_address(ip_arg("source address", &addr)?)
                }
            }
            "passive" => config.mode(if value.extract()? {
                DataMode::Passive
            } else {
                DataMode::Active
            }),
            "trust_pasv" => config.trust_pasv_address(value.extract()?),
            "use_epsv" => config.use_epsv(value.extract()?),
            "max_line" => config.reply_limits(ReplyLimits {
                max_line: value.extract()?,
                ..ReplyLimits::default()
            }),
            "active_ports" => {
                let (first, last): (u16, u16) = value.extract()?;
                if first == 0 || first > last {
                    return Err(local_err(
                        "invalid",
                        format!("bad active port range ({first}, {last})"),
                    ));
                }
                config.active_ports(first..=last)
            }
            "active_address" => {
                let addr: String = value.extract()?;
                config.active_address(ip_arg("active address", &addr)?)
            }
            "list_time_offset" => {
                let offset = match value.extract::<i32>() {
                    // At most 14 hours either way, as the text form allows.
                    Ok(secs) if (-14 * 3600..=14 * 3600).contains(&secs) => {
                        ListTimeOffset::Fixed(secs)
                    }
                    Ok(secs) => {
                        return Err(local_err(
                            "invalid",
                            format!("list_time_offset {secs} s is more than 14 hours"),
                        ));
                    }
                    Err(_) => {
                        let text: String = value.extract()?;
                        text.parse().map_err(|e: String| local_err("invalid", e))?
                    }
                };
                config.list_time_offset(offset)
            }
            "encoding" => {
                let label: String = value.extract()?;
                match Charset::for_label(&label) {
                    Some(charset) => config.encoding(charset),
                    None => config,
                }
            }
            "proxy" => {
                let url: String = value.extract()?;
                config.proxy(Proxy::parse(&url).map_err(to_py)?)
            }
            other => {
                return Err(local_err("invalid", format!("unknown option {other:?}")));
            }
        };
    }
    Ok(config)
}

/// Builds the ftpkit configuration from the Python arguments.
fn settings(
    tls: Option<TlsArgs>,
    protect_data: bool,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Settings> {
    let mut config = apply_options(Config::default(), options)?;
    if let Some(TlsArgs(mode, ca_der, ca_file, verify)) = tls.filter(|t| t.0 != "none") {
        // TLS 1.2 at most: ftplib's streaming calls (transfercmd, storbinary)
        // open many data connections, and servers that require TLS session
        // reuse run out of TLS 1.3 tickets for them (vsftpd's
        // require_ssl_reuse answers 522 after a 150), which no retry can
        // hide from a stream already handed to the caller. A TLS 1.2
        // session serves every data connection.
        let mut builder = TlsConfig::builder().max_version(ftpkit::TlsVersion::Tls12);
        for der in ca_der {
            builder = builder.add_ca_der(der);
        }
        if let Some(path) = ca_file {
            builder = builder.add_ca_pem_file(path).map_err(to_py)?;
        }
        if !verify {
            builder = builder.danger_accept_invalid_certs();
        }
        let tls_config = builder.build().map_err(to_py)?;
        config = match mode.as_str() {
            "implicit" => config.tls(TlsMode::Implicit, Some(tls_config)),
            "explicit" => config.tls(TlsMode::Explicit, Some(tls_config)),
            _ => {
                // TLS on request only (`FTP_TLS.auth()`), as ftplib does.
                config.tls = Some(tls_config);
                config
            }
        };
    }
    config = config.data_protection(if protect_data {
        Protection::Private
    } else {
        Protection::Clear
    });
    Ok(Settings { config })
}

/// A connected client: owned, or borrowed from a pool.
enum Holder {
    Own(Client),
    Pooled(PooledClient),
}

impl Holder {
    fn get(&mut self) -> &mut Client {
        match self {
            Holder::Own(c) => c,
            Holder::Pooled(c) => c,
        }
    }
}

/// What a data connection's worker thread is asked to do.
enum Request {
    Read(usize),
    Write(Vec<u8>),
    Close,
    Abort,
}

/// What a data connection's worker thread answers.
enum Answer {
    Opened(Result<Option<u64>, Error>),
    Data(Result<Vec<u8>, Error>),
    Written(Result<(), Error>),
}

/// The worker's result: the client back, and the transfer's final reply.
type WorkerEnd = (Holder, Option<Result<Reply, Error>>);

/// One control connection. Methods raise `NativeError`.
#[pyclass(module = "ftpkit._native")]
struct Conn {
    holder: Option<Holder>,
    /// The transfer's final reply, read when a data connection closed;
    /// `getresp()` returns it.
    pending: Option<Result<Reply, Error>>,
}

impl Conn {
    fn client(&mut self) -> PyResult<&mut Client> {
        match &mut self.holder {
            Some(h) => Ok(h.get()),
            None => Err(local_err(
                "busy",
                "a data connection is open (or the connection was closed): close it and read its reply first",
            )),
        }
    }
}

/// Runs `f` on the client without the GIL and converts the reply.
macro_rules! reply_call {
    ($self:ident, $py:ident, |$c:ident| $body:expr) => {{
        let $c = $self.client()?;
        let reply = $py.allow_threads(|| $body).map_err(to_py)?;
        reply_py($py, &reply)
    }};
}

#[pymethods]
impl Conn {
    /// Connects to `host:port`, reads the greeting (and runs TLS as
    /// asked); `options` as [`apply_options`] reads them.
    #[staticmethod]
    #[pyo3(signature = (host, port, tls=None, protect_data=false, options=None))]
    fn connect(
        py: Python<'_>,
        host: &str,
        port: u16,
        tls: Option<TlsArgs>,
        protect_data: bool,
        options: Option<Bound<'_, PyDict>>,
    ) -> PyResult<Conn> {
        let s = settings(tls, protect_data, options.as_ref())?;
        let addr = join_host_port(host, port);
        let client = py
            .allow_threads(|| Client::connect_with(&addr, s.config))
            .map_err(to_py)?;
        Ok(Conn {
            holder: Some(Holder::Own(client)),
            pending: None,
        })
    }

    /// The greeting, as `(code, lines)`.
    fn welcome(&mut self, py: Python<'_>) -> PyResult<PyObject> {
        let reply = self.client()?.welcome().clone();
        reply_py(py, &reply)
    }

    /// The server's address as `(ip, port)`.
    fn peer(&mut self) -> PyResult<(String, u16)> {
        let addr = self.client()?.peer_addr();
        Ok((addr.ip().to_string(), addr.port()))
    }

    /// Whether the control connection is encrypted.
    fn is_secure(&mut self) -> PyResult<bool> {
        Ok(self.client()?.is_secure())
    }

    /// Whether the connection is open (no data connection holds it).
    fn is_open(&self) -> bool {
        self.holder.is_some()
    }

    /// Passive (`True`) or active data connections.
    fn set_passive(&mut self, passive: bool) -> PyResult<()> {
        self.client()?.set_mode(if passive {
            DataMode::Passive
        } else {
            DataMode::Active
        });
        Ok(())
    }

    /// Sends a raw command; 4xx/5xx raise. Returns `(code, lines)`.
    fn sendcmd(&mut self, py: Python<'_>, line: &[u8]) -> PyResult<PyObject> {
        reply_call!(self, py, |c| c.sendcmd(line))
    }

    /// Sends a raw command without reading its reply.
    fn putcmd(&mut self, py: Python<'_>, line: &[u8]) -> PyResult<()> {
        let c = self.client()?;
        py.allow_threads(|| c.putcmd(line)).map_err(to_py)
    }

    /// Reads one reply (the final reply of a closed data connection first).
    fn getresp(&mut self, py: Python<'_>) -> PyResult<PyObject> {
        match self.pending.take() {
            Some(Ok(reply)) => reply_py(py, &reply),
            Some(Err(e)) => Err(to_py(e)),
            None => reply_call!(self, py, |c| c.getresp()),
        }
    }

    /// Sends a raw command and requires 2xx.
    fn voidcmd(&mut self, py: Python<'_>, line: &[u8]) -> PyResult<PyObject> {
        reply_call!(self, py, |c| c.voidcmd(line))
    }

    /// Logs in (USER, PASS, ACCT as asked).
    fn login(
        &mut self,
        py: Python<'_>,
        user: &str,
        passwd: &str,
        acct: &str,
    ) -> PyResult<PyObject> {
        reply_call!(self, py, |c| c.login_with_account(user, passwd, acct))
    }

    /// `AUTH TLS` and the handshake.
    fn auth(&mut self, py: Python<'_>) -> PyResult<PyObject> {
        reply_call!(self, py, |c| c.auth())
    }

    /// `PBSZ 0` + `PROT P`.
    fn prot_p(&mut self, py: Python<'_>) -> PyResult<PyObject> {
        reply_call!(self, py, |c| c.prot_p())
    }

    /// `PBSZ 0` + `PROT C`.
    fn prot_c(&mut self, py: Python<'_>) -> PyResult<PyObject> {
        reply_call!(self, py, |c| c.prot_c())
    }

    /// `CCC`: the control connection back to clear text.
    fn ccc(&mut self, py: Python<'_>) -> PyResult<PyObject> {
        reply_call!(self, py, |c| c.ccc())
    }

    /// `ABOR` with no transfer running.
    fn abort(&mut self, py: Python<'_>) -> PyResult<PyObject> {
        reply_call!(self, py, |c| c.abort())
    }

    /// The final reply of the transfer whose data connection was closed.
    fn take_pending(&mut self, py: Python<'_>) -> PyResult<Option<PyObject>> {
        match self.pending.take() {
            Some(Ok(reply)) => Ok(Some(reply_py(py, &reply)?)),
            Some(Err(e)) => Err(to_py(e)),
            None => Ok(None),
        }
    }

    /// `QUIT`, then closes.
    fn quit(&mut self, py: Python<'_>) -> PyResult<PyObject> {
        match self.holder.take() {
            Some(Holder::Own(c)) => {
                let reply = py.allow_threads(|| c.quit()).map_err(to_py)?;
                reply_py(py, &reply)
            }
            Some(Holder::Pooled(mut c)) => {
                let reply = py.allow_threads(|| c.noop()).map_err(to_py)?;
                reply_py(py, &reply)
            }
            None => Err(local_err("eof", "the connection is closed")),
        }
    }

    /// Closes without `QUIT` (a pooled connection goes back to its pool).
    fn close(&mut self) {
        self.holder = None;
    }

    /// Downloads a command's data in binary blocks of at most `blocksize`
    /// bytes, calling `callback(bytes)` for each; returns the final reply.
    #[pyo3(signature = (cmd, callback, blocksize=8192, rest=None))]
    fn retrbinary(
        &mut self,
        py: Python<'_>,
        cmd: &[u8],
        callback: PyObject,
        blocksize: usize,
        rest: Option<u64>,
    ) -> PyResult<PyObject> {
        let c = self.client()?;
        let mut reader = py
            .allow_threads(|| c.transfer_reader(cmd, TransferType::Binary, rest))
            .map_err(to_py)?;
        let mut buf = block_buffer(blocksize, reader.announced_size());
        loop {
            let n = py
                .allow_threads(|| read_block(&mut reader, buf.as_mut()))
                .map_err(to_py)?;
            let block = buf.filled(n);
            if block.is_empty() {
                break;
            }
            let called = callback
                .call1(py, (PyBytes::new(py, block),))
                .and_then(|_| py.check_signals());
            if let Err(e) = called {
                let _ = py.allow_threads(|| reader.abort());
                return Err(e);
            }
        }
        let reply = py.allow_threads(|| reader.finish()).map_err(to_py)?;
        reply_py(py, &reply)
    }

    /// Downloads a command's data in binary straight into the open file
    /// descriptor `fd` (written at its position, which advances), moving
    /// it in Rust with the GIL released; pending signals are checked
    /// between slices, so Ctrl-C aborts the transfer (`ABOR`) and raises
    /// `KeyboardInterrupt`. Returns the final reply. `ftplib`'s
    /// `retrbinary` takes this path when the callback is a real file's
    /// `write`: the file receives the same bytes.
    #[cfg(unix)]
    #[pyo3(signature = (cmd, fd, rest=None))]
    fn retr_to_fd(
        &mut self,
        py: Python<'_>,
        cmd: &[u8],
        fd: i32,
        rest: Option<u64>,
    ) -> PyResult<PyObject> {
        let mut out = dup_fd(fd)?;
        let c = self.client()?;
        let mut reader = py
            .allow_threads(|| c.transfer_reader(cmd, TransferType::Binary, rest))
            .map_err(to_py)?;
        let mut buf = block_buffer(FD_BLOCK, reader.announced_size());
        if let Err(e) = in_slices(py, || pump_to_file(&mut reader, &mut out, buf.as_mut())) {
            let _ = py.allow_threads(|| reader.abort());
            return Err(e);
        }
        let reply = py.allow_threads(|| reader.finish()).map_err(to_py)?;
        reply_py(py, &reply)
    }

    /// Uploads in binary the bytes of the open file descriptor `fd` from
    /// byte `offset` to its end (read with `pread`: the descriptor's own
    /// position does not move), in Rust with the GIL released; signals
    /// are checked between slices as for [`Conn::retr_to_fd`]. Returns the
    /// final reply. `ftplib`'s `storbinary` takes this path for a real,
    /// seekable file when no callback watches the blocks.
    #[cfg(unix)]
    #[pyo3(signature = (cmd, fd, offset, rest=None))]
    fn stor_from_fd(
        &mut self,
        py: Python<'_>,
        cmd: &[u8],
        fd: i32,
        offset: u64,
        rest: Option<u64>,
    ) -> PyResult<PyObject> {
        let input = dup_fd(fd)?;
        let c = self.client()?;
        // Blocks of the engine's block size (256 KiB by default), as its
        // own uploads send: one read and one write per block, the same
        // system calls as `ftpkit put`, into a page-aligned block as there
        // (into one from the allocator, reading the file took three times
        // as long).
        let block = c.config().block_size;
        let mut writer = py
            .allow_threads(|| c.transfer_writer(cmd, TransferType::Binary, rest))
            .map_err(to_py)?;
        let mut buf = Block::new(block.max(1));
        let mut at = offset;
        if let Err(e) = in_slices(py, || {
            pump_from_file(&input, &mut at, &mut writer, buf.as_mut())
        }) {
            let _ = py.allow_threads(|| writer.abort());
            return Err(e);
        }
        let reply = py.allow_threads(|| writer.finish()).map_err(to_py)?;
        reply_py(py, &reply)
    }

    /// Downloads a command's data in `TYPE A`, calling `callback(line)`
    /// with each line (bytes, terminator removed); a line longer than
    /// `maxline` raises. Returns the final reply.
    fn retrlines(
        &mut self,
        py: Python<'_>,
        cmd: &[u8],
        callback: PyObject,
        maxline: usize,
    ) -> PyResult<PyObject> {
        let c = self.client()?;
        let mut reader = py
            .allow_threads(|| c.transfer_reader(cmd, TransferType::Ascii, None))
            .map_err(to_py)?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut line: Vec<u8> = Vec::new();
        let deliver = |py: Python<'_>, line: &[u8]| -> PyResult<()> {
            if line.len() > maxline {
                return Err(local_err(
                    "maxline",
                    format!("got more than {maxline} bytes"),
                ));
            }
            let text = line
                .strip_suffix(b"\r\n")
                .or_else(|| line.strip_suffix(b"\n"))
                .unwrap_or(line);
            callback.call1(py, (PyBytes::new(py, text),))?;
            Ok(())
        };
        loop {
            let n = py
                .allow_threads(|| reader.read(&mut buf))
                .map_err(|e| to_py(from_io(e)))?;
            if n == 0 {
                break;
            }
            let mut result = Ok(());
            for piece in buf
                .get(..n)
                .unwrap_or_default()
                .split_inclusive(|b| *b == b'\n')
            {
                line.extend_from_slice(piece);
                if piece.ends_with(b"\n") {
                    result = deliver(py, &line);
                    line.clear();
                } else if line.len() > maxline {
                    result = deliver(py, &line);
                }
                if result.is_err() {
                    break;
                }
            }
            if let Err(e) = result.and_then(|_| py.check_signals()) {
                let _ = py.allow_threads(|| reader.abort());
                return Err(e);
            }
        }
        if !line.is_empty() {
            deliver(py, &line)?;
        }
        let reply = py.allow_threads(|| reader.finish()).map_err(to_py)?;
        reply_py(py, &reply)
    }

    /// Uploads `fp.read(blocksize)` blocks with a command in binary,
    /// calling `callback(block)` after each; returns the final reply.
    #[pyo3(signature = (cmd, fp, blocksize=8192, callback=None, rest=None))]
    fn storbinary(
        &mut self,
        py: Python<'_>,
        cmd: &[u8],
        fp: PyObject,
        blocksize: usize,
        callback: Option<PyObject>,
        rest: Option<u64>,
    ) -> PyResult<PyObject> {
        let c = self.client()?;
        let mut writer = py
            .allow_threads(|| c.transfer_writer(cmd, TransferType::Binary, rest))
            .map_err(to_py)?;
        loop {
            let step = (|| -> PyResult<bool> {
                let block = fp.call_method1(py, "read", (blocksize.max(1),))?;
                let block = block.bind(py);
                let bytes = block.downcast::<PyBytes>()?.as_bytes();
                if bytes.is_empty() {
                    return Ok(false);
                }
                py.allow_threads(|| writer.write_all(bytes))
                    .map_err(|e| to_py(from_io(e)))?;
                if let Some(cb) = &callback {
                    cb.call1(py, (block,))?;
                }
                py.check_signals()?;
                Ok(true)
            })();
            match step {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let _ = py.allow_threads(|| writer.abort());
                    return Err(e);
                }
            }
        }
        let reply = py.allow_threads(|| writer.finish()).map_err(to_py)?;
        reply_py(py, &reply)
    }

    /// Uploads `fp.readline()` lines in `TYPE A`, each ending in CRLF,
    /// calling `callback(line)` after each; returns the final reply.
    #[pyo3(signature = (cmd, fp, maxline, callback=None))]
    fn storlines(
        &mut self,
        py: Python<'_>,
        cmd: &[u8],
        fp: PyObject,
        maxline: usize,
        callback: Option<PyObject>,
    ) -> PyResult<PyObject> {
        let c = self.client()?;
        let mut writer = py
            .allow_threads(|| c.transfer_writer(cmd, TransferType::Ascii, None))
            .map_err(to_py)?;
        loop {
            let step = (|| -> PyResult<bool> {
                let line = fp.call_method1(py, "readline", (maxline + 1,))?;
                let line = line.bind(py);
                let bytes = line.downcast::<PyBytes>()?.as_bytes();
                if bytes.len() > maxline {
                    return Err(local_err(
                        "maxline",
                        format!("got more than {maxline} bytes"),
                    ));
                }
                if bytes.is_empty() {
                    return Ok(false);
                }
                let mut out = bytes.to_vec();
                if !out.ends_with(b"\r\n") {
                    if matches!(out.last(), Some(b'\r' | b'\n')) {
                        out.pop();
                    }
                    out.extend_from_slice(b"\r\n");
                }
                py.allow_threads(|| writer.write_all(&out))
                    .map_err(|e| to_py(from_io(e)))?;
                if let Some(cb) = &callback {
                    cb.call1(py, (PyBytes::new(py, &out),))?;
                }
                py.check_signals()?;
                Ok(true)
            })();
            match step {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let _ = py.allow_threads(|| writer.abort());
                    return Err(e);
                }
            }
        }
        let reply = py.allow_threads(|| writer.finish()).map_err(to_py)?;
        reply_py(py, &reply)
    }

    /// Opens a data connection for `cmd` (uploads for `STOR`, `STOU`,
    /// `APPE`; downloads otherwise) and returns it as a socket-like
    /// [`DataConn`]. The control connection is lent to it until it closes.
    #[pyo3(signature = (cmd, rest=None, binary=true))]
    fn open_data(
        slf: Bound<'_, Conn>,
        cmd: Vec<u8>,
        rest: Option<u64>,
        binary: bool,
    ) -> PyResult<DataConn> {
        let py = slf.py();
        let holder = slf
            .borrow_mut()
            .holder
            .take()
            .ok_or_else(|| local_err("busy", "a data connection is already open"))?;
        let verb = cmd
            .split(|b| b.is_ascii_whitespace())
            .find(|word| !word.is_empty())
            .unwrap_or_default()
            .to_ascii_uppercase();
        let writing = matches!(verb.as_slice(), b"STOR" | b"STOU" | b"APPE");
        let ty = if binary {
            TransferType::Binary
        } else {
            TransferType::Ascii
        };
        let (req_tx, req_rx) = mpsc::channel::<Request>();
        let (ans_tx, ans_rx) = mpsc::channel::<Answer>();
        let handle =
            std::thread::spawn(move || data_worker(holder, cmd, ty, rest, writing, req_rx, ans_tx));
        let (ans_rx, opened) = py.allow_threads(move || {
            let opened = ans_rx.recv();
            (ans_rx, opened)
        });
        let mut conn = DataConn {
            owner: slf.clone().unbind(),
            requests: Some(req_tx),
            answers: Mutex::new(ans_rx),
            handle: Some(handle),
            size: None,
            writing,
        };
        match opened {
            Ok(Answer::Opened(Ok(size))) => {
                conn.size = size;
                Ok(conn)
            }
            Ok(Answer::Opened(Err(e))) => {
                conn.finish(py, false)?;
                Err(to_py(e))
            }
            _ => {
                conn.finish(py, false)?;
                Err(local_err("eof", "the data connection could not be opened"))
            }
        }
    }

    /// Downloads `remote` to the file `local` with resume, retries,
    /// verification and a `.part` file; returns the report as a dict.
    #[pyo3(signature = (remote, local, resume=true, verify="auto", retries=3, preserve_mtime=true, progress=None))]
    #[allow(clippy::too_many_arguments)]
    fn download(
        &mut self,
        py: Python<'_>,
        remote: Vec<u8>,
        local: std::path::PathBuf,
        resume: bool,
        verify: &str,
        retries: u32,
        preserve_mtime: bool,
        progress: Option<PyObject>,
    ) -> PyResult<PyObject> {
        let verify = verify_of(verify)?;
        let c = self.client()?;
        let report = py
            .allow_threads(|| {
                let mut job = c
                    .download(&remote, &local)
                    .resume(resume)
                    .verify(verify)
                    .retries(retries)
                    .preserve_mtime(preserve_mtime);
                if let Some(cb) = progress {
                    job = job.progress(progress_callback(cb));
                }
                job.run()
            })
            .map_err(to_py)?;
        report_py(py, &report)
    }

    /// Uploads the file `local` to `remote` with resume, retries and
    /// verification; `temp_name` uploads to `REMOTE.part` then renames.
    #[pyo3(signature = (local, remote, resume=true, verify="auto", retries=3, temp_name=false, progress=None))]
    #[allow(clippy::too_many_arguments)]
    fn upload(
        &mut self,
        py: Python<'_>,
        local: std::path::PathBuf,
        remote: Vec<u8>,
        resume: bool,
        verify: &str,
        retries: u32,
        temp_name: bool,
        progress: Option<PyObject>,
    ) -> PyResult<PyObject> {
        let verify = verify_of(verify)?;
        let c = self.client()?;
        let report = py
            .allow_threads(|| {
                let mut job = c
                    .upload(&local, &remote)
                    .resume(resume)
                    .verify(verify)
                    .retries(retries)
                    .temp_name(temp_name);
                if let Some(cb) = progress {
                    job = job.progress(progress_callback(cb));
                }
                job.run()
            })
            .map_err(to_py)?;
        report_py(py, &report)
    }

    /// A directory listing as parsed entries: a list of dicts (`name`,
    /// `kind`, `size`, `modified` as POSIX seconds, `permissions`, `owner`,
    /// `group`, `target`, `raw`). MLSD where offered, LIST otherwise.
    fn list_entries(&mut self, py: Python<'_>, path: Vec<u8>) -> PyResult<PyObject> {
        let c = self.client()?;
        let entries = py
            .allow_threads(|| -> Result<Vec<ftpkit::Entry>, Error> {
                c.list_entries(&path)?.collect()
            })
            .map_err(to_py)?;
        let out = PyList::empty(py);
        for e in entries {
            let d = PyDict::new(py);
            d.set_item("name", PyBytes::new(py, e.name.as_bytes()))?;
            let (kind, target) = match &e.kind {
                EntryKind::File => ("file", None),
                EntryKind::Directory => ("dir", None),
                EntryKind::Symlink { target } => ("link", target.as_ref()),
                EntryKind::Other => ("other", None),
                _ => ("unknown", None),
            };
            d.set_item("kind", kind)?;
            d.set_item("target", target.map(|t| PyBytes::new(py, t.as_bytes())))?;
            d.set_item("size", e.size)?;
            let modified = e
                .modified
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs_f64());
            d.set_item("modified", modified)?;
            d.set_item("permissions", e.permissions)?;
            d.set_item("owner", e.owner.clone())?;
            d.set_item("group", e.group.clone())?;
            d.set_item("raw", PyBytes::new(py, &e.raw))?;
            out.append(d)?;
        }
        Ok(out.into_any().unbind())
    }
}

fn verify_of(name: &str) -> PyResult<Verify> {
    match name {
        "auto" => Ok(Verify::Auto),
        "size" => Ok(Verify::SizeOnly),
        "off" => Ok(Verify::Off),
        other => Err(local_err(
            "invalid",
            format!("verify must be 'auto', 'size' or 'off', not {other:?}"),
        )),
    }
}

fn report_py(py: Python<'_>, r: &TransferReport) -> PyResult<PyObject> {
    let d = PyDict::new(py);
    d.set_item("size", r.size)?;
    d.set_item("transferred", r.transferred)?;
    d.set_item("resumed_from", r.resumed_from)?;
    d.set_item("retries", r.retries)?;
    d.set_item("restarts", r.restarts)?;
    d.set_item("verified", r.verified.describe())?;
    d.set_item("mtime_preserved", r.mtime_preserved)?;
    Ok(d.into_any().unbind())
}

fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Runs one data connection on its own thread, which owns the client for
/// the transfer's life (the blocking API lends the client to the transfer
/// by `&mut`, which a Python object cannot hold across calls).
fn data_worker(
    mut holder: Holder,
    cmd: Vec<u8>,
    ty: TransferType,
    rest: Option<u64>,
    writing: bool,
    requests: mpsc::Receiver<Request>,
    answers: mpsc::Sender<Answer>,
) -> WorkerEnd {
    let client = holder.get();
    let end = if writing {
        match client.transfer_writer(cmd.as_slice(), ty, rest) {
            Ok(mut w) => {
                let _ = answers.send(Answer::Opened(Ok(None)));
                loop {
                    match requests.recv() {
                        Ok(Request::Write(data)) => {
                            let r = w.write_all(&data).map_err(from_io);
                            let _ = answers.send(Answer::Written(r));
                        }
                        Ok(Request::Read(_)) => {
                            let _ = answers.send(Answer::Data(Ok(Vec::new())));
                        }
                        Ok(Request::Close) => break Some(w.finish()),
                        Ok(Request::Abort) | Err(_) => break w.abort().err().map(Err),
                    }
                }
            }
            Err(e) => {
                let _ = answers.send(Answer::Opened(Err(e)));
                None
            }
        }
    } else {
        match client.transfer_reader(cmd.as_slice(), ty, rest) {
            Ok(mut r) => {
                let _ = answers.send(Answer::Opened(Ok(r.announced_size())));
                loop {
                    match requests.recv() {
                        Ok(Request::Read(n)) => {
                            let mut buf = vec![0u8; n.max(1)];
                            let got = r.read(&mut buf).map_err(from_io).map(|k| {
                                buf.truncate(k);
                                buf
                            });
                            let _ = answers.send(Answer::Data(got));
                        }
                        Ok(Request::Write(_)) => {
                            let _ = answers.send(Answer::Written(Ok(())));
                        }
                        Ok(Request::Close) => break Some(r.finish()),
                        Ok(Request::Abort) | Err(_) => break r.abort().err().map(Err),
                    }
                }
            }
            Err(e) => {
                let _ = answers.send(Answer::Opened(Err(e)));
                None
            }
        }
    };
    (holder, end)
}

/// A data connection opened by `transfercmd`: `recv`, `sendall`,
/// `makefile`, `close`, `shutdown`, `settimeout`, context manager (most
/// in the Python wrapper). Closing it finishes the transfer and gives the
/// control connection back; the final reply is then read by `voidresp()`.
#[pyclass(module = "ftpkit._native")]
struct DataConn {
    owner: Py<Conn>,
    requests: Option<mpsc::Sender<Request>>,
    answers: Mutex<mpsc::Receiver<Answer>>,
    handle: Option<JoinHandle<WorkerEnd>>,
    size: Option<u64>,
    writing: bool,
}

impl DataConn {
    fn ask(&self, py: Python<'_>, request: Request) -> PyResult<Answer> {
        let tx = self
            .requests
            .as_ref()
            .ok_or_else(|| local_err("closed", "the data connection is closed"))?;
        py.allow_threads(|| {
            tx.send(request).ok()?;
            self.answers.lock().ok()?.recv().ok()
        })
        .ok_or_else(|| local_err("eof", "the data connection ended"))
    }

    /// Ends the worker and returns the client to its owner.
    fn finish(&mut self, py: Python<'_>, abort: bool) -> PyResult<()> {
        if let Some(tx) = self.requests.take() {
            let _ = tx.send(if abort {
                Request::Abort
            } else {
                Request::Close
            });
        }
        if let Some(handle) = self.handle.take() {
            let joined = py.allow_threads(|| handle.join());
            let mut owner = self.owner.borrow_mut(py);
            match joined {
                Ok((holder, end)) => {
                    owner.holder = Some(holder);
                    owner.pending = end;
                }
                Err(_) => {
                    owner.pending = Some(Err(Error::Unusable));
                }
            }
        }
        Ok(())
    }
}

#[pymethods]
impl DataConn {
    /// The size announced in the 150 reply, if any.
    #[getter]
    fn size(&self) -> Option<u64> {
        self.size
    }

    /// Whether this connection uploads.
    #[getter]
    fn writing(&self) -> bool {
        self.writing
    }

    /// Up to `n` bytes; empty at the end of the data.
    fn recv<'py>(&self, py: Python<'py>, n: usize) -> PyResult<Bound<'py, PyBytes>> {
        match self.ask(py, Request::Read(n))? {
            Answer::Data(Ok(data)) => Ok(PyBytes::new(py, &data)),
            Answer::Data(Err(e)) => Err(to_py(e)),
            _ => Err(local_err("proto", "unexpected answer from the data worker")),
        }
    }

    /// Sends all of `data`.
    fn sendall(&self, py: Python<'_>, data: &[u8]) -> PyResult<()> {
        match self.ask(py, Request::Write(data.to_vec()))? {
            Answer::Written(r) => r.map_err(to_py),
            _ => Err(local_err("proto", "unexpected answer from the data worker")),
        }
    }

    /// Finishes the transfer (or aborts it with `abort=True`) and gives
    /// the control connection back.
    #[pyo3(signature = (abort=false))]
    fn close(&mut self, py: Python<'_>, abort: bool) -> PyResult<()> {
        self.finish(py, abort)
    }

    /// Whether the data connection is closed.
    #[getter]
    fn closed(&self) -> bool {
        self.requests.is_none()
    }
}

/// A pool of logged-in connections to one server.
#[pyclass(module = "ftpkit._native")]
struct NativePool {
    pool: Pool,
}

#[pymethods]
impl NativePool {
    /// Connections to `host:port`, logged in as `user`, at most
    /// `max_size`; `options` as [`apply_options`] reads them.
    #[new]
    #[pyo3(signature = (host, port, user, passwd, max_size=4, tls=None, options=None))]
    fn new(
        host: &str,
        port: u16,
        user: String,
        passwd: String,
        max_size: usize,
        tls: Option<TlsArgs>,
        options: Option<Bound<'_, PyDict>>,
    ) -> PyResult<NativePool> {
        let s = settings(tls, true, options.as_ref())?;
        let addr = join_host_port(host, port);
        let pool = Pool::new(PoolConfig::default().max_size(max_size), move || {
            let mut c = Client::connect_with(&addr, s.config.clone())?;
            c.login(&user, &passwd)?;
            Ok(c)
        });
        Ok(NativePool { pool })
    }

    /// A connection from the pool; it returns there when closed.
    fn get(&self, py: Python<'_>) -> PyResult<Conn> {
        let c = py.allow_threads(|| self.pool.get()).map_err(to_py)?;
        Ok(Conn {
            holder: Some(Holder::Pooled(c)),
            pending: None,
        })
    }

    /// `(in use, idle)` connection counts.
    fn status(&self) -> (usize, usize) {
        self.pool.status()
    }
}

/// The `ftpkit._native` module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Conn>()?;
    m.add_class::<DataConn>()?;
    m.add_class::<NativePool>()?;
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    Ok(())
}
