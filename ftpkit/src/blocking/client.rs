//! The blocking [`Client`]: ftplib's `FTP` over `std::net`, driving the
//! sans-IO core.

use std::{
    io::BufRead,
    net::{SocketAddr, TcpListener},
    time::SystemTime,
};

use rustls_pki_types::ServerName;

use super::{
    control::Control,
    net,
    stream::Stream,
    transfer::{DataReader, DataWriter, Download, Retrieve, Store},
};
use crate::{
    config::Config,
    error::{Error, InvalidInput, Phase, Result},
    list::{MlsdEntry, parse_mlsd_line},
    name::Name,
    proto::{
        Abort, AbortStep, Arg, Command, DataMode, DataRequest, DataSetup, DataStep, Expect,
        Features, LineSplitter, Protection, Reply, ReplyCode, Secret, Session, Step, TransferType,
        expect, parse,
        rules::{self, Greeting, SessionMemory},
        to_crlf_line,
    },
    tls::{self, TlsConfig, TlsMode},
};

pub use crate::proto::rules::DEFAULT_PORT;

/// A blocking FTP client: one control connection, one command at a time.
///
/// Each method's documentation names its ftplib counterpart. Dropping a
/// client closes its connection at once, without waiting on the server;
/// call [`Client::quit`] to say goodbye politely.
#[derive(Debug)]
pub struct Client {
    control: Control,
    pub(crate) session: Session,
    pub(crate) config: Config,
    host: String,
    welcome: Reply,
    unusable: bool,
    /// TLS settings and the name certificates are checked against, once
    /// TLS is in use.
    tls: Option<(TlsConfig, ServerName<'static>)>,
    /// The data protection level the server has agreed to.
    protection: Protection,
    /// What [`Client::reconnect`] logs in with and returns to.
    memory: SessionMemory,
    /// The algorithm `OPTS HASH` selected, if any.
    pub(crate) hash_selected: Option<crate::proto::hash::HashCommand>,
}

impl Client {
    /// Connects to `addr` (`host`, `host:port`, `[v6addr]:port`; port 21 by
    /// default) with the default [`Config`] and reads the greeting.
    /// ftplib: `FTP(host)` / `connect()`.
    pub fn connect(addr: &str) -> Result<Client> {
        Client::connect_with(addr, Config::default())
    }

    /// Connects with the given configuration (timeouts, source address,
    /// data mode). ftplib: `connect(host, port, timeout, source_address)`.
    pub fn connect_with(addr: &str, config: Config) -> Result<Client> {
        let (host, port) = rules::split_host_port(addr, rules::default_port(config.tls_mode))?;
        let stream = net::connect_host(&host, port, config.connect_timeout, config.source_address)?;
        Client::over(host, stream, config)
    }

    /// Runs the greeting and, if configured, TLS over a fresh connection.
    fn over(host: String, stream: std::net::TcpStream, config: Config) -> Result<Client> {
        net::set_idle_timeout(&stream, config.timeout).map_err(Error::io(Phase::Connect))?;
        let _ = stream.set_nodelay(true);
        let peer = stream.peer_addr().map_err(Error::io(Phase::Connect))?;
        let session = Session::new(
            peer,
            config.mode,
            config.trust_pasv_address,
            config.use_epsv,
        );
        let control = Control::new(Stream::Plain(stream), config.reply_limits);
        let mut client = Client {
            control,
            session,
            host,
            welcome: Reply::new(ReplyCode::READY, Vec::new()),
            unusable: false,
            tls: None,
            protection: Protection::Clear,
            config,
            memory: SessionMemory::default(),
            hash_selected: None,
        };
        if client.config.tls_mode == Some(TlsMode::Implicit) {
            client.start_tls()?;
        }
        client.welcome = client.read_greeting()?;
        if client.config.tls_mode == Some(TlsMode::Explicit) {
            client.auth()?;
        }
        Ok(client)
    }

    /// Reads the greeting, waiting through at most
    /// [`rules::MAX_GREETING_WAITS`] `120` replies; one more is a refusal.
    fn read_greeting(&mut self) -> Result<Reply> {
        for _ in 0..rules::MAX_GREETING_WAITS {
            if let Greeting::Ready(welcome) = rules::on_greeting(self.read_reply()?)? {
                return Ok(welcome);
            }
        }
        let reply = self.read_reply()?;
        if reply.code().is_completion() {
            return Ok(reply);
        }
        self.unusable = true;
        Err(Error::Reply {
            command: "connect".into(),
            reply,
        })
    }

    /// The TLS settings to use, built on first need.
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

    fn start_tls(&mut self) -> Result<()> {
        let (config, name) = self.tls_settings()?;
        let result = self.control.start_tls(config.rustls().clone(), name);
        if result.is_err() {
            self.unusable = true;
        }
        result
    }

    /// Secures the control connection with `AUTH TLS` (explicit FTPS, RFC
    /// 4217), using [`Config::tls`] or the system's trust store. Any reply
    /// but 234 is an error and the connection stays in clear; bytes the
    /// server sent in clear after the 234 are discarded. Called by
    /// [`Client::connect_with`] when [`Config::tls_mode`] is explicit.
    /// ftplib: `FTP_TLS.auth()`.
    pub fn auth(&mut self) -> Result<Reply> {
        if self.control.stream().is_tls() {
            return Err(Error::InvalidInput(InvalidInput::Tls(
                "the control connection is already secured".into(),
            )));
        }
        let reply = self.run(Command::AuthTls, Expect::Completion)?;
        if reply.code() != ReplyCode::AUTH_OK {
            self.unusable = true;
            return Err(Error::Reply {
                command: "AUTH TLS".into(),
                reply,
            });
        }
        self.start_tls()?;
        Ok(reply)
    }

    /// Whether the control connection is encrypted.
    pub fn is_secure(&self) -> bool {
        self.control.stream().is_tls()
    }

    /// Encrypts data connections: `PBSZ 0` then `PROT P`. Done
    /// automatically before the first transfer when
    /// [`Config::data_protection`] asks for it. ftplib: `prot_p()`.
    pub fn prot_p(&mut self) -> Result<Reply> {
        self.set_protection(Protection::Private)
    }

    /// Leaves data connections in clear: `PBSZ 0` then `PROT C`.
    /// ftplib: `prot_c()`.
    pub fn prot_c(&mut self) -> Result<Reply> {
        self.set_protection(Protection::Clear)
    }

    fn set_protection(&mut self, level: Protection) -> Result<Reply> {
        if !self.control.stream().is_tls() {
            return Err(Error::InvalidInput(InvalidInput::Tls(
                "PROT needs a TLS control connection (AUTH TLS first)".into(),
            )));
        }
        self.run(Command::Pbsz0, Expect::Completion)?;
        let reply = self.run(Command::Prot(level), Expect::Completion)?;
        self.protection = level;
        self.config.data_protection = level;
        Ok(reply)
    }

    /// Returns the control connection to clear text (`CCC`, RFC 4217), for
    /// NAT devices that must read it. Data connections keep their
    /// protection. Credentials are refused from then on: log in first.
    /// ftplib: `ccc()`.
    pub fn ccc(&mut self) -> Result<Reply> {
        self.ensure_protection()?;
        let reply = self.run(Command::Ccc, Expect::Completion)?;
        if let Err(e) = self.control.stop_tls() {
            self.unusable = true;
            return Err(e);
        }
        Ok(reply)
    }

    /// The server's greeting. ftplib: `getwelcome()`.
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
    /// ftplib: `set_pasv(val)`.
    pub fn set_mode(&mut self, mode: DataMode) {
        self.session.set_mode(mode);
    }

    /// The data connection mode in force.
    pub fn mode(&self) -> DataMode {
        self.session.mode()
    }

    // ----- the control connection -------------------------------------

    /// Sends one command and reads its reply, whatever its class. An I/O or
    /// protocol failure, or a 421, leaves the client unusable.
    pub(crate) fn exchange(&mut self, command: &Command) -> Result<Reply> {
        if self.unusable {
            return Err(Error::Unusable);
        }
        let result = self.control.send(command);
        if let Err(e) = result {
            self.unusable = true;
            return Err(e);
        }
        self.read_reply()
    }

    /// Reads one reply (for replies that follow a transfer).
    pub(crate) fn read_reply(&mut self) -> Result<Reply> {
        if self.unusable {
            return Err(Error::Unusable);
        }
        match self.control.read_reply() {
            Ok(reply) => {
                if rules::closes_connection(&reply) {
                    self.unusable = true;
                }
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

    /// Whether an earlier failure left the connection unusable.
    pub fn is_unusable(&self) -> bool {
        self.unusable
    }

    fn run(&mut self, command: Command, expected: Expect) -> Result<Reply> {
        let reply = self.exchange(&command)?;
        self.refuse_stray_preliminary(&reply, expected);
        expect(&command, reply, expected)
    }

    /// A 1xx reply to a command that opens no transfer promises another
    /// reply, which must not be read as the answer to the next command:
    /// the connection is out of step and becomes unusable.
    fn refuse_stray_preliminary(&mut self, reply: &Reply, expected: Expect) {
        if rules::is_stray_preliminary(reply, expected) {
            self.unusable = true;
        }
    }

    /// Sends a raw command line and returns the reply; 4xx and 5xx replies
    /// are errors. The line must not contain CR, LF or NUL: such a line is
    /// refused before anything is sent. ftplib: `sendcmd(cmd)`.
    pub fn sendcmd(&mut self, line: &str) -> Result<Reply> {
        let command = Command::raw(line)?;
        self.memory.on_raw(&command);
        let reply = self.exchange(&command)?;
        if rules::changes_type(line) {
            self.session.forget_type();
        }
        rules::sendcmd_result(&command, reply)
    }

    /// Sends a raw command line and requires a 2xx reply. ftplib: `voidcmd(cmd)`.
    pub fn voidcmd(&mut self, line: &str) -> Result<Reply> {
        let command = Command::raw(line)?;
        self.memory.on_raw(&command);
        let reply = self.exchange(&command)?;
        if rules::changes_type(line) {
            self.session.forget_type();
        }
        self.refuse_stray_preliminary(&reply, Expect::Completion);
        expect(&command, reply, Expect::Completion)
    }

    /// Sends a raw command line without reading its reply; read the reply
    /// with [`Client::getresp`]. For exchanges the client does not run
    /// itself, such as a server-to-server copy (`PORT` and `STOR` sent to
    /// one server, `RETR` to another, then each final reply). The line is
    /// checked as for [`Client::sendcmd`]. ftplib: `putcmd(line)`.
    pub fn putcmd(&mut self, line: &str) -> Result<()> {
        let command = Command::raw(line)?;
        if self.unusable {
            return Err(Error::Unusable);
        }
        self.memory.on_raw(&command);
        if rules::changes_type(line) {
            self.session.forget_type();
        }
        let result = self.control.send(&command);
        if result.is_err() {
            self.unusable = true;
        }
        result
    }

    /// Reads one reply without sending anything: the reply to
    /// [`Client::putcmd`], or a further reply to a raw command (the final
    /// `226` after a `150`). Every code is returned, none is an error.
    /// ftplib: `getresp()`.
    pub fn getresp(&mut self) -> Result<Reply> {
        self.read_reply()
    }

    /// Records the working directory (one `PWD`) if a `CWD` made it
    /// unknown, so that [`Client::reconnect`] can return to it.
    pub(crate) fn remember_cwd(&mut self) -> Result<()> {
        if self.memory.needs_pwd() {
            let dir = self.pwd()?;
            self.memory.set_dir(dir);
        }
        Ok(())
    }

    /// Opens a new control connection to the same server address, runs
    /// TLS as configured, logs in again with the credentials of the last
    /// successful login, and returns to the working directory; the old
    /// connection is dropped. Used by `download` and `upload` after a
    /// failure; also useful after [`Error::Unusable`].
    pub fn reconnect(&mut self) -> Result<()> {
        let replay = self.memory.replay()?;
        let stream = net::connect_addr(
            self.peer_addr(),
            self.config.connect_timeout,
            self.config.source_address,
        )
        .map_err(Error::io(Phase::Connect))?;
        let mut fresh = Client::over(self.host.clone(), stream, self.config.clone())?;
        fresh.session.set_mode(self.mode());
        if let Some((user, password, account)) = &replay.login {
            fresh.login_inner(user, password, account.as_deref())?;
        }
        if let Some(cwd) = replay.cwd {
            fresh.run(cwd, Expect::Completion)?;
        }
        fresh.memory = self.memory.clone();
        tracing::info!(target: "ftpkit::control", host = %self.host, "reconnected");
        *self = fresh;
        Ok(())
    }

    // ----- login --------------------------------------------------------

    /// Logs in. An empty `user` means `anonymous`, and an anonymous login
    /// with an empty password sends `anonymous@`, as ftplib does. Sends
    /// `ACCT` only if the server asks (332): use [`Client::login_with_account`].
    /// ftplib: `login(user, passwd)`.
    pub fn login(&mut self, user: &str, password: &str) -> Result<Reply> {
        self.login_inner(user, password, None)
    }

    /// Logs in as `anonymous` with password `anonymous@`. ftplib: `login()`.
    pub fn login_anonymous(&mut self) -> Result<Reply> {
        self.login_inner("", "", None)
    }

    /// Logs in, sending `account` if the server asks for one (332).
    /// ftplib: `login(user, passwd, acct)`.
    pub fn login_with_account(
        &mut self,
        user: &str,
        password: &str,
        account: &str,
    ) -> Result<Reply> {
        self.login_inner(user, password, Some(account))
    }

    fn login_inner(&mut self, user: &str, password: &str, account: Option<&str>) -> Result<Reply> {
        rules::check_credentials_allowed(self.config.tls_mode, self.control.stream().is_tls())?;
        let mut login = rules::login_for(user, password, account)?;
        let mut command = login.start();
        loop {
            let reply = self.exchange(&command)?;
            match login.on_reply(reply)? {
                Step::Send(next) => command = next,
                Step::Done(reply) => {
                    self.memory.on_login(user, password, account);
                    return Ok(reply);
                }
            }
        }
    }

    /// Sends an account (`ACCT`). ftplib: `acct(password)`.
    pub fn acct(&mut self, account: &str) -> Result<Reply> {
        rules::check_credentials_allowed(self.config.tls_mode, self.control.stream().is_tls())?;
        self.run(Command::Acct(Secret::new(account)?), Expect::Completion)
    }

    // ----- directories and files ----------------------------------------

    /// Changes the working directory; `..` is sent as `CDUP` (falling back
    /// to `CWD ..` if the server does not know CDUP), an empty path as `.`.
    /// ftplib: `cwd(dirname)`.
    pub fn cwd(&mut self, path: impl AsRef<[u8]>) -> Result<Reply> {
        let (first, cwd) = rules::cwd_commands(path.as_ref())?;
        if first.is_some() {
            let result = self.cdup();
            if !rules::cdup_unknown(&result) {
                return result;
            }
        }
        let reply = self.run(cwd, Expect::Completion)?;
        self.memory.on_cwd();
        Ok(reply)
    }

    /// Moves to the parent directory (`CDUP`).
    pub fn cdup(&mut self) -> Result<Reply> {
        let reply = self.run(Command::Cdup, Expect::Completion)?;
        self.memory.on_cwd();
        Ok(reply)
    }

    /// The working directory (`PWD`). ftplib: `pwd()`.
    pub fn pwd(&mut self) -> Result<Name> {
        let reply = self.run(Command::Pwd, Expect::Completion)?;
        Ok(parse::parse_257(&reply)?)
    }

    /// Creates a directory and returns its path as the server reports it
    /// (`MKD`; the path given if the reply names none). ftplib: `mkd(dirname)`.
    pub fn mkd(&mut self, path: impl AsRef<[u8]>) -> Result<Name> {
        let path = path.as_ref();
        let reply = self.run(Command::Mkd(Arg::path(path)?), Expect::Completion)?;
        Ok(rules::mkd_result(&reply, path))
    }

    /// Removes a directory (`RMD`). ftplib: `rmd(dirname)`.
    pub fn rmd(&mut self, path: impl AsRef<[u8]>) -> Result<Reply> {
        self.run(Command::Rmd(Arg::path(path)?), Expect::Completion)
    }

    /// Deletes a file (`DELE`). ftplib: `delete(filename)`.
    pub fn delete(&mut self, path: impl AsRef<[u8]>) -> Result<Reply> {
        self.run(Command::Dele(Arg::path(path)?), Expect::Completion)
    }

    /// Renames `from` to `to` (`RNFR` then `RNTO`). ftplib: `rename(fromname, toname)`.
    pub fn rename(&mut self, from: impl AsRef<[u8]>, to: impl AsRef<[u8]>) -> Result<Reply> {
        let [(rnfr, e1), (rnto, e2)] = rules::rename_commands(from.as_ref(), to.as_ref())?;
        self.run(rnfr, e1)?;
        self.run(rnto, e2)
    }

    /// The size of a file in bytes (`SIZE`, after switching to `TYPE I` so
    /// the answer is the size in bytes). ftplib: `size(filename)`.
    pub fn size(&mut self, path: impl AsRef<[u8]>) -> Result<u64> {
        let path = Arg::path(path)?;
        self.ensure_type(TransferType::Binary)?;
        let reply = self.run(Command::Size(path), Expect::Completion)?;
        Ok(parse::parse_size(&reply)?)
    }

    /// The modification time of a file (`MDTM`, RFC 3659), in UTC.
    pub fn mdtm(&mut self, path: impl AsRef<[u8]>) -> Result<SystemTime> {
        let reply = self.run(Command::Mdtm(Arg::path(path)?), Expect::Completion)?;
        Ok(parse::parse_mdtm(&reply)?)
    }

    /// Sends `SITE args` and requires a 2xx reply.
    pub fn site(&mut self, args: &str) -> Result<Reply> {
        self.run(
            Command::Site(Arg::new("SITE arguments", args)?),
            Expect::Completion,
        )
    }

    /// Sends `NOOP` (keeps the connection alive; checks it is usable).
    pub fn noop(&mut self) -> Result<Reply> {
        self.run(Command::Noop, Expect::Completion)
    }

    /// The server's features (`FEAT`, RFC 2389), asked once per session and
    /// remembered. A server without FEAT gives an empty set. If the server
    /// lists `UTF8`, `OPTS UTF8 ON` is sent (RFC 2640); if it offers MLST
    /// facts that listings read but does not send them by default,
    /// `OPTS MLST type;size;modify;perm;unix.mode;...` turns them on.
    pub fn features(&mut self) -> Result<&Features> {
        if self.session.features().is_none() {
            let reply = self.exchange(&Command::Feat)?;
            let features = Features::parse(&reply);
            let next = rules::after_features(&features)?;
            let mlst = rules::mlst_options(&features)?;
            self.session.set_features(features);
            for command in next.into_iter().chain(mlst) {
                // Servers that need it accept it; others may refuse harmlessly.
                let _ = self.exchange(&command)?;
            }
        }
        match self.session.features() {
            Some(features) => Ok(features),
            None => Err(Error::Unusable),
        }
    }

    pub(crate) fn ensure_type(&mut self, ty: TransferType) -> Result<()> {
        if let Some(command) = self.session.type_command(ty) {
            self.run(command, Expect::Completion)?;
            self.session.type_set(ty);
        }
        Ok(())
    }

    // ----- listings -----------------------------------------------------

    /// Names in a directory (`NLST`; an empty path lists the working
    /// directory). ftplib: `nlst()`.
    pub fn nlst(&mut self, path: impl AsRef<[u8]>) -> Result<Vec<Name>> {
        let mut names = Vec::new();
        self.lines_of(Command::Nlst(optional_path(path.as_ref())?), |line| {
            names.push(Name::from(line));
        })?;
        Ok(names)
    }

    /// The raw lines of a `LIST` (an empty path lists the working
    /// directory). ftplib: `dir()`.
    pub fn list(&mut self, path: impl AsRef<[u8]>) -> Result<Vec<Name>> {
        let mut lines = Vec::new();
        self.lines_of(Command::List(optional_path(path.as_ref())?), |line| {
            lines.push(Name::from(line));
        })?;
        Ok(lines)
    }

    /// A machine listing (`MLSD`, RFC 3659): each entry's name and facts.
    /// Lines that are not valid MLSD are skipped. ftplib: `mlsd(path)`.
    pub fn mlsd(&mut self, path: impl AsRef<[u8]>) -> Result<Vec<MlsdEntry>> {
        let mut entries = Vec::new();
        self.lines_of(Command::Mlsd(optional_path(path.as_ref())?), |line| {
            if let Some(entry) = parse_mlsd_line(line) {
                entries.push(entry);
            }
        })?;
        Ok(entries)
    }

    /// The facts of one file or directory (`MLST`, over the control connection).
    pub fn mlst(&mut self, path: impl AsRef<[u8]>) -> Result<MlsdEntry> {
        let command = Command::Mlst(optional_path(path.as_ref())?);
        let reply = self.run(command, Expect::Completion)?;
        rules::mlst_facts(&reply)
    }

    /// Runs a raw transfer command in `TYPE A` and calls `callback` with
    /// each line, terminator removed (`"RETR notes.txt"`, `"LIST -a"`).
    /// ftplib: `retrlines(cmd, callback)`.
    pub fn retr_lines(&mut self, command: &str, callback: impl FnMut(&[u8])) -> Result<Reply> {
        self.lines_of(Command::raw(command)?, callback)
    }

    fn lines_of(&mut self, command: Command, mut callback: impl FnMut(&[u8])) -> Result<Reply> {
        let max_line = self.config.max_data_line;
        let mut reader = self.open_reader(command, TransferType::Ascii, None)?;
        let mut splitter = LineSplitter::new(max_line);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read_data(&mut buf)?;
            if n == 0 {
                break;
            }
            splitter.feed(buf.get(..n).unwrap_or_default());
            loop {
                match splitter.next_line() {
                    Ok(Some(line)) => callback(line),
                    Ok(None) => break,
                    Err(e) => {
                        reader.abort_quietly();
                        return Err(e.into());
                    }
                }
            }
        }
        if let Some(line) = splitter.finish() {
            callback(line);
        }
        reader.finish()
    }

    /// Uploads lines in `TYPE A`, each line's end sent as CRLF.
    /// ftplib: `storlines(cmd, fp)`.
    pub fn store_lines(
        &mut self,
        path: impl AsRef<[u8]>,
        mut lines: impl BufRead,
    ) -> Result<Reply> {
        let command = Command::Stor(Arg::path(path)?);
        let mut writer = self.open_writer(command, TransferType::Ascii, None)?;
        let mut line = Vec::new();
        let mut out = Vec::new();
        loop {
            line.clear();
            let n = match lines.read_until(b'\n', &mut line) {
                Ok(n) => n,
                Err(e) => {
                    writer.abort_quietly();
                    return Err(Error::io(Phase::Local)(e));
                }
            };
            if n == 0 {
                break;
            }
            out.clear();
            to_crlf_line(&line, &mut out);
            writer.write_data(&out)?;
        }
        writer.finish()
    }

    // ----- transfers ------------------------------------------------------

    /// Starts a download of `path` in binary mode; set options on the
    /// returned [`Retrieve`] and finish with `to_writer`, `for_each_chunk`
    /// or `reader`. ftplib: `retrbinary("RETR path", ...)`.
    pub fn retrieve(&mut self, path: impl AsRef<[u8]>) -> Retrieve<'_> {
        Retrieve::new(self, Arg::path(path), Download)
    }

    /// Starts an upload to `path` in binary mode; set options on the
    /// returned [`Store`] and finish with `from_reader` or `writer`.
    /// ftplib: `storbinary("STOR path", fp)`.
    pub fn store(&mut self, path: impl AsRef<[u8]>) -> Store<'_> {
        Store::upload(self, Arg::path(path))
    }

    /// Downloads `path` into `out` in binary mode and returns the byte count.
    /// ftplib: `retrbinary("RETR path", out.write)`.
    pub fn get<W: std::io::Write + ?Sized>(
        &mut self,
        path: impl AsRef<[u8]>,
        out: &mut W,
    ) -> Result<u64> {
        self.retrieve(path).to_writer(out)
    }

    /// Uploads everything `input` yields to `path` in binary mode (`STOR`)
    /// and returns the byte count. ftplib: `storbinary("STOR path", fp)`.
    pub fn put<R: std::io::Read + ?Sized>(
        &mut self,
        path: impl AsRef<[u8]>,
        input: &mut R,
    ) -> Result<u64> {
        self.store(path).from_reader(input)
    }

    /// Appends everything `input` yields to `path` (`APPE`).
    /// ftplib: `storbinary("APPE path", fp)`.
    pub fn append<R: std::io::Read + ?Sized>(
        &mut self,
        path: impl AsRef<[u8]>,
        input: &mut R,
    ) -> Result<u64> {
        self.store(path).append().from_reader(input)
    }

    /// Opens a data connection for a raw transfer command that sends data
    /// to the client, and returns a reader over it. ftplib:
    /// `transfercmd(cmd, rest)` / `ntransfercmd`.
    pub fn transfer_reader(
        &mut self,
        command: &str,
        ty: TransferType,
        rest: Option<u64>,
    ) -> Result<DataReader<'_>> {
        self.open_reader(Command::raw(command)?, ty, rest)
    }

    /// Opens a data connection for a raw transfer command that receives
    /// data from the client (`"STOU"`, `"APPE x"`), and returns a writer.
    pub fn transfer_writer(
        &mut self,
        command: &str,
        ty: TransferType,
        rest: Option<u64>,
    ) -> Result<DataWriter<'_>> {
        self.open_writer(Command::raw(command)?, ty, rest)
    }

    pub(crate) fn open_reader(
        &mut self,
        command: Command,
        ty: TransferType,
        rest: Option<u64>,
    ) -> Result<DataReader<'_>> {
        let (stream, _reply, announced) = self.open_data(DataRequest {
            command: command.clone(),
            transfer_type: ty,
            rest,
        })?;
        let expected = rules::expected_size(announced, ty, rest);
        Ok(DataReader::new(self, stream, command, announced, expected))
    }

    pub(crate) fn open_writer(
        &mut self,
        command: Command,
        ty: TransferType,
        rest: Option<u64>,
    ) -> Result<DataWriter<'_>> {
        let (stream, _reply, _) = self.open_data(DataRequest {
            command: command.clone(),
            transfer_type: ty,
            rest,
        })?;
        Ok(DataWriter::new(self, stream, command))
    }

    /// Negotiates the data protection level asked for, once, before the
    /// first transfer (`PBSZ 0`, `PROT P`).
    fn ensure_protection(&mut self) -> Result<()> {
        if self.control.stream().is_tls() && self.protection != self.config.data_protection {
            self.set_protection(self.config.data_protection)?;
        }
        Ok(())
    }

    /// Runs the core's data setup: opens the connection it names, sends
    /// what it asks, and returns the data stream once the server sent 1xx.
    /// Under `PROT P` the stream is TLS, resuming the control connection's
    /// session; a passive connection sends its ClientHello at once, so the
    /// handshake works whether the server expects it before or after 150.
    fn open_data(&mut self, request: DataRequest) -> Result<(Stream, Reply, Option<u64>)> {
        if self.unusable {
            return Err(Error::Unusable);
        }
        self.ensure_protection()?;
        let data_tls = match self.protection {
            Protection::Private => Some(self.tls_settings()?),
            Protection::Clear => None,
        };
        let wrap = |tcp: std::net::TcpStream| -> Result<Stream> {
            match &data_tls {
                Some((config, name)) => {
                    Stream::begin_tls(tcp, config.rustls().clone(), name.clone())
                        .map_err(Error::io(Phase::DataConnect))
                }
                None => Ok(Stream::Plain(tcp)),
            }
        };
        let mut setup = DataSetup::new(request);
        let mut passive = None;
        let mut listener: Option<TcpListener> = None;
        let mut step = setup.start(&mut self.session)?;
        loop {
            step = match step {
                DataStep::Send(command) => {
                    let reply = self.exchange(&command)?;
                    setup.on_reply(&mut self.session, reply)?
                }
                DataStep::ReadReply => {
                    let reply = self.read_reply()?;
                    setup.on_reply(&mut self.session, reply)?
                }
                DataStep::Connect(addr) => {
                    tracing::debug!(target: "ftpkit::data", %addr, "connecting");
                    let tcp = net::connect_addr(
                        addr,
                        self.config.connect_timeout,
                        self.config.source_address,
                    )
                    .map_err(Error::io(Phase::DataConnect))?;
                    net::set_idle_timeout(&tcp, self.config.timeout)
                        .map_err(Error::io(Phase::DataConnect))?;
                    passive = Some(wrap(tcp)?);
                    setup.connected()
                }
                DataStep::Listen => {
                    let local = self
                        .control
                        .stream()
                        .tcp()
                        .local_addr()
                        .map_err(Error::io(Phase::DataAccept))?;
                    let bound = TcpListener::bind(SocketAddr::new(local.ip(), 0))
                        .map_err(Error::io(Phase::DataAccept))?;
                    let addr = bound.local_addr().map_err(Error::io(Phase::DataAccept))?;
                    tracing::debug!(target: "ftpkit::data", %addr, "listening");
                    listener = Some(bound);
                    setup.listening(addr)
                }
                DataStep::Ready {
                    reply,
                    announced_size,
                } => {
                    let stream = match (passive.take(), listener.take()) {
                        (Some(stream), _) => Ok(stream),
                        (None, Some(listener)) => net::accept_from(
                            &listener,
                            DataSetup::server_ip(&self.session),
                            self.config.timeout,
                        )
                        .and_then(|tcp| {
                            net::set_idle_timeout(&tcp, self.config.timeout)
                                .map_err(Error::io(Phase::DataAccept))?;
                            wrap(tcp)
                        }),
                        (None, None) => Err(Error::Unusable),
                    };
                    let stream = stream.and_then(|mut s| {
                        s.finish_handshake()
                            .map_err(Error::io(Phase::DataConnect))?;
                        Ok(s)
                    });
                    return match stream {
                        Ok(stream) => Ok((stream, reply, announced_size)),
                        Err(e) => {
                            // The server holds a transfer open that we cannot
                            // finish: its next reply is unknowable.
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
    /// up to NOOP's 200 so that the replies to the transfer and to ABOR,
    /// however many the server sends, are all consumed.
    pub(crate) fn abort_transfer(&mut self, data: Stream, reset: bool) -> Result<()> {
        let result = self.abort_sequence(data, reset);
        if result.is_err() {
            self.unusable = true;
        }
        result
    }

    fn abort_sequence(&mut self, data: Stream, reset: bool) -> Result<()> {
        if self.unusable {
            return Err(Error::Unusable);
        }
        self.control.send(&Abort::COMMAND)?;
        if reset {
            net::reset_on_close(data.tcp());
        }
        drop(data);
        let mut abort = Abort::new();
        let mut step = AbortStep::Read;
        loop {
            step = match step {
                AbortStep::Read => abort.on_reply(self.read_reply()?)?,
                AbortStep::SendNoop => {
                    self.control.send(&Command::Noop)?;
                    AbortStep::Read
                }
                AbortStep::ReadBriefly => {
                    match self.control.read_reply_within(rules::ABORT_GRACE)? {
                        Some(reply) => abort.on_reply(reply)?,
                        None => abort.on_quiet(),
                    }
                }
                AbortStep::Done => return Ok(()),
            };
        }
    }

    /// Sends `ABOR` when no transfer is running through this client and
    /// accepts 225, 226 or 426. Transfers in progress are aborted with
    /// [`DataReader::abort`] and [`DataWriter::abort`], which also close the
    /// data connection. ftplib: `abort()` (sent in band, not as urgent data).
    pub fn abort(&mut self) -> Result<Reply> {
        let reply = self.exchange(&Command::Abor)?;
        rules::abort_result(reply)
    }

    /// Says goodbye (`QUIT`) and closes the connection. ftplib: `quit()`.
    pub fn quit(mut self) -> Result<Reply> {
        self.run(Command::Quit, Expect::Completion)
    }

    /// Closes the connection without `QUIT`. ftplib: `close()`. Dropping the
    /// client does the same.
    pub fn close(self) {}
}

use crate::proto::rules::optional_path;
