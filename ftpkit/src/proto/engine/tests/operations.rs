//! Whole operations (connect with explicit and implicit TLS, login,
//! reconnect, a listing's setup, active mode, abort, the download and
//! upload plans with resume, retry and verification) run to their end
//! against [`Wire`]: a driver of the tests' own that answers every action
//! from a script, keeps the local file in memory and steps a fake clock.
//! Each test compares the whole transcript: the exact bytes of every write
//! on the control connection, every reply read, and every other action,
//! in order.

use std::{
    collections::VecDeque,
    net::SocketAddr,
    path::PathBuf,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use super::super::{
    Action, Core, Event, Jitter, LocalOp, Operation, PumpDirection, Step, Target, data, files, ops,
};
use super::{PEER, core};
use crate::{
    config::Config,
    error::{Error, Phase},
    proto::{
        Arg, Command, DataMode, DataRequest, TransferType,
        resume::{RetryPolicy, TransferOptions, Verify},
    },
    tls::{TlsConfig, TlsMode},
};

/// The client's own address, where an active-mode listener is bound.
const LOCAL: &str = "192.0.2.100:40000";

/// The scripted far side of every action, and the fake clock.
struct Wire {
    t0: Instant,
    now: Instant,
    /// Each command line the client must send, and the reply text the
    /// server sends back (CRLF between lines; several replies allowed).
    /// `connect` stands for a new control connection and its greeting.
    script: VecDeque<(String, String)>,
    /// Control bytes waiting to be read; a read finding none times out.
    inbox: Vec<u8>,
    /// What the server sends on each data connection the client reads.
    downloads: VecDeque<Vec<u8>>,
    /// What the current data connection still has to send, once the
    /// client reads it (`None` before).
    remote: Option<Vec<u8>>,
    /// A data connection fails after moving this many more bytes.
    fail_after: Option<usize>,
    /// The next data connection's TLS handshake (`FinishData`) is reset.
    fail_finish: bool,
    /// What the client sent on data connections.
    uploaded: Vec<u8>,
    /// The local file, its position, and its modification time.
    file: Vec<u8>,
    pos: usize,
    mtime: SystemTime,
    /// Every action and reply, in order: `> ` the bytes written (commands
    /// of one write joined by ` + `), `< ` the replies read, then the rest.
    log: Vec<String>,
}

impl Wire {
    fn new(script: &[(&str, &str)]) -> Wire {
        let now = Instant::now();
        Wire {
            t0: now,
            now,
            script: script
                .iter()
                .map(|(c, r)| (c.to_string(), r.to_string()))
                .collect(),
            inbox: Vec::new(),
            downloads: VecDeque::new(),
            remote: None,
            fail_after: None,
            fail_finish: false,
            uploaded: Vec::new(),
            file: Vec::new(),
            pos: 0,
            mtime: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            log: Vec::new(),
        }
    }

    /// Runs `op` to its end, performing each action it asks for.
    fn run<T: std::fmt::Debug>(&mut self, mut op: Operation<'_, T>) -> crate::Result<T> {
        let mut event = Event::Start;
        for _ in 0..100_000 {
            match op.resume(event, self.now) {
                Step::Done(result) => return result,
                Step::Act(action) => event = self.perform(action),
            }
        }
        panic!("the operation never ended: {:#?}", self.log);
    }

    /// The next scripted reply to `line`, queued for reading.
    fn answer(&mut self, line: &str) {
        let Some((expected, reply)) = self.script.pop_front() else {
            panic!("unscripted {line:?} after {:#?}", self.log);
        };
        assert_eq!(line, expected, "after {:#?}", self.log);
        if !reply.is_empty() {
            self.inbox.extend_from_slice(reply.as_bytes());
            self.inbox.extend_from_slice(b"\r\n");
        }
    }

    fn file_event(&self) -> Event {
        Event::File {
            len: self.file.len() as u64,
            modified: self.mtime,
        }
    }

    /// Up to `max` bytes of the current data connection; `Err` where it
    /// is set to fail.
    fn take_remote(&mut self, max: usize) -> Result<Vec<u8>, Error> {
        let downloads = &mut self.downloads;
        let remote = self
            .remote
            .get_or_insert_with(|| downloads.pop_front().unwrap_or_default());
        let mut n = max.min(remote.len());
        if let Some(left) = self.fail_after.as_mut() {
            if *left == 0 {
                self.fail_after = None;
                return Err(reset());
            }
            n = n.min(*left);
            *left -= n;
        }
        Ok(remote.drain(..n).collect())
    }

    fn write_file(&mut self, bytes: &[u8]) {
        let end = self.pos + bytes.len();
        if self.file.len() < end {
            self.file.resize(end, 0);
        }
        self.file[self.pos..end].copy_from_slice(bytes);
        self.pos = end;
    }

    fn perform(&mut self, action: Action) -> Event {
        match action {
            Action::Connect { target, .. } => {
                self.log.push(format!("connect {target:?}"));
                self.answer("connect");
                Event::Connected(PEER.parse().unwrap())
            }
            Action::Send { bytes, .. } => {
                let text = String::from_utf8(bytes).unwrap();
                let lines: Vec<&str> = text.split_terminator("\r\n").collect();
                assert!(text.ends_with("\r\n"), "{text:?}");
                self.log.push(format!("> {}", lines.join(" + ")));
                for line in lines {
                    self.answer(line);
                }
                Event::Done
            }
            Action::Read { .. } => {
                if self.inbox.is_empty() {
                    self.log.push("< (silence)".into());
                    return Event::TimedOut;
                }
                let bytes = std::mem::take(&mut self.inbox);
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let lines: Vec<&str> = text.split_terminator("\r\n").collect();
                self.log.push(format!("< {}", lines.join(" + ")));
                Event::Bytes(bytes)
            }
            Action::StartTls { .. } => {
                self.log.push("tls".into());
                Event::Secured(Some(rustls::ProtocolVersion::TLSv1_3))
            }
            Action::StopTls { .. } => {
                self.log.push("tls off".into());
                Event::Done
            }
            Action::OpenData { addr, tls, .. } => {
                let tls = if tls.is_some() { " tls" } else { "" };
                self.log.push(format!("data to {addr}{tls}"));
                self.remote = None;
                Event::Done
            }
            Action::Listen { .. } => {
                self.log.push("listen".into());
                Event::Listening(LOCAL.parse().unwrap())
            }
            Action::Accept { from, tls, .. } => {
                let tls = if tls.is_some() { " tls" } else { "" };
                self.log.push(format!("accept from {from} only{tls}"));
                self.remote = None;
                Event::Done
            }
            Action::FinishData { .. } if std::mem::take(&mut self.fail_finish) => {
                self.log.push("data handshake reset".into());
                Event::Failed(Error::io(Phase::DataConnect)(std::io::Error::from(
                    std::io::ErrorKind::ConnectionReset,
                )))
            }
            Action::FinishData { .. } | Action::RemoteSize(_) => Event::Done,
            Action::CloseData { reset } => {
                self.log
                    .push(format!("close data{}", if reset { " (reset)" } else { "" }));
                Event::Done
            }
            Action::ReadData { .. } => match self.take_remote(16 * 1024) {
                Ok(chunk) if chunk.is_empty() => Event::Eof,
                Ok(chunk) => Event::Bytes(chunk),
                Err(e) => Event::Failed(e),
            },
            Action::Pump {
                direction,
                offset,
                max,
                ..
            } => self.pump(direction, offset, max),
            Action::FinishUpload { .. } => {
                self.log.push("finish upload".into());
                Event::Done
            }
            Action::Progress(offset) => {
                self.log.push(format!("progress {offset}"));
                Event::Done
            }
            Action::Local(op) => self.local(op),
            Action::Sleep { until } => {
                assert!(until >= self.now, "a sleep into the past");
                self.log
                    .push(format!("sleep until t0+{:?}", until - self.t0));
                self.now = until;
                Event::Done
            }
        }
    }

    fn pump(&mut self, direction: PumpDirection, offset: u64, max: Option<u64>) -> Event {
        assert_eq!(offset, self.pos as u64, "the pump's offset is the file's");
        let max = max.map_or(usize::MAX, |m| m as usize);
        let moved = match direction {
            PumpDirection::Receive => match self.take_remote(max) {
                Ok(bytes) => {
                    self.write_file(&bytes);
                    bytes.len()
                }
                Err(e) => {
                    self.log.push(format!("pump in fails at {offset}"));
                    return Event::Failed(e);
                }
            },
            PumpDirection::Send { .. } => {
                let mut n = max.min(self.file.len() - self.pos);
                if let Some(left) = self.fail_after.as_mut() {
                    if *left == 0 {
                        self.fail_after = None;
                        self.log.push(format!("pump out fails at {offset}"));
                        return Event::Failed(reset());
                    }
                    n = n.min(*left);
                    *left -= n;
                }
                let end = self.pos + n;
                self.uploaded.extend_from_slice(&self.file[self.pos..end]);
                self.pos = end;
                n
            }
        };
        let eof = moved < max
            && match direction {
                PumpDirection::Receive => self.remote.as_ref().is_some_and(Vec::is_empty),
                PumpDirection::Send { .. } => self.pos == self.file.len(),
            };
        let way = match direction {
            PumpDirection::Receive => "in",
            PumpDirection::Send { .. } => "out",
        };
        self.log.push(format!("pump {way} {moved} from {offset}"));
        Event::Pumped {
            bytes: moved as u64,
            eof: eof && self.fail_after.is_none(),
        }
    }

    fn local(&mut self, op: LocalOp) -> Event {
        match op {
            LocalOp::OpenPart(path) => {
                self.log.push(format!("open part {}", path.display()));
                self.pos = 0;
                self.file_event()
            }
            LocalOp::CreatePart(path) => {
                self.log.push(format!("create part {}", path.display()));
                self.pos = 0;
                self.file.clear();
                Event::Done
            }
            LocalOp::OpenRead(path) => {
                self.log.push(format!("open {}", path.display()));
                self.pos = 0;
                self.file_event()
            }
            LocalOp::Stat => self.file_event(),
            LocalOp::ReadAt { offset, len } => {
                self.log.push(format!("read {len} at {offset}"));
                let (from, to) = (offset as usize, (offset + len) as usize);
                Event::Bytes(self.file[from..to].to_vec())
            }
            LocalOp::Write(bytes) => {
                self.log.push(format!("write {}", bytes.len()));
                self.write_file(&bytes);
                Event::Done
            }
            LocalOp::Truncate(len) => {
                self.log.push(format!("truncate to {len}"));
                self.file.resize(len as usize, 0);
                self.pos = len as usize;
                Event::Done
            }
            LocalOp::Seek(offset) => {
                self.log.push(format!("seek to {offset}"));
                self.pos = offset as usize;
                Event::Done
            }
            LocalOp::SetModified(time) => {
                let secs = time.duration_since(UNIX_EPOCH).unwrap().as_secs();
                self.log.push(format!("set time {secs}"));
                Event::Done
            }
            LocalOp::Sync => {
                self.log.push("sync".into());
                Event::Done
            }
            LocalOp::Close => {
                self.log.push("close".into());
                Event::Done
            }
            LocalOp::Rename { from, to } => {
                self.log
                    .push(format!("rename {} to {}", from.display(), to.display()));
                Event::Done
            }
            LocalOp::RemoveIfEmpty(path) => {
                self.log.push(format!("remove {} if empty", path.display()));
                Event::Done
            }
            other => panic!("unexpected local operation {other:?}"),
        }
    }
}

fn reset() -> Error {
    Error::io(Phase::Data)(std::io::Error::from(std::io::ErrorKind::ConnectionReset))
}

/// A TLS configuration that needs no trust store (nothing is verified
/// here: the wire is scripted).
fn tls(mode: TlsMode) -> Config {
    let tls = TlsConfig::builder()
        .without_system_roots()
        .danger_accept_invalid_certs()
        .build()
        .unwrap();
    Config::default().tls(mode, Some(tls))
}

/// `command` in binary, from the start.
fn binary(command: Command) -> DataRequest {
    DataRequest {
        command,
        transfer_type: TransferType::Binary,
        rest: None,
    }
}

fn host() -> Target {
    Target::Host("ftp.example.com".into(), 21)
}

#[test]
fn explicit_tls_reads_the_greeting_then_auth_tls_and_protects_data_before_the_first_transfer() {
    let mut core = Core::new("ftp.example.com".into(), tls(TlsMode::Explicit));
    let mut wire = Wire::new(&[
        ("connect", "220 hello"),
        ("AUTH TLS", "234 go ahead"),
        ("USER alice", "331 password"),
        ("PASS s3cret", "230 in"),
        ("PBSZ 0", "200 ok"),
        ("PROT P", "200 private"),
        ("TYPE A", "200 ascii"),
        ("EPSV", "229 ok (|||4242|)"),
        ("MLSD", "150 here"),
    ]);
    wire.run(core.op(|c| ops::connect(c, host()))).unwrap();
    wire.run(core.op(|c| ops::login(c, "alice", "s3cret", None)))
        .unwrap();
    let mlsd = DataRequest {
        command: Command::Mlsd(None),
        transfer_type: TransferType::Ascii,
        rest: None,
    };
    let announced = wire.run(core.op(|c| data::open_data(c, mlsd))).unwrap();
    assert_eq!(announced, None);
    assert_eq!(
        wire.log,
        [
            "connect Host(\"ftp.example.com\", 21)",
            "< 220 hello",
            "> AUTH TLS",
            "< 234 go ahead",
            "tls",
            "> USER alice",
            "< 331 password",
            "> PASS s3cret",
            "< 230 in",
            "> PBSZ 0",
            "< 200 ok",
            "> PROT P",
            "< 200 private",
            "> TYPE A + EPSV",
            "< 200 ascii + 229 ok (|||4242|)",
            "data to 192.0.2.1:4242 tls",
            "> MLSD",
            "< 150 here",
        ]
    );
    assert!(core.secure && core.in_flight);
}

#[test]
fn implicit_tls_starts_before_the_greeting_and_credentials_wait_for_it() {
    let mut core = Core::new("ftp.example.com".into(), tls(TlsMode::Implicit));
    let mut wire = Wire::new(&[("connect", "220 secure hello"), ("USER bob", "230 in")]);
    wire.run(core.op(|c| ops::connect(c, host()))).unwrap();
    wire.run(core.op(|c| ops::login(c, "bob", "pw", None)))
        .unwrap();
    assert_eq!(
        wire.log,
        [
            "connect Host(\"ftp.example.com\", 21)",
            "tls",
            "< 220 secure hello",
            "> USER bob",
            "< 230 in",
        ]
    );
    assert_eq!(core.welcome.message(), "secure hello");

    // Explicit TLS asked, AUTH refused: no USER ever goes out in clear,
    // and the connection stays usable in clear text (the refusal kept it in
    // step).
    let mut core = Core::new("ftp.example.com".into(), tls(TlsMode::Explicit));
    let mut wire = Wire::new(&[
        ("connect", "220 hello"),
        ("AUTH TLS", "500 no TLS here"),
        ("PWD", "257 \"/\" is current"),
    ]);
    let err = wire.run(core.op(|c| ops::connect(c, host()))).unwrap_err();
    assert_eq!(err.code().map(|c| c.0), Some(500));
    let err = wire
        .run(core.op(|c| ops::login(c, "bob", "pw", None)))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    assert_eq!(wire.log.last().unwrap(), "< 500 no TLS here");
    assert!(!core.secure);
    let cwd = wire.run(core.op(ops::pwd)).unwrap();
    assert_eq!(cwd.to_string_lossy(), "/");
}

#[test]
fn login_answers_what_the_server_asks_and_a_reconnect_replays_it_and_the_directory() {
    let mut core = core();
    let mut wire = Wire::new(&[
        ("USER alice", "331 password please"),
        ("PASS s3cret", "332 account please"),
        ("ACCT acct-9", "230 in"),
        ("CWD /pub", "250 ok"),
        ("PWD", "257 \"/pub\" is current"),
        ("connect", "220 again"),
        ("USER alice", "331 password please"),
        ("PASS s3cret", "332 account please"),
        ("ACCT acct-9", "230 in"),
        ("CWD /pub", "250 back"),
    ]);
    let reply = wire
        .run(core.op(|c| ops::login(c, "alice", "s3cret", Some("acct-9"))))
        .unwrap();
    assert_eq!(reply.code().0, 230);
    wire.run(core.op(|c| ops::cwd(c, b"/pub"))).unwrap();
    wire.run(core.op(ops::remember_cwd)).unwrap();
    wire.run(core.op(ops::reconnect)).unwrap();
    assert_eq!(
        wire.log,
        [
            "> USER alice",
            "< 331 password please",
            "> PASS s3cret",
            "< 332 account please",
            "> ACCT acct-9",
            "< 230 in",
            "> CWD /pub",
            "< 250 ok",
            "> PWD",
            "< 257 \"/pub\" is current",
            // The same server address, not the name again.
            "connect Addr(192.0.2.1:21)",
            "< 220 again",
            "> USER alice",
            "< 331 password please",
            "> PASS s3cret",
            "< 332 account please",
            "> ACCT acct-9",
            "< 230 in",
            "> CWD /pub",
            "< 250 back",
        ]
    );
    assert_eq!(core.welcome.message(), "again");
    assert!(!core.is_unusable());
}

#[test]
fn an_active_store_advertises_the_listener_and_accepts_the_server_only() {
    let mut core = core();
    core.session.set_mode(DataMode::Active);
    let mut wire = Wire::new(&[
        ("TYPE I", "200 binary"),
        ("PORT 192,0,2,100,156,64", "200 port ok"),
        ("STOR up.bin", "150 go"),
    ]);
    let stor = Command::Stor(Arg::path("up.bin").unwrap());
    wire.run(core.op(|c| data::open_data(c, binary(stor))))
        .unwrap();
    assert_eq!(
        wire.log,
        [
            "> TYPE I",
            "< 200 binary",
            "listen",
            "> PORT 192,0,2,100,156,64",
            "< 200 port ok",
            "> STOR up.bin",
            "< 150 go",
            "accept from 192.0.2.1 only",
        ]
    );
}

#[test]
fn abor_with_no_transfer_running_takes_225_or_226() {
    let mut core = core();
    let mut wire = Wire::new(&[("ABOR", "225 no transfer"), ("ABOR", "226 closed")]);
    assert_eq!(wire.run(core.op(ops::abort)).unwrap().code().0, 225);
    assert_eq!(wire.run(core.op(ops::abort)).unwrap().code().0, 226);
    assert_eq!(
        wire.log,
        ["> ABOR", "< 225 no transfer", "> ABOR", "< 226 closed"]
    );
    assert!(!core.is_unusable());
}

/// A remote file of `len` bytes, each byte its offset's low byte.
fn remote_file(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn download(
    core: &mut Core,
    wire: &mut Wire,
    options: TransferOptions,
) -> crate::Result<crate::proto::resume::TransferReport> {
    let remote = Arg::path("f").unwrap();
    wire.run(
        core.op(move |c| {
            files::download(c, remote, PathBuf::from("f"), options, None, false, None)
        }),
    )
}

#[test]
fn a_download_resumes_its_part_file_behind_an_overlap_then_verifies_and_keeps_the_time() {
    let data = remote_file(100_000);
    let mut core = core();
    let mut wire = Wire::new(&[
        ("TYPE I", "200 binary"),
        ("FEAT", "211-Features:\r\n SIZE\r\n MDTM\r\n211 End"),
        ("SIZE f", "213 100000"),
        ("MDTM f", "213 20240102030405"),
        ("EPSV", "229 ok (|||4242|)"),
        ("REST 17232", "350 restarting"),
        ("RETR f", "150 opening (82768 bytes)\r\n226 done"),
    ]);
    // 50,000 bytes already here: resumed 32 KiB (the overlap) before
    // their end, and the overlap compared, not written again.
    wire.file = data[..50_000].to_vec();
    wire.downloads.push_back(data[17_232..].to_vec());
    let report = download(&mut core, &mut wire, TransferOptions::default()).unwrap();
    assert_eq!(wire.file, data);
    assert_eq!(report.resumed_from, 50_000);
    assert_eq!(report.transferred, 82_768);
    assert_eq!(report.size, 100_000);
    assert_eq!(report.verified.size, Some(100_000));
    assert_eq!(report.verified.hash, None);
    assert!(report.mtime_preserved);
    assert_eq!(
        wire.log,
        [
            // FEAT too: which checksum the verification will use.
            "> TYPE I + FEAT + SIZE f + MDTM f + EPSV",
            "< 200 binary + 211-Features: +  SIZE +  MDTM + 211 End + 213 100000 + 213 20240102030405 + 229 ok (|||4242|)",
            "open part f.part",
            "read 32768 at 17232",
            "truncate to 50000",
            "data to 192.0.2.1:4242",
            "> REST 17232",
            "< 350 restarting",
            "> RETR f",
            "< 150 opening (82768 bytes) + 226 done",
            // The overlap through the core, chunk by chunk, compared and
            // not written again.
            "progress 33616",
            "progress 50000",
            // The rest in bulk.
            "pump in 50000 from 50000",
            // The size given before the transfer verifies it; no hash
            // command is offered: nothing asked after the transfer.
            // One order on every driver: the time, then fsync.
            "set time 1704164645",
            "close",
            "rename f.part to f",
        ]
    );
}

#[test]
fn a_data_connection_that_fails_to_open_with_commands_behind_goes_on_at_once_without_them() {
    let data = remote_file(1_000);
    let mut core = core();
    let mut wire = Wire::new(&[
        ("TYPE I", "200 binary"),
        (
            "FEAT",
            "211-Features:\r\n SIZE\r\n MDTM\r\n EPSV\r\n211 End",
        ),
        ("SIZE f", "213 1000"),
        ("MDTM f", "213 20240102030405"),
        ("EPSV", "229 ok (|||4242|)"),
        // g's commands behind f's RETR: their replies never read.
        ("RETR f", "150 go"),
        ("SIZE g", ""),
        ("MDTM g", ""),
        ("EPSV", ""),
        // A new connection, at once (no sleep), and nothing behind RETR.
        ("connect", "220 again"),
        ("TYPE I", "200 binary"),
        (
            "FEAT",
            "211-Features:\r\n SIZE\r\n MDTM\r\n EPSV\r\n211 End",
        ),
        ("SIZE f", "213 1000"),
        ("MDTM f", "213 20240102030405"),
        ("EPSV", "229 ok (|||4243|)"),
        ("RETR f", "150 go\r\n226 done"),
    ]);
    wire.fail_finish = true;
    // The first data connection never gets to send.
    wire.downloads.push_back(data.clone());
    let remote = Arg::path("f").unwrap();
    let next = Arg::path("g").unwrap();
    let options = TransferOptions::default();
    let report = wire
        .run(core.op(move |c| {
            files::download(
                c,
                remote,
                PathBuf::from("f"),
                options,
                None,
                false,
                Some(next),
            )
        }))
        .unwrap();
    assert_eq!(wire.file, data);
    assert_eq!(report.retries, 1);
    assert!(!report.overlapped);
    assert!(core.overlap_refused);
    assert!(
        wire.log.iter().any(|l| l == "data handshake reset"),
        "{:#?}",
        wire.log
    );
    assert!(
        !wire.log.iter().any(|l| l.starts_with("sleep")),
        "{:#?}",
        wire.log
    );
    assert_eq!(
        wire.log.iter().filter(|l| *l == "> RETR f").count(),
        1,
        "{:#?}",
        wire.log
    );
}

#[test]
fn a_failed_download_waits_its_jittered_delay_on_the_fake_clock_then_resumes_with_rest() {
    let data = remote_file(100_000);
    let mut core = core();
    core.jitter = Jitter::seeded(7);
    let wait = Jitter::seeded(7).spread(Duration::from_millis(400));
    let mut wire = Wire::new(&[
        ("TYPE I", "200 binary"),
        ("SIZE f", "213 100000"),
        ("MDTM f", "213 20240102030405"),
        ("EPSV", "229 ok (|||4242|)"),
        ("RETR f", "150 go"),
        ("ABOR", "426 aborted"),
        ("NOOP", "200 ok"),
        ("SIZE f", "213 100000"),
        ("MDTM f", "213 20240102030405"),
        ("EPSV", "229 ok (|||4243|)"),
        ("REST 27232", "350 restarting"),
        ("RETR f", "150 go\r\n226 done"),
    ]);
    wire.downloads.push_back(data.clone());
    wire.downloads.push_back(data[27_232..].to_vec());
    wire.fail_after = Some(60_000);
    let options = TransferOptions {
        retry: RetryPolicy {
            retries: 2,
            initial_delay: Duration::from_millis(400),
            max_delay: Duration::from_secs(5),
        },
        verify: Verify::SizeOnly,
        preserve_mtime: false,
        ..TransferOptions::default()
    };
    let report = download(&mut core, &mut wire, options).unwrap();
    assert_eq!(wire.file, data);
    assert_eq!(report.retries, 1);
    assert!(wait >= Duration::from_millis(200) && wait <= Duration::from_millis(400));
    // The clock moved by the sleep alone: no real time passed.
    assert_eq!(wire.now - wire.t0, wait);
    let sleep = format!("sleep until t0+{wait:?}");
    assert_eq!(
        wire.log,
        [
            // MDTM too: a resume must tell a file that changed.
            "> TYPE I + SIZE f + MDTM f + EPSV",
            "< 200 binary + 213 100000 + 213 20240102030405 + 229 ok (|||4242|)",
            "open part f.part",
            // A `.part` just made is empty at offset 0: nothing to truncate.
            "data to 192.0.2.1:4242",
            "> RETR f",
            "< 150 go",
            "pump in 60000 from 0",
            "pump in fails at 60000",
            // The abort: ABOR, the data connection closed, NOOP after the
            // first reply, then a brief wait for a straggler.
            "> ABOR",
            "close data",
            "< 426 aborted",
            "> NOOP",
            "< 200 ok",
            "< (silence)",
            sleep.as_str(),
            // TYPE I is known: the second batch starts with SIZE.
            "> SIZE f + MDTM f + EPSV",
            "< 213 100000 + 213 20240102030405 + 229 ok (|||4243|)",
            "open part f.part",
            "read 32768 at 27232",
            "truncate to 60000",
            "data to 192.0.2.1:4243",
            "> REST 27232",
            "< 350 restarting",
            "> RETR f",
            "< 150 go + 226 done",
            "progress 43616",
            "progress 60000",
            "pump in 40000 from 60000",
            // The size given before the transfer verifies it.
            "close",
            "rename f.part to f",
        ]
    );
}

#[test]
fn an_upload_goes_to_a_temporary_name_then_is_renamed_verified_and_dated() {
    let mut core = core();
    let mut wire = Wire::new(&[
        ("TYPE I", "200 binary"),
        ("SIZE up.bin.part", "550 no such file"),
        ("EPSV", "229 ok (|||4242|)"),
        ("STOR up.bin.part", "150 go\r\n226 stored"),
        ("SIZE up.bin.part", "213 70000"),
        ("FEAT", "211-Features:\r\n MFMT\r\n211 End"),
        ("RNFR up.bin.part", "350 ready"),
        ("RNTO up.bin", "250 renamed"),
        (
            "MFMT 20231114221320 up.bin",
            "213 Modify=20231114221320; up.bin",
        ),
    ]);
    wire.file = remote_file(70_000);
    let options = TransferOptions {
        temp_name: true,
        ..TransferOptions::default()
    };
    let report = wire
        .run(core.op(|c| files::upload(c, PathBuf::from("up.bin"), b"up.bin".to_vec(), options)))
        .unwrap();
    assert_eq!(wire.uploaded, wire.file);
    assert_eq!(report.verified.size, Some(70_000));
    assert!(report.mtime_preserved);
    assert_eq!(
        wire.log,
        [
            "open up.bin",
            // Only a temporary name of ours is ever resumed: asked first.
            "> TYPE I",
            "< 200 binary",
            "> SIZE up.bin.part",
            "< 550 no such file",
            "seek to 0",
            "> EPSV",
            "< 229 ok (|||4242|)",
            "data to 192.0.2.1:4242",
            "> STOR up.bin.part",
            "< 150 go + 226 stored",
            "pump out 70000 from 0",
            "finish upload",
            // SIZE and FEAT (the checksum a verification would use) in
            // one batch.
            "> SIZE up.bin.part + FEAT",
            "< 213 70000 + 211-Features: +  MFMT + 211 End",
            "close",
            "> RNFR up.bin.part",
            "< 350 ready",
            "> RNTO up.bin",
            "< 250 renamed",
            "> MFMT 20231114221320 up.bin",
            "< 213 Modify=20231114221320; up.bin",
        ]
    );
}

#[test]
fn an_upload_cut_mid_way_resumes_with_appe_after_comparing_what_the_server_holds() {
    let mut core = core();
    core.jitter = Jitter::seeded(3);
    let wait = Jitter::seeded(3).spread(Duration::from_secs(1));
    let local = remote_file(100_000);
    let mut wire = Wire::new(&[
        ("TYPE I", "200 binary"),
        ("EPSV", "229 ok (|||4242|)"),
        ("STOR up.bin", "150 go"),
        ("ABOR", "426 aborted"),
        ("NOOP", "200 ok"),
        ("SIZE up.bin", "213 60000"),
        ("EPSV", "229 ok (|||4243|)"),
        ("REST 27232", "350 restarting"),
        ("RETR up.bin", "150 go\r\n226 sent"),
        ("EPSV", "229 ok (|||4244|)"),
        ("APPE up.bin", "150 go\r\n226 appended"),
        ("SIZE up.bin", "213 100000"),
    ]);
    wire.file = local.clone();
    wire.fail_after = Some(60_000);
    // The server sends back the 32 KiB before the resume point.
    wire.downloads.push_back(local[27_232..60_000].to_vec());
    let options = TransferOptions {
        verify: Verify::SizeOnly,
        preserve_mtime: false,
        ..TransferOptions::default()
    };
    let report = wire
        .run(core.op(|c| files::upload(c, PathBuf::from("up.bin"), b"up.bin".to_vec(), options)))
        .unwrap();
    assert_eq!(wire.uploaded, local);
    assert_eq!(report.retries, 1);
    assert_eq!(wire.now - wire.t0, wait);
    let sleep = format!("sleep until t0+{wait:?}");
    assert_eq!(
        wire.log,
        [
            "open up.bin",
            "seek to 0",
            "> TYPE I + EPSV",
            "< 200 binary + 229 ok (|||4242|)",
            "data to 192.0.2.1:4242",
            "> STOR up.bin",
            "< 150 go",
            "pump out 60000 from 0",
            "pump out fails at 60000",
            // An upload's data connection ends with a reset: a partial
            // file must not look complete.
            "> ABOR",
            "close data (reset)",
            "< 426 aborted",
            "> NOOP",
            "< 200 ok",
            "< (silence)",
            sleep.as_str(),
            "> SIZE up.bin",
            "< 213 60000",
            "read 32768 at 27232",
            "> EPSV",
            "< 229 ok (|||4243|)",
            "data to 192.0.2.1:4243",
            "> REST 27232",
            "< 350 restarting",
            "> RETR up.bin",
            "< 150 go + 226 sent",
            "seek to 60000",
            "> EPSV",
            "< 229 ok (|||4244|)",
            "data to 192.0.2.1:4244",
            "> APPE up.bin",
            "< 150 go + 226 appended",
            "pump out 40000 from 60000",
            "finish upload",
            "> SIZE up.bin",
            "< 213 100000",
            "close",
        ]
    );
}

#[test]
fn a_peer_address_is_where_every_passive_connection_goes() {
    // The 227 address of a PASV reply is the peer's, not the one sent.
    let mut core = core();
    core.config.use_epsv = false;
    core.session =
        crate::proto::Session::new(PEER.parse().unwrap(), DataMode::Passive, false, false);
    let mut wire = Wire::new(&[
        ("TYPE I", "200 binary"),
        ("PASV", "227 Entering Passive Mode (10,0,0,7,16,146)"),
        ("RETR f", "150 go"),
    ]);
    wire.run(core.op(|c| data::open_data(c, super::retr_request(None))))
        .unwrap();
    let peer: SocketAddr = PEER.parse().unwrap();
    assert!(
        wire.log.contains(&format!("data to {}:4242", peer.ip())),
        "{:#?}",
        wire.log
    );
}
