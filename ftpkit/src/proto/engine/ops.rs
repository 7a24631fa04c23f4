//! The operations: each a plain `async fn` over [`Core`], awaiting nothing
//! but [`Core::perform`]. They are the only place that decides what to
//! send, what a reply means, and what the connection's state becomes.

use std::{io, time::SystemTime};

use super::{Action, Core, Event, Pending, Target};
use crate::{
    error::{Error, InvalidInput, Phase, Result},
    list::MlsdEntry,
    name::Name,
    proto::{
        Abort, AbortStep, Arg, Command, Expect, Features, Protection, Reply, ReplyCode, Secret,
        Session, Step, TransferType, expect,
        hash::HashCommand,
        parse,
        rules::{self, Greeting, Replay},
        session::Owed,
    },
    proxy::{FtpProxyPlan, ProxyError},
    tls::TlsMode,
};

pub(crate) use crate::error::timed_out;

/// An event that does not answer the action: a driver bug, never a server's.
pub(crate) fn unexpected(event: &Event) -> Error {
    Error::Io {
        phase: Phase::Control,
        source: io::Error::other(format!("driver answered with {}", event.name())),
    }
}

/// The outcome of an action that reports [`Event::Done`].
pub(crate) fn done(core: &Core, event: Event, phase: Phase) -> Result<()> {
    match event {
        Event::Done => Ok(()),
        Event::TimedOut => Err(core.timed_out(phase)),
        Event::Failed(e) => Err(e),
        Event::Eof => Err(Error::ConnectionClosed(phase)),
        other => Err(unexpected(&other)),
    }
}

// ----- the control connection ---------------------------------------------

/// Opens the control connection: TCP, TLS at once if implicit, the
/// greeting, then `AUTH TLS` if explicit, all within the connect deadline
/// ([`Config::connect_timeout`](crate::Config::connect_timeout)).
pub(crate) async fn connect(core: &mut Core, target: Target) -> Result<()> {
    if core.config.tls_mode.is_some() && core.config.proxy.as_ref().is_some_and(|p| !p.is_tunnel())
    {
        return Err(ProxyError::TlsThroughFtpProxy.into());
    }
    core.connect_by = Some(core.now() + core.config.connect_timeout);
    let result = connect_within(core, target).await;
    core.connect_by = None;
    result
}

async fn connect_within(core: &mut Core, target: Target) -> Result<()> {
    let deadline = core.bound(core.now() + core.config.connect_timeout);
    let source = core.config.source_address;
    let keepalive = core.config.keepalive;
    let peer = match core
        .perform(Action::Connect {
            target,
            source,
            deadline,
            keepalive,
        })
        .await
    {
        Event::Connected(peer) => peer,
        Event::TimedOut => {
            return Err(match core.timed_out(Phase::Connect) {
                // The TCP connect's own bound is the connect deadline.
                Error::Io { .. } => Error::Deadline {
                    deadline: crate::error::Deadline::Connect,
                    phase: Phase::Connect,
                    last: None,
                },
                other => other,
            });
        }
        Event::Failed(e) => return Err(e),
        other => return Err(unexpected(&other)),
    };
    core.session = Session::new(
        peer,
        core.config.mode,
        core.config.trust_pasv_address,
        core.config.use_epsv,
    );
    if core.config.tls_mode == Some(TlsMode::Implicit) {
        start_tls(core).await?;
    }
    core.welcome = greeting(core).await?;
    if core.config.tls_mode == Some(TlsMode::Explicit) {
        auth(core).await?;
    }
    Ok(())
}

/// Reads the greeting, waiting through at most
/// [`rules::MAX_GREETING_WAITS`] `120` replies; one more is a refusal.
async fn greeting(core: &mut Core) -> Result<Reply> {
    for _ in 0..rules::MAX_GREETING_WAITS {
        if let Greeting::Ready(welcome) = rules::on_greeting(read_reply(core).await?)? {
            return Ok(welcome);
        }
    }
    let reply = read_reply(core).await?;
    if reply.code().is_completion() {
        return Ok(reply);
    }
    core.unusable = true;
    Err(Error::Reply {
        command: "connect".into(),
        reply,
    })
}

/// Logs in again and returns to the directory after a reconnect.
pub(crate) async fn replay(core: &mut Core, replay: Replay) -> Result<()> {
    if let Some((user, password, account)) = &replay.login {
        login(core, user, password, account.as_deref()).await?;
    }
    if let Some(cwd) = replay.cwd {
        run(core, cwd, Expect::Completion).await?;
    }
    Ok(())
}

/// Settles what a dropped transfer left behind; refuses to run on a
/// connection that is out of step.
pub(crate) async fn settle(core: &mut Core) -> Result<()> {
    if core.is_unusable() {
        return Err(Error::Unusable);
    }
    match core.pending.take() {
        None => Ok(()),
        Some(Pending::Abort { reset }) => abort_transfer(core, reset).await,
        Some(Pending::FinalReply) => read_reply(core).await.map(drop),
    }
}

/// Sends one command; the connection is in flight until its reply is read.
pub(crate) async fn send(core: &mut Core, command: &Command) -> Result<()> {
    send_all(core, std::slice::from_ref(command)).await
}

/// Sends commands in one write (a batch, when more than one); the
/// connection is in flight until their replies are read. What a `FEAT`
/// reply called for and any of them needs goes out first ([`pay_owed`]).
pub(crate) async fn send_all(core: &mut Core, commands: &[Command]) -> Result<()> {
    pay_owed(core, commands).await?;
    write_commands(core, commands).await
}

/// Sends the `OPTS` a `FEAT` reply called for ([`adopt_features`]) that
/// `commands` need ([`rules::needs_utf8_mode`],
/// [`rules::needs_mlst_options`]), one at a time, their replies not
/// mattering (servers that need them accept them; others may refuse
/// harmlessly). Replies read ahead for the next data setup stay usable:
/// an `OPTS` changes none of them. Called with no reply outstanding.
pub(crate) async fn pay_owed(core: &mut Core, commands: &[Command]) -> Result<()> {
    let owed = core.session.owed();
    let mut due = Vec::new();
    if commands.iter().any(rules::needs_utf8_mode)
        && let Some(command) = owed.utf8.take()
    {
        due.push(command);
    }
    if commands.iter().any(rules::needs_mlst_options)
        && let Some(command) = owed.mlst.take()
    {
        due.push(command);
    }
    if due.is_empty() {
        return Ok(());
    }
    let answered = std::mem::take(&mut core.answered);
    let prepared = core.prepared.take();
    for command in &due {
        write_commands(core, std::slice::from_ref(command)).await?;
        read_reply(core).await?;
    }
    core.answered = answered;
    core.prepared = prepared;
    Ok(())
}

/// Writes commands as they are: [`send_all`] without what is owed.
async fn write_commands(core: &mut Core, commands: &[Command]) -> Result<()> {
    if core.unusable {
        return Err(Error::Unusable);
    }
    let mut bytes = Vec::with_capacity(64 * commands.len());
    for command in commands {
        tracing::debug!(target: "ftpkit::control", "> {command}");
        command.encode(&mut bytes);
    }
    // A reply read ahead in a batch answers nothing once another command
    // went out, nor do the replies read ahead behind a transfer.
    core.answered.clear();
    core.prepared = None;
    core.in_flight = true;
    let deadline = core.idle_deadline();
    let event = core.perform(Action::Send { bytes, deadline }).await;
    let result = done(core, event, Phase::Control);
    if result.is_err() {
        core.unusable = true;
    }
    result
}

/// Reads one reply, whole within the reply deadline
/// ([`Config::reply_timeout`](crate::Config::reply_timeout)) and each
/// read within the idle timeout. An I/O or protocol failure, or a 421,
/// leaves the connection unusable.
pub(crate) async fn read_reply(core: &mut Core) -> Result<Reply> {
    if core.unusable {
        return Err(Error::Unusable);
    }
    core.in_flight = true;
    core.reply_by = Some(core.now() + core.config.whole_reply_timeout());
    let result = read_whole_reply(core).await;
    core.reply_by = None;
    result
}

async fn read_whole_reply(core: &mut Core) -> Result<Reply> {
    loop {
        if let Some(reply) = core.next_reply()? {
            core.in_flight = false;
            return Ok(reply);
        }
        let deadline = core.idle_deadline();
        if !read_some(core, deadline).await? {
            core.unusable = true;
            return Err(core.timed_out(Phase::Control));
        }
    }
}

/// Reads control bytes into the reply reader; `false` if the deadline
/// passed first. Any failure leaves the connection unusable.
async fn read_some(core: &mut Core, deadline: std::time::Instant) -> Result<bool> {
    let result = match core.perform(Action::Read { deadline }).await {
        Event::Bytes(bytes) => {
            core.feed(&bytes);
            return Ok(true);
        }
        Event::TimedOut => return Ok(false),
        Event::Eof => Err(Error::ConnectionClosed(Phase::Control)),
        Event::Failed(e) => Err(e),
        other => Err(unexpected(&other)),
    };
    core.unusable = true;
    result
}

/// Reads a reply if one begins within `grace`; `None` if none began. A
/// reply that began is read to its end under the idle timeout (one rule
/// for every driver).
pub(crate) async fn read_reply_within(
    core: &mut Core,
    grace: std::time::Duration,
) -> Result<Option<Reply>> {
    let deadline = core.bound(core.now() + grace);
    while !core.reader.has_pending() {
        if !read_some(core, deadline).await? {
            return Ok(None);
        }
    }
    read_reply(core).await.map(Some)
}

impl Core {
    /// Appends control bytes received from the server.
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        self.reader.feed(bytes);
    }

    /// The next complete reply among the bytes received, traced; a reply
    /// that closes the connection (421) or a broken one leaves it unusable.
    pub(crate) fn next_reply(&mut self) -> Result<Option<Reply>> {
        match self.reader.next_reply() {
            Ok(Some(reply)) => {
                for line in reply.lines() {
                    tracing::debug!(target: "ftpkit::control", "< {}", String::from_utf8_lossy(line));
                }
                if rules::closes_connection(&reply) {
                    self.unusable = true;
                }
                Ok(Some(reply))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                self.unusable = true;
                Err(e.into())
            }
        }
    }
}

/// Sends one command and reads its reply, whatever its class.
pub(crate) async fn exchange(core: &mut Core, command: &Command) -> Result<Reply> {
    settle(core).await?;
    send(core, command).await?;
    read_reply(core).await
}

/// Sends one command and requires a reply of the `expected` class. A 1xx
/// to a command that opens no transfer leaves the connection unusable.
pub(crate) async fn run(core: &mut Core, command: Command, expected: Expect) -> Result<Reply> {
    let reply = exchange(core, &command).await?;
    answer(core, &command, reply, expected)
}

/// Requires `reply` to `command` to be of the `expected` class, as
/// [`run`] does.
pub(crate) fn answer(
    core: &mut Core,
    command: &Command,
    reply: Reply,
    expected: Expect,
) -> Result<Reply> {
    if rules::is_stray_preliminary(&reply, expected) {
        core.unusable = true;
    }
    expect(command, reply, expected)
}

// ----- TLS --------------------------------------------------------------

/// Starts TLS on the control connection. Bytes that arrived in clear after
/// the last reply are discarded first: they cannot be trusted
/// (CVE-2021-22947).
async fn start_tls(core: &mut Core) -> Result<()> {
    let tls = core.tls_params()?;
    if !core.reader.buffered().is_empty() {
        tracing::warn!(target: "ftpkit::tls", bytes = core.reader.buffered().len(), "discarding bytes sent in clear before the TLS handshake");
    }
    core.reader.discard_buffered();
    core.in_flight = true;
    let deadline = core.idle_deadline();
    let event = core.perform(Action::StartTls { tls, deadline }).await;
    let result = match event {
        Event::Secured(version) => {
            core.tls_version = version;
            Ok(())
        }
        other => done(core, other, Phase::Control),
    };
    match result {
        Ok(()) => {
            core.secure = true;
            core.in_flight = false;
            Ok(())
        }
        Err(e) => {
            core.unusable = true;
            Err(e)
        }
    }
}

/// `AUTH TLS` (explicit FTPS, RFC 4217): a refusal (4xx or 5xx) is an error
/// that leaves the connection usable and in clear text; any other reply but
/// 234 is an error that leaves it unusable.
pub(crate) async fn auth(core: &mut Core) -> Result<Reply> {
    if core.secure {
        return Err(Error::InvalidInput(InvalidInput::Tls(
            "the control connection is already secured".into(),
        )));
    }
    let reply = run(core, Command::AuthTls, Expect::Completion).await?;
    if reply.code() != ReplyCode::AUTH_OK {
        core.unusable = true;
        return Err(Error::Reply {
            command: "AUTH TLS".into(),
            reply,
        });
    }
    start_tls(core).await?;
    Ok(reply)
}

/// `PBSZ 0` then `PROT level`.
pub(crate) async fn set_protection(core: &mut Core, level: Protection) -> Result<Reply> {
    if !core.secure {
        return Err(Error::InvalidInput(InvalidInput::Tls(
            "PROT needs a TLS control connection (AUTH TLS first)".into(),
        )));
    }
    run(core, Command::Pbsz0, Expect::Completion).await?;
    let reply = run(core, Command::Prot(level), Expect::Completion).await?;
    core.protection = level;
    core.config.data_protection = level;
    Ok(reply)
}

/// Negotiates the data protection level asked for, once, before the first
/// transfer.
pub(crate) async fn ensure_protection(core: &mut Core) -> Result<()> {
    if core.secure && core.protection != core.config.data_protection {
        set_protection(core, core.config.data_protection).await?;
    }
    Ok(())
}

/// `CCC`: the control connection back to clear text.
pub(crate) async fn ccc(core: &mut Core) -> Result<Reply> {
    ensure_protection(core).await?;
    let reply = run(core, Command::Ccc, Expect::Completion).await?;
    core.in_flight = true;
    let deadline = core.idle_deadline();
    let event = core.perform(Action::StopTls { deadline }).await;
    match done(core, event, Phase::Control) {
        Ok(()) => {
            core.secure = false;
            core.in_flight = false;
            Ok(reply)
        }
        Err(e) => {
            core.unusable = true;
            Err(e)
        }
    }
}

// ----- login and simple commands ------------------------------------------

/// `USER`, `PASS`, `ACCT` as the server asks, with ftplib's anonymous
/// defaults; remembered for a reconnect.
pub(crate) async fn login(
    core: &mut Core,
    user: &str,
    password: &str,
    account: Option<&str>,
) -> Result<Reply> {
    rules::check_credentials_allowed(core.config.tls_mode, core.secure)?;
    let plan =
        core.config.proxy.as_ref().and_then(|proxy| {
            crate::proxy::ftp_login_plan(proxy, user, &core.host, core.origin_port)
        });
    let reply = match plan {
        None => login_as(core, user, password, account).await?,
        Some(FtpProxyPlan::User(proxied)) => login_as(core, &proxied, password, account).await?,
        Some(FtpProxyPlan::Command {
            proxy_login,
            command,
        }) => {
            if let Some((proxy_user, proxy_password)) = proxy_login {
                login_as(core, &proxy_user, &proxy_password, None).await?;
            }
            run(core, Command::raw(command)?, Expect::Completion).await?;
            login_as(core, user, password, account).await?
        }
    };
    core.memory.on_login(user, password, account);
    Ok(reply)
}

/// One `USER`/`PASS`/`ACCT` exchange.
async fn login_as(
    core: &mut Core,
    user: &str,
    password: &str,
    account: Option<&str>,
) -> Result<Reply> {
    let mut login = rules::login_for(user, password, account)?;
    let mut command = login.start();
    loop {
        let reply = exchange(core, &command).await?;
        match login.on_reply(reply)? {
            Step::Send(next) => command = next,
            Step::Done(reply) => return Ok(reply),
        }
    }
}

/// `ACCT`.
pub(crate) async fn acct(core: &mut Core, account: &str) -> Result<Reply> {
    rules::check_credentials_allowed(core.config.tls_mode, core.secure)?;
    let command = Command::Acct(Secret::new(account)?);
    run(core, command, Expect::Completion).await
}

/// `CWD` (`..` as `CDUP`, falling back to `CWD ..`; empty as `.`).
pub(crate) async fn cwd(core: &mut Core, path: &[u8]) -> Result<Reply> {
    let (first, cwd) = rules::cwd_commands(path)?;
    if first.is_some() {
        let result = cdup(core).await;
        if !rules::cdup_unknown(&result) {
            return result;
        }
    }
    let reply = run(core, cwd, Expect::Completion).await?;
    core.memory.on_cwd();
    Ok(reply)
}

/// `CDUP`.
pub(crate) async fn cdup(core: &mut Core) -> Result<Reply> {
    let reply = run(core, Command::Cdup, Expect::Completion).await?;
    core.memory.on_cwd();
    Ok(reply)
}

/// `PWD`.
pub(crate) async fn pwd(core: &mut Core) -> Result<Name> {
    let reply = run(core, Command::Pwd, Expect::Completion).await?;
    let dir = parse::parse_257(&reply)?;
    // What a reconnect returns to.
    core.memory.set_dir(dir.clone());
    Ok(dir)
}

/// One `PWD` if a `CWD` made the directory unknown, for a reconnect.
pub(crate) async fn remember_cwd(core: &mut Core) -> Result<()> {
    if core.memory.needs_pwd() {
        pwd(core).await?;
    }
    Ok(())
}

/// `MKD`: the path the server reports (or the one asked).
pub(crate) async fn mkd(core: &mut Core, path: &[u8]) -> Result<Name> {
    let reply = run(core, Command::Mkd(Arg::path(path)?), Expect::Completion).await?;
    Ok(rules::mkd_result(&reply, path))
}

/// A command with one path argument that must get a 2xx (`RMD`, `DELE`).
pub(crate) async fn on_path(
    core: &mut Core,
    make: fn(Arg) -> Command,
    path: &[u8],
) -> Result<Reply> {
    let command = make(Arg::path(path)?);
    run(core, command, Expect::Completion).await
}

/// `RNFR` then `RNTO`.
pub(crate) async fn rename(core: &mut Core, from: &[u8], to: &[u8]) -> Result<Reply> {
    let [(rnfr, e1), (rnto, e2)] = rules::rename_commands(from, to)?;
    run(core, rnfr, e1).await?;
    run(core, rnto, e2).await
}

/// `TYPE` if the session is not in `ty` already.
pub(crate) async fn ensure_type(core: &mut Core, ty: TransferType) -> Result<()> {
    if let Some(command) = core.session.type_command(ty) {
        run(core, command, Expect::Completion).await?;
        core.session.type_set(ty);
    }
    Ok(())
}

/// `SIZE`, in `TYPE I` so the answer counts bytes.
pub(crate) async fn size(core: &mut Core, path: &[u8]) -> Result<u64> {
    let path = Arg::path(path)?;
    ensure_type(core, TransferType::Binary).await?;
    let reply = run(core, Command::Size(path), Expect::Completion).await?;
    Ok(parse::parse_size(&reply)?)
}

/// `MDTM`, in UTC.
pub(crate) async fn mdtm(core: &mut Core, path: &[u8]) -> Result<SystemTime> {
    let reply = run(core, Command::Mdtm(Arg::path(path)?), Expect::Completion).await?;
    Ok(parse::parse_mdtm(&reply)?)
}

/// `MLST`: the facts of one path.
pub(crate) async fn mlst(core: &mut Core, path: &[u8]) -> Result<MlsdEntry> {
    let command = Command::Mlst(rules::optional_path(path)?);
    let reply = run(core, command, Expect::Completion).await?;
    rules::mlst_facts(&reply)
}

/// `FEAT`, once per session; what it calls for is owed ([`adopt_features`]).
pub(crate) async fn features(core: &mut Core) -> Result<()> {
    if core.session.features().is_none() {
        let reply = exchange(core, &Command::Feat).await?;
        adopt_features(core, &reply)?;
    }
    Ok(())
}

/// Remembers the features a `FEAT` reply lists, and owes the commands they
/// call for (`OPTS UTF8 ON`, `OPTS MLST`): each is sent before the first
/// command that needs it ([`pay_owed`]), not at once.
pub(crate) fn adopt_features(core: &mut Core, reply: &Reply) -> Result<()> {
    let features = Features::parse(reply);
    let utf8 = rules::after_features(&features, core.config.encoding.is_utf8())?;
    let mlst = rules::mlst_options(&features)?;
    core.session.set_features(features);
    *core.session.owed() = Owed { utf8, mlst };
    Ok(())
}

/// Ends the session: `QUIT`, its `221` not awaited (a caller about to
/// close the connection would wait a round trip for it), and the
/// connection left unusable for the driver to close. Every transfer's final
/// reply was read before, so nothing is lost.
pub(crate) async fn hang_up(core: &mut Core) {
    if !core.is_unusable() && settle(core).await.is_ok() {
        let _ = send(core, &Command::Quit).await;
    }
    core.unusable = true;
}

/// Sends a raw command line without reading its reply: the caller reads
/// it with [`get_reply`] (ftplib's `putcmd`/`getresp`).
pub(crate) async fn put_raw(core: &mut Core, line: &[u8]) -> Result<()> {
    let command = Command::raw(line)?;
    settle(core).await?;
    core.memory.on_raw(&command);
    if rules::changes_type(line) {
        core.session.forget_type();
    }
    // Sent as it is, nothing owed before it: the caller may have replies of
    // its own to read still.
    write_commands(core, std::slice::from_ref(&command)).await?;
    // The reply is the caller's to read: the connection is not out of step.
    core.in_flight = false;
    Ok(())
}

/// Reads one reply without sending anything; every code is returned.
pub(crate) async fn get_reply(core: &mut Core) -> Result<Reply> {
    let reply = read_reply(core).await?;
    core.in_flight = false;
    Ok(reply)
}

/// A raw command line: `require` a 2xx (`voidcmd`) or take any reply but
/// 4xx and 5xx (`sendcmd`).
pub(crate) async fn raw(core: &mut Core, line: &[u8], require_completion: bool) -> Result<Reply> {
    let command = Command::raw(line)?;
    core.memory.on_raw(&command);
    let reply = exchange(core, &command).await?;
    if rules::changes_type(line) {
        core.session.forget_type();
    }
    if !require_completion {
        return rules::sendcmd_result(&command, reply);
    }
    if rules::is_stray_preliminary(&reply, Expect::Completion) {
        core.unusable = true;
    }
    expect(&command, reply, Expect::Completion)
}

/// `ABOR` with no transfer running: 225, 226 or 426.
pub(crate) async fn abort(core: &mut Core) -> Result<Reply> {
    let reply = exchange(core, &Command::Abor).await?;
    rules::abort_result(reply)
}

/// The server's checksum of `path` with the best command it advertises
/// (`OPTS HASH` first if needed); `None` if it advertises none.
pub(crate) async fn remote_hash(
    core: &mut Core,
    path: &[u8],
) -> Result<Option<(HashCommand, Vec<u8>)>> {
    match ask_remote_hash(core, path).await? {
        Some(asked) => remote_hash_reply(core, asked).await.map(Some),
        None => Ok(None),
    }
}

/// A checksum command sent, its reply not read yet: the client may do
/// its own work (hash the local file) while the server computes.
pub(crate) struct HashAsked {
    kind: HashCommand,
    command: Command,
}

impl HashAsked {
    /// The algorithm the server was asked for.
    pub(crate) fn algorithm(&self) -> crate::proto::hash::HashAlgorithm {
        self.kind.algorithm()
    }
}

/// The first half of [`remote_hash`]: chooses the command (`OPTS HASH`
/// first if needed) and sends it; `None` if the server advertises none.
/// [`remote_hash_reply`] must follow.
pub(crate) async fn ask_remote_hash(core: &mut Core, path: &[u8]) -> Result<Option<HashAsked>> {
    features(core).await?;
    let Some(kind) = core.session.features().and_then(HashCommand::choose) else {
        return Ok(None);
    };
    let path = Arg::path(path)?;
    if let Some(opts) = kind.opts_argument()
        && core.hash_selected != Some(kind)
    {
        run(
            core,
            Command::Opts(Arg::new("OPTS", opts)?),
            Expect::Completion,
        )
        .await?;
        core.hash_selected = Some(kind);
    }
    let command = Command::Checksum(kind, path);
    settle(core).await?;
    send(core, &command).await?;
    Ok(Some(HashAsked { kind, command }))
}

/// The second half of [`remote_hash`]: reads the checksum's reply.
pub(crate) async fn remote_hash_reply(
    core: &mut Core,
    asked: HashAsked,
) -> Result<(HashCommand, Vec<u8>)> {
    let reply = read_reply(core).await?;
    let reply = answer(core, &asked.command, reply, Expect::Completion)?;
    Ok((asked.kind, asked.kind.parse_reply(&reply)?))
}

/// Ends an interrupted transfer: `ABOR`, the data connection closed (reset
/// for uploads), then `NOOP` after the first reply, and every reply up to
/// NOOP's 200 consumed, as the core's [`Abort`] directs. A failure leaves
/// the connection unusable.
pub(crate) async fn abort_transfer(core: &mut Core, reset: bool) -> Result<()> {
    if core.queued.take().is_some() {
        // Commands went out behind the transfer: their replies and the
        // abort's could not be told apart. The data connection is closed
        // and the control connection left to replace (a plan's retry
        // reconnects); no overlap again.
        core.overlap_refused = true;
        core.unusable = true;
        let event = core.perform(Action::CloseData { reset }).await;
        let _ = done(core, event, Phase::Data);
        return Err(Error::Unusable);
    }
    let result = abort_sequence(core, reset).await;
    if result.is_err() {
        core.unusable = true;
    }
    result
}

async fn abort_sequence(core: &mut Core, reset: bool) -> Result<()> {
    send(core, &Abort::COMMAND).await?;
    let event = core.perform(Action::CloseData { reset }).await;
    done(core, event, Phase::Data)?;
    let mut abort = Abort::new();
    let mut step = AbortStep::Read;
    loop {
        step = match step {
            AbortStep::Read => abort.on_reply(read_reply(core).await?)?,
            AbortStep::SendNoop => {
                send(core, &Command::Noop).await?;
                AbortStep::Read
            }
            AbortStep::ReadBriefly => {
                core.in_flight = true;
                match read_reply_within(core, rules::ABORT_GRACE).await? {
                    Some(reply) => abort.on_reply(reply)?,
                    None => abort.on_quiet(),
                }
            }
            AbortStep::Done => {
                core.in_flight = false;
                return Ok(());
            }
        };
    }
}

/// Reads a transfer's final reply.
pub(crate) async fn final_reply(core: &mut Core) -> Result<Reply> {
    read_reply(core).await
}

/// Opens a new control connection to the same server address in place of
/// the old one, runs TLS as configured, logs in again and returns to the
/// directory. A failure leaves the connection unusable. The one reconnect:
/// the plans run it in place, the public `reconnect` on a
/// [`Core::successor`].
pub(crate) async fn reconnect(core: &mut Core) -> Result<()> {
    if core.supplied {
        core.unusable = true;
        return Err(Error::InvalidInput(InvalidInput::Address(
            "a connection over a supplied stream cannot reconnect".into(),
        )));
    }
    let memory_replay = core.memory.replay()?;
    let mode = core.session.mode();
    let peer = core.session.peer();
    core.reset();
    let memory = core.memory.clone();
    let mut result = connect(core, Target::Addr(peer)).await;
    if result.is_ok() {
        core.session.set_mode(mode);
        result = replay(core, memory_replay).await;
    }
    core.memory = memory;
    match result {
        Ok(()) => {
            tracing::info!(target: "ftpkit::control", host = %core.host, "reconnected");
            Ok(())
        }
        Err(e) => {
            core.unusable = true;
            Err(e)
        }
    }
}
