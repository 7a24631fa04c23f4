//! Segmented download: one big file over several connections at once.
//!
//! The plan, in three operations a driver runs in order:
//!
//! 1. [`prepare`], on the client's own connection: `SIZE` and `MDTM`
//!    (pipelined with `TYPE I` and the passive command of its first
//!    range, whose reply that range then uses), then
//!    either a record of an earlier run to resume (`LOCAL.part.segments`,
//!    for the same size and time, next to a `.part` of full length) or a
//!    fresh `.part` created at full length as one range, the whole file.
//!    Files the server gives no size for, or too small to split, are left
//!    to the one-connection plan ([`Prepared::Single`]).
//! 2. [`worker`], once per connection at the same time: the client's own
//!    connection, which starts at once, and the others as each is ready:
//!    opened beforehand, still logging in when the download starts (each
//!    joins once logged in), or opened by the worker with the same
//!    settings and login ([`sibling`]). Each takes ranges that no one
//!    holds yet (the client's own from the end, the others from the
//!    start), or else the far part of the range with the most left (see
//!    below): on a fresh file the client's connection starts with the
//!    whole of it, and each other one splits off its part when it comes,
//!    so that a connection that logs in late has a smaller part instead
//!    of the others waiting for it. Each range is fetched with
//!    `REST` to where the range stands and `RETR` (on a new connection
//!    `REST` goes out with its `TYPE` and `EPSV`), writes the data in
//!    place with positional writes, stops at the range's end (`ABOR`,
//!    leaving the connection usable, or reconnecting if the abort failed)
//!    and records its progress in the sidecar every [`SAVE_EVERY`] bytes.
//!    A connection with no range left to take splits the range with the
//!    most bytes left and takes its far part, so that the connections end
//!    together however late each started or slowly it runs; one with
//!    nothing left to split hangs up (`ABOR`, or `QUIT` after the range
//!    that ends with the file, then closed without waiting for the
//!    replies). The client's own connection, which stays, ends a range
//!    cut short with `ABOR` and `NOOP`, two round trips: it keeps the
//!    range that ends with the file until it begins fetching (a split
//!    before then gives the other connection the near half). How small a
//!    range is still worth splitting follows
//!    what the connections measured: the bytes a second one connection
//!    moves and the time from asking for a range to its first byte. What is
//!    left must take four times longer than starting a range (and each
//!    part hold [`MIN_STEAL`] or more), and the split leaves the range's
//!    own connection the bytes it moves while the other one starts, so
//!    that both end together.
//!    A range that fails retries on its connection within the transfer's
//!    retry policy and deadline, from where it stopped. A new connection
//!    the server refuses (a per-address connection limit) is done without:
//!    its ranges go to the connections that are open.
//! 3. [`finish`], on the client's own connection: every range complete,
//!    then `SIZE` (and a content hash where offered) of the whole file,
//!    the modification time, fsync if asked, the rename into place and the
//!    sidecar removed. A size or hash that disagrees removes the sidecar,
//!    so the next run starts over instead of resuming wrong bytes.
//!
//! The sidecar is text: a header, the size and time it was made for, and
//! one `range START END NEXT` line per range (`NEXT`: the first byte not
//! written yet). Each connection replaces it whole (a temporary file of its
//! own, renamed over it), and only after the bytes it records are written,
//! so whatever it holds is never ahead of the file.

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use super::{Action, Core, Event, LocalOp, files, ops};
use crate::{
    error::{Error, Phase, Result},
    proto::{
        Arg,
        resume::{
            Asks, RemoteStat, TransferOptions, TransferReport, TransferRun, Verified, Verify,
            VerifyError, part_path,
        },
        rules,
    },
};

/// The smallest range worth its own connection: a file is split into at
/// most `size / MIN_SEGMENT` ranges, and one smaller than two of them is
/// downloaded over one connection.
pub(crate) const MIN_SEGMENT: u64 = 1 << 20;

/// The smallest part of a range another connection takes over (see
/// [`Job::steal_floor`]).
pub(crate) const MIN_STEAL: u64 = MIN_SEGMENT;

/// A connection's speed is measured over at least this long.
const SPEED_WINDOW: Duration = Duration::from_millis(50);

/// A connection records its ranges' progress after this many bytes.
pub(crate) const SAVE_EVERY: u64 = 8 << 20;

/// The first line of a sidecar.
const HEADER: &str = "ftpkit segments 1";

/// The sidecar of a `.part` file: `LOCAL.part.segments`.
pub(crate) fn sidecar_path(part: &Path) -> PathBuf {
    let mut name = part.as_os_str().to_owned();
    name.push(".segments");
    PathBuf::from(name)
}

/// One range of the file: bytes `start..end`, written up to `next`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Range {
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) next: u64,
}

/// The ranges of one remote file (its size and time, in seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Table {
    pub(crate) size: u64,
    pub(crate) modified: Option<u64>,
    pub(crate) ranges: Vec<Range>,
}

impl Table {
    /// `size` bytes split into `n` ranges (fewer if a range would hold less
    /// than [`MIN_SEGMENT`]); the last takes the remainder.
    pub(crate) fn split(size: u64, modified: Option<u64>, n: u64) -> Table {
        let n = n.clamp(1, (size / MIN_SEGMENT).max(1));
        let step = size / n;
        let ranges = (0..n)
            .map(|i| {
                let start = i * step;
                let end = if i + 1 == n { size } else { start + step };
                Range {
                    start,
                    end,
                    next: start,
                }
            })
            .collect();
        Table {
            size,
            modified,
            ranges,
        }
    }

    /// The sidecar's text.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let modified = self
            .modified
            .map_or_else(|| "-".to_owned(), |t| t.to_string());
        let mut text = format!("{HEADER}\nsize {}\nmodified {modified}\n", self.size);
        let mut ranges = self.ranges.clone();
        ranges.sort_by_key(|r| r.start);
        for r in &ranges {
            text.push_str(&format!("range {} {} {}\n", r.start, r.end, r.next));
        }
        text.into_bytes()
    }

    /// A sidecar read back, or `None` if it is not one this version wrote
    /// whole: ranges that do not cover the file in order, or progress
    /// outside its range, are rejected.
    pub(crate) fn decode(bytes: &[u8]) -> Option<Table> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut lines = text.lines();
        if lines.next()? != HEADER {
            return None;
        }
        let size = lines.next()?.strip_prefix("size ")?.parse().ok()?;
        let modified = match lines.next()?.strip_prefix("modified ")? {
            "-" => None,
            t => Some(t.parse().ok()?),
        };
        let mut ranges = Vec::new();
        for line in lines {
            let mut fields = line.strip_prefix("range ")?.split(' ');
            let mut number = || fields.next().and_then(|f| f.parse::<u64>().ok());
            let (start, end, next) = (number()?, number()?, number()?);
            ranges.push(Range { start, end, next });
        }
        ranges.sort_by_key(|r| r.start);
        let mut at = 0u64;
        for &Range { start, end, next } in &ranges {
            if start != at || end <= start || next < start || next > end {
                return None;
            }
            at = end;
        }
        (at == size && !ranges.is_empty()).then_some(Table {
            size,
            modified,
            ranges,
        })
    }

    /// Bytes written so far, all ranges together.
    pub(crate) fn done(&self) -> u64 {
        self.ranges.iter().map(|r| r.next - r.start).sum()
    }
}

/// Seconds since the epoch, as the sidecar keeps a time.
fn seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The table and which ranges a connection holds.
#[derive(Debug)]
struct State {
    table: Table,
    taken: Vec<bool>,
    /// The range the client's own connection holds, if any.
    own: Option<usize>,
    /// Whether the client's connection began fetching that range.
    own_begun: bool,
}

/// One segmented download, shared by its connections.
#[derive(Debug)]
pub(crate) struct Job {
    remote: Arg,
    local_path: PathBuf,
    part: PathBuf,
    sidecar: PathBuf,
    options: TransferOptions,
    stat: RemoteStat,
    size: u64,
    resumed_from: u64,
    /// Connections to use, the client's own included.
    connections: usize,
    state: Mutex<State>,
    /// A range failed for good: the others stop.
    stop: AtomicBool,
    /// The bytes written are not the file's: no record to resume from.
    discard: AtomicBool,
    retries: AtomicU32,
    transferred: AtomicU64,
    /// The time from asking for a range to its first byte, in
    /// nanoseconds, as last measured (0: not yet).
    setup: AtomicU64,
    /// The bytes a second one connection moved, as last measured (0: not
    /// yet).
    speed: AtomicU64,
}

impl Job {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Connections to use, the client's own included.
    pub(crate) fn connections(&self) -> usize {
        self.connections
    }

    /// A range not complete that no connection holds, now held: from the
    /// end for the client's own connection (`own`: its last range then
    /// ends with the file, with no abort), from the start for the others.
    fn claim(&self, own: bool) -> Option<usize> {
        let mut state = self.lock();
        let claimed = self.claim_in(&mut state, own);
        if own {
            state.own = claimed;
            state.own_begun = false;
        }
        claimed
    }

    fn claim_in(&self, state: &mut State, from_end: bool) -> Option<usize> {
        let State {
            table,
            taken,
            own,
            own_begun,
        } = state;
        let free = |i: &usize| {
            !taken.get(*i).copied().unwrap_or(true)
                && table.ranges.get(*i).is_some_and(|r| r.next < r.end)
        };
        let count = table.ranges.len();
        let found = if from_end {
            (0..count).rev().find(free)
        } else {
            (0..count).find(free)
        };
        if let Some(slot) = found.and_then(|i| taken.get_mut(i)) {
            *slot = true;
            return found;
        }
        // None free: part of the range with the most left, if that is
        // worth a connection of its own.
        let (left, index) = stealable(table, self.steal_floor())?;
        let range = table.ranges.get_mut(index)?;
        if *own == Some(index) && !*own_begun {
            // The client's range, not begun: the client moves to its far
            // half, which ends where the range ends (with the file, on a
            // fresh download: no abort), and this connection takes the near
            // half, with whatever an earlier run wrote of it.
            let middle = range.next + left / 2;
            let near = Range {
                end: middle,
                ..*range
            };
            *range = Range {
                start: middle,
                end: range.end,
                next: middle,
            };
            table.ranges.push(near);
            taken.push(true);
            return Some(table.ranges.len() - 1);
        }
        // The far part: the range's connection keeps what it moves while
        // this one starts, and half the rest: both end together.
        let start_cost = self.start_cost().min(left / 2);
        let middle = range.next + start_cost + (left - start_cost) / 2;
        let half = Range {
            start: middle,
            end: range.end,
            next: middle,
        };
        range.end = middle;
        table.ranges.push(half);
        taken.push(true);
        Some(table.ranges.len() - 1)
    }

    /// Where range `index` stands and where it ends, as its connection
    /// (the client's own if `own`) begins fetching it: from now on a split
    /// leaves that connection the near part.
    fn begin(&self, index: usize, own: bool) -> Option<(u64, u64)> {
        let mut state = self.lock();
        if own && state.own == Some(index) {
            state.own_begun = true;
        }
        state.table.ranges.get(index).map(|r| (r.next, r.end))
    }

    /// Where range `index` stands and where it ends.
    fn position(&self, index: usize) -> Option<(u64, u64)> {
        self.lock().table.ranges.get(index).map(|r| (r.next, r.end))
    }

    /// Range `index` is written up to `next`.
    fn advance(&self, index: usize, next: u64) {
        if let Some(r) = self.lock().table.ranges.get_mut(index) {
            r.next = next;
        }
    }

    /// Whether [`Job::claim`] would find work: a range left that no
    /// connection holds, or one with enough left to split.
    fn claimable(&self) -> bool {
        let state = self.lock();
        let free = state
            .table
            .ranges
            .iter()
            .zip(&state.taken)
            .any(|(r, taken)| !taken && r.next < r.end);
        free || stealable(&state.table, self.steal_floor()).is_some()
    }

    /// The bytes one connection moves in the time it takes to start a
    /// range (0 until both are measured).
    fn start_cost(&self) -> u64 {
        let setup = u128::from(self.setup.load(Ordering::Relaxed));
        let speed = u128::from(self.speed.load(Ordering::Relaxed));
        u64::try_from(speed * setup / 1_000_000_000).unwrap_or(u64::MAX)
    }

    /// The fewest bytes left in a range for another connection to take
    /// part of it: four times what one connection moves while a range
    /// starts (splitting gains once there is more than that), and
    /// [`MIN_STEAL`] bytes a part or more.
    fn steal_floor(&self) -> u64 {
        self.start_cost().saturating_mul(4).max(2 * MIN_STEAL)
    }

    /// A range's first byte came `setup` after it was asked for.
    fn record_setup(&self, setup: Duration) {
        let nanos = u64::try_from(setup.as_nanos()).unwrap_or(u64::MAX);
        self.setup.store(nanos.max(1), Ordering::Relaxed);
    }

    /// One connection moved `bytes` in `over`.
    fn record_speed(&self, bytes: u64, over: Duration) {
        let nanos = over.as_nanos().max(1);
        let speed = u128::from(bytes) * 1_000_000_000 / nanos;
        self.speed
            .store(u64::try_from(speed).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    fn done(&self) -> u64 {
        self.lock().table.done()
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// The range with the most bytes left, and their count, if at least
/// `floor` are left: a connection that finished its own takes part of it
/// (the connections end together however fast each started or runs).
fn stealable(table: &Table, floor: u64) -> Option<(u64, usize)> {
    table
        .ranges
        .iter()
        .enumerate()
        .map(|(i, r)| (r.end - r.next, i))
        .filter(|&(left, _)| left >= floor)
        .max()
}

/// What a segmented download was asked for, as the builder holds it.
#[derive(Debug)]
pub(crate) struct Parts {
    pub(crate) remote: Arg,
    pub(crate) local: PathBuf,
    pub(crate) options: TransferOptions,
    pub(crate) known: Option<RemoteStat>,
    /// For the one-connection plan, if the file is not split.
    pub(crate) adopt_local: bool,
}

/// The one deadline of a segmented download ([`Config::deadline`],
/// counted from its start): each of its operations, on every connection,
/// is given what is left of it.
///
/// [`Config::deadline`]: crate::Config::deadline
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    started: std::time::Instant,
    limit: Option<Duration>,
}

impl Clock {
    /// A deadline of `limit` from now (none if `None`).
    pub(crate) fn start(limit: Option<Duration>) -> Clock {
        Clock {
            started: std::time::Instant::now(),
            limit,
        }
    }

    /// What is left of it now.
    pub(crate) fn left(&self) -> Option<Duration> {
        self.limit
            .map(|limit| limit.saturating_sub(self.started.elapsed()))
    }
}

/// What [`prepare`] decided.
#[derive(Debug)]
pub(crate) enum Prepared {
    /// Download over one connection, with what is known of the file.
    Single(RemoteStat),
    /// Download in ranges.
    Segments(Arc<Job>),
}

/// Replaces the sidecar with the table as it stands, through a temporary
/// file of connection `worker`'s own.
async fn save(core: &mut Core, job: &Job, worker: usize) -> Result<()> {
    let bytes = job.lock().table.encode();
    let mut temp = job.sidecar.as_os_str().to_owned();
    temp.push(format!(".{worker}.tmp"));
    let replace = LocalOp::Replace {
        path: job.sidecar.clone(),
        temp: PathBuf::from(temp),
        bytes,
    };
    files::local(core, replace).await.map(drop)
}

/// Step 1, on the client's connection: the remote file's size and time,
/// then the ranges to fetch (resumed from the sidecar when it matches) in
/// a `.part` file of full length; or [`Prepared::Single`].
pub(crate) async fn prepare(
    core: &mut Core,
    remote: Arg,
    local_path: PathBuf,
    options: TransferOptions,
    known: Option<RemoteStat>,
) -> Result<Prepared> {
    ops::remember_cwd(core).await?;
    // Pipelined, `SIZE` and `MDTM` go out with `TYPE I` and the passive
    // command of this connection's first range: one round trip before the
    // other connections can start, where one at a time took three.
    let stat = match known {
        Some(stat) => stat,
        None => {
            files::attempt_stat(
                core,
                &remote,
                Asks {
                    size: true,
                    mdtm: true,
                },
                None,
                options.verify == Verify::Auto,
            )
            .await?
            .0
        }
    };
    let wanted = u64::from(options.segments);
    let size = match stat.size {
        Some(size) if wanted > 1 && size >= 2 * MIN_SEGMENT => size,
        _ => return Ok(Prepared::Single(stat)),
    };
    let _ = core.perform(Action::RemoteSize(stat.size)).await;
    let part = part_path(&local_path);
    let sidecar = sidecar_path(&part);
    let modified = stat.modified.map(seconds);
    let (len, _) = files::local_stat(core, LocalOp::OpenPart(part.clone())).await?;
    let saved = if options.resume {
        match files::local(core, LocalOp::ReadWhole(sidecar.clone())).await? {
            Event::Bytes(bytes) => Table::decode(&bytes),
            _ => None,
        }
    } else {
        None
    };
    let table = match saved {
        Some(table) if table.size == size && table.modified == modified && len == size => {
            tracing::info!(
                target: "ftpkit::transfer",
                done = table.done(),
                size,
                "resuming a segmented download"
            );
            table
        }
        _ => {
            // A fresh file: no byte of an earlier one is kept (a `.part`
            // without its sidecar cannot tell which of its bytes are real).
            files::local(core, LocalOp::Truncate(0)).await?;
            files::local(core, LocalOp::Truncate(size)).await?;
            // One range, this connection's, from the first byte: each other
            // connection takes its part as it comes ([`Job::claim`]), so
            // the part of one that logs in late is already smaller.
            Table::split(size, modified, 1)
        }
    };
    files::local(core, LocalOp::Close).await?;
    // As many connections as ranges of at least MIN_SEGMENT fit in what is
    // left, up to the number asked for.
    let left = size.saturating_sub(table.done());
    let fit = usize::try_from(left / MIN_SEGMENT).unwrap_or(usize::MAX);
    let connections = fit.clamp(1, usize::from(options.segments));
    let taken = vec![false; table.ranges.len()];
    let job = Job {
        remote,
        local_path,
        part,
        sidecar,
        options,
        stat,
        size,
        resumed_from: table.done(),
        connections,
        state: Mutex::new(State {
            table,
            taken,
            own: None,
            own_begun: false,
        }),
        stop: AtomicBool::new(false),
        discard: AtomicBool::new(false),
        retries: AtomicU32::new(0),
        transferred: AtomicU64::new(0),
        setup: AtomicU64::new(0),
        speed: AtomicU64::new(0),
    };
    save(core, &job, 0).await?;
    Ok(Prepared::Segments(Arc::new(job)))
}

/// A connection for a [`worker`], not opened yet: the client's settings
/// (with `deadline` as the operation deadline), server address, login and
/// directory. The worker opens it.
/// [`Core::successor`], with a retry jitter of its own so that the
/// connections do not retry in step.
pub(crate) fn sibling(core: &Core, deadline: Option<Duration>) -> Core {
    let mut other = core.successor();
    other.config.deadline = deadline;
    other.jitter = super::Jitter::random();
    other
}

/// Step 2, once per connection (`worker` 0 is the client's own; the
/// others open theirs first unless `connected`, a connection the caller
/// supplied): fetches ranges until none is left. A connection that cannot
/// be opened ends here without an error: the others take its ranges.
pub(crate) async fn worker(
    core: &mut Core,
    job: Arc<Job>,
    worker: usize,
    connected: bool,
) -> Result<()> {
    if !connected && let Err(error) = ops::reconnect(core).await {
        tracing::info!(
            target: "ftpkit::transfer",
            %error,
            "one more connection was refused; the others take its ranges"
        );
        return Ok(());
    }
    files::local_stat(core, LocalOp::OpenPart(job.part.clone())).await?;
    let result = work(core, &job, worker).await;
    if result.is_err() {
        job.stop.store(true, Ordering::Relaxed);
    }
    if let Err(Error::Verification(_)) = &result {
        // Bytes that are not the file's: nothing to resume from (`finish`
        // removes the record once every connection is done).
        job.discard.store(true, Ordering::Relaxed);
    }
    let saved = save(core, &job, worker).await;
    files::local(core, LocalOp::Close).await?;
    if worker > 0 {
        ops::hang_up(core).await;
    }
    result.and(saved)
}

async fn work(core: &mut Core, job: &Job, worker: usize) -> Result<()> {
    while let Some(index) = job.claim(worker == 0) {
        let mut run = TransferRun::new(&job.options);
        let result = loop {
            if job.stopped() {
                break Ok(());
            }
            match fetch_range(core, job, index, worker, &mut run).await {
                Ok(()) => break Ok(()),
                Err(error) => {
                    if let Err(error) = files::on_error(core, &mut run, error).await {
                        break Err(error);
                    }
                }
            }
        };
        job.retries.fetch_add(run.report.retries, Ordering::Relaxed);
        job.transferred
            .fetch_add(run.report.transferred, Ordering::Relaxed);
        result?;
        if job.stopped() {
            break;
        }
    }
    Ok(())
}

/// Fetches range `index` from where it stands to its end: `REST` and
/// `RETR`, each chunk cut at the range's end and written in place, then
/// `ABOR` (or, for the range that ends with the file, the end of the data
/// and the final reply).
async fn fetch_range(
    core: &mut Core,
    job: &Job,
    index: usize,
    worker: usize,
    run: &mut TransferRun,
) -> Result<()> {
    let Some((from, end)) = job.begin(index, worker == 0) else {
        return Ok(());
    };
    if from >= end {
        return Ok(());
    }
    if core.is_unusable() {
        // An earlier abort failed: a fresh connection for this range.
        ops::reconnect(core).await?;
    }
    let asked = core.now();
    let (command, expected) = files::open_retr(core, &job.remote, from).await?;
    let mut at = from;
    let mut unsaved = 0u64;
    // When the first byte came and where the range stood then, for the
    // connection's speed.
    let mut first: Option<(std::time::Instant, u64)> = None;
    loop {
        // Another connection may have taken the second half meanwhile.
        let end = job.position(index).map_or(end, |(_, end)| end);
        let last = end == job.size;
        if at >= end && !last && worker > 0 && !job.claimable() {
            // Nothing left for this connection: tell the server and hang
            // up, without waiting for the abort's replies.
            leave(core).await;
            return Ok(());
        }
        if (at >= end && !last) || job.stopped() {
            files::abort_quietly(core, false).await;
            return Ok(());
        }
        let deadline = core.idle_deadline();
        let chunk = match files::data_step(core, Action::ReadData { deadline }, false).await {
            Event::Bytes(chunk) => chunk,
            Event::Eof => break,
            event => {
                let error = files::pump_error(core, event);
                files::abort_quietly(core, false).await;
                return Err(error);
            }
        };
        if at >= end {
            // More data than SIZE gave: the file grew, or the server sent
            // from its start whatever REST said (what the overlap check of
            // a one-connection resume catches). Either way these bytes
            // are not the file's.
            tracing::warn!(
                target: "ftpkit::transfer",
                "more data than the file's size after REST: the server ignored REST or the file grew"
            );
            files::abort_quietly(core, false).await;
            return Err(VerifyError::Size {
                remote: job.size,
                local: at + chunk.len() as u64,
            }
            .into());
        }
        let mut bytes = chunk;
        let take = (end - at).min(bytes.len() as u64);
        bytes.truncate(usize::try_from(take).unwrap_or(usize::MAX));
        let write = LocalOp::WriteAt { offset: at, bytes };
        if let Err(error) = files::local(core, write).await {
            files::abort_quietly(core, false).await;
            return Err(error);
        }
        at += take;
        unsaved += take;
        job.advance(index, at);
        // The bytes after the first chunk, over the time since it came.
        let now = core.now();
        match first {
            None => {
                let setup = now.saturating_duration_since(asked);
                tracing::debug!(
                    target: "ftpkit::transfer",
                    from,
                    setup_ms = setup.as_millis() as u64,
                    speed = job.speed.load(Ordering::Relaxed),
                    "range started"
                );
                job.record_setup(setup);
                first = Some((now, at));
            }
            Some((since, from)) if now.saturating_duration_since(since) >= SPEED_WINDOW => {
                job.record_speed(at - from, now.saturating_duration_since(since));
            }
            Some(_) => {}
        }
        run.report.transferred += take;
        if run.is_paced() {
            files::pace(core, run, take).await;
        }
        core.perform(Action::Progress(job.done())).await;
        if unsaved >= SAVE_EVERY {
            unsaved = 0;
            if let Err(error) = save(core, job, worker).await {
                files::abort_quietly(core, false).await;
                return Err(error);
            }
        }
        if let Err(error) = core.check_deadline(Phase::Data) {
            files::abort_quietly(core, false).await;
            return Err(error);
        }
    }
    let reply = ops::final_reply(core).await?;
    rules::finish_download(&command, reply, expected, at - from)?;
    let end = job.position(index).map_or(end, |(_, end)| end);
    if at < end {
        // The data ended early with a success reply: what is missing is
        // fetched again, from where it stopped.
        return Err(Error::Incomplete {
            expected: end - from,
            received: at - from,
        });
    }
    Ok(())
}

/// Ends an extra connection in the middle of a transfer it no longer
/// needs: `ABOR`, the data connection closed, and the connection left
/// unusable, for the driver to close (as lftp's `pget` does). Waiting for
/// the abort's replies would only delay the end of the download.
async fn leave(core: &mut Core) {
    let _ = ops::send(core, &crate::proto::Command::Abor).await;
    let _ = core.perform(Action::CloseData { reset: false }).await;
    core.unusable = true;
}

/// Step 3, on the client's connection, once every [`worker`] ended with
/// `workers` (the first failure, if any): on a failure, removes the record
/// if the bytes are not the file's and returns it; else checks every range
/// is complete, verifies the whole file, sets its time and renames it into
/// place.
pub(crate) async fn finish(
    core: &mut Core,
    job: Arc<Job>,
    workers: Result<()>,
) -> Result<TransferReport> {
    if let Err(error) = workers {
        if job.discard.load(Ordering::Relaxed) {
            let _ = files::local(core, LocalOp::Remove(job.sidecar.clone())).await;
        }
        return Err(error);
    }
    let done = job.done();
    if done < job.size {
        return Err(Error::Incomplete {
            expected: job.size,
            received: done,
        });
    }
    core.perform(Action::Progress(done)).await;
    let mut report = TransferReport {
        resumed_from: job.resumed_from,
        transferred: job.transferred.load(Ordering::Relaxed),
        retries: job.retries.load(Ordering::Relaxed),
        ..TransferReport::default()
    };
    if core.is_unusable() {
        ops::reconnect(core).await?;
    }
    let (len, _) = files::local_stat(core, LocalOp::OpenPart(job.part.clone())).await?;
    report.size = len;
    let options = &job.options;
    if options.verify != Verify::Off {
        let checked = check_whole(core, &job, len).await;
        match checked {
            Ok(verified) => report.verified = verified,
            Err(error) => {
                // These bytes are not the file's: the next run starts over.
                let _ = files::local(core, LocalOp::Remove(job.sidecar.clone())).await;
                return Err(error);
            }
        }
    }
    if options.preserve_mtime
        && let Some(modified) = job.stat.modified
    {
        report.mtime_preserved = files::local(core, LocalOp::SetModified(modified))
            .await
            .is_ok();
    }
    if options.sync {
        files::local(core, LocalOp::Sync).await?;
    }
    files::local(core, LocalOp::Close).await?;
    let rename = LocalOp::Rename {
        from: job.part.clone(),
        to: job.local_path.clone(),
    };
    files::local(core, rename).await?;
    files::local(core, LocalOp::Remove(job.sidecar.clone())).await?;
    Ok(report)
}

/// The whole file against the server: the size `SIZE` gave before the
/// ranges were fetched and now, then a content hash where offered.
async fn check_whole(core: &mut Core, job: &Job, len: u64) -> Result<Verified> {
    let after = files::remote_stat(core, job.remote.as_bytes(), false).await?;
    if after.size != job.stat.size {
        return Err(VerifyError::RemoteChanged.into());
    }
    files::verify(core, &job.remote, len, after.size, &job.options).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_covers_the_file_in_order_and_keeps_ranges_big_enough() {
        let total = 10 * MIN_SEGMENT + 3;
        let t = Table::split(total, Some(7), 4);
        let bounds: Vec<(u64, u64)> = t.ranges.iter().map(|r| (r.start, r.end)).collect();
        let step = total / 4;
        assert_eq!(
            bounds,
            vec![
                (0, step),
                (step, 2 * step),
                (2 * step, 3 * step),
                (3 * step, total)
            ]
        );
        assert!(t.ranges.iter().all(|r| r.next == r.start));
        // Three MiB in at most three ranges, whatever was asked.
        assert_eq!(Table::split(3 * MIN_SEGMENT, None, 16).ranges.len(), 3);
        assert_eq!(Table::split(MIN_SEGMENT / 2, None, 4).ranges.len(), 1);
    }

    #[test]
    fn a_sidecar_reads_back_as_written() {
        let mut t = Table::split(5 * MIN_SEGMENT, None, 2);
        if let Some(r) = t.ranges.get_mut(1) {
            r.next = r.start + 12345;
        }
        let text = t.encode();
        assert_eq!(Table::decode(&text), Some(t.clone()));
        assert_eq!(t.done(), 12345);
        let timed = Table::split(4 * MIN_SEGMENT, Some(1_700_000_000), 4);
        assert_eq!(Table::decode(&timed.encode()), Some(timed));
    }

    #[test]
    fn a_sidecar_that_does_not_add_up_is_refused() {
        let good = "ftpkit segments 1\nsize 100\nmodified -\nrange 0 50 10\nrange 50 100 50\n";
        assert!(Table::decode(good.as_bytes()).is_some());
        for bad in [
            // a gap between ranges
            "ftpkit segments 1\nsize 100\nmodified -\nrange 0 40 10\nrange 50 100 50\n",
            // progress past the range's end
            "ftpkit segments 1\nsize 100\nmodified -\nrange 0 50 60\nrange 50 100 50\n",
            // ranges short of the size
            "ftpkit segments 1\nsize 100\nmodified -\nrange 0 50 10\n",
            // another header
            "ftpkit segments 2\nsize 100\nmodified -\nrange 0 100 0\n",
            // a truncated line
            "ftpkit segments 1\nsize 100\nmodified -\nrange 0 100\n",
            "",
        ] {
            assert_eq!(Table::decode(bad.as_bytes()), None, "{bad:?}");
        }
    }

    fn job_of(table: Table) -> Job {
        Job {
            remote: Arg::path("f").unwrap(),
            local_path: PathBuf::from("f"),
            part: PathBuf::from("f.part"),
            sidecar: PathBuf::from("f.part.segments"),
            options: TransferOptions::default(),
            stat: RemoteStat::default(),
            size: table.size,
            resumed_from: 0,
            connections: table.ranges.len(),
            state: Mutex::new(State {
                taken: vec![false; table.ranges.len()],
                table,
                own: None,
                own_begun: false,
            }),
            stop: AtomicBool::new(false),
            discard: AtomicBool::new(false),
            retries: AtomicU32::new(0),
            transferred: AtomicU64::new(0),
            setup: AtomicU64::new(0),
            speed: AtomicU64::new(0),
        }
    }

    #[test]
    fn the_client_connection_takes_ranges_from_the_end_the_others_from_the_start() {
        let job = job_of(Table::split(4 * MIN_SEGMENT, None, 4));
        // A complete range is never handed out.
        job.advance(1, 2 * MIN_SEGMENT);
        assert_eq!(job.claim(true), Some(3));
        assert_eq!(job.claim(false), Some(0));
        assert_eq!(job.claim(false), Some(2));
        assert_eq!(job.claim(true), None);
        assert!(!job.claimable());
        assert_eq!(job.done(), MIN_SEGMENT);
    }

    #[test]
    fn the_client_keeps_the_range_that_ends_with_the_file_until_it_begins() {
        let size = 8 * MIN_SEGMENT;
        // A fresh download: one range, the client's.
        let job = job_of(Table::split(size, None, 1));
        assert_eq!(job.claim(true), Some(0));
        // Not begun: the other connection takes the near half, the client
        // moves to the far one, which ends with the file.
        assert_eq!(job.claim(false), Some(1));
        assert_eq!(job.position(1), Some((0, size / 2)));
        assert_eq!(job.position(0), Some((size / 2, size)));
        // The same when another connection claimed the whole file first:
        // the client takes the far part of it.
        let late = job_of(Table::split(size, None, 1));
        assert_eq!(late.claim(false), Some(0));
        assert_eq!(late.claim(true), Some(1));
        assert_eq!(late.position(1), Some((size / 2, size)));
        // Begun, the client keeps the near part: its range ends before
        // the file does.
        assert_eq!(job.begin(0, true), Some((size / 2, size)));
        job.advance(1, MIN_SEGMENT);
        assert_eq!(job.claim(false), Some(2));
        assert_eq!(job.position(0), Some((size / 2, 3 * size / 4)));
        assert_eq!(job.position(2), Some((3 * size / 4, size)));
        // A range an earlier run began keeps its progress with whoever
        // takes its near half.
        let resumed = job_of(Table::split(size, None, 1));
        resumed.advance(0, MIN_SEGMENT);
        assert_eq!(resumed.claim(true), Some(0));
        assert_eq!(resumed.claim(false), Some(1));
        let table = resumed.lock().table.clone();
        assert_eq!(
            table.ranges[1],
            Range {
                start: 0,
                end: 4_718_592,
                next: MIN_SEGMENT
            }
        );
        assert_eq!(
            table.ranges[0],
            Range {
                start: 4_718_592,
                end: size,
                next: 4_718_592
            }
        );
        assert_eq!(
            Table::decode(&table.encode()).map(|t| t.done()),
            Some(MIN_SEGMENT)
        );
    }

    #[test]
    fn a_connection_with_nothing_left_takes_half_of_the_biggest_range() {
        let size = 8 * MIN_SEGMENT;
        let job = job_of(Table::split(size, None, 2));
        assert_eq!(job.claim(true), Some(1));
        assert_eq!(job.begin(1, true), Some((4 * MIN_SEGMENT, size)));
        assert_eq!(job.claim(false), Some(0));
        job.advance(0, 3 * MIN_SEGMENT);
        job.advance(1, 5 * MIN_SEGMENT);
        assert!(job.claimable());
        // Range 0 has 1 MiB left, range 1 has 3: its second half is taken.
        let taken = job.claim(false);
        assert_eq!(taken, Some(2));
        assert_eq!(job.position(1), Some((5 * MIN_SEGMENT, 6_815_744)));
        assert_eq!(job.position(2), Some((6_815_744, size)));
        // Written out in file order, read back whole.
        let table = job.lock().table.clone();
        let back = Table::decode(&table.encode()).unwrap();
        let starts: Vec<u64> = back.ranges.iter().map(|r| r.start).collect();
        assert_eq!(starts, vec![0, 4 * MIN_SEGMENT, 6_815_744]);
        assert_eq!(back.done(), table.done());
        // 1.5 MiB and 1 MiB left: nothing worth splitting.
        assert_eq!(job.claim(true), None);
    }

    #[test]
    fn a_split_follows_what_the_connections_measured() {
        let size = 16 * MIN_SEGMENT;
        let job = job_of(Table::split(size, None, 2));
        assert_eq!(job.claim(true), Some(1));
        assert!(job.begin(1, true).is_some());
        assert_eq!(job.claim(false), Some(0));
        let at = 13 * MIN_SEGMENT;
        job.advance(0, 8 * MIN_SEGMENT);
        job.advance(1, at);
        // 10 MB/s a connection, 5 ms to start a range: 50 kB move while
        // one starts; 3 MiB left is worth splitting (two MIN_STEALs).
        job.record_speed(10_000_000, Duration::from_secs(1));
        job.record_setup(Duration::from_millis(5));
        assert_eq!(job.start_cost(), 50_000);
        assert_eq!(job.steal_floor(), 2 * MIN_STEAL);
        assert!(job.claimable());
        let taken = job.claim(false).unwrap();
        // The range's own connection keeps the 50 kB it moves while the
        // other starts, and half of the rest: both end together.
        let left = size - at;
        let middle = at + 50_000 + (left - 50_000) / 2;
        assert_eq!(job.position(1), Some((at, middle)));
        assert_eq!(job.position(taken), Some((middle, size)));
        // Still a sidecar that reads back whole.
        assert_eq!(
            Table::decode(&job.lock().table.encode()).map(|t| t.done()),
            Some(at)
        );
        // The same when the client takes part of another connection's
        // range: it then holds the far part, which ends with the file.
        let other = job_of(Table::split(size, None, 2));
        other.record_speed(10_000_000, Duration::from_secs(1));
        other.record_setup(Duration::from_millis(5));
        assert_eq!(other.claim(false), Some(0));
        assert_eq!(other.claim(false), Some(1));
        other.advance(0, 8 * MIN_SEGMENT);
        other.advance(1, at);
        assert_eq!(other.claim(true), Some(2));
        assert_eq!(other.position(1), Some((at, middle)));
        assert_eq!(other.position(2), Some((middle, size)));
        assert_eq!(other.lock().own, Some(2));
        // A slow start (a long round trip) raises the floor: 2 MB move
        // while a range starts, so less than 8 MB left is not split.
        job.record_setup(Duration::from_millis(200));
        assert_eq!(job.steal_floor(), 8_000_000);
        assert!(!job.claimable());
        let job = job_of(Table::split(size, None, 2));
        job.record_speed(10_000_000, Duration::from_secs(1));
        job.record_setup(Duration::from_millis(200));
        assert_eq!(job.claim(true), Some(1));
        assert_eq!(job.claim(false), Some(0));
        job.advance(0, 8 * MIN_SEGMENT);
        job.advance(1, 9 * MIN_SEGMENT);
        // 7 MiB left: under 8 MB, not split; a little more is.
        assert!(!job.claimable());
        job.advance(1, 8 * MIN_SEGMENT);
        assert!(job.claimable());
    }
}
