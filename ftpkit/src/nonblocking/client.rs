//! The async [`AsyncClient`]: the blocking [`Client`](crate::Client)'s
//! methods over tokio, driving the same sans-IO core.

use std::{net::SocketAddr, time::SystemTime};

use rustls_pki_types::ServerName;
use tokio::{
    io::{AsyncBufRead, AsyncBufReadExt},
    net::TcpListener,
    time::timeout,
};

use super::{
    control::Control,
    net::{self, timed_out},
    stream::{Handshake, Stream},
    transfer::{AsyncDataReader, AsyncDataWriter, AsyncRetrieve, AsyncStore, Download, Upload},
};
use crate::{
    config::Config,
    error::{Error, InvalidInput, Phase, Result},
    list::MlsdEntry,
    name::Name,
    proto::{
        Abort, AbortStep, Arg, Command, DataMode, DataRequest, DataSetup, DataStep, Expect,
        Features, LineSplitter, Protection, Reply, ReplyCode, Session, Step, TransferType, expect,
        hash::HashCommand,
        parse,
        rules::{self, Greeting, SessionMemory, optional_path},
        to_crlf_line,
    },
    tls::{self, TlsConfig, TlsMode},
};

/// What a dropped transfer left for the next call to settle.
#[derive(Debug)]
pub(crate) enum Pending {
    /// A reader or writer was dropped with its data connection open: the
    /// next call aborts the transfer first (`ABOR`, close, `NOOP`).
    Abort { stream: Stream, reset: bool },
    /// A transfer's data connection is closed but its final reply was not
    /// read: the next call reads and discards it.
    FinalReply,
}

/// An async FTP client on tokio: one control connection, one command at a
/// time. Every method of the blocking [`Client`](crate::Client) has its
/// counterpart here, with the same protocol decisions (they come from
/// [`proto`](crate::proto)), the same TLS rules, and the idle timeout
/// ([`Config::timeout`]) on every socket operation.
///
/// # Cancellation
///
/// Any future of this client may be dropped before it completes:
///
/// - dropping an [`AsyncDataReader`], an [`AsyncDataWriter`], an
///   [`AsyncEntries`](super::AsyncEntries) or a transfer future
///   (`get`, `put`, `to_writer`, `from_reader`, `nlst`, ...) while its data
///   connection is open leaves the transfer to be aborted: the next call on
///   the client first sends `ABOR` and resynchronises, as the blocking
///   client does on drop, and the client stays usable. A writer's data
///   connection is reset, so the server never takes a partial upload for a
///   complete one;
/// - dropping one after its data connection closed but before the final
///   reply arrived leaves that reply to be read (and discarded) by the next
///   call;
/// - dropping any other future while a command is sent or its reply is
///   awaited (a plain command, login, the setup of a transfer before the
///   server's 1xx, `AUTH`, `CCC`, an abort in progress) leaves the control
///   connection out of step: the client is unusable and every later call
///   returns [`Error::Unusable`].
#[derive(Debug)]
pub struct AsyncClient {
    pub(crate) control: Control,
    pub(crate) session: Session,
    pub(crate) config: Config,
    host: String,
    welcome: Reply,
    unusable: bool,
    /// A command was sent (or I/O begun) whose reply was not read yet: if
    /// this is still set when a call begins, that call's predecessor was
    /// dropped mid-way.
    in_flight: bool,
    pub(crate) pending: Option<Pending>,
    tls: Option<(TlsConfig, ServerName<'static>)>,
    protection: Protection,
    /// What [`AsyncClient::reconnect`] logs in with and returns to.
    memory: SessionMemory,
    /// The algorithm `OPTS HASH` selected, if any.
    pub(crate) hash_selected: Option<HashCommand>,
}

impl AsyncClient {
    /// Connects to `addr` (`host`, `host:port`, `[v6addr]:port`; port 21 by
    /// default) with the default [`Config`] and reads the greeting.
    pub async fn connect(addr: &str) -> Result<AsyncClient> {
        AsyncClient::connect_with(addr, Config::default()).await
    }

    /// Connects with the given configuration; starts TLS as
    /// [`Config::tls_mode`] asks (implicit: at once; explicit: `AUTH TLS`
    /// after the greeting). Dropping this future drops the connection.
    pub async fn connect_with(addr: &str, config: Config) -> Result<AsyncClient> {
        let (host, port) = rules::split_host_port(addr, rules::default_port(config.tls_mode))?;
        let tcp =
            net::connect_host(&host, port, config.connect_timeout, config.source_address).await?;
        AsyncClient::over(host, tcp, config).await
    }

    /// Runs the session on an open connection: TLS, greeting, `AUTH`.
    async fn over(host: String, tcp: tokio::net::TcpStream, config: Config) -> Result<AsyncClient> {
        let peer = tcp.peer_addr().map_err(Error::io(Phase::Connect))?;
        let session = Session::new(
            peer,
            config.mode,
            config.trust_pasv_address,
            config.use_epsv,
        );
        let control = Control::new(Stream::Plain(tcp), config.reply_limits, config.timeout);
        let mut client = AsyncClient {
            control,
            session,
            host,
            welcome: Reply::new(ReplyCode::READY, Vec::new()),
            unusable: false,
            in_flight: false,
            pending: None,
            tls: None,
            protection: Protection::Clear,
            config,
            memory: SessionMemory::default(),
            hash_selected: None,
        };
        if client.config.tls_mode == Some(TlsMode::Implicit) {
            client.start_tls().await?;
        }
        client.welcome = client.read_greeting().await?;
        if client.config.tls_mode == Some(TlsMode::Explicit) {
            client.auth().await?;
        }
        Ok(client)
    }

    /// The greeting, waiting through at most
    /// [`rules::MAX_GREETING_WAITS`] `120` replies; one more is a refusal.
    async fn read_greeting(&mut self) -> Result<Reply> {
        for _ in 0..rules::MAX_GREETING_WAITS {
            if let Greeting::Ready(welcome) = rules::on_greeting(self.read_reply().await?)? {
                return Ok(welcome);
            }
        }
        let reply = self.read_reply().await?;
        if reply.code().is_completion() {
            return Ok(reply);
        }
        self.unusable = true;
        Err(Error::Reply {
            command: "connect".into(),
            reply,
        })
    }

    fn tls_settings(&mut self) -> Result<(TlsConfig, ServerName<'static>)> {
        if let Some(settings) = &self.tls {
            return Ok(settings.clone());
        }
        let config = match &self.config.tls {
            Some(config) => config.clone(),
            None => TlsConfig::system()?,
        };
        let port = self.peer_addr().port();
        let settings = (
            config.for_server(&self.host, port),
            tls::server_name(&self.host)?,
        );
        self.tls = Some(settings.clone());
        Ok(settings)
    }

    /// After a failed transfer: if the server refused a data connection's
    /// TLS 1.3 session ([`tls::refuses_tls13_data`]), switches this client
    /// to TLS 1.2 for good and says so; the caller then reconnects.
    pub(crate) fn fall_back_to_tls12(&mut self, error: &Error) -> bool {
        let Some((config, _)) = &self.tls else {
            return false;
        };
        if !tls::refuses_tls13_data(self.control.stream().tls_version(), error) {
            return false;
        }
        let Some(tls12) = config.tls12_fallback() else {
            return false;
        };
        tracing::debug!(target: "ftpkit::tls", %error, "the server refused a TLS 1.3 data connection; TLS 1.2 from now on");
        self.config.tls = Some(tls12);
        true
    }

    async fn start_tls(&mut self) -> Result<()> {
        let (config, name) = self.tls_settings()?;
        self.in_flight = true;
        let result = self.control.start_tls(config.rustls().clone(), name).await;
        match result {
            Ok(()) => self.in_flight = false,
            Err(_) => self.unusable = true,
        }
        result
    }

    /// Secures the control connection with `AUTH TLS` (explicit FTPS, RFC
    /// 4217). Any reply but 234 is an error and the client is unusable.
    /// Dropped mid-way: unusable.
    pub async fn auth(&mut self) -> Result<Reply> {
        if self.control.stream().is_tls() {
            return Err(Error::InvalidInput(InvalidInput::Tls(
                "the control connection is already secured".into(),
            )));
        }
        let reply = self.run(Command::AuthTls, Expect::Completion).await?;
        if reply.code() != ReplyCode::AUTH_OK {
            self.unusable = true;
            return Err(Error::Reply {
                command: "AUTH TLS".into(),
                reply,
            });
        }
        self.start_tls().await?;
        Ok(reply)
    }

    /// Whether the control connection is encrypted.
    pub fn is_secure(&self) -> bool {
        self.control.stream().is_tls()
    }

    /// Encrypts data connections: `PBSZ 0` then `PROT P`.
    pub async fn prot_p(&mut self) -> Result<Reply> {
        self.set_protection(Protection::Private).await
    }

    /// Leaves data connections in clear: `PBSZ 0` then `PROT C`.
    pub async fn prot_c(&mut self) -> Result<Reply> {
        self.set_protection(Protection::Clear).await
    }

    async fn set_protection(&mut self, level: Protection) -> Result<Reply> {
        if !self.control.stream().is_tls() {
            return Err(Error::InvalidInput(InvalidInput::Tls(
                "PROT needs a TLS control connection (AUTH TLS first)".into(),
            )));
        }
        self.run(Command::Pbsz0, Expect::Completion).await?;
        let reply = self.run(Command::Prot(level), Expect::Completion).await?;
        self.protection = level;
        self.config.data_protection = level;
        Ok(reply)
    }

    /// Returns the control connection to clear text (`CCC`, RFC 4217).
    /// Dropped mid-way: unusable.
    pub async fn ccc(&mut self) -> Result<Reply> {
        self.ensure_protection().await?;
        let reply = self.run(Command::Ccc, Expect::Completion).await?;
        self.in_flight = true;
        if let Err(e) = self.control.stop_tls().await {
            self.unusable = true;
            return Err(e);
        }
        self.in_flight = false;
        Ok(reply)
    }

    /// The server's greeting.
    pub fn welcome(&self) -> &Reply {
        &self.welcome
    }

    /// The host name or address given to `connect`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The server's address on the control connection.
    pub fn peer_addr(&self) -> SocketAddr {
        self.session.peer()
    }

    /// Switches between passive and active data connections.
    pub fn set_mode(&mut self, mode: DataMode) {
        self.session.set_mode(mode);
    }

    /// The data connection mode in force.
    pub fn mode(&self) -> DataMode {
        self.session.mode()
    }

    /// Whether an earlier failure, or a future dropped mid-exchange, left
    /// the connection unusable. A transfer left to abort does not count:
    /// the next call settles it.
    pub fn is_unusable(&self) -> bool {
        self.unusable || self.in_flight
    }

    // ----- the control connection -------------------------------------

    /// Settles what a dropped transfer left behind; fails if the client is
    /// unusable.
    pub(crate) async fn settle(&mut self) -> Result<()> {
        if self.is_unusable() {
            return Err(Error::Unusable);
        }
        match self.pending.take() {
            None => Ok(()),
            Some(Pending::Abort { stream, reset }) => self.abort_transfer(stream, reset).await,
            Some(Pending::FinalReply) => {
                self.in_flight = true;
                self.read_reply().await.map(drop)
            }
        }
    }

    /// Sends a command; the client is in flight until its reply is read.
    async fn send(&mut self, command: &Command) -> Result<()> {
        if self.unusable {
            return Err(Error::Unusable);
        }
        self.in_flight = true;
        let result = self.control.send(command).await;
        if result.is_err() {
            self.unusable = true;
        }
        result
    }

    /// Sends one command and reads its reply, whatever its class. An I/O or
    /// protocol failure, or a 421, leaves the client unusable.
    pub(crate) async fn exchange(&mut self, command: &Command) -> Result<Reply> {
        self.settle().await?;
        self.send(command).await?;
        self.read_reply().await
    }

    /// Reads one reply; clears the in-flight mark.
    pub(crate) async fn read_reply(&mut self) -> Result<Reply> {
        if self.unusable {
            return Err(Error::Unusable);
        }
        self.in_flight = true;
        match self.control.read_reply().await {
            Ok(reply) => {
                if rules::closes_connection(&reply) {
                    self.unusable = true;
                }
                self.in_flight = false;
                Ok(reply)
            }
            Err(e) => {
                self.unusable = true;
                Err(e)
            }
        }
    }

    pub(crate) fn mark_unusable(&mut self) {
        self.unusable = true;
    }

    pub(crate) fn set_in_flight(&mut self, on: bool) {
        self.in_flight = on;
    }

    async fn run(&mut self, command: Command, expected: Expect) -> Result<Reply> {
        let reply = self.exchange(&command).await?;
        if rules::is_stray_preliminary(&reply, expected) {
            self.unusable = true;
        }
        expect(&command, reply, expected)
    }

    /// Sends a raw command line and returns the reply; 4xx and 5xx replies
    /// are errors. Lines with CR, LF or NUL are refused before anything is
    /// sent.
    pub async fn sendcmd(&mut self, line: &str) -> Result<Reply> {
        let command = Command::raw(line)?;
        self.memory.on_raw(&command);
        let reply = self.exchange(&command).await?;
        if rules::changes_type(line) {
            self.session.forget_type();
        }
        rules::sendcmd_result(&command, reply)
    }

    /// Sends a raw command line and requires a 2xx reply.
    pub async fn voidcmd(&mut self, line: &str) -> Result<Reply> {
        let command = Command::raw(line)?;
        self.memory.on_raw(&command);
        let reply = self.exchange(&command).await?;
        if rules::changes_type(line) {
            self.session.forget_type();
        }
        if rules::is_stray_preliminary(&reply, Expect::Completion) {
            self.unusable = true;
        }
        expect(&command, reply, Expect::Completion)
    }

    // ----- login --------------------------------------------------------

    /// Logs in; an empty `user` means `anonymous` (password `anonymous@`).
    /// Dropped mid-way: unusable.
    pub async fn login(&mut self, user: &str, password: &str) -> Result<Reply> {
        self.login_inner(user, password, None).await
    }

    /// Logs in as `anonymous` with password `anonymous@`.
    pub async fn login_anonymous(&mut self) -> Result<Reply> {
        self.login_inner("", "", None).await
    }

    /// Logs in, sending `account` if the server asks for one (332).
    pub async fn login_with_account(
        &mut self,
        user: &str,
        password: &str,
        account: &str,
    ) -> Result<Reply> {
        self.login_inner(user, password, Some(account)).await
    }

    async fn login_inner(
        &mut self,
        user: &str,
        password: &str,
        account: Option<&str>,
    ) -> Result<Reply> {
        rules::check_credentials_allowed(self.config.tls_mode, self.control.stream().is_tls())?;
        let mut login = rules::login_for(user, password, account)?;
        let mut command = login.start();
        loop {
            let reply = self.exchange(&command).await?;
            match login.on_reply(reply)? {
                Step::Send(next) => command = next,
                Step::Done(reply) => {
                    self.memory.on_login(user, password, account);
                    return Ok(reply);
                }
            }
        }
    }

    /// Sends an account (`ACCT`).
    pub async fn acct(&mut self, account: &str) -> Result<Reply> {
        rules::check_credentials_allowed(self.config.tls_mode, self.control.stream().is_tls())?;
        self.run(
            Command::Acct(crate::proto::Secret::new(account)?),
            Expect::Completion,
        )
        .await
    }

    // ----- directories and files ----------------------------------------

    /// Changes the working directory; `..` is sent as `CDUP` (falling back
    /// to `CWD ..`), an empty path as `.`.
    pub async fn cwd(&mut self, path: impl AsRef<[u8]>) -> Result<Reply> {
        let (first, cwd) = rules::cwd_commands(path.as_ref())?;
        if first.is_some() {
            let result = self.cdup().await;
            if !rules::cdup_unknown(&result) {
                return result;
            }
        }
        let reply = self.run(cwd, Expect::Completion).await?;
        self.memory.on_cwd();
        Ok(reply)
    }

    /// Moves to the parent directory (`CDUP`).
    pub async fn cdup(&mut self) -> Result<Reply> {
        let reply = self.run(Command::Cdup, Expect::Completion).await?;
        self.memory.on_cwd();
        Ok(reply)
    }

    /// Records the working directory (one `PWD`) if a `CWD` made it
    /// unknown, so that [`AsyncClient::reconnect`] can return to it.
    pub(crate) async fn remember_cwd(&mut self) -> Result<()> {
        if self.memory.needs_pwd() {
            let dir = self.pwd().await?;
            self.memory.set_dir(dir);
        }
        Ok(())
    }

    /// Opens a new control connection to the same server address, runs
    /// TLS as configured, logs in again with the credentials of the last
    /// successful login, and returns to the working directory (what the
    /// core's [`SessionMemory`] says to replay); the old connection is
    /// dropped. Used by `download` and `upload` after a failure; also
    /// useful after [`Error::Unusable`]. Dropped mid-way: the old
    /// connection stays as it was.
    pub async fn reconnect(&mut self) -> Result<()> {
        let replay = self.memory.replay()?;
        let tcp = net::connect_addr(
            self.peer_addr(),
            self.config.connect_timeout,
            self.config.source_address,
        )
        .await
        .map_err(Error::io(Phase::Connect))?;
        let mut fresh = Box::pin(AsyncClient::over(
            self.host.clone(),
            tcp,
            self.config.clone(),
        ))
        .await?;
        fresh.session.set_mode(self.mode());
        if let Some((user, password, account)) = &replay.login {
            fresh
                .login_inner(user, password, account.as_deref())
                .await?;
        }
        if let Some(cwd) = replay.cwd {
            fresh.run(cwd, Expect::Completion).await?;
        }
        fresh.memory = self.memory.clone();
        tracing::info!(target: "ftpkit::control", host = %self.host, "reconnected");
        *self = fresh;
        Ok(())
    }

    /// The working directory (`PWD`).
    pub async fn pwd(&mut self) -> Result<Name> {
        let reply = self.run(Command::Pwd, Expect::Completion).await?;
        Ok(parse::parse_257(&reply)?)
    }

    /// Creates a directory and returns its path as the server reports it.
    pub async fn mkd(&mut self, path: impl AsRef<[u8]>) -> Result<Name> {
        let path = path.as_ref();
        let reply = self
            .run(Command::Mkd(Arg::path(path)?), Expect::Completion)
            .await?;
        Ok(rules::mkd_result(&reply, path))
    }

    /// Removes a directory (`RMD`).
    pub async fn rmd(&mut self, path: impl AsRef<[u8]>) -> Result<Reply> {
        self.run(Command::Rmd(Arg::path(path)?), Expect::Completion)
            .await
    }

    /// Deletes a file (`DELE`).
    pub async fn delete(&mut self, path: impl AsRef<[u8]>) -> Result<Reply> {
        self.run(Command::Dele(Arg::path(path)?), Expect::Completion)
            .await
    }

    /// Renames `from` to `to` (`RNFR` then `RNTO`).
    pub async fn rename(&mut self, from: impl AsRef<[u8]>, to: impl AsRef<[u8]>) -> Result<Reply> {
        let [(rnfr, e1), (rnto, e2)] = rules::rename_commands(from.as_ref(), to.as_ref())?;
        self.run(rnfr, e1).await?;
        self.run(rnto, e2).await
    }

    /// The size of a file in bytes (`SIZE`, after `TYPE I`).
    pub async fn size(&mut self, path: impl AsRef<[u8]>) -> Result<u64> {
        let path = Arg::path(path)?;
        self.ensure_type(TransferType::Binary).await?;
        let reply = self.run(Command::Size(path), Expect::Completion).await?;
        Ok(parse::parse_size(&reply)?)
    }

    /// The modification time of a file (`MDTM`), in UTC.
    pub async fn mdtm(&mut self, path: impl AsRef<[u8]>) -> Result<SystemTime> {
        let reply = self
            .run(Command::Mdtm(Arg::path(path)?), Expect::Completion)
            .await?;
        Ok(parse::parse_mdtm(&reply)?)
    }

    /// Sends `SITE args` and requires a 2xx reply.
    pub async fn site(&mut self, args: &str) -> Result<Reply> {
        self.run(
            Command::Site(Arg::new("SITE arguments", args)?),
            Expect::Completion,
        )
        .await
    }

    /// Sends `NOOP`.
    pub async fn noop(&mut self) -> Result<Reply> {
        self.run(Command::Noop, Expect::Completion).await
    }

    /// The server's features (`FEAT`), asked once per session.
    pub async fn features(&mut self) -> Result<&Features> {
        if self.session.features().is_none() {
            let reply = self.exchange(&Command::Feat).await?;
            let features = Features::parse(&reply);
            let next = rules::after_features(&features)?;
            let mlst = rules::mlst_options(&features)?;
            self.session.set_features(features);
            for command in next.into_iter().chain(mlst) {
                let _ = self.exchange(&command).await?;
            }
        }
        match self.session.features() {
            Some(features) => Ok(features),
            None => Err(Error::Unusable),
        }
    }

    async fn ensure_type(&mut self, ty: TransferType) -> Result<()> {
        if let Some(command) = self.session.type_command(ty) {
            self.run(command, Expect::Completion).await?;
            self.session.type_set(ty);
        }
        Ok(())
    }

    // ----- listings -----------------------------------------------------

    /// Names in a directory (`NLST`).
    pub async fn nlst(&mut self, path: impl AsRef<[u8]>) -> Result<Vec<Name>> {
        let mut names = Vec::new();
        self.lines_of(Command::Nlst(optional_path(path.as_ref())?), |line| {
            names.push(Name::from(line));
        })
        .await?;
        Ok(names)
    }

    /// The raw lines of a `LIST`.
    pub async fn list(&mut self, path: impl AsRef<[u8]>) -> Result<Vec<Name>> {
        let mut lines = Vec::new();
        self.lines_of(Command::List(optional_path(path.as_ref())?), |line| {
            lines.push(Name::from(line));
        })
        .await?;
        Ok(lines)
    }

    /// A machine listing (`MLSD`).
    pub async fn mlsd(&mut self, path: impl AsRef<[u8]>) -> Result<Vec<MlsdEntry>> {
        let mut entries = Vec::new();
        self.lines_of(Command::Mlsd(optional_path(path.as_ref())?), |line| {
            if let Some(entry) = crate::list::parse_mlsd_line(line) {
                entries.push(entry);
            }
        })
        .await?;
        Ok(entries)
    }

    /// The facts of one file or directory (`MLST`).
    pub async fn mlst(&mut self, path: impl AsRef<[u8]>) -> Result<MlsdEntry> {
        let command = Command::Mlst(optional_path(path.as_ref())?);
        let reply = self.run(command, Expect::Completion).await?;
        rules::mlst_facts(&reply)
    }

    /// Runs a raw transfer command in `TYPE A` and calls `callback` with
    /// each line, terminator removed.
    pub async fn retr_lines(
        &mut self,
        command: &str,
        callback: impl FnMut(&[u8]),
    ) -> Result<Reply> {
        self.lines_of(Command::raw(command)?, callback).await
    }

    async fn lines_of(
        &mut self,
        command: Command,
        mut callback: impl FnMut(&[u8]),
    ) -> Result<Reply> {
        let max_line = self.config.max_data_line;
        let mut reader = self.open_reader(command, TransferType::Ascii, None).await?;
        let mut splitter = LineSplitter::new(max_line);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read_data(&mut buf).await?;
            if n == 0 {
                break;
            }
            splitter.feed(buf.get(..n).unwrap_or_default());
            loop {
                match splitter.next_line() {
                    Ok(Some(line)) => callback(line),
                    Ok(None) => break,
                    Err(e) => {
                        let _ = reader.abort().await;
                        return Err(e.into());
                    }
                }
            }
        }
        if let Some(line) = splitter.finish() {
            callback(line);
        }
        reader.finish().await
    }

    /// Uploads lines in `TYPE A`, each line's end sent as CRLF.
    pub async fn store_lines<R: AsyncBufRead + Unpin>(
        &mut self,
        path: impl AsRef<[u8]>,
        mut lines: R,
    ) -> Result<Reply> {
        let command = Command::Stor(Arg::path(path)?);
        let mut writer = self.open_writer(command, TransferType::Ascii, None).await?;
        let mut line = Vec::new();
        let mut out = Vec::new();
        loop {
            line.clear();
            let n = match lines.read_until(b'\n', &mut line).await {
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(Error::io(Phase::Local)(e));
                }
            };
            if n == 0 {
                break;
            }
            out.clear();
            to_crlf_line(&line, &mut out);
            writer.write_data(&out).await?;
        }
        writer.finish().await
    }

    // ----- transfers ------------------------------------------------------

    /// Starts a download of `path` in binary mode; set options on the
    /// returned [`AsyncRetrieve`] and finish with `to_writer`,
    /// `for_each_chunk` or `reader`.
    pub fn retrieve(&mut self, path: impl AsRef<[u8]>) -> AsyncRetrieve<'_> {
        AsyncRetrieve::new(self, Arg::path(path), Download)
    }

    /// Starts an upload to `path` in binary mode; set options on the
    /// returned [`AsyncStore`] and finish with `from_reader` or `writer`.
    pub fn store(&mut self, path: impl AsRef<[u8]>) -> AsyncStore<'_> {
        AsyncStore::new(self, Arg::path(path), Upload::default())
    }

    /// Downloads `path` into `out` in binary mode; returns the byte count.
    pub async fn get<W: tokio::io::AsyncWrite + Unpin + ?Sized>(
        &mut self,
        path: impl AsRef<[u8]>,
        out: &mut W,
    ) -> Result<u64> {
        self.retrieve(path).to_writer(out).await
    }

    /// Uploads everything `input` yields to `path` (`STOR`); returns the
    /// byte count.
    pub async fn put<R: tokio::io::AsyncRead + Unpin + ?Sized>(
        &mut self,
        path: impl AsRef<[u8]>,
        input: &mut R,
    ) -> Result<u64> {
        self.store(path).from_reader(input).await
    }

    /// Appends everything `input` yields to `path` (`APPE`).
    pub async fn append<R: tokio::io::AsyncRead + Unpin + ?Sized>(
        &mut self,
        path: impl AsRef<[u8]>,
        input: &mut R,
    ) -> Result<u64> {
        self.store(path).append().from_reader(input).await
    }

    /// Opens a data connection for a raw transfer command that sends data
    /// to the client, and returns a reader over it.
    pub async fn transfer_reader(
        &mut self,
        command: &str,
        ty: TransferType,
        rest: Option<u64>,
    ) -> Result<AsyncDataReader<'_>> {
        self.open_reader(Command::raw(command)?, ty, rest).await
    }

    /// Opens a data connection for a raw transfer command that receives
    /// data from the client, and returns a writer.
    pub async fn transfer_writer(
        &mut self,
        command: &str,
        ty: TransferType,
        rest: Option<u64>,
    ) -> Result<AsyncDataWriter<'_>> {
        self.open_writer(Command::raw(command)?, ty, rest).await
    }

    pub(crate) async fn open_reader(
        &mut self,
        command: Command,
        ty: TransferType,
        rest: Option<u64>,
    ) -> Result<AsyncDataReader<'_>> {
        let (stream, announced) = self
            .open_data(DataRequest {
                command: command.clone(),
                transfer_type: ty,
                rest,
            })
            .await?;
        let expected = rules::expected_size(announced, ty, rest);
        Ok(AsyncDataReader::new(
            self, stream, command, announced, expected,
        ))
    }

    pub(crate) async fn open_writer(
        &mut self,
        command: Command,
        ty: TransferType,
        rest: Option<u64>,
    ) -> Result<AsyncDataWriter<'_>> {
        let (stream, _) = self
            .open_data(DataRequest {
                command: command.clone(),
                transfer_type: ty,
                rest,
            })
            .await?;
        Ok(AsyncDataWriter::new(self, stream, command))
    }

    async fn ensure_protection(&mut self) -> Result<()> {
        if self.control.stream().is_tls() && self.protection != self.config.data_protection {
            self.set_protection(self.config.data_protection).await?;
        }
        Ok(())
    }

    /// Runs the core's data setup: opens the connection it names, sends
    /// what it asks, and returns the data stream once the server sent 1xx.
    /// Under `PROT P` a passive connection sends its ClientHello at once and
    /// completes the handshake after the 1xx, as the blocking driver does.
    /// The client stays in flight until a reader or writer owns the stream.
    async fn open_data(&mut self, request: DataRequest) -> Result<(Stream, Option<u64>)> {
        self.settle().await?;
        self.ensure_protection().await?;
        let data_tls = match self.protection {
            Protection::Private => Some(self.tls_settings()?),
            Protection::Clear => None,
        };
        let idle = self.control.idle();
        let wrap = async |tcp: tokio::net::TcpStream| -> Result<Handshake> {
            match &data_tls {
                Some((config, name)) => timeout(
                    idle,
                    super::stream::begin_tls(tcp, config.rustls().clone(), name.clone()),
                )
                .await
                .map_err(|_| timed_out(Phase::DataConnect))?
                .map_err(Error::io(Phase::DataConnect)),
                None => Ok(Handshake::plain(tcp)),
            }
        };
        let mut setup = DataSetup::new(request);
        let mut passive = None;
        let mut listener: Option<TcpListener> = None;
        let mut step = setup.start(&mut self.session)?;
        loop {
            step = match step {
                DataStep::Send(command) => {
                    let reply = self.exchange(&command).await?;
                    setup.on_reply(&mut self.session, reply)?
                }
                DataStep::ReadReply => {
                    let reply = self.read_reply().await?;
                    setup.on_reply(&mut self.session, reply)?
                }
                DataStep::Connect(addr) => {
                    tracing::debug!(target: "ftpkit::data", %addr, "connecting");
                    let tcp = net::connect_addr(
                        addr,
                        self.config.connect_timeout,
                        self.config.source_address,
                    )
                    .await
                    .map_err(Error::io(Phase::DataConnect))?;
                    passive = Some(wrap(tcp).await?);
                    setup.connected()
                }
                DataStep::Listen => {
                    let local = self
                        .control
                        .stream()
                        .tcp()
                        .and_then(|tcp| tcp.local_addr())
                        .map_err(Error::io(Phase::DataAccept))?;
                    let bound = TcpListener::bind(SocketAddr::new(local.ip(), 0))
                        .await
                        .map_err(Error::io(Phase::DataAccept))?;
                    let addr = bound.local_addr().map_err(Error::io(Phase::DataAccept))?;
                    tracing::debug!(target: "ftpkit::data", %addr, "listening");
                    listener = Some(bound);
                    setup.listening(addr)
                }
                DataStep::Ready { announced_size, .. } => {
                    // The server holds a transfer open from here on: if this
                    // future is dropped now, the next reply is unknowable.
                    self.in_flight = true;
                    let handshake = match (passive.take(), listener.take()) {
                        (Some(handshake), _) => Ok(handshake),
                        (None, Some(listener)) => {
                            match net::accept_from(
                                &listener,
                                DataSetup::server_ip(&self.session),
                                self.config.timeout,
                            )
                            .await
                            {
                                Ok(tcp) => wrap(tcp).await,
                                Err(e) => Err(e),
                            }
                        }
                        (None, None) => Err(Error::Unusable),
                    };
                    let stream = match handshake {
                        Ok(handshake) => timeout(idle, handshake.finish())
                            .await
                            .map_err(|_| timed_out(Phase::DataConnect))
                            .and_then(|r| r.map_err(Error::io(Phase::DataConnect))),
                        Err(e) => Err(e),
                    };
                    return match stream {
                        Ok(stream) => Ok((stream, announced_size)),
                        Err(e) => {
                            self.unusable = true;
                            Err(e)
                        }
                    };
                }
            };
        }
    }

    /// Ends an interrupted transfer: sends `ABOR`, closes the data
    /// connection (with a reset for uploads), then `NOOP`, and reads replies
    /// up to NOOP's 200, as the core's [`Abort`] directs.
    pub(crate) async fn abort_transfer(&mut self, data: Stream, reset: bool) -> Result<()> {
        let result = self.abort_sequence(data, reset).await;
        if result.is_err() {
            self.unusable = true;
        }
        result
    }

    async fn abort_sequence(&mut self, data: Stream, reset: bool) -> Result<()> {
        if self.unusable {
            return Err(Error::Unusable);
        }
        self.send(&Abort::COMMAND).await?;
        if reset && let Ok(tcp) = data.tcp() {
            net::reset_on_close(tcp);
        }
        drop(data);
        let mut abort = Abort::new();
        let mut step = AbortStep::Read;
        loop {
            step = match step {
                AbortStep::Read => abort.on_reply(self.read_reply().await?)?,
                AbortStep::SendNoop => {
                    self.send(&Command::Noop).await?;
                    AbortStep::Read
                }
                AbortStep::ReadBriefly => {
                    self.in_flight = true;
                    let reply = self.control.read_reply_within(rules::ABORT_GRACE).await;
                    match reply {
                        Ok(Some(reply)) => abort.on_reply(reply)?,
                        Ok(None) => abort.on_quiet(),
                        Err(e) => return Err(e),
                    }
                }
                AbortStep::Done => {
                    self.in_flight = false;
                    return Ok(());
                }
            };
        }
    }

    /// Sends `ABOR` when no transfer is running through this client and
    /// accepts 225, 226 or 426. Transfers in progress are aborted with
    /// [`AsyncDataReader::abort`] and [`AsyncDataWriter::abort`].
    pub async fn abort(&mut self) -> Result<Reply> {
        let reply = self.exchange(&Command::Abor).await?;
        rules::abort_result(reply)
    }

    /// Says goodbye (`QUIT`) and closes the connection.
    pub async fn quit(mut self) -> Result<Reply> {
        self.run(Command::Quit, Expect::Completion).await
    }

    /// Closes the connection without `QUIT`. Dropping the client does the same.
    pub fn close(self) {}
}
