//! A stateful fake FTP server whose files live in memory, with faults
//! injected into its data transfers: for tests of what happens across
//! several commands and reconnects (retry, resume, verification), where an
//! exact script would be long and brittle.
//!
//! ```no_run
//! use ftpkit_testkit::{MemoryServer, Fault};
//!
//! let server = MemoryServer::start();
//! server.put_file("f.bin", vec![7u8; 100_000]);
//! server.push_fault(Fault::ResetDataAt(50_000)); // the next transfer breaks
//! // ... a client downloads f.bin, resumes, and gets every byte ...
//! assert!(server.commands().iter().any(|c| c.starts_with("REST ")));
//! ```
//!
//! It speaks enough FTP for ftpkit: USER/PASS, FEAT, OPTS, TYPE, PWD/CWD,
//! EPSV/PASV, SIZE, MDTM, MFMT, REST, RETR, STOR, APPE, DELE, RNFR/RNTO,
//! HASH, XSHA256, XMD5, XCRC, MLSD, LIST, NLST, MKD, RMD, NOOP, QUIT.
//! Paths are flat names; `CWD` accepts anything. Every socket wait is
//! bounded (5 s).

use std::{
    collections::{BTreeMap, VecDeque},
    io::{self, BufRead, BufReader, Read, Write},
    net::{Shutdown, TcpListener, TcpStream},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use sha2::{Digest, Sha256};
use socket2::SockRef;

const WAIT: Duration = Duration::from_secs(5);

/// The content of a file on the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// Real bytes.
    Bytes(Vec<u8>),
    /// `len` zero bytes that are never stored: files beyond 4 GiB without
    /// the memory. Appending zeros keeps it virtual; anything else is
    /// refused with 552.
    Zeros(u64),
}

impl Content {
    fn len(&self) -> u64 {
        match self {
            Content::Bytes(b) => b.len() as u64,
            Content::Zeros(n) => *n,
        }
    }
}

#[derive(Clone, Debug)]
struct File {
    content: Content,
    modified: SystemTime,
}

/// A fault for the next data transfer (downloads and uploads alike), taken
/// from a queue: each transfer takes the first fault, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Move `n` bytes, then reset the data connection and reply 426.
    ResetDataAt(u64),
    /// Move `n` bytes, then drop the data and the control connection
    /// without a reply (a network failure).
    DropAllAt(u64),
    /// Like `ResetDataAt`, and the file is replaced by `new` content (with
    /// a new modification time) before the client comes back.
    ResetAndChange(u64, Vec<u8>),
    /// Refuse the transfer command with this reply, sending no data.
    Refuse(String),
}

/// How the server behaves beyond plain FTP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Behavior {
    /// Checksum features advertised: any of `"HASH"` (SHA-256 and CRC32),
    /// `"XSHA256"`, `"XMD5"`, `"XCRC"`.
    pub hashes: Vec<&'static str>,
    /// Advertise and honour `MFMT`.
    pub mfmt: bool,
    /// Add this to every SIZE answer (a server that lies).
    pub size_lie: u64,
    /// Answer every checksum with a wrong digest.
    pub hash_lie: bool,
    /// Answer REST with 350 but send from byte 0 anyway.
    pub ignore_rest: bool,
    /// Refuse every login after the first with 530.
    pub refuse_relogin: bool,
    /// Answer APPE with 502 (not implemented).
    pub no_appe: bool,
    /// Listings to send instead of the real one, by directory (`""` is
    /// the root): raw MLSD lines, for hostile names.
    pub listings: BTreeMap<String, String>,
    /// A server without MLSD (vsftpd): FEAT lists no `MLST`, `MLSD` is
    /// refused with 500, and typed listings come from `LIST` (Unix lines,
    /// times to the minute, `.` and `..` first).
    pub list_only: bool,
    /// Read `QUIT` and answer nothing: the connection stays open until the
    /// client closes it (a goodbye the client must not wait for).
    pub unanswered_quit: bool,
}

impl Default for Behavior {
    fn default() -> Behavior {
        Behavior {
            hashes: vec!["HASH"],
            mfmt: true,
            size_lie: 0,
            hash_lie: false,
            ignore_rest: false,
            refuse_relogin: false,
            no_appe: false,
            listings: BTreeMap::new(),
            list_only: false,
            unanswered_quit: false,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    files: BTreeMap<String, File>,
    /// Directories made with MKD (others exist implicitly, from file keys).
    dirs: std::collections::BTreeSet<String>,
    faults: VecDeque<Fault>,
    commands: Vec<String>,
    logins: usize,
    behavior: Behavior,
    /// Data connections the server opened, per transfer kind.
    transfers: usize,
}

/// A running in-memory server; stops when dropped.
pub struct MemoryServer {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl MemoryServer {
    /// Starts on 127.0.0.1 with a free port and the default behaviour.
    pub fn start() -> MemoryServer {
        MemoryServer::with_behavior(Behavior::default())
    }

    /// Starts with the given behaviour.
    pub fn with_behavior(behavior: Behavior) -> MemoryServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind memory server");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let addr = listener.local_addr().expect("memory server address");
        let state = Arc::new(Mutex::new(State {
            behavior,
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        thread::spawn(move || {
            while !sp.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let st = st.clone();
                        thread::spawn(move || {
                            let _ = Session::new(stream, st).and_then(Session::serve);
                        });
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => break,
                }
            }
        });
        MemoryServer { addr, state, stop }
    }

    /// The control address.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// Creates or replaces a file.
    pub fn put_file(&self, name: &str, content: impl Into<Vec<u8>>) {
        self.put_content(name, Content::Bytes(content.into()));
    }

    /// Creates or replaces a file with any content.
    pub fn put_content(&self, name: &str, content: Content) {
        let mut s = self.lock();
        s.files.insert(
            name.to_owned(),
            File {
                content,
                modified: SystemTime::now(),
            },
        );
    }

    /// Sets a file's modification time.
    pub fn set_modified(&self, name: &str, time: SystemTime) {
        if let Some(f) = self.lock().files.get_mut(name) {
            f.modified = time;
        }
    }

    /// A file's content, if it exists.
    pub fn file(&self, name: &str) -> Option<Content> {
        self.lock().files.get(name).map(|f| f.content.clone())
    }

    /// A file's modification time, if it exists.
    pub fn modified(&self, name: &str) -> Option<SystemTime> {
        self.lock().files.get(name).map(|f| f.modified)
    }

    /// Queues a fault for a coming data transfer.
    pub fn push_fault(&self, fault: Fault) {
        self.lock().faults.push_back(fault);
    }

    /// Faults queued and not yet taken by a transfer.
    pub fn pending_faults(&self) -> usize {
        self.lock().faults.len()
    }

    /// Drops the queued faults.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Every command received, in order, over all connections (PASS
    /// arguments included: this is a test server).
    pub fn commands(&self) -> Vec<String> {
        self.lock().commands.clone()
    }

    /// Successful logins so far (1 + the reconnects).
    pub fn logins(&self) -> usize {
        self.lock().logins
    }

    /// Data transfers started (RETR, STOR, APPE).
    pub fn transfers(&self) -> usize {
        self.lock().transfers
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for MemoryServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

struct Session {
    reader: BufReader<TcpStream>,
    control: TcpStream,
    state: Arc<Mutex<State>>,
    passive: Option<TcpListener>,
    rest: u64,
    rename_from: Option<String>,
    logged_in: bool,
}

enum Flow {
    Go,
    Quit,
}

impl Session {
    fn new(stream: TcpStream, state: Arc<Mutex<State>>) -> io::Result<Session> {
        stream.set_nonblocking(false)?;
        stream.set_read_timeout(Some(WAIT))?;
        stream.set_write_timeout(Some(WAIT))?;
        Ok(Session {
            reader: BufReader::new(stream.try_clone()?),
            control: stream,
            state,
            passive: None,
            rest: 0,
            rename_from: None,
            logged_in: false,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn file_info(&self, name: &str) -> Option<(u64, SystemTime)> {
        let s = self.lock();
        s.files.get(name).map(|f| (f.content.len(), f.modified))
    }

    fn reply(&mut self, text: &str) -> io::Result<()> {
        self.control.write_all(format!("{text}\r\n").as_bytes())
    }

    fn serve(mut self) -> io::Result<()> {
        self.reply("220 memory server ready")?;
        let mut line = String::new();
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let text = line.trim_end_matches(['\r', '\n']).to_owned();
            self.lock().commands.push(text.clone());
            let (verb, arg) = text.split_once(' ').unwrap_or((&text, ""));
            let verb = verb.to_ascii_uppercase();
            // Paths are flat keys without a leading slash.
            let arg = if matches!(
                verb.as_str(),
                "OPTS" | "MFMT" | "REST" | "TYPE" | "USER" | "PASS"
            ) {
                arg.to_owned()
            } else {
                key(arg)
            };
            match self.command(&verb, &arg)? {
                Flow::Go => {}
                Flow::Quit => return Ok(()),
            }
        }
    }

    fn command(&mut self, verb: &str, arg: &str) -> io::Result<Flow> {
        let behavior = self.lock().behavior.clone();
        match verb {
            "USER" => self.reply("331 password please")?,
            "PASS" => {
                let refused = {
                    let mut s = self.lock();
                    let refused = s.behavior.refuse_relogin && s.logins > 0;
                    if !refused {
                        s.logins += 1;
                    }
                    refused
                };
                if refused {
                    self.reply("530 login refused")?;
                } else {
                    self.logged_in = true;
                    self.reply("230 logged in")?;
                }
            }
            _ if !self.logged_in && verb != "FEAT" && verb != "QUIT" => {
                self.reply("530 log in first")?
            }
            "FEAT" => {
                let mut lines = vec!["211-Features:".to_owned()];
                for f in [
                    "SIZE",
                    "MDTM",
                    "REST STREAM",
                    "EPSV",
                    "UTF8",
                    "MLST type*;size*;modify*;",
                ] {
                    if !(behavior.list_only && f.starts_with("MLST")) {
                        lines.push(format!(" {f}"));
                    }
                }
                for h in &behavior.hashes {
                    lines.push(match *h {
                        "HASH" => " HASH SHA-256*;CRC32".to_owned(),
                        other => format!(" {other}"),
                    });
                }
                if behavior.mfmt {
                    lines.push(" MFMT".into());
                }
                lines.push("211 End".into());
                self.reply(&lines.join("\r\n"))?;
            }
            "OPTS" => {
                let upper = arg.to_ascii_uppercase();
                match upper.strip_prefix("HASH ") {
                    Some(alg) if alg == "SHA-256" || alg == "CRC32" => {
                        self.reply(&format!("200 {alg}"))?
                    }
                    Some(_) => self.reply("501 unknown algorithm")?,
                    None => self.reply("200 ok")?,
                }
            }
            "TYPE" => self.reply("200 type set")?,
            "NOOP" => self.reply("200 ok")?,
            "PWD" => self.reply("257 \"/\" is the directory")?,
            "CWD" | "CDUP" => self.reply("250 ok")?,
            "EPSV" | "PASV" => {
                let listener = TcpListener::bind("127.0.0.1:0")?;
                let port = listener.local_addr()?.port();
                self.passive = Some(listener);
                if verb == "EPSV" {
                    self.reply(&format!("229 Entering Extended Passive Mode (|||{port}|)"))?;
                } else {
                    self.reply(&format!(
                        "227 Entering Passive Mode (127,0,0,1,{},{})",
                        port >> 8,
                        port & 0xff
                    ))?;
                }
            }
            "SIZE" => match self.file_info(arg).map(|f| f.0) {
                Some(n) => {
                    let n = n + behavior.size_lie;
                    self.reply(&format!("213 {n}"))?
                }
                None => self.reply("550 no such file")?,
            },
            "MDTM" => match self.file_info(arg).map(|f| f.1) {
                Some(t) => self.reply(&format!("213 {}", timeval(t)))?,
                None => self.reply("550 no such file")?,
            },
            "MFMT" if behavior.mfmt => {
                let (time, name) = arg.split_once(' ').unwrap_or((arg, ""));
                let name = &key(name);
                let parsed = parse_timeval(time);
                let mut s = self.lock();
                match (s.files.get_mut(name), parsed) {
                    (Some(f), Some(t)) => {
                        f.modified = t;
                        drop(s);
                        self.reply(&format!("213 Modify={time}; {name}"))?
                    }
                    _ => {
                        drop(s);
                        self.reply("550 cannot set time")?
                    }
                }
            }
            "REST" => match arg.parse::<u64>() {
                Ok(n) => {
                    self.rest = n;
                    self.reply(&format!("350 restarting at {n}"))?
                }
                Err(_) => self.reply("501 bad offset")?,
            },
            "RETR" => return self.retr(arg, &behavior),
            "STOR" | "APPE" => {
                if verb == "APPE" && behavior.no_appe {
                    self.reply("502 APPE not implemented")?;
                } else {
                    return self.store(arg, verb == "APPE");
                }
            }
            "DELE" => {
                let removed = self.lock().files.remove(arg).is_some();
                self.reply(if removed {
                    "250 deleted"
                } else {
                    "550 no such file"
                })?
            }
            "RNFR" => {
                if self.lock().files.contains_key(arg) {
                    self.rename_from = Some(arg.to_owned());
                    self.reply("350 ready for RNTO")?
                } else {
                    self.reply("550 no such file")?
                }
            }
            "RNTO" => {
                let from = self.rename_from.take();
                let mut s = self.lock();
                match from.and_then(|f| s.files.remove(&f)) {
                    Some(file) => {
                        s.files.insert(arg.to_owned(), file);
                        drop(s);
                        self.reply("250 renamed")?
                    }
                    None => {
                        drop(s);
                        self.reply("503 RNFR first")?
                    }
                }
            }
            "HASH" | "XSHA256" | "XMD5" | "XCRC" => self.checksum(verb, arg, &behavior)?,
            "MLSD" if behavior.list_only => self.reply("500 MLSD not understood")?,
            "MLSD" => return self.mlsd(arg, &behavior),
            "LIST" => return self.list(arg, false),
            "NLST" => return self.list(arg, true),
            "MKD" => {
                let dir = key(arg);
                self.lock().dirs.insert(dir.clone());
                self.reply(&format!("257 \"/{dir}\" created"))?
            }
            "RMD" => {
                let dir = key(arg);
                let mut s = self.lock();
                let prefix = format!("{dir}/");
                let empty = !s.files.keys().any(|k| k.starts_with(&prefix))
                    && !s.dirs.iter().any(|d| d.starts_with(&prefix));
                let removed = empty && s.dirs.remove(&dir);
                drop(s);
                self.reply(if removed {
                    "250 removed"
                } else {
                    "550 not an empty directory"
                })?
            }
            "QUIT" if behavior.unanswered_quit => {}
            "QUIT" => {
                self.reply("221 bye")?;
                return Ok(Flow::Quit);
            }
            _ => self.reply("502 not implemented")?,
        }
        Ok(Flow::Go)
    }

    fn checksum(&mut self, verb: &str, arg: &str, behavior: &Behavior) -> io::Result<()> {
        let offered = behavior.hashes.contains(&verb);
        let content = self.lock().files.get(arg).map(|f| f.content.clone());
        let bytes = match (offered, content) {
            (false, _) => return self.reply("502 not implemented"),
            (_, None) => return self.reply("550 no such file"),
            (_, Some(Content::Zeros(_))) => return self.reply("550 file too large to hash"),
            (_, Some(Content::Bytes(b))) => b,
        };
        let mut digest = match verb {
            "XMD5" => {
                use md5::Digest as _;
                md5::Md5::digest(&bytes).to_vec()
            }
            "XCRC" => crc32fast::hash(&bytes).to_be_bytes().to_vec(),
            _ => Sha256::digest(&bytes).to_vec(),
        };
        if behavior.hash_lie
            && let Some(b) = digest.first_mut()
        {
            *b ^= 0xff;
        }
        let hex: String = digest.iter().map(|b| format!("{b:02X}")).collect();
        match verb {
            "HASH" => {
                let end = bytes.len().saturating_sub(1);
                self.reply(&format!("213 SHA-256 0-{end} {hex} {arg}"))
            }
            _ => self.reply(&format!("250 {hex}")),
        }
    }

    fn open_data(&mut self) -> io::Result<TcpStream> {
        let listener = self
            .passive
            .take()
            .ok_or_else(|| io::Error::other("no EPSV/PASV before the transfer"))?;
        listener.set_nonblocking(true)?;
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            match listener.accept() {
                Ok((stream, _)) => {
                    stream.set_nonblocking(false)?;
                    stream.set_read_timeout(Some(WAIT))?;
                    stream.set_write_timeout(Some(WAIT))?;
                    return Ok(stream);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if std::time::Instant::now() > deadline {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "no data connection",
                        ));
                    }
                    thread::sleep(Duration::from_millis(2));
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn take_fault(&self) -> Option<Fault> {
        let mut s = self.lock();
        s.transfers += 1;
        s.faults.pop_front()
    }

    fn retr(&mut self, name: &str, behavior: &Behavior) -> io::Result<Flow> {
        let rest = std::mem::take(&mut self.rest);
        let Some(content) = self.lock().files.get(name).map(|f| f.content.clone()) else {
            self.reply("550 no such file")?;
            return Ok(Flow::Go);
        };
        let fault = self.take_fault();
        if let Some(Fault::Refuse(text)) = &fault {
            self.reply(text)?;
            return Ok(Flow::Go);
        }
        let start = if behavior.ignore_rest { 0 } else { rest };
        let total = content.len();
        if start > total {
            self.reply("551 offset beyond the end")?;
            return Ok(Flow::Go);
        }
        self.reply(&format!(
            "150 opening data connection ({} bytes)",
            total - start
        ))?;
        let mut data = self.open_data()?;
        let limit = match &fault {
            Some(Fault::ResetDataAt(n) | Fault::DropAllAt(n) | Fault::ResetAndChange(n, _)) => {
                Some(*n)
            }
            _ => None,
        };
        let end = limit.map_or(total, |n| total.min(start + n));
        let mut pos = start;
        let zeros = [0u8; 64 * 1024];
        while pos < end {
            let n = usize::try_from((end - pos).min(64 * 1024)).unwrap_or(64 * 1024);
            let chunk = match &content {
                Content::Bytes(b) => &b[pos as usize..pos as usize + n],
                Content::Zeros(_) => &zeros[..n],
            };
            if data.write_all(chunk).is_err() {
                break;
            }
            pos += n as u64;
        }
        if fault.is_some() {
            // Let the client read what was sent before the reset discards
            // it, so where a resume starts does not depend on timing.
            thread::sleep(Duration::from_millis(30));
        }
        self.end_transfer(data, fault, name)
    }

    fn store(&mut self, name: &str, append: bool) -> io::Result<Flow> {
        let rest = std::mem::take(&mut self.rest);
        let fault = self.take_fault();
        if let Some(Fault::Refuse(text)) = &fault {
            self.reply(text)?;
            return Ok(Flow::Go);
        }
        self.reply("150 ready to receive")?;
        let mut data = self.open_data()?;
        let limit = match &fault {
            Some(Fault::ResetDataAt(n) | Fault::DropAllAt(n) | Fault::ResetAndChange(n, _)) => {
                Some(*n)
            }
            _ => None,
        };
        // Start from what the command means: STOR replaces (or, after
        // REST, keeps the first `rest` bytes), APPE extends.
        let existing = self.lock().files.get(name).map(|f| f.content.clone());
        let mut content = match (append, rest, existing) {
            (true, _, Some(c)) => c,
            (false, 0, _) | (_, _, None) => Content::Bytes(Vec::new()),
            (false, n, Some(Content::Bytes(mut b))) => {
                b.truncate(n as usize);
                Content::Bytes(b)
            }
            (false, n, Some(Content::Zeros(len))) => Content::Zeros(len.min(n)),
        };
        let mut received = 0u64;
        let mut buf = vec![0u8; 64 * 1024];
        let mut refused = false;
        loop {
            let want = limit.map_or(buf.len() as u64, |l| (l - received).min(buf.len() as u64));
            if want == 0 {
                break;
            }
            let n = match data.read(&mut buf[..want as usize]) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            received += n as u64;
            match &mut content {
                Content::Bytes(b) => b.extend_from_slice(&buf[..n]),
                Content::Zeros(len) => {
                    if buf[..n].iter().any(|&x| x != 0) {
                        refused = true;
                        break;
                    }
                    *len += n as u64;
                }
            }
        }
        {
            let mut s = self.lock();
            s.files.insert(
                name.to_owned(),
                File {
                    content,
                    modified: SystemTime::now(),
                },
            );
        }
        if refused {
            let _ = data.shutdown(Shutdown::Both);
            self.reply("552 only zeros may be appended to a virtual file")?;
            return Ok(Flow::Go);
        }
        self.end_transfer(data, fault, name)
    }

    /// Ends a transfer as the fault says: 226, a reset and 426, or a dead
    /// session.
    fn end_transfer(
        &mut self,
        data: TcpStream,
        fault: Option<Fault>,
        name: &str,
    ) -> io::Result<Flow> {
        match fault {
            None | Some(Fault::Refuse(_)) => {
                drop(data);
                self.reply("226 transfer complete")?;
                Ok(Flow::Go)
            }
            Some(Fault::ResetDataAt(_)) => {
                reset(data);
                self.reply("426 connection reset; transfer aborted")?;
                Ok(Flow::Go)
            }
            Some(Fault::ResetAndChange(_, new)) => {
                reset(data);
                {
                    let mut s = self.lock();
                    let later = s
                        .files
                        .get(name)
                        .map_or(SystemTime::now(), |f| f.modified + Duration::from_secs(60));
                    s.files.insert(
                        name.to_owned(),
                        File {
                            content: Content::Bytes(new),
                            modified: later,
                        },
                    );
                }
                self.reply("426 connection reset; transfer aborted")?;
                Ok(Flow::Go)
            }
            Some(Fault::DropAllAt(_)) => {
                reset(data);
                let _ = SockRef::from(&self.control).set_linger(Some(Duration::ZERO));
                let _ = self.control.shutdown(Shutdown::Both);
                Ok(Flow::Quit)
            }
        }
    }
}

/// A path as a flat key: no leading or trailing slash.
fn key(path: &str) -> String {
    path.trim_matches('/').to_owned()
}

impl Session {
    /// The files (name, size, time) and subdirectories directly in `dir`.
    fn dir_entries(&self, dir: &str) -> (Vec<(String, u64, SystemTime)>, Vec<String>) {
        let s = self.lock();
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let mut dirs = std::collections::BTreeSet::new();
        let mut files = Vec::new();
        for (name, file) in s.files.range(prefix.clone()..) {
            let Some(rest) = name.strip_prefix(&prefix) else {
                break;
            };
            match rest.split_once('/') {
                Some((sub, _)) => {
                    dirs.insert(sub.to_owned());
                }
                None => files.push((rest.to_owned(), file.content.len(), file.modified)),
            }
        }
        for d in s.dirs.iter() {
            if let Some(rest) = d.strip_prefix(&prefix)
                && !rest.is_empty()
                && !rest.contains('/')
            {
                dirs.insert(rest.to_owned());
            }
        }
        (files, dirs.into_iter().collect())
    }

    /// `LIST` (Unix `ls -l` lines, `.` and `..` first) or `NLST` (names)
    /// of a directory.
    fn list(&mut self, dir: &str, names_only: bool) -> io::Result<Flow> {
        let (files, dirs) = self.dir_entries(dir);
        let mut out = String::new();
        if names_only {
            for name in files.iter().map(|f| &f.0).chain(&dirs) {
                out.push_str(&format!("{name}\r\n"));
            }
        } else {
            let epoch = UNIX_EPOCH + Duration::from_secs(1_577_836_800);
            out.push_str(&format!(
                "drwxr-xr-x 2 ftp ftp 4096 {} .\r\n",
                ls_time(epoch)
            ));
            out.push_str(&format!(
                "drwxr-xr-x 9 ftp ftp 4096 {} ..\r\n",
                ls_time(epoch)
            ));
            for (name, size, modified) in &files {
                out.push_str(&format!(
                    "-rw-r--r-- 1 ftp ftp {size} {} {name}\r\n",
                    ls_time(*modified)
                ));
            }
            for name in &dirs {
                out.push_str(&format!(
                    "drwxr-xr-x 2 ftp ftp 4096 {} {name}\r\n",
                    ls_time(epoch)
                ));
            }
        }
        self.reply("150 listing")?;
        let mut data = self.open_data()?;
        let _ = data.write_all(out.as_bytes());
        drop(data);
        self.reply("226 listed")?;
        Ok(Flow::Go)
    }

    /// MLSD of a directory: its files and the directories implied by
    /// deeper keys, or the listing the behaviour substitutes.
    fn mlsd(&mut self, dir: &str, behavior: &Behavior) -> io::Result<Flow> {
        let text = match behavior.listings.get(dir) {
            Some(raw) => raw.clone(),
            None => {
                let s = self.lock();
                let prefix = if dir.is_empty() {
                    String::new()
                } else {
                    format!("{dir}/")
                };
                let mut dirs = std::collections::BTreeSet::new();
                let mut out = String::new();
                for (name, file) in s.files.range(prefix.clone()..) {
                    let Some(rest) = name.strip_prefix(&prefix) else {
                        break;
                    };
                    match rest.split_once('/') {
                        Some((sub, _)) => {
                            dirs.insert(sub.to_owned());
                        }
                        None => out.push_str(&format!(
                            "type=file;size={};modify={}; {rest}\r\n",
                            file.content.len(),
                            timeval(file.modified)
                        )),
                    }
                }
                for d in s.dirs.iter() {
                    if let Some(rest) = d.strip_prefix(&prefix)
                        && !rest.is_empty()
                        && !rest.contains('/')
                    {
                        dirs.insert(rest.to_owned());
                    }
                }
                for d in dirs {
                    out.push_str(&format!("type=dir;modify=20200101000000; {d}\r\n"));
                }
                out
            }
        };
        self.reply("150 listing")?;
        let mut data = self.open_data()?;
        let _ = data.write_all(text.as_bytes());
        drop(data);
        self.reply("226 listed")?;
        Ok(Flow::Go)
    }
}

fn reset(stream: TcpStream) {
    let _ = SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    drop(stream);
}

/// A time as `ls -l` shows it: `Mon DD HH:MM` within half a year of now
/// (the minute only), `Mon DD  YYYY` before (the day only).
fn ls_time(t: SystemTime) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let stamp = timeval(t);
    let field = |range: std::ops::Range<usize>| stamp.get(range).unwrap_or("0").to_owned();
    let month = field(4..6).parse::<usize>().unwrap_or(1).clamp(1, 12);
    let day = field(6..8).parse::<u32>().unwrap_or(1);
    let recent = SystemTime::now()
        .duration_since(t)
        .map_or(true, |age| age < Duration::from_secs(180 * 86_400));
    if recent {
        format!(
            "{} {day:>2} {}:{}",
            MONTHS[month - 1],
            field(8..10),
            field(10..12)
        )
    } else {
        format!("{} {day:>2}  {}", MONTHS[month - 1], field(0..4))
    }
}

fn timeval(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let (y, m, d) = civil_from_days(days);
    let s = secs % 86_400;
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

fn parse_timeval(text: &str) -> Option<SystemTime> {
    let digits = text.get(..14)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| digits.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hh, mm, ss) = (num(8..10)?, num(10..12)?, num(12..14)?);
    let days = days_from_civil(y, m, d);
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timevals_round_trip() {
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_123);
        assert_eq!(timeval(t), "20231114221523");
        assert_eq!(parse_timeval("20231114221523"), Some(t));
        assert_eq!(parse_timeval("2023111422152x"), None);
    }
}
