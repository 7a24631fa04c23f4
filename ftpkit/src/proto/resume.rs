//! The decisions behind a file transfer that survives failures: when to try
//! again and how long to wait, where to resume, how to prove that the bytes
//! already there belong to the same file, how fast to go, and what was
//! verified. No I/O and no clock: drivers pass the time in.
//!
//! Both drivers' `download` and `upload` follow the same plan:
//!
//! 1. Record the remote file's size and modification time ([`RemoteStat`]).
//! 2. Resume from the bytes already at the destination, re-reading an
//!    [`OVERLAP`] of up to 32 KiB before that point and comparing it with
//!    what is already there ([`Overlap`]); a difference means the bytes do
//!    not belong to this file, and the transfer starts over from byte 0.
//! 3. On a failure that [`Attempts`] finds worth retrying, wait, reconnect
//!    if the connection was lost, check the remote file did not change
//!    (if it did, start over), and resume again.
//! 4. At the end, compare sizes and, where the server offers one, a
//!    content hash ([`crate::proto::hash`]).

use std::time::{Duration, Instant, SystemTime};

pub use crate::error::VerifyError;
use crate::{Error, proto::hash::HashAlgorithm};

/// How many bytes before the resume point are fetched again and compared
/// with what is already there.
pub const OVERLAP: u64 = 32 * 1024;

/// How often and how patiently to retry a failed transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0: fail at the first error).
    pub retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub initial_delay: Duration,
    /// Upper bound of the wait.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Three retries, waiting 1 s, 2 s, then 4 s (at most 30 s).
    fn default() -> RetryPolicy {
        RetryPolicy {
            retries: 3,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// The wait before retry number `retry` (1-based): exponential backoff,
    /// capped at `max_delay`.
    pub fn delay(&self, retry: u32) -> Duration {
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.initial_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

/// Whether an error is worth another attempt: a 4xx reply (421, 425, 426,
/// 450, 451 ...), a timeout, a reset or closed connection, a short
/// transfer. Never a 5xx reply, a refused login with a 5xx code (530),
/// a TLS or certificate failure, a protocol violation, bad input, a local
/// file error or a failed verification.
pub fn is_retryable(error: &Error) -> bool {
    match error {
        Error::LoginRefused(reply) => reply.code().is_transient(),
        Error::Tls { .. } | Error::Certificate { .. } => false,
        other => other.is_transient(),
    }
}

/// Counts the failures of one transfer against its [`RetryPolicy`].
#[derive(Clone, Debug)]
pub struct Attempts {
    policy: RetryPolicy,
    retries: u32,
}

impl Attempts {
    /// A fresh count.
    pub fn new(policy: RetryPolicy) -> Attempts {
        Attempts { policy, retries: 0 }
    }

    /// After a failure: `Some(wait)` to try again after `wait`, or `None`
    /// to give up (the error is not retryable or the retries are spent).
    pub fn on_error(&mut self, error: &Error) -> Option<Duration> {
        if !is_retryable(error) || self.retries >= self.policy.retries {
            return None;
        }
        self.retries += 1;
        Some(self.policy.delay(self.retries))
    }

    /// The policy counted against.
    pub fn policy(&self) -> RetryPolicy {
        self.policy
    }

    /// Retries used so far.
    pub fn retries(&self) -> u32 {
        self.retries
    }
}

/// What is known of a remote file, to tell whether it changed between two
/// attempts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RemoteStat {
    /// `SIZE`, if the server answered it.
    pub size: Option<u64>,
    /// `MDTM`, if the server answered it.
    pub modified: Option<SystemTime>,
}

impl RemoteStat {
    /// Whether the file is known to differ from `before`: a size or time
    /// that was known then and is different or unknown now.
    pub fn changed_since(&self, before: &RemoteStat) -> bool {
        fn differs<T: PartialEq>(before: Option<T>, now: Option<T>) -> bool {
            before.is_some() && before != now
        }
        differs(before.size, self.size) || differs(before.modified, self.modified)
    }
}

/// What a download asks of its file before the transfer: `SIZE` (unless
/// the server's `150` will tell it) and `MDTM` (when the time is kept or
/// a resume must tell a changed file).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Asks {
    /// `SIZE` is asked.
    pub(crate) size: bool,
    /// `MDTM` is asked.
    pub(crate) mdtm: bool,
}

impl Asks {
    /// What an attempt to download a file asks, `mdtm` or not: `SIZE`
    /// unless the server's `150` states the size (`announces_size`), the
    /// attempt is the call's first (`fresh`: from byte 0) and no `MDTM`
    /// is asked. An attempt that may resume asks, to know the file before
    /// it starts.
    pub(crate) fn download(announces_size: bool, mdtm: bool, fresh: bool) -> Asks {
        Asks {
            size: mdtm || !fresh || !announces_size,
            mdtm,
        }
    }

    /// Whether what these asked tells at least what `wanted` asks: the
    /// same `MDTM`, and `SIZE` if `wanted` asks it (a size asked before
    /// the server was seen to announce sizes still serves).
    pub(crate) fn covers(self, wanted: Asks) -> bool {
        self.mdtm == wanted.mdtm && (self.size || !wanted.size)
    }
}

/// Where to restart a transfer, given what the destination already holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResumePlan {
    /// The offset to send with `REST` (0: from the start).
    pub rest: u64,
    /// How many of the bytes from `rest` on are already at the destination
    /// and must be compared, not written.
    pub overlap: u64,
}

impl ResumePlan {
    /// From the start.
    pub const FROM_START: ResumePlan = ResumePlan {
        rest: 0,
        overlap: 0,
    };

    /// The plan for a destination holding `have` bytes of a source of
    /// `source_size` bytes (if known): resume [`OVERLAP`] bytes before the
    /// end of what is there; start over when there is nothing, or more than
    /// the source holds.
    pub fn new(have: u64, source_size: Option<u64>) -> ResumePlan {
        if have == 0 || source_size.is_some_and(|size| have > size) {
            return ResumePlan::FROM_START;
        }
        let overlap = have.min(OVERLAP);
        ResumePlan {
            rest: have - overlap,
            overlap,
        }
    }

    /// The first byte that is new to the destination.
    pub fn resume_point(&self) -> u64 {
        self.rest + self.overlap
    }
}

/// The bytes at the destination just before the resume point, compared
/// with the same bytes fetched again from the source.
#[derive(Clone, Debug)]
pub struct Overlap {
    expected: Vec<u8>,
    matched: usize,
}

/// The re-fetched bytes differ from those at the destination: they do not
/// belong to the same file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OverlapMismatch;

impl Overlap {
    /// Expects `tail`, the destination's bytes from the plan's `rest` on.
    pub fn new(tail: Vec<u8>) -> Overlap {
        Overlap {
            expected: tail,
            matched: 0,
        }
    }

    /// Compares the start of `chunk` with the expected bytes not matched
    /// yet, and returns the rest of `chunk`: the bytes that are new.
    pub fn feed<'a>(&mut self, chunk: &'a [u8]) -> Result<&'a [u8], OverlapMismatch> {
        let pending = self.expected.get(self.matched..).unwrap_or_default();
        let n = pending.len().min(chunk.len());
        let (head, rest) = chunk.split_at(n);
        if pending.get(..n) != Some(head) {
            return Err(OverlapMismatch);
        }
        self.matched += n;
        Ok(rest)
    }

    /// Whether every expected byte has been matched.
    pub fn is_complete(&self) -> bool {
        self.matched == self.expected.len()
    }
}

/// A bandwidth cap: how long to pause so that the average rate since the
/// start stays under the limit.
#[derive(Clone, Debug)]
pub struct Throttle {
    bytes_per_second: u64,
    start: Option<Instant>,
    moved: u64,
}

impl Throttle {
    /// A cap of `bytes_per_second` (at least 1).
    pub fn new(bytes_per_second: u64) -> Throttle {
        Throttle {
            bytes_per_second: bytes_per_second.max(1),
            start: None,
            moved: 0,
        }
    }

    /// Records `bytes` moved at `now` and returns how long to pause before
    /// moving more.
    pub fn on_bytes(&mut self, now: Instant, bytes: u64) -> Duration {
        let start = *self.start.get_or_insert(now);
        self.moved = self.moved.saturating_add(bytes);
        let due = Duration::from_secs_f64(self.moved as f64 / self.bytes_per_second as f64);
        due.saturating_sub(now.saturating_duration_since(start))
    }

    /// A chunk size that keeps pauses short: a tenth of a second's worth,
    /// between 1 KiB and `max`.
    pub fn chunk_size(&self, max: usize) -> usize {
        usize::try_from(self.bytes_per_second / 10)
            .unwrap_or(max)
            .clamp(1024, max.max(1024))
    }
}

/// How a transfer checks its result.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Verify {
    /// Sizes always, and a content hash when the server offers one.
    #[default]
    Auto,
    /// Sizes only.
    SizeOnly,
    /// Nothing: trust the server's 226.
    Off,
}

/// What a finished transfer verified.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Verified {
    /// The size both sides agree on, if the server reported one.
    pub size: Option<u64>,
    /// The content hash compared, if the server offered one.
    pub hash: Option<HashAlgorithm>,
}

impl Verified {
    /// A one-line description: `size 1048576, SHA-256`, `size 12`, or
    /// `not verified`.
    pub fn describe(&self) -> String {
        match (self.size, self.hash) {
            (Some(size), Some(hash)) => format!("size {size} and {hash} verified"),
            (None, Some(hash)) => format!("{hash} verified"),
            (Some(size), None) => format!("size {size} verified (no hash offered)"),
            (None, None) => "not verified (no SIZE or hash offered)".into(),
        }
    }
}

/// The outcome of a download or upload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransferReport {
    /// The file's size, in bytes.
    pub size: u64,
    /// Bytes moved over the network in this call, retries included.
    pub transferred: u64,
    /// Bytes that were already at the destination when the call began and
    /// were kept.
    pub resumed_from: u64,
    /// Retries that were needed.
    pub retries: u32,
    /// Times the transfer had to start over from byte 0 (remote file
    /// changed, or bytes at the destination that did not match).
    pub restarts: u32,
    /// What was verified.
    pub verified: Verified,
    /// Whether the modification time was copied to the destination.
    pub mtime_preserved: bool,
    /// Download with `followed_by`: whether the next file's commands went
    /// out behind this file's `RETR` and were answered after its transfer,
    /// ready for the next download (`false` when pipelining is off, in
    /// active mode, or once a server answered them during a transfer).
    pub overlapped: bool,
}

/// Options shared by `download` and `upload`.
#[derive(Clone, Debug)]
pub struct TransferOptions {
    /// Resume from the bytes already at the destination (default on).
    pub resume: bool,
    /// Retries and backoff.
    pub retry: RetryPolicy,
    /// How to check the result.
    pub verify: Verify,
    /// Copy the modification time to the destination (default on; an
    /// upload needs `MFMT`).
    pub preserve_mtime: bool,
    /// Bandwidth cap in bytes per second.
    pub limit_rate: Option<u64>,
    /// Upload to `NAME.part` and rename when complete and verified (default
    /// off). A download always goes to `NAME.part` first.
    pub temp_name: bool,
    /// Upload: also resume a file already on the server under the target
    /// name, after comparing an overlap (`put -c`); default off, so a
    /// file already there is replaced.
    pub resume_existing: bool,
    /// Download: flush the file to disk (fsync) before giving it its final
    /// name, so a power loss cannot leave a short file under that name.
    pub sync: bool,
    /// Download: split the file into this many ranges, each fetched over
    /// its own connection (`REST` to its start, written in place), when
    /// the server tells the size and the file is big enough (default 1:
    /// one connection). See the download builder's `segments`.
    pub segments: u16,
}

impl Default for TransferOptions {
    fn default() -> TransferOptions {
        TransferOptions {
            resume: true,
            retry: RetryPolicy::default(),
            verify: Verify::Auto,
            preserve_mtime: true,
            limit_rate: None,
            temp_name: false,
            resume_existing: false,
            sync: false,
            segments: 1,
        }
    }
}

/// How a transfer attempt that did not fail ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// Complete and verified.
    Done,
    /// Must start over from byte 0 (the remote file changed, or the bytes
    /// already at the destination are not its bytes).
    Restart,
}

/// The local file a download writes to before it is verified:
/// `PATH.part`.
pub fn part_path(path: &std::path::Path) -> std::path::PathBuf {
    let mut name = std::ffi::OsString::from(path.as_os_str());
    name.push(".part");
    std::path::PathBuf::from(name)
}

/// The temporary name a transfer writes to: `NAME.part`.
pub fn part_name(name: &[u8]) -> Vec<u8> {
    let mut part = name.to_vec();
    part.extend_from_slice(b".part");
    part
}

/// `Ok(None)` for a command the server does not implement (500, 502, 504)
/// or answers with something unparsable: the information is optional.
pub fn optional<T>(result: Result<T, Error>) -> Result<Option<T>, Error> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(Error::Reply { reply, .. }) if not_implemented(reply.code()) => Ok(None),
        Err(Error::Protocol(crate::ProtocolError::UnparsableReply { .. })) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `Ok(None)` for any 5xx reply or an unparsable answer: some servers
/// refuse `SIZE` for files they would send, so a missing file is left for
/// the transfer itself to report.
pub fn unless_refused<T>(result: Result<T, Error>) -> Result<Option<T>, Error> {
    match result {
        Err(Error::Reply { reply, .. }) if reply.code().is_permanent() => Ok(None),
        other => optional(other),
    }
}

/// 500, 502 or 504: the server does not implement the command.
fn not_implemented(code: crate::ReplyCode) -> bool {
    matches!(code.0, 500 | 502 | 504)
}

/// Whether a failed `APPE` means the server lacks it, so the upload
/// resumes with `REST` + `STOR` instead.
pub fn appe_unsupported(error: &Error) -> bool {
    matches!(error, Error::Reply { reply, .. } if not_implemented(reply.code()))
}

/// Whether a refused `RNTO` of a finished temporary upload should delete
/// the file under the final name and rename again (a server that will not
/// rename over an existing file).
pub fn rename_over_refused(error: &Error) -> bool {
    matches!(error, Error::Reply { reply, .. } if reply.code().is_permanent())
}

/// Whether a reply refuses the data connection rather than the request:
/// `425` (can't open data connection) and `426` (connection closed,
/// transfer aborted). RFC 959 makes both transient (4xx), and each attempt
/// opens a fresh data connection, so the same reply twice is not the same
/// state twice.
pub fn data_connection_refused(reply: &crate::Reply) -> bool {
    matches!(reply.code().0, 425 | 426)
}

/// Whether the error leaves the control connection in doubt even if the
/// client did not mark it unusable (a timeout on the data connection with
/// the server possibly still sending, a short transfer).
pub fn reconnect_needed(error: &Error) -> bool {
    error.is_timeout() || matches!(error, Error::Incomplete { .. })
}

/// Whether a transfer's final reply was lost rather than refused: the
/// control connection went silent (the idle timeout or the reply deadline),
/// was closed or failed. When every byte had moved, the transfer is
/// confirmed (SIZE, a hash) on a new connection instead of being done again.
pub fn final_reply_lost(error: &Error) -> bool {
    match error {
        Error::ConnectionClosed(crate::Phase::Control)
        | Error::Io {
            phase: crate::Phase::Control,
            ..
        } => true,
        Error::Deadline { deadline, .. } => *deadline == crate::Deadline::Reply,
        _ => false,
    }
}

/// Whether an upload may resume what the server already holds under its
/// target name: only ours is ever resumed (the temporary name, a file the
/// caller said to resume, or an earlier attempt of this call).
pub fn upload_may_resume(options: &TransferOptions, from_start: bool, first: bool) -> bool {
    !from_start && options.resume && (options.temp_name || options.resume_existing || !first)
}

/// The size check of [`verify`](TransferRun): both sides must agree when
/// the server reports a size.
pub fn check_size(remote: Option<u64>, local: u64) -> Result<Option<u64>, VerifyError> {
    match remote {
        Some(size) if size != local => Err(VerifyError::Size {
            remote: size,
            local,
        }),
        other => Ok(other),
    }
}

/// The content hash check: the server's digest must equal the local one.
pub fn check_hash(
    algorithm: HashAlgorithm,
    remote: &[u8],
    local: &[u8],
) -> Result<(), VerifyError> {
    if remote == local {
        Ok(())
    } else {
        Err(VerifyError::Hash {
            algorithm,
            remote: crate::proto::hash::to_hex(remote),
            local: crate::proto::hash::to_hex(local),
        })
    }
}

/// What to do after a failed attempt that is worth retrying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// Wait this long first.
    pub wait: Duration,
    /// Open a new connection (and log in, and return to the directory)
    /// even if the client still looks usable.
    pub reconnect: bool,
}

/// The bookkeeping of one `download` or `upload` call: failures counted
/// against the policy, the remote file's first stat, whether the next
/// attempt starts over, the rate limit and the report. Both drivers run a
/// call through one of these; they only wait, reconnect and move bytes.
#[derive(Clone, Debug)]
pub struct TransferRun {
    attempts: Attempts,
    /// What the call reports.
    pub report: TransferReport,
    baseline: Option<RemoteStat>,
    from_start: bool,
    throttle: Option<Throttle>,
    known: Option<RemoteStat>,
    /// The last refusal retried, and the bytes moved when it came.
    last_refusal: Option<(String, u64)>,
}

impl TransferRun {
    /// A call with these options.
    pub fn new(options: &TransferOptions) -> TransferRun {
        TransferRun {
            attempts: Attempts::new(options.retry),
            report: TransferReport::default(),
            baseline: None,
            from_start: !options.resume,
            throttle: options.limit_rate.map(Throttle::new),
            known: None,
            last_refusal: None,
        }
    }

    /// The remote file's stat as a listing showed it, for the first attempt.
    pub fn set_known(&mut self, known: Option<RemoteStat>) {
        self.known = known;
    }

    /// The stat given by [`TransferRun::set_known`], once.
    pub fn take_known(&mut self) -> Option<RemoteStat> {
        self.known.take()
    }

    /// After a failed attempt: gives up with the error, or says how long to
    /// wait and whether to reconnect.
    #[cfg(test)]
    pub fn on_error(&mut self, error: Error) -> Result<Retry, Error> {
        self.retry_after(&error).ok_or(error)
    }

    /// Counts a retry that goes on at once, with no wait (the failure was
    /// the client's own doing): `false` if the error is not retryable or
    /// the retries are spent.
    pub fn retry_at_once(&mut self, error: &Error) -> bool {
        let counted = self.attempts.on_error(error).is_some();
        if counted {
            self.report.retries = self.attempts.retries();
        }
        counted
    }

    /// After a failed attempt: how long to wait and whether to reconnect,
    /// or `None` to give up. A refusal is not retried again when the same
    /// reply (code and text) came back to a retry with nothing moved in
    /// between: the state did not change, so neither would the outcome.
    /// A refusal of the data connection (see [`data_connection_refused`])
    /// is the exception: each attempt opens a new one, so the state did
    /// change; such refusals are retried as any failure, within the
    /// policy's count of retries and the operation deadline, which end a
    /// loop that makes no progress.
    pub fn retry_after(&mut self, error: &Error) -> Option<Retry> {
        let reply = error.reply();
        let refusal = reply.map(|reply| (reply.to_string(), self.report.transferred));
        // A data connection refused is neither compared nor remembered:
        // the refusal before it still counts as the last one.
        if !reply.is_some_and(data_connection_refused) {
            if refusal.is_some() && refusal == self.last_refusal {
                tracing::warn!(
                    target: "ftpkit::transfer",
                    error = %error,
                    "the same reply again with nothing changed; not retrying"
                );
                return None;
            }
            self.last_refusal = refusal;
        }
        let wait = self.attempts.on_error(error)?;
        self.report.retries = self.attempts.retries();
        tracing::warn!(
            target: "ftpkit::transfer",
            error = %error,
            retry = self.report.retries,
            wait_ms = wait.as_millis() as u64,
            "transfer failed; retrying"
        );
        Some(Retry {
            wait,
            reconnect: reconnect_needed(error),
        })
    }

    /// Fills in the first stat's size where it had none: the size a `150`
    /// stated when no `SIZE` was asked, so that a later attempt still
    /// tells a file that changed.
    pub fn note_size(&mut self, size: u64) {
        if let Some(baseline) = self.baseline.as_mut() {
            baseline.size.get_or_insert(size);
        }
    }

    /// Compares `now` with the first stat of the call; a change means
    /// starting over (and `false`).
    pub fn check_unchanged(&mut self, now: RemoteStat) -> bool {
        match self.baseline {
            None => {
                self.baseline = Some(now);
                true
            }
            Some(before) if now.changed_since(&before) => {
                tracing::warn!(target: "ftpkit::transfer", "the remote file changed; starting over");
                self.baseline = Some(now);
                self.restart();
                false
            }
            Some(_) => true,
        }
    }

    /// A file that keeps changing is given up after as many restarts as
    /// retries, plus one.
    pub fn check_restarts(&self) -> Result<(), Error> {
        if self.report.restarts > self.attempts.policy().retries + 1 {
            return Err(VerifyError::RemoteChanged.into());
        }
        Ok(())
    }

    /// The next attempt starts from byte 0.
    pub fn restart(&mut self) {
        self.from_start = true;
        self.report.restarts += 1;
    }

    /// Whether this attempt must start from byte 0; clears the mark.
    pub fn take_from_start(&mut self) -> bool {
        std::mem::take(&mut self.from_start)
    }

    /// How long to pause after moving `bytes` at `now` (the rate limit).
    pub fn pause(&mut self, now: Instant, bytes: usize) -> Duration {
        match self.throttle.as_mut() {
            Some(throttle) => throttle.on_bytes(now, bytes as u64),
            None => Duration::ZERO,
        }
    }

    /// Whether a rate limit is in force.
    pub fn is_paced(&self) -> bool {
        self.throttle.is_some()
    }

    /// The block size to move at a time: the configured one, or smaller
    /// under a rate limit so pauses stay short.
    pub fn block_size(&self, configured: usize) -> usize {
        self.throttle
            .as_ref()
            .map_or(configured, |t| t.chunk_size(configured))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Reply, ReplyCode};
    use std::io;

    fn reply_error(code: u16) -> Error {
        Error::Reply {
            command: "RETR f".into(),
            reply: Reply::new(ReplyCode(code), vec![format!("{code} x").into_bytes()]),
        }
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RetryPolicy {
            retries: 10,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
        };
        let waits: Vec<u128> = (1..=5).map(|r| p.delay(r).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 500, 500]);
        assert_eq!(p.delay(100), Duration::from_millis(500));
    }

    #[test]
    fn classifies_errors() {
        assert!(is_retryable(&reply_error(421)));
        assert!(is_retryable(&reply_error(426)));
        assert!(is_retryable(&reply_error(451)));
        assert!(!is_retryable(&reply_error(550)));
        assert!(!is_retryable(&reply_error(500)));
        let login =
            |code: u16| Error::LoginRefused(Reply::new(ReplyCode(code), vec![b"no".to_vec()]));
        assert!(!is_retryable(&login(530)));
        assert!(is_retryable(&login(421)));
        let reset = Error::Io {
            phase: crate::Phase::Data,
            source: io::Error::from(io::ErrorKind::ConnectionReset),
        };
        assert!(is_retryable(&reset));
        let local = Error::Io {
            phase: crate::Phase::Local,
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        assert!(!is_retryable(&local));
        assert!(is_retryable(&Error::Unusable));
    }

    #[test]
    fn attempts_stop_after_the_policy() {
        let mut a = Attempts::new(RetryPolicy {
            retries: 2,
            ..RetryPolicy::default()
        });
        assert_eq!(a.on_error(&reply_error(426)), Some(Duration::from_secs(1)));
        assert_eq!(a.on_error(&reply_error(550)), None);
        assert_eq!(a.on_error(&reply_error(426)), Some(Duration::from_secs(2)));
        assert_eq!(a.on_error(&reply_error(426)), None);
        assert_eq!(a.retries(), 2);
    }

    #[test]
    fn remote_changes_are_seen() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(10);
        let before = RemoteStat {
            size: Some(10),
            modified: Some(t),
        };
        assert!(!before.changed_since(&before));
        assert!(
            RemoteStat {
                size: Some(11),
                ..before
            }
            .changed_since(&before)
        );
        assert!(
            RemoteStat {
                modified: None,
                ..before
            }
            .changed_since(&before)
        );
        // Nothing known before: nothing to compare.
        assert!(!before.changed_since(&RemoteStat::default()));
    }

    #[test]
    fn plans_resume_with_overlap() {
        assert_eq!(ResumePlan::new(0, Some(100)), ResumePlan::FROM_START);
        assert_eq!(ResumePlan::new(200, Some(100)), ResumePlan::FROM_START);
        assert_eq!(
            ResumePlan::new(100, Some(1 << 20)),
            ResumePlan {
                rest: 0,
                overlap: 100
            }
        );
        let big = 5_000_000_000;
        let plan = ResumePlan::new(big, None);
        assert_eq!(plan.rest, big - OVERLAP);
        assert_eq!(plan.resume_point(), big);
    }

    #[test]
    fn overlap_matches_across_chunks() {
        let mut o = Overlap::new(b"abcdef".to_vec());
        assert_eq!(o.feed(b"ab").unwrap(), b"");
        assert!(!o.is_complete());
        assert_eq!(o.feed(b"cdefXYZ").unwrap(), b"XYZ");
        assert!(o.is_complete());
        assert_eq!(o.feed(b"more").unwrap(), b"more");
        let mut o = Overlap::new(b"abc".to_vec());
        assert_eq!(o.feed(b"abX"), Err(OverlapMismatch));
    }

    #[test]
    fn throttle_paces_to_the_rate() {
        let start = Instant::now();
        let mut t = Throttle::new(1000);
        assert_eq!(t.on_bytes(start, 500), Duration::from_millis(500));
        // One second later, 1000 bytes are due: no pause.
        let later = start + Duration::from_secs(1);
        assert_eq!(t.on_bytes(later, 500), Duration::ZERO);
        assert_eq!(Throttle::new(1 << 30).chunk_size(256 * 1024), 256 * 1024);
        assert_eq!(Throttle::new(100).chunk_size(256 * 1024), 1024);
    }

    #[test]
    fn a_refused_data_connection_is_retried_within_the_policy_however_often_it_repeats() {
        let options = TransferOptions {
            retry: RetryPolicy {
                retries: 4,
                ..RetryPolicy::default()
            },
            ..TransferOptions::default()
        };
        for code in [425, 426] {
            let mut run = TransferRun::new(&options);
            // The same reply each time, nothing moved: a new data
            // connection each attempt, so retried up to the policy...
            for _ in 0..4 {
                assert!(run.retry_after(&reply_error(code)).is_some(), "{code}");
            }
            // ...and no further: the count ends a loop without progress.
            assert!(run.retry_after(&reply_error(code)).is_none(), "{code}");
            assert_eq!(run.report.retries, 4);
        }
        // Any other refusal keeps the rule: the same reply twice ends it.
        let mut run = TransferRun::new(&options);
        assert!(run.retry_after(&reply_error(450)).is_some());
        assert!(run.retry_after(&reply_error(450)).is_none());
        // A 425 between two identical 450s does not hide the repeat.
        let mut run = TransferRun::new(&options);
        assert!(run.retry_after(&reply_error(450)).is_some());
        assert!(run.retry_after(&reply_error(425)).is_some());
        assert!(run.retry_after(&reply_error(450)).is_none());
    }

    #[test]
    fn the_same_refusal_with_nothing_moved_is_not_retried_again() {
        let options = TransferOptions {
            retry: RetryPolicy {
                retries: 10,
                ..RetryPolicy::default()
            },
            ..TransferOptions::default()
        };
        let mut run = TransferRun::new(&options);
        // A first 450, then a different reply: both retried, backing off.
        assert_eq!(
            run.retry_after(&reply_error(450)).unwrap().wait,
            Duration::from_secs(1)
        );
        assert_eq!(
            run.retry_after(&reply_error(451)).unwrap().wait,
            Duration::from_secs(2)
        );
        // The same 451 again with no byte moved: the outcome cannot change.
        assert!(run.retry_after(&reply_error(451)).is_none());
        // Bytes moved since: the state changed, the same reply is retried.
        let mut run = TransferRun::new(&options);
        assert!(run.retry_after(&reply_error(451)).is_some());
        run.report.transferred = 100;
        assert!(run.retry_after(&reply_error(451)).is_some());
        // A timeout carries no reply: retried up to the policy.
        let timeout = Error::Io {
            phase: crate::Phase::Data,
            source: io::Error::new(io::ErrorKind::TimedOut, "t"),
        };
        assert!(run.retry_after(&timeout).is_some());
        assert!(run.retry_after(&timeout).is_some());
        // A lost final reply is told from a refusal.
        assert!(final_reply_lost(&Error::ConnectionClosed(
            crate::Phase::Control
        )));
        assert!(!final_reply_lost(&reply_error(451)));
        assert!(!final_reply_lost(&Error::Deadline {
            deadline: crate::Deadline::Operation,
            phase: crate::Phase::Control,
            last: None,
        }));
    }

    #[test]
    fn a_run_counts_retries_restarts_and_changes() {
        let options = TransferOptions {
            retry: RetryPolicy {
                retries: 1,
                ..RetryPolicy::default()
            },
            ..TransferOptions::default()
        };
        let mut run = TransferRun::new(&options);
        assert!(!run.take_from_start());
        let retry = run.on_error(reply_error(426)).unwrap();
        assert_eq!(retry.wait, Duration::from_secs(1));
        assert!(!retry.reconnect);
        assert!(run.on_error(reply_error(426)).is_err());
        let stat = RemoteStat {
            size: Some(5),
            modified: None,
        };
        assert!(run.check_unchanged(stat));
        assert!(!run.check_unchanged(RemoteStat {
            size: Some(6),
            ..stat
        }));
        assert!(run.take_from_start());
        assert_eq!(run.report.restarts, 1);
        assert!(run.check_restarts().is_ok());
        assert!(upload_may_resume(&options, false, false));
        assert!(!upload_may_resume(&options, false, true));
        assert!(appe_unsupported(&reply_error(502)));
        assert!(optional::<u64>(Err(reply_error(502))).unwrap().is_none());
        assert!(
            unless_refused::<u64>(Err(reply_error(550)))
                .unwrap()
                .is_none()
        );
        assert!(unless_refused::<u64>(Err(reply_error(450))).is_err());
        assert_eq!(check_size(Some(3), 3), Ok(Some(3)));
        assert!(check_size(Some(3), 4).is_err());
        assert!(check_hash(HashAlgorithm::Sha256, b"a", b"b").is_err());
    }

    #[test]
    fn describes_verification() {
        let v = Verified {
            size: Some(5),
            hash: Some(HashAlgorithm::Sha256),
        };
        assert_eq!(v.describe(), "size 5 and SHA-256 verified");
        assert!(Verified::default().describe().starts_with("not verified"));
        assert_eq!(part_name(b"a.txt"), b"a.txt.part");
        assert_eq!(
            part_path(std::path::Path::new("d/a.txt")),
            std::path::Path::new("d/a.txt.part")
        );
    }
}
