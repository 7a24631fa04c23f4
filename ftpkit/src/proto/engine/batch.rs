//! Pipelining (RFC 959 lets a client send commands before the replies):
//! the commands whose replies do not change what is sent next go out in
//! one write and are answered in one round trip.
//!
//! A download sends `TYPE I` (when the session is in another type),
//! `SIZE`, `MDTM` and `EPSV`/`PASV` together; `RETR` follows once the
//! data address is known. The replies are matched to the commands in
//! order, and each must be one its command can get: a refusal answers
//! anything, but a `229` answers only `EPSV`, a `213` only `SIZE` or
//! `MDTM`. A server that answers out of order, merges replies or drops
//! the rest of a batch (a reply that does not come within
//! [`grace`] of the one before) is given a new connection and one command
//! at a time for the rest of the client's life
//! ([`Core::pipelining_refused`]); the operation goes on there.
//!
//! A server that only reorders (every reply came, and each fits one
//! command and no other: libunftp answers `SIZE` and `MDTM` from tasks of
//! their own, so a pipelined `EPSV` is answered before them) keeps its
//! connection: the replies are put back in order ([`match_by_kind`]), the
//! batch's passive reply is used, and no batch is sent to it again.
//! Replacing that connection would leave libunftp listening on the
//! passive port for 15 seconds: 64 sessions doing so at once filled its
//! passive range, and every `EPSV` after them was refused with `425`.

use std::time::{Duration, Instant};

use super::{Core, ops};
use crate::{
    error::{Error, Result},
    proto::{
        Arg, Command, Expect, Reply, ReplyCode, TransferType, parse,
        resume::{Asks, RemoteStat, optional, unless_refused},
        rules,
    },
};

/// The least time allowed between two replies of a batch.
const MIN_GRACE: Duration = Duration::from_secs(1);

/// Whether this connection sends batches: [`Config::pipelining`] and no
/// server seen to mishandle one.
///
/// [`Config::pipelining`]: crate::Config::pipelining
pub(crate) fn enabled(core: &Core) -> bool {
    core.config.pipelining && !core.pipelining_refused
}

/// How long the later replies of a batch may take, each after the one
/// before: they come right behind the first, which took a round trip and
/// the server's time (`first`); four times that, at least [`MIN_GRACE`]
/// and at most the idle timeout.
pub(crate) fn grace(first: Duration, idle: Duration) -> Duration {
    first.saturating_mul(4).max(MIN_GRACE).min(idle)
}

/// Whether `reply` can answer `command`: a refusal answers any command; a
/// positive reply must be the one the command gets (`211` for `FEAT`,
/// and for no other), and a `213` must read
/// as what its command asked (a size, a time), since `SIZE` and `MDTM`
/// answered in each other's place share the code. Another one means the
/// server answered out of order or merged replies.
pub(crate) fn answers(command: &Command, reply: &Reply) -> bool {
    let code = reply.code();
    if code.is_negative() {
        return true;
    }
    let others = [
        ReplyCode::SYSTEM_STATUS,
        ReplyCode::FILE_STATUS,
        ReplyCode::PASSIVE,
        ReplyCode::EXTENDED_PASSIVE,
    ];
    match command {
        Command::Feat => code == ReplyCode::SYSTEM_STATUS,
        Command::Size(_) => code == ReplyCode::FILE_STATUS && parse::parse_size(reply).is_ok(),
        Command::Mdtm(_) => code == ReplyCode::FILE_STATUS && parse::parse_mdtm(reply).is_ok(),
        Command::Epsv => code == ReplyCode::EXTENDED_PASSIVE,
        Command::Pasv => code == ReplyCode::PASSIVE,
        Command::Rest(_) => code == ReplyCode::PENDING,
        _ => code.is_completion() && !others.contains(&code),
    }
}

/// Sends `commands` in one write and reads their replies in order; `None`
/// when the server mishandled the batch: pipelining is then off for good
/// and the connection was replaced (logged in again, back in its
/// directory), for the caller to go on one command at a time.
pub(crate) async fn exchange(core: &mut Core, commands: &[Command]) -> Result<Option<Vec<Reply>>> {
    ops::settle(core).await?;
    ops::send_all(core, commands).await?;
    let sent = core.now();
    let mut replies = Vec::with_capacity(commands.len());
    let mut within = None;
    for (n, command) in commands.iter().enumerate() {
        let reply = match within {
            None => Some(ops::read_reply(core).await?),
            Some(grace) => ops::read_reply_within(core, grace).await?,
        };
        let reply = match reply {
            Some(reply) if answers(command, &reply) => reply,
            Some(reply) => {
                // Out of order: the rest of the batch's replies, due
                // within the grace.
                replies.push(reply);
                let grace = within.unwrap_or_else(|| grace(since(core, sent), core.config.timeout));
                while replies.len() < commands.len() {
                    match ops::read_reply_within(core, grace).await {
                        Ok(Some(reply)) => replies.push(reply),
                        _ => break,
                    }
                }
                return reordered(core, commands, command, replies).await;
            }
            None => {
                refused(core, command).await?;
                return Ok(None);
            }
        };
        if rules::closes_connection(&reply) {
            return Err(Error::Reply {
                command: command.to_string(),
                reply,
            });
        }
        within.get_or_insert_with(|| grace(since(core, sent), core.config.timeout));
        replies.push(reply);
        // The rest of the batch still awaits its replies.
        core.in_flight = n + 1 < commands.len();
    }
    Ok(Some(replies))
}

fn since(core: &Core, then: Instant) -> Duration {
    core.now().saturating_duration_since(then)
}

/// The server mishandled a batch at `command`: no more batches, and a new
/// connection in place of this one, whose replies can no longer be told
/// apart.
async fn refused(core: &mut Core, command: &Command) -> Result<()> {
    tracing::warn!(
        target: "ftpkit::control",
        %command,
        "the server mishandled pipelined commands; one at a time from now on, on a new connection"
    );
    core.pipelining_refused = true;
    core.unusable = true;
    ops::reconnect(core).await
}

/// A batch answered out of order from `at` on, with the `replies` read:
/// no more batches. If every reply came and [`match_by_kind`] can put
/// them back in order, they are the batch's replies and the connection
/// goes on, nothing in flight; otherwise it is replaced ([`refused`]).
async fn reordered(
    core: &mut Core,
    commands: &[Command],
    at: &Command,
    replies: Vec<Reply>,
) -> Result<Option<Vec<Reply>>> {
    if let Some(reply) = replies.iter().find(|reply| rules::closes_connection(reply)) {
        return Err(Error::Reply {
            command: at.to_string(),
            reply: reply.clone(),
        });
    }
    let complete = replies.len() == commands.len();
    let Some(replies) = complete.then(|| match_by_kind(commands, replies)).flatten() else {
        refused(core, at).await?;
        return Ok(None);
    };
    tracing::warn!(
        target: "ftpkit::control",
        %at,
        "the server answered pipelined commands out of order; one at a time from now on"
    );
    core.pipelining_refused = true;
    core.in_flight = false;
    Ok(Some(replies))
}

/// Puts the `replies` of a batch answered out of order back in the order
/// of its `commands`: each positive reply goes to the one command still
/// unanswered that it [`answers`] (a reply that fits two waits until one
/// is taken: a `213` that reads as a time and as a size goes to `MDTM`
/// once the other `213` took `SIZE`), then the refusal, if any, to the
/// one command left. `None` when that leaves a doubt: a reply that fits
/// none or stays between two, or more than one refusal.
pub(crate) fn match_by_kind(commands: &[Command], replies: Vec<Reply>) -> Option<Vec<Reply>> {
    let (refusals, mut positive): (Vec<Reply>, Vec<Reply>) = replies
        .into_iter()
        .partition(|reply| reply.code().is_negative());
    let mut slots: Vec<Option<Reply>> = commands.iter().map(|_| None).collect();
    while !positive.is_empty() {
        let before = positive.len();
        let mut undecided = Vec::new();
        for reply in positive {
            let free: Vec<usize> = commands
                .iter()
                .zip(&slots)
                .enumerate()
                .filter(|(_, (command, slot))| slot.is_none() && answers(command, &reply))
                .map(|(n, _)| n)
                .collect();
            match free.as_slice() {
                [] => return None,
                [n] => *slots.get_mut(*n)? = Some(reply),
                _ => undecided.push(reply),
            }
        }
        if undecided.len() == before {
            return None;
        }
        positive = undecided;
    }
    if refusals.len() > 1 {
        return None;
    }
    let mut refusals = refusals.into_iter();
    let ordered = slots
        .into_iter()
        .map(|slot| slot.or_else(|| refusals.next()))
        .collect::<Option<Vec<Reply>>>()?;
    refusals.next().is_none().then_some(ordered)
}

/// Sends in one batch what a binary transfer needs before its transfer
/// command: `TYPE I` if the session is in another type, `FEAT` if
/// `features` and the session has not asked it yet (the checksum a
/// verification will use), `SIZE` and `MDTM` of `remote` unless `known`
/// (as `asks` says), and the passive mode's `EPSV`/`PASV`, whose reply the
/// data setup then uses ([`Core::answered`]). What `FEAT` calls for
/// (`OPTS UTF8 ON`, `OPTS MLST`) is owed ([`ops::pay_owed`]): sent only
/// before a command that needs it, such as a `RETR` of a name that is not
/// ASCII. Returns
/// what the server told of the file (`None` for a refused `SIZE` or
/// `MDTM`, as [`super::files::remote_stat`]), or `None` if the server
/// mishandled a batch: the caller goes on one command at a time on the
/// new connection.
pub(crate) async fn prepare_retr(
    core: &mut Core,
    remote: &Arg,
    asks: Asks,
    known: Option<RemoteStat>,
    features: bool,
) -> Result<Option<RemoteStat>> {
    ops::settle(core).await?;
    ops::ensure_protection(core).await?;
    let ty = core.session.type_command(TransferType::Binary);
    let passive = core.session.passive_command();
    let mut commands: Vec<Command> = ty.iter().cloned().collect();
    let feat = features && core.session.features().is_none();
    if feat {
        commands.push(Command::Feat);
    }
    if known.is_none() {
        commands.extend(stat_commands(remote, asks));
    }
    // A passive reply an earlier batch read ahead still answers the data
    // setup (a segmented download's `SIZE` batch, then one connection).
    let answered =
        matches!(core.answered.as_slice(), [(sent, _)] if Some(sent) == passive.as_ref());
    if !answered {
        commands.extend(passive.iter().cloned());
    }
    if commands.is_empty() {
        return Ok(known);
    }
    // Sending clears a reply read ahead: kept aside meanwhile.
    let kept = std::mem::take(&mut core.answered);
    let Some(replies) = exchange(core, &commands).await? else {
        return Ok(None);
    };
    let mut pairs = commands
        .into_iter()
        .zip(replies)
        .collect::<Vec<_>>()
        .into_iter();
    if ty.is_some()
        && let Some((command, reply)) = pairs.next()
    {
        ops::answer(core, &command, reply, Expect::Completion)?;
        core.session.type_set(TransferType::Binary);
    }
    if feat && let Some((_, reply)) = pairs.next() {
        // The batch's `EPSV` worked: a server that does not list it in
        // `FEAT` is still asked for it.
        if pairs.as_slice().iter().any(|(command, reply)| {
            *command == Command::Epsv && reply.code() == ReplyCode::EXTENDED_PASSIVE
        }) {
            core.session.epsv_works();
        }
        // A server without FEAT refuses it: no features, as one at a time.
        // What it calls for is owed: sent before the first command that
        // needs it (an `OPTS UTF8 ON` before a name that is not ASCII).
        ops::adopt_features(core, &reply)?;
    }
    let stat = match known {
        Some(stat) => Ok(stat),
        None => stat_of(core, &mut pairs, asks),
    };
    // (FEAT may list PRET: the data setup then sends `PRET` first, and a
    // reply read ahead for a command it does not send is dropped.)
    let answered_now: Vec<(Command, Reply)> = pairs.collect();
    let stat = stat?;
    core.answered = if answered { kept } else { answered_now };
    Ok(Some(stat))
}

/// The size of an uploaded `target` (`None` where the server does not
/// implement `SIZE`, as [`optional`]), with `FEAT` in the same batch if
/// `features` and the session has not asked it yet: a verification knows
/// which checksum to use without a round trip of its own. What `FEAT`
/// calls for is owed ([`ops::pay_owed`]). One command at a time otherwise, or
/// once the server mishandled a batch.
pub(crate) async fn size_and_features(
    core: &mut Core,
    target: &Arg,
    features: bool,
) -> Result<Option<u64>> {
    let binary = core.session.type_command(TransferType::Binary).is_none();
    if !(features && binary && enabled(core) && core.session.features().is_none()) {
        return optional(ops::size(core, target.as_bytes()).await);
    }
    let commands = [Command::Size(target.clone()), Command::Feat];
    let Some(replies) = exchange(core, &commands).await? else {
        return optional(ops::size(core, target.as_bytes()).await);
    };
    let mut pairs = commands.into_iter().zip(replies);
    let size = match pairs.next() {
        Some((command, reply)) => optional(
            ops::answer(core, &command, reply, Expect::Completion)
                .and_then(|reply| Ok(parse::parse_size(&reply)?)),
        ),
        None => Ok(None),
    };
    if let Some((_, reply)) = pairs.next() {
        ops::adopt_features(core, &reply)?;
    }
    size
}

/// The commands that ask of `remote` what `asks` says, in the order
/// [`stat_of`] reads their replies.
pub(crate) fn stat_commands(remote: &Arg, asks: Asks) -> impl Iterator<Item = Command> + use<> {
    let size = asks.size.then(|| Command::Size(remote.clone()));
    let mdtm = asks.mdtm.then(|| Command::Mdtm(remote.clone()));
    size.into_iter().chain(mdtm)
}

/// What the next replies of a batch tell of a file: the `SIZE` and the
/// `MDTM`, each if `asks` says (`None` for what the server refused, as
/// [`super::files::remote_stat`], or did not ask).
pub(crate) fn stat_of(
    core: &mut Core,
    pairs: &mut impl Iterator<Item = (Command, Reply)>,
    asks: Asks,
) -> Result<RemoteStat> {
    let size = match asks.size.then(|| pairs.next()).flatten() {
        Some((command, reply)) => unless_refused(
            ops::answer(core, &command, reply, Expect::Completion)
                .and_then(|reply| Ok(parse::parse_size(&reply)?)),
        )?,
        None => None,
    };
    let modified = match asks.mdtm.then(|| pairs.next()).flatten() {
        Some((command, reply)) => unless_refused(
            ops::answer(core, &command, reply, Expect::Completion)
                .and_then(|reply| Ok(parse::parse_mdtm(&reply)?)),
        )?,
        None => None,
    };
    Ok(RemoteStat { size, modified })
}

/// Before a data setup that must change the type: `TYPE`, the passive
/// mode's `EPSV`/`PASV` and, for a transfer that starts at `rest`, its
/// `REST`, in one batch, the replies after the first kept for the setup
/// ([`Core::answered`]): a range of a segmented download on a new
/// connection starts one round trip sooner. Nothing when pipelining is
/// off, in active mode, or when the type is already right.
pub(crate) async fn type_and_passive(
    core: &mut Core,
    ty: TransferType,
    rest: Option<u64>,
) -> Result<()> {
    if !enabled(core) {
        return Ok(());
    }
    let (Some(type_command), Some(passive)) = (
        core.session.type_command(ty),
        core.session.passive_command(),
    ) else {
        return Ok(());
    };
    let mut commands = vec![type_command, passive];
    commands.extend(rest.map(Command::Rest));
    let Some(replies) = exchange(core, &commands).await? else {
        return Ok(());
    };
    let mut pairs = commands.into_iter().zip(replies);
    if let Some((first, reply)) = pairs.next() {
        ops::answer(core, &first, reply, Expect::Completion)?;
        core.session.type_set(ty);
    }
    core.answered = pairs.collect();
    Ok(())
}
