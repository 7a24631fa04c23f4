//! The whole-file plans, once for every driver: `download` and `upload`
//! with retries, reconnects, resume (and its overlap check), change
//! detection, verification, the file time, `.part` and temporary names.
//!
//! The decisions are [`crate::proto::resume`]'s; these operations put them
//! in order. A driver only performs the actions: local file operations,
//! moving the bulk of the data ([`Action::Pump`], where it may use
//! `splice(2)` or `sendfile(2)`), and sleeping until an instant this
//! module computes from [`Core::now`].
//!
//! Finished is finished: when every byte of a transfer moved (the count
//! matches the size the server gave) but its final reply never came — the
//! control connection went silent or died, as when a NAT drops it during a
//! long transfer — the file is not moved again: a new connection confirms
//! it (SIZE, and a hash where offered) and the call ends. Retry waits are
//! spread by the core's jitter and never run past the operation deadline.

use std::{
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use super::{Action, Core, Event, LocalOp, PumpDirection, batch, data, ops, overlap};
use crate::{
    error::{Error, Phase, Result},
    proto::{
        Arg, Command, DataRequest, Expect, TransferType, finish_transfer,
        hash::{HashAlgorithm, Timeval},
        resume::{
            Asks, Attempt, Overlap, RemoteStat, ResumePlan, TransferOptions, TransferReport,
            TransferRun, Verified, Verify, VerifyError, appe_unsupported, check_hash, check_size,
            final_reply_lost, optional, part_name, part_path, rename_over_refused, unless_refused,
            upload_may_resume,
        },
        rules,
    },
};

/// The outcome of a local file action.
pub(super) async fn local(core: &mut Core, op: LocalOp) -> Result<Event> {
    match core.perform(Action::Local(op)).await {
        Event::Failed(e) => Err(e),
        Event::TimedOut => Err(core.timed_out(Phase::Local)),
        event => Ok(event),
    }
}

/// Size and modification time of the local file (opening it first if
/// `open` says so).
pub(super) async fn local_stat(core: &mut Core, op: LocalOp) -> Result<(u64, SystemTime)> {
    match local(core, op).await? {
        Event::File { len, modified } => Ok((len, modified)),
        other => Err(ops::unexpected(&other)),
    }
}

/// `len` bytes of the local file from `offset`.
async fn read_at(core: &mut Core, offset: u64, len: u64) -> Result<Vec<u8>> {
    if len == 0 {
        return Ok(Vec::new());
    }
    match local(core, LocalOp::ReadAt { offset, len }).await? {
        Event::Bytes(bytes) if bytes.len() as u64 == len => Ok(bytes),
        Event::Bytes(_) => Err(Error::io(Phase::Local)(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the local file is shorter than expected",
        ))),
        other => Err(ops::unexpected(&other)),
    }
}

async fn sleep(core: &mut Core, wait: Duration) {
    if !wait.is_zero() {
        let until = core.now() + wait;
        core.perform(Action::Sleep { until }).await;
    }
}

/// Waits as the rate limit asks after `bytes` moved.
pub(super) async fn pace(core: &mut Core, run: &mut TransferRun, bytes: u64) {
    let pause = run.pause(core.now(), usize::try_from(bytes).unwrap_or(usize::MAX));
    sleep(core, pause).await;
}

/// `SIZE` and `MDTM` of a remote file; `None` for what the server will not
/// tell (any 5xx reply: some servers refuse SIZE for files they would
/// send, so a missing file is left for RETR to report).
pub(crate) async fn remote_stat(core: &mut Core, path: &[u8], mdtm: bool) -> Result<RemoteStat> {
    let size = unless_refused(ops::size(core, path).await)?;
    let modified = if mdtm {
        unless_refused(ops::mdtm(core, path).await)?
    } else {
        None
    };
    Ok(RemoteStat { size, modified })
}

/// What an attempt knows of the remote file: `known` (given by the
/// caller), or what `asks` says (`SIZE`, `MDTM`; no `SIZE` for a fresh
/// attempt where the `150` will tell it, [`Asks::download`]). Pipelined, they go out in one
/// batch with the data setup's first commands (`true` then); one at a time
/// otherwise, or once the server mishandled a batch.
pub(super) async fn attempt_stat(
    core: &mut Core,
    remote: &Arg,
    asks: Asks,
    known: Option<RemoteStat>,
    features: bool,
) -> Result<(RemoteStat, bool)> {
    // Asked already, behind the transfer before this one.
    if let Some(stat) = overlap::take_prepared(core, remote, asks)? {
        return Ok((known.unwrap_or(stat), true));
    }
    if batch::enabled(core)
        && let Some(stat) = batch::prepare_retr(core, remote, asks, known, features).await?
    {
        return Ok((stat, true));
    }
    let stat = match known {
        Some(stat) => stat,
        None if asks.size => remote_stat(core, remote.as_bytes(), asks.mdtm).await?,
        None => RemoteStat::default(),
    };
    Ok((stat, false))
}

/// After a failed attempt: gives up with the error, or waits, reconnects
/// if the connection is gone (a failed reconnect is one more failure),
/// and lets the caller go on.
pub(super) async fn on_error(core: &mut Core, run: &mut TransferRun, error: Error) -> Result<()> {
    if core.fall_back_to_tls12(&error) {
        // The same attempt again over TLS 1.2, once: not a retry.
        return ops::reconnect(core).await;
    }
    let mut error = error;
    loop {
        let Some(retry) = run.retry_after(&error) else {
            return Err(error);
        };
        let wait = core.jitter.spread(retry.wait);
        if let Some(by) = core.operation_by()
            && core.now() + wait >= by
        {
            // No time left for another attempt: the deadline, naming the
            // failure it cut short.
            return Err(Error::Deadline {
                deadline: crate::error::Deadline::Operation,
                phase: Phase::Retry,
                last: Some(Box::new(error)),
            });
        }
        sleep(core, wait).await;
        if !(core.is_unusable() || retry.reconnect) {
            return Ok(());
        }
        match ops::reconnect(core).await {
            Ok(()) => return Ok(()),
            Err(e) => error = e,
        }
    }
}

// ----- download -------------------------------------------------------

/// Downloads `remote` to `local` through `LOCAL.part`, renamed only once
/// complete and verified; on failure the `.part` file stays if it holds
/// bytes (an empty one is removed). With `adopt_local`, a file under the
/// final name and no `.part` becomes the `.part` first. With `next`, the
/// file the caller downloads next: its commands go out behind this
/// file's `RETR` ([`overlap`]).
pub(crate) async fn download(
    core: &mut Core,
    remote: Arg,
    local_path: PathBuf,
    options: TransferOptions,
    known: Option<RemoteStat>,
    adopt_local: bool,
    next: Option<Arg>,
) -> Result<TransferReport> {
    let part = part_path(&local_path);
    if adopt_local {
        let adopt = LocalOp::Adopt {
            from: local_path.clone(),
            to: part.clone(),
        };
        local(core, adopt).await?;
    }
    let result = download_all(core, &remote, &part, &options, known, next.as_ref()).await;
    // A passive reply read ahead for a transfer that did not happen.
    core.answered.clear();
    core.behind = None;
    let report = match result {
        Ok(report) => report,
        Err(e) => {
            let _ = local(core, LocalOp::RemoveIfEmpty(part)).await;
            return Err(e);
        }
    };
    local(core, LocalOp::Close).await?;
    local(
        core,
        LocalOp::Rename {
            from: part,
            to: local_path,
        },
    )
    .await?;
    Ok(report)
}

/// The attempts of one download into `part`, until one is done or the
/// retries run out.
async fn download_all(
    core: &mut Core,
    remote: &Arg,
    part: &Path,
    options: &TransferOptions,
    known: Option<RemoteStat>,
    next: Option<&Arg>,
) -> Result<TransferReport> {
    let mut run = TransferRun::new(options);
    run.set_known(known);
    let mut first = true;
    let mut unconfirmed = false;
    loop {
        let attempt = Try {
            first,
            unconfirmed: &mut unconfirmed,
        };
        let result = download_once(core, remote, part, options, &mut run, attempt, next).await;
        first = false;
        match result {
            Ok(Attempt::Done) => break,
            Ok(Attempt::Restart) => run.check_restarts()?,
            Err(e) => on_error(core, &mut run, e).await?,
        }
    }
    Ok(run.report)
}

/// Why [`receive`] stopped early.
enum Received {
    /// The re-fetched overlap differs from the bytes already here.
    Mismatch,
    /// The data ended but the final reply was lost; `complete` if the
    /// bytes received are the size the server announced.
    Unconfirmed { error: Error, complete: bool },
    /// A reply to a command sent behind the transfer came before its
    /// final reply: none of its bytes are trusted ([`overlap`]).
    Disturbed,
    /// Any other failure.
    Failed(Error),
}

/// What one attempt fetches: from where (`plan`), what the server told of
/// the file before (`stat`), and the file downloaded next, if any, with
/// whether its `MDTM` is asked too.
struct Fetch<'a> {
    plan: ResumePlan,
    stat: RemoteStat,
    next: Option<(&'a Arg, bool)>,
    /// The `.part` file's length when it was just opened (at offset 0).
    opened_len: u64,
    /// The size is told to the caller from the `150` (no `SIZE` asked).
    size_from_150: bool,
}

/// One attempt of a transfer: whether it is the first, and whether an
/// earlier one moved every byte but could not confirm them (the next one
/// confirms instead of moving them again).
struct Try<'a> {
    first: bool,
    unconfirmed: &'a mut bool,
}

impl From<Error> for Received {
    fn from(e: Error) -> Received {
        Received::Failed(e)
    }
}

async fn download_once(
    core: &mut Core,
    remote: &Arg,
    part: &Path,
    options: &TransferOptions,
    run: &mut TransferRun,
    attempt: Try<'_>,
    next: Option<&Arg>,
) -> Result<Attempt> {
    let Try { first, unconfirmed } = attempt;
    ops::remember_cwd(core).await?;
    if options.verify == Verify::Auto
        && next.is_some()
        && overlap::enabled(core)
        && core.prepared.is_some()
    {
        // What the server offers to verify with (`FEAT`, once a session),
        // asked before a transfer that carries the next file's commands:
        // after it, `FEAT` would drop the replies read ahead for that file.
        // Without replies read ahead for this file, the batch below asks
        // it instead, in the same round trip as the file's own commands.
        ops::features(core).await?;
    }
    let mdtm = options.preserve_mtime || options.resume;
    let asks = Asks::download(core.announces_size, mdtm, first);
    // A verification asks which checksum the server offers: in the same
    // batch, not in a round trip of its own after the transfer.
    let features = options.verify == Verify::Auto;
    let (stat, pipelined) = attempt_stat(core, remote, asks, run.take_known(), features).await?;
    // Not asked: the size is told once the `150` states it.
    let size_from_150 = stat.size.is_none() && !asks.size;
    if !size_from_150 {
        let _ = core.perform(Action::RemoteSize(stat.size)).await;
    }
    if !run.check_unchanged(stat) {
        return Ok(Attempt::Restart);
    }
    let from_start = run.take_from_start();
    let len = if from_start && !*unconfirmed {
        // Nothing of an earlier run is kept: the `.part` file is emptied
        // as it is opened, with no stat to ask.
        local(core, LocalOp::CreatePart(part.to_path_buf())).await?;
        0
    } else {
        local_stat(core, LocalOp::OpenPart(part.to_path_buf()))
            .await?
            .0
    };
    // Every byte is here from an attempt whose final reply was lost:
    // confirm, do not fetch again.
    let confirm = std::mem::take(unconfirmed) && stat.size == Some(len);
    // What arrived: the size the `150` stated (for a transfer from byte
    // 0) and the `.part` file's length.
    let mut arrived = None;
    if !confirm {
        let plan = ResumePlan::new(if from_start { 0 } else { len }, stat.size);
        if first {
            run.report.resumed_from = plan.resume_point();
        }
        let fetch = Fetch {
            plan,
            stat,
            next: next.map(|next| (next, mdtm)),
            opened_len: len,
            size_from_150,
        };
        match fetch_into_part(core, remote, fetch, run, unconfirmed).await? {
            (Attempt::Done, got) => arrived = got,
            (restart, _) => return Ok(restart),
        }
        if plan.rest == 0 && !*unconfirmed {
            learn_announced_sizes(core, stat, arrived.and_then(|a| a.announced));
        }
    }
    let announced = arrived.and_then(|a| a.announced);
    let confirm = confirm || *unconfirmed;
    // The length the transfer left, as counted: asked of the file only
    // when no transfer completed in this attempt.
    let local_len = match arrived {
        Some(arrived) => arrived.len,
        None => local_stat(core, LocalOp::Stat).await?.0,
    };
    run.report.size = local_len;
    if options.verify != Verify::Off || confirm {
        // SIZE only: a file rewritten to the same size within the
        // transfer is left to the content hash. Pipelined, the size given
        // before the transfer verifies the bytes that match it without
        // asking again; so does the size the `150` stated when no `SIZE`
        // was asked. Any other count asks, to tell a file that changed.
        let after = if pipelined && !confirm && stat.size == Some(local_len) {
            stat
        } else if !confirm && stat.size.is_none() && announced == Some(local_len) {
            RemoteStat {
                size: announced,
                ..stat
            }
        } else {
            RemoteStat {
                modified: stat.modified,
                ..remote_stat(core, remote.as_bytes(), false).await?
            }
        };
        // A transfer to confirm is confirmed or fails: it is not started
        // over on a size the server no longer tells.
        if confirm {
            confirmed(after.size, local_len, false)?;
        }
        if !run.check_unchanged(after) {
            *unconfirmed = false;
            return Ok(Attempt::Restart);
        }
        run.report.verified = if options.verify == Verify::Off {
            Verified {
                size: after.size,
                hash: None,
            }
        } else {
            verify(core, remote, local_len, after.size, options).await?
        };
    }
    *unconfirmed = false;
    // One order for every driver: the time first, then fsync, which makes
    // the data and the time durable together.
    if options.preserve_mtime
        && let Some(modified) = stat.modified
    {
        run.report.mtime_preserved = local(core, LocalOp::SetModified(modified)).await.is_ok();
    }
    if options.sync {
        local(core, LocalOp::Sync).await?;
    }
    Ok(Attempt::Done)
}

/// The check of a transfer whose final reply was lost: the server must
/// hold exactly the bytes moved. A different size is an incomplete
/// transfer, retried as any other (`upload`: the server holds fewer bytes
/// than were sent); no size at all cannot be confirmed.
fn confirmed(remote_size: Option<u64>, local_len: u64, upload: bool) -> Result<()> {
    match remote_size {
        Some(size) if size == local_len => {
            tracing::info!(target: "ftpkit::transfer", size, "confirmed on a new connection");
            Ok(())
        }
        Some(size) => {
            let (expected, received) = if upload {
                (local_len, size)
            } else {
                (size, local_len)
            };
            Err(Error::Incomplete { expected, received })
        }
        None => Err(VerifyError::Unconfirmed.into()),
    }
}

/// Whether the server's `150` states sizes it can be trusted with: the
/// size it announced for a transfer from byte 0 against the one known
/// before (its `SIZE`). A `150` without a size, where none was known,
/// stops the trust too: the next downloads ask `SIZE` again.
fn learn_announced_sizes(core: &mut Core, before: RemoteStat, announced: Option<u64>) {
    match (before.size, announced) {
        (Some(size), Some(said)) => core.announces_size = size == said,
        (_, None) => core.announces_size = false,
        (None, Some(_)) => {}
    }
}

/// What a completed transfer left: the size its `150` stated, for a
/// transfer from byte 0, and the `.part` file's length, as counted.
#[derive(Clone, Copy)]
struct Arrived {
    announced: Option<u64>,
    len: u64,
}

/// Fetches `remote` into the `.part` file as `plan` says; `Done` once the
/// data is in (the caller verifies), with what [`Arrived`], or `Restart`
/// to start over. A lost final reply after every byte arrived sets
/// `unconfirmed` and reconnects (`Done` with nothing counted).
async fn fetch_into_part(
    core: &mut Core,
    remote: &Arg,
    fetch: Fetch<'_>,
    run: &mut TransferRun,
    unconfirmed: &mut bool,
) -> Result<(Attempt, Option<Arrived>)> {
    let Fetch {
        plan,
        stat,
        next,
        opened_len,
        size_from_150,
    } = fetch;
    let tail = read_at(core, plan.rest, plan.overlap).await?;
    // A `.part` file just made (empty, at offset 0) is already as it must
    // be to start from byte 0: two system calls a file spared.
    if plan.resume_point() != 0 || opened_len != 0 || !tail.is_empty() {
        local(core, LocalOp::Truncate(plan.resume_point())).await?;
    }
    let mut overlap = Overlap::new(tail);
    if let Some((next, mdtm)) = next {
        overlap::queue_next(core, next, mdtm);
    }
    let overlap_was_on = !core.overlap_refused;
    let received = receive(core, remote, plan.rest, &mut overlap, run, size_from_150).await;
    if let Err(Received::Failed(Error::Io {
        phase: Phase::DataConnect,
        ..
    })) = &received
        && core.queued.take().is_some()
    {
        // The data connection failed to open (its TLS handshake, after
        // the `150`) with the next file's commands behind the `RETR`:
        // pyftpdlib reads them at once, and a passive command drops the
        // data connection it was opening. As any transfer that failed with
        // commands behind it: their replies are still to come, so the
        // connection is replaced and nothing overlaps again.
        core.overlap_refused = true;
        core.unusable = true;
    }
    core.behind = None;
    run.report.overlapped = received.is_ok() && core.prepared.is_some();
    match received {
        Err(Received::Disturbed) => {
            // Not one byte of it is trusted: from byte 0 on a new
            // connection, at once (the cause was the commands sent behind
            // it, not the server's trouble: no retry wait), as a restart
            // within the retry policy.
            run.restart();
            ops::reconnect(core).await?;
            return Ok((Attempt::Restart, None));
        }
        Err(Received::Failed(error)) if overlap_was_on && core.overlap_refused => {
            // The transfer failed with the next file's commands behind it
            // (pyftpdlib may drop the transfer it runs when it reads them,
            // resetting the data connection before its replies come): no
            // overlap from now on, and the attempt goes on at once on a
            // new connection, resuming after the bytes already here: a
            // retry within the policy, with no wait.
            if !run.retry_at_once(&error) {
                return Err(error);
            }
            tracing::warn!(
                target: "ftpkit::transfer",
                %error,
                "a transfer with commands sent behind it failed; trying again at once without them"
            );
            ops::reconnect(core).await?;
            return Ok((Attempt::Restart, None));
        }
        Err(Received::Unconfirmed { error, complete }) => {
            let (local_len, _) = local_stat(core, LocalOp::Stat).await?;
            if !(complete || stat.size == Some(local_len)) {
                return Err(error);
            }
            tracing::warn!(
                target: "ftpkit::transfer",
                %error,
                bytes = local_len,
                "every byte arrived but the final reply did not; confirming on a new connection"
            );
            *unconfirmed = true;
            ops::reconnect(core).await?;
        }
        Err(Received::Mismatch) => {
            tracing::warn!(
                target: "ftpkit::transfer",
                "the local .part file does not match the remote file; starting over"
            );
            run.restart();
            return Ok((Attempt::Restart, None));
        }
        Err(Received::Failed(e)) => return Err(e),
        Ok(_) if !overlap.is_complete() => {
            // The server sent less than the bytes already here: the file
            // is shorter than it was.
            run.restart();
            return Ok((Attempt::Restart, None));
        }
        Ok(arrived) => return Ok((Attempt::Done, Some(arrived))),
    }
    Ok((Attempt::Done, None))
}

/// Aborts the transfer in progress, its error left aside: the caller has
/// a better one to report.
pub(super) async fn abort_quietly(core: &mut Core, reset: bool) {
    let _ = ops::abort_transfer(core, reset).await;
}

/// Receives `remote` from `rest` into the local file (positioned at the
/// resume point): the overlap chunk by chunk through the core, compared
/// with the bytes already here; the rest moved by the driver in bulk, or
/// block by block when the rate is limited. Then the final reply. Gives
/// the size the `150` stated, for a transfer from byte 0 (told to the
/// caller's size callback first if `tell_size`), and the file's length:
/// `rest` and the bytes received (those of the overlap compared, not
/// written again, past a truncation at the resume point).
async fn receive(
    core: &mut Core,
    remote: &Arg,
    rest: u64,
    overlap: &mut Overlap,
    run: &mut TransferRun,
    tell_size: bool,
) -> std::result::Result<Arrived, Received> {
    let block = run.block_size(core.config.block_size);
    let (command, expected) = open_retr(core, remote, rest).await?;
    if tell_size {
        let _ = core.perform(Action::RemoteSize(expected)).await;
        if let Some(size) = expected {
            run.note_size(size);
        }
    }
    let paced = run.is_paced();
    let deadline = core.operation_by().is_some();
    let mut received = 0u64;
    loop {
        // Under an operation deadline the data comes through the core one
        // read at a time, so that a trickle never idle long enough for the
        // idle timeout still ends at the deadline.
        if overlap.is_complete() && !deadline {
            let pump = Action::Pump {
                direction: PumpDirection::Receive,
                offset: rest + received,
                max: paced.then_some(block as u64),
                block,
                idle: core.idle_for(),
            };
            match data_step(core, pump, false).await {
                Event::Pumped { bytes, eof } => {
                    received += bytes;
                    run.report.transferred += bytes;
                    if paced {
                        pace(core, run, bytes).await;
                    }
                    if eof {
                        break;
                    }
                }
                event => {
                    let error = pump_error(core, event);
                    abort_quietly(core, false).await;
                    return Err(error.into());
                }
            }
            continue;
        }
        let deadline = core.idle_deadline();
        match data_step(core, Action::ReadData { deadline }, false).await {
            Event::Bytes(chunk) => {
                let n = chunk.len() as u64;
                let Ok(fresh) = overlap.feed(&chunk) else {
                    abort_quietly(core, false).await;
                    return Err(Received::Mismatch);
                };
                if !fresh.is_empty()
                    && let Err(e) = local(core, LocalOp::Write(fresh.to_vec())).await
                {
                    abort_quietly(core, false).await;
                    return Err(e.into());
                }
                received += n;
                run.report.transferred += n;
                if paced {
                    pace(core, run, n).await;
                }
                core.perform(Action::Progress(rest + received)).await;
                if let Err(e) = core.check_deadline(Phase::Data) {
                    abort_quietly(core, false).await;
                    return Err(e.into());
                }
            }
            Event::Eof => break,
            event => {
                let error = pump_error(core, event);
                abort_quietly(core, false).await;
                return Err(error.into());
            }
        }
    }
    match overlap::final_reply(core).await {
        Ok(Some(reply)) => {
            rules::finish_download(&command, reply, expected, received)?;
            Ok(Arrived {
                announced: expected,
                len: rest + received,
            })
        }
        Ok(None) => Err(Received::Disturbed),
        Err(error) if final_reply_lost(&error) => Err(Received::Unconfirmed {
            error,
            complete: expected == Some(received),
        }),
        Err(error) => Err(error.into()),
    }
}

/// Performs a data action with the transfer marked as left to abort: if
/// the operation is dropped meanwhile (a dropped tokio future), the next
/// one aborts the transfer and the client stays usable, as with a dropped
/// reader or writer.
pub(super) async fn data_step(core: &mut Core, action: Action, reset: bool) -> Event {
    core.pending = Some(super::Pending::Abort { reset });
    core.in_flight = false;
    let event = core.perform(action).await;
    core.pending = None;
    core.in_flight = true;
    event
}

/// The error of a data action that did not complete.
pub(super) fn pump_error(core: &Core, event: Event) -> Error {
    match event {
        Event::Failed(e) => e,
        Event::TimedOut => core.timed_out(Phase::Data),
        other => ops::unexpected(&other),
    }
}

/// Opens `RETR remote` in binary from `rest` (REST when not 0): the
/// command, for its final reply, and the size its data should have.
pub(super) async fn open_retr(
    core: &mut Core,
    remote: &Arg,
    rest: u64,
) -> Result<(Command, Option<u64>)> {
    let command = Command::Retr(remote.clone());
    let rest_arg = (rest > 0).then_some(rest);
    let request = DataRequest {
        command: command.clone(),
        transfer_type: TransferType::Binary,
        rest: rest_arg,
    };
    let announced = data::open_data(core, request).await?;
    let expected = rules::expected_size(announced, TransferType::Binary, rest_arg);
    Ok((command, expected))
}

/// Everything `remote` holds from `rest`, in memory (the overlap an upload
/// compares).
async fn fetch(core: &mut Core, remote: &Arg, rest: u64) -> Result<Vec<u8>> {
    let (command, expected) = open_retr(core, remote, rest).await?;
    let mut data = Vec::new();
    loop {
        let deadline = core.idle_deadline();
        match core.perform(Action::ReadData { deadline }).await {
            Event::Bytes(chunk) => data.extend_from_slice(&chunk),
            Event::Eof => break,
            event => {
                let error = pump_error(core, event);
                abort_quietly(core, false).await;
                return Err(error);
            }
        }
    }
    let reply = ops::final_reply(core).await?;
    rules::finish_download(&command, reply, expected, data.len() as u64)?;
    Ok(data)
}

/// Compares sizes, then a content hash if the server offers one and the
/// options ask for it.
pub(super) async fn verify(
    core: &mut Core,
    remote: &Arg,
    local_len: u64,
    remote_size: Option<u64>,
    options: &TransferOptions,
) -> Result<Verified> {
    let mut verified = Verified {
        size: check_size(remote_size, local_len)?,
        hash: None,
    };
    if options.verify == Verify::Auto
        && let Some((algorithm, remote_digest, local_digest)) =
            optional(both_hashes(core, remote).await)?.flatten()
    {
        check_hash(algorithm, &remote_digest, &local_digest)?;
        verified.hash = Some(algorithm);
    }
    Ok(verified)
}

/// The server's digest of `remote` and the local file's, with the same
/// algorithm; `None` if the server offers no checksum command. The local
/// file is read while the server reads its copy: the command goes out
/// first and its reply is read after (each side takes about as long, so
/// a 512 MiB verification no longer waits for both in turn).
async fn both_hashes(
    core: &mut Core,
    remote: &Arg,
) -> Result<Option<(HashAlgorithm, Vec<u8>, Vec<u8>)>> {
    let Some(asked) = ops::ask_remote_hash(core, remote.as_bytes()).await? else {
        return Ok(None);
    };
    let algorithm = asked.algorithm();
    let local_digest = local(core, LocalOp::Hash(algorithm)).await;
    // The reply is read whatever became of the local hash, so that the
    // control connection stays in step.
    let (command, remote_digest) = ops::remote_hash_reply(core, asked).await?;
    let local_digest = match local_digest? {
        Event::Bytes(digest) => digest,
        other => return Err(ops::unexpected(&other)),
    };
    Ok(Some((command.algorithm(), remote_digest, local_digest)))
}

// ----- upload -----------------------------------------------------------

/// Uploads `local` to `remote`, retrying and resuming within the call; a
/// file already on the server under the final name is replaced, never
/// appended to.
pub(crate) async fn upload(
    core: &mut Core,
    local_path: PathBuf,
    remote: Vec<u8>,
    options: TransferOptions,
) -> Result<TransferReport> {
    let final_name = Arg::path(&remote)?;
    let target = if options.temp_name {
        Arg::path(part_name(&remote))?
    } else {
        final_name.clone()
    };
    let before = local_stat(core, LocalOp::OpenRead(local_path)).await?;
    let mut run = TransferRun::new(&options);
    let mut first = true;
    let mut unconfirmed = false;
    loop {
        let attempt = Try {
            first,
            unconfirmed: &mut unconfirmed,
        };
        let result = upload_once(core, before, &target, &options, &mut run, attempt).await;
        first = false;
        match result {
            Ok(()) => break,
            Err(e) => on_error(core, &mut run, e).await?,
        }
    }
    local(core, LocalOp::Close).await?;
    if options.temp_name {
        finish_temp_name(core, &target, &final_name).await?;
    }
    // MFMT where the server offers it. A `FEAT` read already (for a hash)
    // tells; otherwise MFMT is sent as it is, a server without it refusing
    // harmlessly: one round trip, where asking first took two (`FEAT`,
    // then `MFMT`).
    let offered = core.session.features().map(|f| f.supports("MFMT"));
    if options.preserve_mtime && offered != Some(false) {
        let command = Command::Mfmt(Timeval::new(before.1), final_name);
        let reply = ops::exchange(core, &command).await?;
        run.report.mtime_preserved = reply.code().is_completion();
    }
    Ok(run.report)
}

async fn upload_once(
    core: &mut Core,
    before: (u64, SystemTime),
    target: &Arg,
    options: &TransferOptions,
    run: &mut TransferRun,
    attempt: Try<'_>,
) -> Result<()> {
    let Try { first, unconfirmed } = attempt;
    if local_stat(core, LocalOp::Stat).await? != before {
        return Err(VerifyError::LocalChanged.into());
    }
    let local_len = before.0;
    ops::remember_cwd(core).await?;
    // Every byte went out in an attempt whose final reply was lost: if the
    // server holds them all, confirm, do not send them again.
    let confirm = std::mem::take(unconfirmed)
        && optional(ops::size(core, target.as_bytes()).await)? == Some(local_len);
    if !confirm {
        send_file(core, local_len, target, options, run, first, unconfirmed).await?;
    }
    let confirm = confirm || *unconfirmed;
    run.report.size = local_len;
    if local_stat(core, LocalOp::Stat).await? != before {
        return Err(VerifyError::LocalChanged.into());
    }
    if options.verify != Verify::Off || confirm {
        // FEAT in the same batch: which checksum the server offers.
        let features = options.verify == Verify::Auto;
        let remote_size = batch::size_and_features(core, target, features).await?;
        if confirm {
            confirmed(remote_size, local_len, true)?;
        }
        run.report.verified = if options.verify == Verify::Off {
            Verified {
                size: remote_size,
                hash: None,
            }
        } else {
            verify(core, target, local_len, remote_size, options).await?
        };
    }
    *unconfirmed = false;
    Ok(())
}

/// Sends the local file to `target`, resuming what the server holds of
/// ours. A lost final reply after every byte went out sets `unconfirmed`
/// and reconnects.
async fn send_file(
    core: &mut Core,
    local_len: u64,
    target: &Arg,
    options: &TransferOptions,
    run: &mut TransferRun,
    first: bool,
    unconfirmed: &mut bool,
) -> Result<()> {
    // What the server already holds: only ours (the temporary name, or an
    // earlier attempt of this call) is ever resumed.
    let from_start = run.take_from_start();
    let have = if upload_may_resume(options, from_start, first) {
        match ops::size(core, target.as_bytes()).await {
            Ok(n) => n,
            Err(Error::Reply { reply, .. }) if reply.code().is_permanent() => 0,
            Err(e) => return Err(e),
        }
    } else {
        0
    };
    let mut plan = ResumePlan::new(have, Some(local_len));
    if plan.overlap > 0 {
        let ours = read_at(core, plan.rest, plan.overlap).await?;
        let theirs = fetch(core, target, plan.rest).await?;
        if theirs != ours {
            tracing::warn!(
                target: "ftpkit::transfer",
                "the bytes on the server do not match the local file; starting over"
            );
            run.restart();
            plan = ResumePlan::FROM_START;
        }
    }
    if first {
        run.report.resumed_from = plan.resume_point();
    }
    let start = plan.resume_point();
    if start < local_len || local_len == 0 {
        local(core, LocalOp::Seek(start)).await?;
        let sent = if start == 0 {
            send(core, Command::Stor(target.clone()), None, start, run).await
        } else {
            match send(core, Command::Appe(target.clone()), None, start, run).await {
                Err(e) if appe_unsupported(&e) => {
                    // No APPE: restart the STOR at the offset instead.
                    local(core, LocalOp::Seek(start)).await?;
                    let stor = Command::Stor(target.clone());
                    send(core, stor, Some(start), start, run).await
                }
                other => other,
            }
        };
        match sent? {
            Sent::Confirmed(bytes) => run.report.transferred += bytes,
            Sent::Unconfirmed(bytes, error) => {
                run.report.transferred += bytes;
                tracing::warn!(
                    target: "ftpkit::transfer",
                    %error,
                    bytes,
                    "every byte went out but the final reply did not come; confirming on a new connection"
                );
                *unconfirmed = true;
                ops::reconnect(core).await?;
            }
        }
    }
    Ok(())
}

/// What [`send`] moved: confirmed by the server's final reply, or with
/// that reply lost (the error) after every byte went out.
enum Sent {
    Confirmed(u64),
    Unconfirmed(u64, Error),
}

/// Sends the rest of the local file (from `base`, where it is positioned)
/// with `command`: in bulk, or block by block when the rate is limited.
/// Then closes the data connection properly and checks the final reply.
async fn send(
    core: &mut Core,
    command: Command,
    rest: Option<u64>,
    base: u64,
    run: &mut TransferRun,
) -> Result<Sent> {
    let block = run.block_size(core.config.block_size);
    let request = DataRequest {
        command: command.clone(),
        transfer_type: TransferType::Binary,
        rest,
    };
    data::open_data(core, request).await?;
    let paced = run.is_paced();
    // Under an operation deadline the data moves in blocks, so the core
    // sees the time between them.
    let chunked = paced || core.operation_by().is_some();
    let mut sent = 0u64;
    loop {
        let pump = Action::Pump {
            direction: PumpDirection::Send {
                sendfile: !chunked && core.config.sendfile,
            },
            offset: base + sent,
            max: chunked.then_some(block as u64),
            block,
            idle: core.idle_for(),
        };
        match data_step(core, pump, true).await {
            Event::Pumped { bytes, eof } => {
                sent += bytes;
                if paced {
                    pace(core, run, bytes).await;
                }
                if eof {
                    break;
                }
                if let Err(e) = core.check_deadline(Phase::Data) {
                    abort_quietly(core, true).await;
                    return Err(e);
                }
            }
            event => {
                let error = pump_error(core, event);
                abort_quietly(core, true).await;
                return Err(error);
            }
        }
    }
    let deadline = core.idle_deadline();
    match core.perform(Action::FinishUpload { deadline }).await {
        Event::Done => {}
        event => {
            core.unusable = true;
            return Err(pump_error(core, event));
        }
    }
    match ops::final_reply(core).await {
        Ok(reply) => {
            finish_transfer(&command, reply)?;
            Ok(Sent::Confirmed(sent))
        }
        Err(error) if final_reply_lost(&error) => Ok(Sent::Unconfirmed(sent, error)),
        Err(error) => Err(error),
    }
}

/// Makes the temporary upload visible under its final name, replacing a
/// file already there if the server will not rename over it.
async fn finish_temp_name(core: &mut Core, temp: &Arg, final_name: &Arg) -> Result<()> {
    match ops::rename(core, temp.as_bytes(), final_name.as_bytes()).await {
        Err(e) if rename_over_refused(&e) => {
            let dele = Command::Dele(final_name.clone());
            ops::run(core, dele, Expect::Completion).await?;
            ops::rename(core, temp.as_bytes(), final_name.as_bytes()).await?;
            Ok(())
        }
        other => other.map(drop),
    }
}
