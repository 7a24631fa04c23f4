//! A scripted fake FTP server: it plays exact dialogues, step by step, and
//! injects the faults a broken or hostile server can produce.
//!
//! ```no_run
//! use ftpkit_testkit::{FakeServer, Script};
//!
//! let server = FakeServer::start(vec![Script::login_anonymous()
//!     .expect("EPSV").epsv()
//!     .expect("RETR f").reply("150 here").send_data(b"hello").reply("226 done")]);
//! // ... run a client against server.addr() ...
//! let transcript = server.finish(); // panics if the dialogue went otherwise
//! ```
//!
//! Every wait on the server side is bounded (10 s by default), so a test
//! whose client misbehaves fails instead of hanging.

use std::{
    io::{self, Read, Write},
    net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread::{self, JoinHandle},
    time::{Duration, Instant},
};

use socket2::SockRef;

/// A fault to inject into a data connection, for
/// [`Script::send_data_then`] (a download) or [`Script::recv_data_then`]
/// (an upload).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataFault {
    /// Move the first `n` bytes, then close cleanly (FIN). In an upload the
    /// kernel turns the close into a reset if the client has sent more
    /// bytes than were read.
    CloseAt(usize),
    /// Move the first `n` bytes, then reset the connection (RST, through
    /// `SO_LINGER` 0).
    ResetAt(usize),
    /// Move the first `n` bytes, then keep the connection open and silent
    /// (and, in an upload, stop reading) while the script goes on, until
    /// the client closes it or the server is stopped; the end of the script
    /// waits for that, bounded by three times the timeout.
    StallAt(usize),
    /// Move everything in `chunk`-byte pieces with `delay` between them: a
    /// slow but live transfer.
    Slow {
        /// Bytes per piece.
        chunk: usize,
        /// Pause between pieces.
        delay: Duration,
    },
}

#[derive(Clone, Debug)]
enum Step {
    Reply(Vec<u8>),
    Raw(Vec<u8>),
    Expect(String),
    ExpectBytes(Vec<u8>),
    ExpectPrefix(String),
    Epsv,
    Pasv(Option<[u8; 4]>),
    Active,
    SendData(Vec<u8>, Option<DataFault>),
    Intrude(Vec<u8>),
    RecvData(Option<DataFault>),
    NeverReply,
    EndlessLine,
    EndlessMultiline(u16),
    EndlessReplies(Vec<u8>),
    Sleep(Duration),
    DropPending,
    End,
}

/// The steps to play on one control connection, in order.
#[derive(Clone, Debug, Default)]
pub struct Script {
    steps: Vec<Step>,
}

impl Script {
    /// An empty script (send the greeting yourself with [`Script::reply`]).
    pub fn new() -> Script {
        Script::default()
    }

    /// Greeting `220`, then `USER anonymous` → 331, `PASS anonymous@` → 230.
    pub fn login_anonymous() -> Script {
        Script::login("anonymous", "anonymous@")
    }

    /// Greeting `220`, then `USER user` → 331, `PASS pass` → 230.
    pub fn login(user: &str, pass: &str) -> Script {
        Script::new()
            .reply("220 fake server ready")
            .expect(&format!("USER {user}"))
            .reply("331 password please")
            .expect(&format!("PASS {pass}"))
            .reply("230 logged in")
    }

    /// Appends another script's steps.
    pub fn then(mut self, other: Script) -> Script {
        self.steps.extend(other.steps);
        self
    }

    fn push(mut self, step: Step) -> Script {
        self.steps.push(step);
        self
    }

    /// Sends a reply; CRLF is added unless it ends in a newline. Embed
    /// `\r\n` for multi-line replies.
    pub fn reply(self, text: &str) -> Script {
        let mut bytes = text.as_bytes().to_vec();
        if !bytes.ends_with(b"\n") {
            bytes.extend_from_slice(b"\r\n");
        }
        self.push(Step::Reply(bytes))
    }

    /// Sends these lines as one reply, each ended with CRLF.
    pub fn reply_lines(self, lines: &[&str]) -> Script {
        let text: String = lines.iter().map(|l| format!("{l}\r\n")).collect();
        self.push(Step::Reply(text.into_bytes()))
    }

    /// Sends bytes on the control connection exactly as given.
    pub fn raw(self, bytes: &[u8]) -> Script {
        self.push(Step::Raw(bytes.to_vec()))
    }

    /// Reads one command line and requires it to equal `line` exactly.
    pub fn expect(self, line: &str) -> Script {
        self.push(Step::Expect(line.to_owned()))
    }

    /// Expects exactly this command line, byte for byte (without CRLF):
    /// for names in charsets other than UTF-8.
    pub fn expect_bytes(self, line: &[u8]) -> Script {
        self.push(Step::ExpectBytes(line.to_vec()))
    }

    /// Reads one command line and requires it to start with `prefix`.
    pub fn expect_prefix(self, prefix: &str) -> Script {
        self.push(Step::ExpectPrefix(prefix.to_owned()))
    }

    /// Opens a data listener on 127.0.0.1 and replies 229 with its port.
    pub fn epsv(self) -> Script {
        self.push(Step::Epsv)
    }

    /// Opens a data listener on 127.0.0.1 and replies 227 with its address.
    pub fn pasv(self) -> Script {
        self.push(Step::Pasv(None))
    }

    /// Like [`Script::pasv`], but the 227 names another IP address while the
    /// listener is on 127.0.0.1 (a client must not trust it).
    pub fn pasv_reply_addr(self, ip: [u8; 4]) -> Script {
        self.push(Step::Pasv(Some(ip)))
    }

    /// Takes the address from the last command (`PORT` or `EPRT`) for the
    /// next data connection, and replies 200.
    pub fn active(self) -> Script {
        self.push(Step::Active)
    }

    /// Opens the data connection (accepts in passive mode, connects in
    /// active mode), sends `data` and closes cleanly.
    pub fn send_data(self, data: &[u8]) -> Script {
        self.push(Step::SendData(data.to_vec(), None))
    }

    /// Like [`Script::send_data`], with a fault.
    pub fn send_data_then(self, data: &[u8], fault: DataFault) -> Script {
        self.push(Step::SendData(data.to_vec(), Some(fault)))
    }

    /// In active mode, connects to the client's data port from 127.0.0.2 —
    /// another host as far as the client can tell — and sends `data`. A
    /// client must refuse this connection and wait for the server's.
    pub fn intrude_from_other_host(self, data: &[u8]) -> Script {
        self.push(Step::Intrude(data.to_vec()))
    }

    /// Opens the data connection and reads until the client closes it; the
    /// bytes go to [`Transcript::uploads`].
    pub fn recv_data(self) -> Script {
        self.push(Step::RecvData(None))
    }

    /// Like [`Script::recv_data`], with a fault: `CloseAt`, `ResetAt` or
    /// `StallAt` after `n` bytes read, or `Slow` reading. Only the bytes
    /// read are recorded.
    pub fn recv_data_then(self, fault: DataFault) -> Script {
        self.push(Step::RecvData(Some(fault)))
    }

    /// Stops answering but keeps the control connection open until the
    /// client closes it, the server is stopped
    /// ([`FakeServer::finish_allow_unplayed`] or drop), or three times the
    /// timeout passes. Ends the script: later steps are not played.
    pub fn never_reply(self) -> Script {
        self.push(Step::NeverReply)
    }

    /// Sends bytes without a newline until the client gives up (at most 64 MiB).
    pub fn endless_line(self) -> Script {
        self.push(Step::EndlessLine)
    }

    /// Sends `code-` continuation lines until the client gives up (at most 64 MiB).
    pub fn endless_multiline(self, code: u16) -> Script {
        self.push(Step::EndlessMultiline(code))
    }

    /// Sends the same complete reply (`text`, CRLF added) over and over
    /// until the client gives up (at most 64 MiB): a flood of replies that
    /// each look valid, such as `120` greetings.
    pub fn endless_replies(self, text: &str) -> Script {
        self.push(Step::EndlessReplies(format!("{text}\r\n").into_bytes()))
    }

    /// Drops every command line received but not read yet, and whatever
    /// arrives within a moment (100 ms): a server that takes one command
    /// per packet and loses the rest of a pipelined batch. The dropped
    /// lines are recorded in [`Transcript::dropped`].
    pub fn drop_pending(self) -> Script {
        self.push(Step::DropPending)
    }

    /// Pauses (cut short if the server is stopped).
    pub fn sleep(self, duration: Duration) -> Script {
        self.push(Step::Sleep(duration))
    }

    /// Closes the control connection. Ends the script.
    pub fn end(self) -> Script {
        self.push(Step::End)
    }
}

/// What the server saw.
#[derive(Clone, Debug, Default)]
pub struct Transcript {
    /// Every command line received, in order, over all connections.
    pub commands: Vec<String>,
    /// The command lines a [`Script::drop_pending`] step dropped, in order.
    pub dropped: Vec<String>,
    /// The bytes of each `recv_data` step, in order.
    pub uploads: Vec<Vec<u8>>,
    /// For each `recv_data` step: whether the client reset the connection
    /// (an aborted upload) instead of closing it cleanly.
    pub upload_resets: Vec<bool>,
    /// Why the scripts were not played to the end, if they were not: the
    /// step and what went wrong (what [`FakeServer::finish`] panics with).
    /// Set by [`FakeServer::finish_allow_unplayed`] too, where it is not
    /// an error.
    pub failure: Option<String>,
}

/// A running fake server: one [`Script`] per accepted control connection.
pub struct FakeServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    transcript: Arc<Mutex<Transcript>>,
    handle: Option<JoinHandle<Result<(), String>>>,
}

impl FakeServer {
    /// Starts the server on 127.0.0.1 with a free port and the default
    /// 10-second bound on every wait.
    pub fn start(scripts: Vec<Script>) -> FakeServer {
        FakeServer::with_timeout(scripts, Duration::from_secs(10))
    }

    /// Starts the server with another bound on every wait.
    pub fn with_timeout(scripts: Vec<Script>, timeout: Duration) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake server");
        let addr = listener.local_addr().expect("fake server address");
        let stop = Arc::new(AtomicBool::new(false));
        let transcript = Arc::new(Mutex::new(Transcript::default()));
        let player = Player {
            stop: stop.clone(),
            transcript: transcript.clone(),
            timeout,
        };
        let handle = thread::spawn(move || player.serve(listener, scripts));
        FakeServer {
            addr,
            stop,
            transcript,
            handle: Some(handle),
        }
    }

    /// The control address to connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits for every script to be played and returns the transcript.
    /// Panics, with what was expected and what arrived, if the dialogue
    /// went otherwise or timed out.
    pub fn finish(mut self) -> Transcript {
        let result = self.join();
        let mut transcript = self.transcript();
        if let Err(msg) = result {
            panic!(
                "fake server: {msg}\ncommands received: {:?}",
                transcript.commands
            );
        }
        transcript.failure = None;
        transcript
    }

    /// Stops the server wherever it is, for fault tests where the client
    /// gives up mid-script, and returns the transcript; never panics.
    /// [`Transcript::failure`] tells where the script stopped, if it did
    /// not play to the end.
    pub fn finish_allow_unplayed(mut self) -> Transcript {
        self.stop.store(true, Ordering::SeqCst);
        let result = self.join();
        let mut transcript = self.transcript();
        transcript.failure = result.err();
        transcript
    }

    fn join(&mut self) -> Result<(), String> {
        match self.handle.take() {
            Some(handle) => handle
                .join()
                .unwrap_or_else(|_| Err("server thread panicked".into())),
            None => Ok(()),
        }
    }

    fn transcript(&self) -> Transcript {
        self.transcript
            .lock()
            .map(|t| t.clone())
            .unwrap_or_default()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// Plays scripts on the server thread.
struct Player {
    stop: Arc<AtomicBool>,
    transcript: Arc<Mutex<Transcript>>,
    timeout: Duration,
}

/// Per-connection state.
struct Conn {
    control: TcpStream,
    inbuf: Vec<u8>,
    last_command: String,
    listener: Option<TcpListener>,
    active: Option<SocketAddr>,
    parked: Vec<TcpStream>,
}

const POLL: Duration = Duration::from_millis(20);
const ENDLESS_LIMIT: usize = 64 << 20;

impl Player {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Sleeps for `d`, or less if the server is stopped meanwhile.
    fn pause(&self, d: Duration) {
        let end = Instant::now() + d;
        loop {
            let now = Instant::now();
            if now >= end || self.stopped() {
                return;
            }
            thread::sleep((end - now).min(POLL));
        }
    }

    fn serve(&self, listener: TcpListener, scripts: Vec<Script>) -> Result<(), String> {
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        for (i, script) in scripts.into_iter().enumerate() {
            let stream = self
                .accept(&listener)
                .map_err(|e| format!("connection {i}: accept: {e}"))?;
            self.play(stream, &script)
                .map_err(|e| format!("connection {i}: {e}"))?;
        }
        Ok(())
    }

    /// Accepts one connection within the timeout.
    fn accept(&self, listener: &TcpListener) -> io::Result<TcpStream> {
        let deadline = Instant::now() + self.timeout;
        loop {
            match listener.accept() {
                Ok((stream, _)) => {
                    stream.set_nonblocking(false)?;
                    return Ok(stream);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if self.stopped() || Instant::now() > deadline {
                        return Err(io::Error::new(io::ErrorKind::TimedOut, "no connection"));
                    }
                    thread::sleep(POLL);
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn play(&self, control: TcpStream, script: &Script) -> Result<(), String> {
        control
            .set_read_timeout(Some(POLL))
            .map_err(|e| e.to_string())?;
        control
            .set_write_timeout(Some(POLL))
            .map_err(|e| e.to_string())?;
        let mut conn = Conn {
            control,
            inbuf: Vec::new(),
            last_command: String::new(),
            listener: None,
            active: None,
            parked: Vec::new(),
        };
        for (n, step) in script.steps.iter().enumerate() {
            if self.stopped() {
                return Err(format!("stopped at step {n} ({step:?})"));
            }
            self.step(&mut conn, step)
                .map_err(|e| format!("step {n} ({}): {e}", describe(step)))?;
            if matches!(step, Step::End | Step::NeverReply) {
                break;
            }
        }
        self.release_parked(&mut conn);
        Ok(())
    }

    fn step(&self, conn: &mut Conn, step: &Step) -> Result<(), String> {
        match step {
            Step::Reply(bytes) | Step::Raw(bytes) => self.write_all(&mut conn.control, bytes),
            Step::Expect(want) => {
                let got = self.read_command(conn)?;
                if &got == want {
                    Ok(())
                } else {
                    Err(format!("expected {want:?}, received {got:?}"))
                }
            }
            Step::ExpectBytes(want) => {
                let got = self.read_line(conn)?;
                if &got == want {
                    Ok(())
                } else {
                    Err(format!(
                        "expected \"{}\", received \"{}\"",
                        want.escape_ascii(),
                        got.escape_ascii()
                    ))
                }
            }
            Step::ExpectPrefix(prefix) => {
                let got = self.read_command(conn)?;
                if got.starts_with(prefix.as_str()) {
                    Ok(())
                } else {
                    Err(format!(
                        "expected a line starting {prefix:?}, received {got:?}"
                    ))
                }
            }
            Step::DropPending => {
                let end = Instant::now() + Duration::from_millis(100);
                let mut buf = [0u8; 4096];
                while Instant::now() < end && !self.stopped() {
                    match conn.control.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => conn.inbuf.extend_from_slice(&buf[..n]),
                        Err(e) if is_timeout(&e) => {}
                        Err(e) => return Err(format!("read: {e}")),
                    }
                }
                let text = String::from_utf8_lossy(&conn.inbuf).into_owned();
                conn.inbuf.clear();
                if let Ok(mut t) = self.transcript.lock() {
                    t.dropped.extend(text.lines().map(str::to_owned));
                }
                Ok(())
            }
            Step::Epsv => {
                let port = self.listen(conn)?;
                let reply = format!("229 Entering Extended Passive Mode (|||{port}|)\r\n");
                self.write_all(&mut conn.control, reply.as_bytes())
            }
            Step::Pasv(advertised) => {
                let port = self.listen(conn)?;
                let [a, b, c, d] = advertised.unwrap_or([127, 0, 0, 1]);
                let reply = format!(
                    "227 Entering Passive Mode ({a},{b},{c},{d},{},{}).\r\n",
                    port >> 8,
                    port & 0xff
                );
                self.write_all(&mut conn.control, reply.as_bytes())
            }
            Step::Active => {
                let addr = parse_active(&conn.last_command).ok_or_else(|| {
                    format!("cannot parse an address from {:?}", conn.last_command)
                })?;
                conn.active = Some(addr);
                conn.listener = None;
                self.write_all(&mut conn.control, b"200 PORT command successful\r\n")
            }
            Step::SendData(data, fault) => self.send_data(conn, data, *fault),
            Step::Intrude(data) => {
                let addr = conn.active.ok_or("no PORT/EPRT before the intrusion")?;
                let socket =
                    socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
                        .map_err(|e| e.to_string())?;
                socket
                    .bind(&SocketAddr::from(([127, 0, 0, 2], 0)).into())
                    .map_err(|e| format!("bind 127.0.0.2: {e}"))?;
                socket
                    .connect_timeout(&addr.into(), self.timeout)
                    .map_err(|e| format!("intruder connect: {e}"))?;
                let mut stream: TcpStream = socket.into();
                // The client may already have closed it: that is the point.
                let _ = stream.write_all(data);
                Ok(())
            }
            Step::RecvData(fault) => self.recv_data(conn, *fault),
            Step::NeverReply => {
                self.hold(&mut conn.control);
                Ok(())
            }
            Step::EndlessLine => self.endless(conn, &b"x".repeat(4096)),
            Step::EndlessReplies(reply) => self.endless(conn, &reply.repeat(64)),
            Step::EndlessMultiline(code) => {
                let lines = format!("{code}-and more\r\n").repeat(64);
                self.endless(conn, lines.as_bytes())
            }
            Step::Sleep(d) => {
                self.pause(*d);
                Ok(())
            }
            Step::End => {
                let _ = conn.control.shutdown(Shutdown::Both);
                Ok(())
            }
        }
    }

    /// Writes everything, retrying on timeouts until stopped or no byte
    /// could be written for the bound.
    fn write_all(&self, stream: &mut TcpStream, mut bytes: &[u8]) -> Result<(), String> {
        let mut deadline = Instant::now() + self.timeout;
        while !bytes.is_empty() {
            match stream.write(bytes) {
                Ok(0) => return Err("connection closed while writing".into()),
                Ok(n) => {
                    bytes = &bytes[n..];
                    deadline = Instant::now() + self.timeout;
                }
                Err(e) if is_timeout(&e) => {
                    if self.stopped() || Instant::now() > deadline {
                        return Err("write timed out".into());
                    }
                }
                Err(e) => return Err(format!("write: {e}")),
            }
        }
        Ok(())
    }

    /// Reads one command line (CRLF or LF), records it and returns it.
    fn read_command(&self, conn: &mut Conn) -> Result<String, String> {
        self.read_line(conn)
            .map(|line| String::from_utf8_lossy(&line).into_owned())
    }

    /// Reads one command line, as bytes, and records it (lossily) in the
    /// transcript.
    fn read_line(&self, conn: &mut Conn) -> Result<Vec<u8>, String> {
        let deadline = Instant::now() + self.timeout;
        let mut buf = [0u8; 4096];
        loop {
            if let Some(nl) = conn.inbuf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = conn.inbuf.drain(..=nl).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                let text = String::from_utf8_lossy(&line).into_owned();
                if let Ok(mut t) = self.transcript.lock() {
                    t.commands.push(text.clone());
                }
                conn.last_command = text;
                return Ok(line);
            }
            match conn.control.read(&mut buf) {
                Ok(0) => return Err("the client closed the control connection".into()),
                Ok(n) => conn.inbuf.extend_from_slice(&buf[..n]),
                Err(e) if is_timeout(&e) => {
                    if self.stopped() {
                        return Err("stopped while waiting for a command".into());
                    }
                    if Instant::now() > deadline {
                        return Err("timed out waiting for a command".into());
                    }
                }
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    }

    fn listen(&self, conn: &mut Conn) -> Result<u16, String> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        conn.listener = Some(listener);
        conn.active = None;
        Ok(port)
    }

    /// Opens the data connection: accept (passive) or connect (active).
    fn open_data(&self, conn: &mut Conn) -> Result<TcpStream, String> {
        let stream = if let Some(listener) = conn.listener.take() {
            self.accept(&listener)
                .map_err(|e| format!("data accept: {e}"))?
        } else if let Some(addr) = conn.active.take() {
            TcpStream::connect_timeout(&addr, self.timeout)
                .map_err(|e| format!("data connect to {addr}: {e}"))?
        } else {
            return Err("no EPSV/PASV/PORT before the data step".into());
        };
        stream
            .set_read_timeout(Some(POLL))
            .map_err(|e| e.to_string())?;
        stream
            .set_write_timeout(Some(POLL))
            .map_err(|e| e.to_string())?;
        Ok(stream)
    }

    fn send_data(
        &self,
        conn: &mut Conn,
        data: &[u8],
        fault: Option<DataFault>,
    ) -> Result<(), String> {
        let mut stream = self.open_data(conn)?;
        match fault {
            None => {
                self.write_all(&mut stream, data)?;
                let _ = stream.shutdown(Shutdown::Write);
            }
            Some(DataFault::CloseAt(n)) => {
                self.write_all(&mut stream, &data[..n.min(data.len())])?;
                let _ = stream.shutdown(Shutdown::Write);
            }
            Some(DataFault::ResetAt(n)) => {
                // The client may reset first when it gives up; either way
                // the connection ends abruptly.
                let _ = self.write_all(&mut stream, &data[..n.min(data.len())]);
                let _ = SockRef::from(&stream).set_linger(Some(Duration::ZERO));
            }
            Some(DataFault::StallAt(n)) => {
                let _ = self.write_all(&mut stream, &data[..n.min(data.len())]);
                conn.parked.push(stream);
            }
            Some(DataFault::Slow { chunk, delay }) => {
                for piece in data.chunks(chunk.max(1)) {
                    self.write_all(&mut stream, piece)?;
                    self.pause(delay);
                    if self.stopped() {
                        return Err("stopped during a slow transfer".into());
                    }
                }
                let _ = stream.shutdown(Shutdown::Write);
            }
        }
        Ok(())
    }

    fn recv_data(&self, conn: &mut Conn, fault: Option<DataFault>) -> Result<(), String> {
        let mut stream = self.open_data(conn)?;
        let limit = match fault {
            Some(DataFault::CloseAt(n) | DataFault::ResetAt(n) | DataFault::StallAt(n)) => n,
            _ => usize::MAX,
        };
        let (piece, delay) = match fault {
            Some(DataFault::Slow { chunk, delay }) => (chunk.max(1), delay),
            _ => (1 << 16, Duration::ZERO),
        };
        let mut deadline = Instant::now() + self.timeout;
        let mut got = Vec::new();
        let mut reset = false;
        let mut buf = vec![0u8; piece];
        while got.len() < limit {
            let want = buf.len().min(limit - got.len());
            match stream.read(&mut buf[..want]) {
                Ok(0) => break,
                Ok(n) => {
                    got.extend_from_slice(&buf[..n]);
                    deadline = Instant::now() + self.timeout;
                    if !delay.is_zero() {
                        self.pause(delay);
                    }
                }
                Err(e) if is_timeout(&e) => {
                    if self.stopped() || Instant::now() > deadline {
                        return Err("timed out receiving data".into());
                    }
                }
                // A client that aborts resets the connection: the upload ends there.
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    reset = true;
                    break;
                }
                Err(e) => return Err(format!("data read: {e}")),
            }
        }
        match fault {
            Some(DataFault::ResetAt(_)) => {
                let _ = SockRef::from(&stream).set_linger(Some(Duration::ZERO));
            }
            Some(DataFault::CloseAt(_)) => {
                // A FIN first; the kernel follows it with a reset if the
                // client's unread bytes are still queued when it closes.
                let _ = stream.shutdown(Shutdown::Write);
            }
            Some(DataFault::StallAt(_)) => conn.parked.push(stream),
            _ => {}
        }
        if let Ok(mut t) = self.transcript.lock() {
            t.uploads.push(got);
            t.upload_resets.push(reset);
        }
        Ok(())
    }

    /// Keeps a connection open, silent, until the client closes it or the
    /// test stops the server (bounded by three times the timeout).
    fn hold(&self, stream: &mut TcpStream) {
        let deadline = Instant::now() + self.timeout * 3;
        let mut buf = [0u8; 1024];
        while !self.stopped() && Instant::now() < deadline {
            match stream.read(&mut buf) {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if is_timeout(&e) => {}
                Err(_) => return,
            }
        }
    }

    /// Floods the control connection until 64 MiB are sent, the client
    /// closes it, stops reading for the bound, or the server is stopped.
    fn endless(&self, conn: &mut Conn, pattern: &[u8]) -> Result<(), String> {
        let mut sent = 0;
        let mut deadline = Instant::now() + self.timeout;
        while sent < ENDLESS_LIMIT && !self.stopped() && Instant::now() < deadline {
            // Resume where a short write stopped, so lines stay whole.
            let at = sent % pattern.len();
            match conn.control.write(&pattern[at..]) {
                Ok(n) => {
                    sent += n;
                    deadline = Instant::now() + self.timeout;
                }
                Err(e) if is_timeout(&e) => {}
                Err(_) => return Ok(()), // the client gave up: that is the point
            }
        }
        Ok(())
    }

    /// Waits until the client has closed every stalled data connection (or
    /// the test stops the server), then drops them.
    fn release_parked(&self, conn: &mut Conn) {
        for mut stream in conn.parked.drain(..) {
            self.hold(&mut stream);
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Parses the address of `PORT h1,h2,h3,h4,p1,p2` or `EPRT |n|addr|port|`.
fn parse_active(line: &str) -> Option<SocketAddr> {
    let (verb, arg) = line.split_once(' ')?;
    if verb.eq_ignore_ascii_case("PORT") {
        let n: Vec<u16> = arg
            .split(',')
            .map(|p| p.trim().parse().ok())
            .collect::<Option<_>>()?;
        if n.len() != 6 || n.iter().any(|&x| x > 255) {
            return None;
        }
        let ip = Ipv4Addr::new(n[0] as u8, n[1] as u8, n[2] as u8, n[3] as u8);
        return Some(SocketAddr::new(IpAddr::V4(ip), n[4] << 8 | n[5]));
    }
    if verb.eq_ignore_ascii_case("EPRT") {
        let delim = arg.chars().next()?;
        let parts: Vec<&str> = arg.split(delim).collect();
        if parts.len() < 5 {
            return None;
        }
        let ip: IpAddr = parts[2].parse().ok()?;
        let port: u16 = parts[3].parse().ok()?;
        return Some(SocketAddr::new(ip, port));
    }
    None
}

fn describe(step: &Step) -> String {
    match step {
        Step::Reply(b) | Step::Raw(b) => {
            format!("send {:?}", String::from_utf8_lossy(&b[..b.len().min(60)]))
        }
        Step::SendData(d, f) => format!("send {} data bytes, fault {f:?}", d.len()),
        other => format!("{other:?}"),
    }
}
