//! Consecutive downloads that overlap: the next file's `SIZE`, `MDTM` and
//! passive command (`EPSV`/`PASV`) go out in the same write as this
//! file's `RETR`.
//!
//! A server that reads its control connection only between transfers
//! (vsftpd, proftpd, pure-ftpd) answers them after the transfer's final
//! reply: `RETR a`, `SIZE b`, `MDTM b` and `EPSV` sent together get
//! `150`, the data, `226`, then `213`, `213` and `229` at once. The
//! download of `b` then uses those replies ([`take_prepared`]) and starts
//! with its `RETR`: one round trip a file, the size still verified.
//!
//! A server that reads them during the transfer may answer one before the
//! transfer's final reply (pyftpdlib answers `EPSV` at once and drops the
//! transfer it was running). Such a reply marks the transfer as
//! *disturbed*: none of its bytes are trusted (the download starts again
//! from byte 0, on a new connection, within the retry policy) and the
//! client overlaps no transfer again ([`Core::overlap_refused`], kept
//! across reconnections). So does a reply after the final one that does
//! not fit its command, or one that does not come within the grace of a
//! batch ([`batch::grace`]). A transfer that fails with commands behind
//! it (pyftpdlib may drop it with a `426`, or reset its data connection)
//! ends overlapping too, and is tried again at once on a new connection. A transfer refused (`550` to `RETR`) or
//! aborted leaves the replies of the commands behind it to read: a
//! refusal reads them at once (they serve the next download); an abort
//! cannot tell them from the abort's own replies, so it replaces the
//! connection.
//!
//! The replies read ahead serve only the download of the file they were
//! asked for, and only if nothing else was sent in between (any command
//! sent drops them, as it drops [`Core::answered`]).

use std::time::Duration;

use super::{Core, Next, Prepared, batch, ops};
use crate::{
    error::{Error, Result},
    proto::{
        Arg, Command, Reply, ReplyCode,
        resume::{Asks, RemoteStat},
        rules::{self},
    },
};

/// Whether the next transfer command may take commands with it:
/// pipelining on, no server seen to mishandle a batch or an overlap, and
/// a passive mode whose command needs no `PRET` first.
pub(crate) fn enabled(core: &Core) -> bool {
    batch::enabled(core) && !core.overlap_refused && core.session.passive_mode_command().is_some()
}

/// Queues, behind the next transfer command, the commands that prepare a
/// download of `next`: what [`Asks::download`] says of it (`SIZE`,
/// `MDTM` if `mdtm`), and the passive command
/// (after `PRET RETR next` for a server that lists `PRET`). Nothing when
/// overlapping is off.
pub(crate) fn queue_next(core: &mut Core, next: &Arg, mdtm: bool) {
    let asks = Asks::download(core.announces_size, mdtm, true);
    core.behind = None;
    if !enabled(core) {
        return;
    }
    let Some(passive) = core.session.passive_mode_command() else {
        return;
    };
    let mut commands: Vec<Command> = batch::stat_commands(next, asks).collect();
    if core.session.features().is_some_and(|f| f.supports("PRET")) {
        match Command::pret(&Command::Retr(next.clone())) {
            Ok(pret) => commands.push(pret),
            Err(_) => return,
        }
    }
    commands.push(passive);
    core.behind = Some(Next {
        remote: next.clone(),
        asks,
        commands,
        sent: None,
        first: None,
    });
}

/// Sends the transfer `command` with the commands queued behind it, if
/// any, in one write, and reads the transfer command's first reply.
pub(crate) async fn exchange(core: &mut Core, command: &Command) -> Result<Reply> {
    let Some(mut next) = core.behind.take().filter(|_| enabled(core)) else {
        return ops::exchange(core, command).await;
    };
    ops::settle(core).await?;
    let mut all = Vec::with_capacity(next.commands.len() + 1);
    all.push(command.clone());
    all.extend(next.commands.iter().cloned());
    ops::send_all(core, &all).await?;
    let sent = core.now();
    next.sent = Some(sent);
    core.queued = Some(next);
    let reply = ops::read_reply(core).await?;
    let first = core.now().saturating_duration_since(sent);
    if let Some(queued) = core.queued.as_mut() {
        queued.first.get_or_insert(first);
    }
    Ok(reply)
}

/// Whether `reply`, read for a transfer, is one of the commands behind it:
/// a positive reply one of them can get and the transfer cannot (a 2xx
/// other than the `226` or `250` that ends a transfer: `213`, `227`,
/// `229`, `PRET`'s `200`).
fn out_of_turn(core: &Core, reply: &Reply) -> bool {
    let code = reply.code();
    let ends_transfer = [ReplyCode::TRANSFER_COMPLETE, ReplyCode::FILE_ACTION_OK].contains(&code);
    core.queued.as_ref().is_some_and(|queued| {
        code.is_completion()
            && !ends_transfer
            && queued
                .commands
                .iter()
                .any(|command| batch::answers(command, reply))
    })
}

/// Judges a reply read while a transfer is set up with commands behind
/// it: one of theirs means the transfer is disturbed (an error, the
/// connection left to replace); a refusal of the transfer, which gets no
/// final reply, means theirs follow now and are read.
pub(crate) async fn on_setup_reply(core: &mut Core, reply: &Reply) -> Result<()> {
    if core.queued.is_none() {
        return Ok(());
    }
    if out_of_turn(core, reply) {
        return Err(disturbed(core));
    }
    let code = reply.code();
    let refused = !(code.is_preliminary() || code.is_completion());
    if refused && !drain(core).await? {
        return Err(disturbed(core));
    }
    Ok(())
}

/// Reads a transfer's final reply, then the replies of the commands sent
/// behind it, kept for the next download. `None` when the transfer was
/// disturbed: its bytes are not to be trusted, the connection is to be
/// replaced and no transfer overlaps again.
pub(crate) async fn final_reply(core: &mut Core) -> Result<Option<Reply>> {
    let reply = ops::final_reply(core).await?;
    if core.queued.is_none() {
        return Ok(Some(reply));
    }
    if out_of_turn(core, &reply) || !drain(core).await? {
        let _ = disturbed(core);
        return Ok(None);
    }
    if !reply.code().is_completion() {
        // The transfer failed with commands behind it. A server that
        // reads them during a transfer may have dropped it for them
        // (pyftpdlib: `426`, then their replies): no overlap from now on,
        // and the caller goes on at once ([`Core::overlap_refused`]).
        tracing::warn!(
            target: "ftpkit::control",
            %reply,
            "a transfer with commands sent behind it failed; no transfer overlaps another from now on"
        );
        core.overlap_refused = true;
        core.prepared = None;
    }
    Ok(Some(reply))
}

/// Reads the replies owed to the commands sent behind a transfer, each
/// within the grace of a batch; `false` if one did not come or did not
/// fit its command.
async fn drain(core: &mut Core) -> Result<bool> {
    let Some(next) = core.queued.take() else {
        return Ok(true);
    };
    let first = match (next.first, next.sent) {
        (Some(first), _) => first,
        (None, Some(sent)) => core.now().saturating_duration_since(sent),
        (None, None) => Duration::ZERO,
    };
    let grace = batch::grace(first, core.config.timeout);
    let mut replies = Vec::with_capacity(next.commands.len());
    for command in next.commands {
        match ops::read_reply_within(core, grace).await? {
            Some(reply)
                if batch::answers(&command, &reply) && !rules::closes_connection(&reply) =>
            {
                replies.push((command, reply));
            }
            _ => return Ok(false),
        }
    }
    core.prepared = Some(Prepared {
        remote: next.remote,
        asks: next.asks,
        replies,
    });
    Ok(true)
}

/// The transfer was disturbed: overlapping ends for good, what was queued
/// or read ahead is dropped, and the connection is left to replace.
fn disturbed(core: &mut Core) -> Error {
    tracing::warn!(
        target: "ftpkit::control",
        "the server answered a command sent behind a transfer before that transfer ended; \
         the file is fetched again, and no transfer overlaps another from now on"
    );
    core.overlap_refused = true;
    core.behind = None;
    core.queued = None;
    core.prepared = None;
    core.unusable = true;
    Error::Unusable
}

/// What the replies read ahead for a download of `remote` tell of it
/// (what `asks` says, or more), their passive reply left for the data setup
/// ([`Core::answered`]); `None` if none were read for that download.
pub(crate) fn take_prepared(
    core: &mut Core,
    remote: &Arg,
    asks: Asks,
) -> Result<Option<RemoteStat>> {
    let Some(prepared) = core.prepared.take() else {
        return Ok(None);
    };
    if prepared.remote != *remote || !prepared.asks.covers(asks) {
        return Ok(None);
    }
    let mut pairs = prepared.replies.into_iter();
    let stat = batch::stat_of(core, &mut pairs, prepared.asks)?;
    core.answered = pairs.collect();
    Ok(Some(stat))
}
