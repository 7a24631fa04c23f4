//! Per-command state: what to send next given the replies so far.
//!
//! These machines hold every protocol decision a client makes (which reply
//! is acceptable, when to send PASS or ACCT, EPSV or PASV, REST before the
//! transfer command, where to connect) and do no I/O. A driver runs them by
//! sending what they ask, feeding back what the server answers, and opening
//! the sockets they name. The blocking client is such a driver; a fix made
//! here holds for every driver.

use std::net::{IpAddr, SocketAddr};

use super::{
    Arg, Command, Features, Reply, ReplyCode, Secret, TransferType,
    parse::{parse_150, parse_227, parse_229},
};
use crate::error::Error;

/// The next thing a driver must do in an exchange.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Send this command and feed its reply back.
    Send(Command),
    /// The exchange is complete; this is the final reply.
    Done(Reply),
}

/// Which reply class a command must get to count as a success.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// 2xx (ftplib's `voidcmd`).
    Completion,
    /// 3xx, as for `RNFR` and `REST`.
    Intermediate,
    /// 1xx, as for a transfer command.
    Preliminary,
}

/// Checks that `reply` to `command` is of the expected class, or turns it
/// into [`Error::Reply`] (the command shown redacted).
pub fn expect(command: &Command, reply: Reply, expected: Expect) -> Result<Reply, Error> {
    let ok = match expected {
        Expect::Completion => reply.code().is_completion(),
        Expect::Intermediate => reply.code().is_intermediate(),
        Expect::Preliminary => reply.code().is_preliminary(),
    };
    if ok {
        Ok(reply)
    } else {
        Err(Error::Reply {
            command: command.to_string(),
            reply,
        })
    }
}

/// The login exchange: `USER`, then `PASS` on 3xx, then `ACCT` on 3xx.
///
/// A 2xx at any point ends the login successfully (a server may need no
/// password); 332 without an account, or any 4xx or 5xx, is
/// [`Error::LoginRefused`]. This is ftplib's `login()`.
#[derive(Debug)]
pub struct Login {
    user: Arg,
    pass: Secret,
    acct: Option<Secret>,
    sent: &'static str,
}

impl Login {
    /// The user name `anonymous`, as ftplib uses for an empty user.
    pub const ANONYMOUS_USER: &'static str = "anonymous";
    /// The password sent for anonymous login, as ftplib sends it.
    pub const ANONYMOUS_PASSWORD: &'static str = "anonymous@";

    /// A login for `user` with `pass` and an optional account.
    pub fn new(user: Arg, pass: Secret, acct: Option<Secret>) -> Login {
        Login {
            user,
            pass,
            acct,
            sent: "",
        }
    }

    /// The first command: `USER`.
    pub fn start(&mut self) -> Command {
        self.sent = "USER";
        Command::User(self.user.clone())
    }

    /// Feeds the reply to the last command sent.
    pub fn on_reply(&mut self, reply: Reply) -> Result<Step, Error> {
        let code = reply.code();
        if code.is_completion() {
            return Ok(Step::Done(reply));
        }
        if !code.is_intermediate() {
            return Err(Error::LoginRefused(reply));
        }
        match self.sent {
            "USER" if code != ReplyCode::NEED_ACCOUNT => {
                self.sent = "PASS";
                Ok(Step::Send(Command::Pass(self.pass.clone())))
            }
            "USER" | "PASS" => match &self.acct {
                Some(acct) => {
                    self.sent = "ACCT";
                    Ok(Step::Send(Command::Acct(acct.clone())))
                }
                None => Err(Error::LoginRefused(reply)),
            },
            _ => Err(Error::LoginRefused(reply)),
        }
    }
}

/// How data connections are opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DataMode {
    /// The client connects to the server (EPSV or PASV): works through
    /// client-side NAT and firewalls. The default, as in ftplib.
    #[default]
    Passive,
    /// The server connects to the client (PORT or EPRT).
    Active,
}

/// What the client has learned of the server over the session: the
/// transfer type in force, whether EPSV works, its features.
#[derive(Debug, Clone)]
pub struct Session {
    peer: SocketAddr,
    mode: DataMode,
    trust_pasv_address: bool,
    epsv: EpsvState,
    transfer_type: Option<TransferType>,
    features: Option<Features>,
    owed: Owed,
}

/// What a `FEAT` reply called for and was not sent yet: each goes out only
/// before the first command it matters to (see
/// [`needs_utf8_mode`](super::rules::needs_utf8_mode) and
/// [`needs_mlst_options`](super::rules::needs_mlst_options)), so that a
/// transfer of a file with an ASCII name waits for neither.
#[derive(Debug, Clone, Default)]
pub(crate) struct Owed {
    /// `OPTS UTF8 ON`.
    pub(crate) utf8: Option<Command>,
    /// `OPTS MLST ...`.
    pub(crate) mlst: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EpsvState {
    Untried,
    Works,
    Refused,
}

impl Session {
    /// A session with the server at `peer` (the control connection's remote address).
    pub fn new(
        peer: SocketAddr,
        mode: DataMode,
        trust_pasv_address: bool,
        use_epsv: bool,
    ) -> Session {
        Session {
            peer,
            mode,
            trust_pasv_address,
            epsv: if use_epsv || peer.is_ipv6() {
                EpsvState::Untried
            } else {
                EpsvState::Refused
            },
            transfer_type: None,
            features: None,
            owed: Owed::default(),
        }
    }

    /// The server's control address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The data connection mode.
    pub fn mode(&self) -> DataMode {
        self.mode
    }

    /// Changes the data connection mode (ftplib's `set_pasv`).
    pub fn set_mode(&mut self, mode: DataMode) {
        self.mode = mode;
    }

    /// The features from `FEAT`, if asked already.
    pub fn features(&self) -> Option<&Features> {
        self.features.as_ref()
    }

    /// What `FEAT` called for and was not sent yet.
    pub(crate) fn owed(&mut self) -> &mut Owed {
        &mut self.owed
    }

    /// `EPSV` was answered with a port: it is asked from now on, whatever
    /// the features say.
    pub(crate) fn epsv_works(&mut self) {
        self.epsv = EpsvState::Works;
    }

    /// Records the features; a server that does not list EPSV is not asked for it
    /// on IPv4 (unless it answered one already).
    pub fn set_features(&mut self, features: Features) {
        if self.epsv == EpsvState::Untried
            && !features.supports("EPSV")
            && !features.is_empty()
            && self.peer.is_ipv4()
        {
            self.epsv = EpsvState::Refused;
        }
        self.features = Some(features);
    }

    /// The `TYPE` command needed before a transfer of `wanted`, if any.
    pub fn type_command(&self, wanted: TransferType) -> Option<Command> {
        (self.transfer_type != Some(wanted)).then_some(Command::Type(wanted))
    }

    /// Records a successful `TYPE`.
    pub fn type_set(&mut self, ty: TransferType) {
        self.transfer_type = Some(ty);
    }

    /// The command that asks for a passive data connection next (`EPSV`,
    /// or `PASV` once EPSV was refused), as [`DataSetup`] sends it once
    /// the type is set; `None` in active mode or when the server wants
    /// `PRET` first.
    pub(crate) fn passive_command(&self) -> Option<Command> {
        let pret = self.features().is_some_and(|f| f.supports("PRET"));
        self.passive_mode_command().filter(|_| !pret)
    }

    /// The passive mode's command (`EPSV`, or `PASV` once EPSV was
    /// refused), whether or not `PRET` must come first; `None` in active
    /// mode.
    pub(crate) fn passive_mode_command(&self) -> Option<Command> {
        match self.mode {
            DataMode::Passive if self.epsv == EpsvState::Refused => Some(Command::Pasv),
            DataMode::Passive => Some(Command::Epsv),
            DataMode::Active => None,
        }
    }

    /// Forgets the transfer type (after a reconnect or a raw `TYPE` command).
    pub fn forget_type(&mut self) {
        self.transfer_type = None;
    }
}

/// A transfer to set up: the command that moves data, its type and restart offset.
#[derive(Debug, Clone)]
pub struct DataRequest {
    /// The transfer command (`RETR`, `STOR`, `APPE`, `LIST`, `NLST`, `MLSD` or raw).
    pub command: Command,
    /// The representation type for the transfer.
    pub transfer_type: TransferType,
    /// Send `REST offset` first (resume).
    pub rest: Option<u64>,
}

/// The next thing a driver must do to set up a data transfer.
#[derive(Debug, PartialEq, Eq)]
pub enum DataStep {
    /// Send this command and feed the reply to [`DataSetup::on_reply`].
    Send(Command),
    /// Read one more reply (nothing to send) and feed it to [`DataSetup::on_reply`].
    ReadReply,
    /// Open a data connection to this address, then call [`DataSetup::connected`].
    Connect(SocketAddr),
    /// Listen on the control connection's local IP address (any port), then
    /// call [`DataSetup::listening`] with the bound address.
    Listen,
    /// The server accepted the transfer. In active mode, accept the server's
    /// connection now, from [`DataSetup::server_ip`] only. Move the data, then
    /// read the final reply and give it to [`finish_transfer`].
    Ready {
        /// The 1xx reply.
        reply: Reply,
        /// The size the 1xx reply announced, if any.
        announced_size: Option<u64>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetupState {
    Start,
    TypeSent,
    PretSent,
    EpsvSent,
    PasvSent,
    WaitConnect,
    WaitListen,
    PortSent,
    RestSent,
    CommandSent,
    Ready,
}

/// Sets up one data transfer: `TYPE`, `EPSV`/`PASV` or `EPRT`/`PORT`,
/// `REST`, then the transfer command (ftplib's `ntransfercmd`).
///
/// In passive mode, when the server's FEAT lists `PRET`, the transfer
/// command is announced first (`PRET RETR name`).
///
/// In passive mode the 227 address is ignored unless the session trusts it:
/// the client connects to the control connection's peer (CVE-2021-4189).
/// EPSV is tried first unless FEAT showed the server lacks it; a 5xx to
/// EPSV falls back to PASV on IPv4 and is remembered for the session.
#[derive(Debug)]
pub struct DataSetup {
    request: DataRequest,
    state: SetupState,
    last_sent: Option<Command>,
    skipped_completion: bool,
    pret_sent: bool,
}

impl DataSetup {
    /// Starts a setup for `request`.
    pub fn new(request: DataRequest) -> DataSetup {
        DataSetup {
            request,
            state: SetupState::Start,
            last_sent: None,
            skipped_completion: false,
            pret_sent: false,
        }
    }

    /// The IP address a data connection must come from in active mode: the
    /// server's control address.
    pub fn server_ip(session: &Session) -> IpAddr {
        session.peer.ip()
    }

    /// The first step.
    pub fn start(&mut self, session: &mut Session) -> Result<DataStep, Error> {
        if let Some(cmd) = session.type_command(self.request.transfer_type) {
            self.state = SetupState::TypeSent;
            return Ok(self.send(cmd));
        }
        self.open(session)
    }

    fn send(&mut self, command: Command) -> DataStep {
        self.last_sent = Some(command.clone());
        DataStep::Send(command)
    }

    fn open(&mut self, session: &mut Session) -> Result<DataStep, Error> {
        let pret = session.features().is_some_and(|f| f.supports("PRET"));
        if session.mode == DataMode::Passive && pret && !self.pret_sent {
            // Distributed servers (drftpd) choose the data node by the
            // transfer announced here, and refuse EPSV/PASV without it.
            self.pret_sent = true;
            self.state = SetupState::PretSent;
            let command = Command::pret(&self.request.command)?;
            return Ok(self.send(command));
        }
        match session.mode {
            DataMode::Active => {
                self.state = SetupState::WaitListen;
                Ok(DataStep::Listen)
            }
            DataMode::Passive if session.epsv != EpsvState::Refused => {
                self.state = SetupState::EpsvSent;
                Ok(self.send(Command::Epsv))
            }
            DataMode::Passive => {
                self.state = SetupState::PasvSent;
                Ok(self.send(Command::Pasv))
            }
        }
    }

    fn after_connection(&mut self) -> DataStep {
        match self.request.rest {
            Some(offset) => {
                self.state = SetupState::RestSent;
                self.send(Command::Rest(offset))
            }
            None => {
                self.state = SetupState::CommandSent;
                self.send(self.request.command.clone())
            }
        }
    }

    /// Feeds the reply to the last command sent.
    pub fn on_reply(&mut self, session: &mut Session, reply: Reply) -> Result<DataStep, Error> {
        let sent = self.last_sent.take().unwrap_or(Command::Noop);
        match self.state {
            SetupState::TypeSent => {
                expect(&sent, reply, Expect::Completion)?;
                session.type_set(self.request.transfer_type);
                self.open(session)
            }
            SetupState::PretSent => {
                expect(&sent, reply, Expect::Completion)?;
                self.open(session)
            }
            SetupState::EpsvSent => {
                if reply.code() == ReplyCode::EXTENDED_PASSIVE {
                    let port = parse_229(&reply)?;
                    session.epsv = EpsvState::Works;
                    self.state = SetupState::WaitConnect;
                    Ok(DataStep::Connect(SocketAddr::new(session.peer.ip(), port)))
                } else if reply.code().is_permanent()
                    && session.epsv == EpsvState::Untried
                    && session.peer.is_ipv4()
                {
                    session.epsv = EpsvState::Refused;
                    self.state = SetupState::PasvSent;
                    Ok(self.send(Command::Pasv))
                } else {
                    Err(unexpected(&sent, reply))
                }
            }
            SetupState::PasvSent => {
                if reply.code() != ReplyCode::PASSIVE {
                    return Err(unexpected(&sent, reply));
                }
                let advertised = parse_227(&reply)?;
                let ip = if session.trust_pasv_address {
                    IpAddr::V4(*advertised.ip())
                } else {
                    session.peer.ip()
                };
                self.state = SetupState::WaitConnect;
                Ok(DataStep::Connect(SocketAddr::new(ip, advertised.port())))
            }
            SetupState::PortSent => {
                expect(&sent, reply, Expect::Completion)?;
                Ok(self.after_connection())
            }
            SetupState::RestSent => {
                expect(&sent, reply, Expect::Intermediate)?;
                self.state = SetupState::CommandSent;
                Ok(self.send(self.request.command.clone()))
            }
            SetupState::CommandSent => {
                let code = reply.code();
                if code.is_completion() && !self.skipped_completion {
                    // Some servers send a 2xx before the 150; ftplib skips it too.
                    self.skipped_completion = true;
                    self.last_sent = Some(sent);
                    return Ok(DataStep::ReadReply);
                }
                let reply = expect(&sent, reply, Expect::Preliminary)?;
                self.state = SetupState::Ready;
                let announced_size = parse_150(&reply);
                Ok(DataStep::Ready {
                    reply,
                    announced_size,
                })
            }
            SetupState::Start
            | SetupState::WaitConnect
            | SetupState::WaitListen
            | SetupState::Ready => Err(unexpected(&sent, reply)),
        }
    }

    /// The passive data connection is open.
    pub fn connected(&mut self) -> DataStep {
        self.after_connection()
    }

    /// The active-mode listener is bound at `local`; sends `PORT` or `EPRT`.
    pub fn listening(&mut self, local: SocketAddr) -> DataStep {
        self.state = SetupState::PortSent;
        match local {
            SocketAddr::V4(v4) => self.send(Command::Port(v4)),
            SocketAddr::V6(_) => self.send(Command::Eprt(local)),
        }
    }
}

fn unexpected(sent: &Command, reply: Reply) -> Error {
    Error::Reply {
        command: sent.to_string(),
        reply,
    }
}

/// What a driver does next while aborting a transfer.
#[derive(Debug, PartialEq, Eq)]
pub enum AbortStep {
    /// Read the next reply and feed it to [`Abort::on_reply`].
    Read,
    /// Send `NOOP`, then read the next reply.
    SendNoop,
    /// Read one more reply if it comes within a short grace period (a
    /// straggler from a server that answers out of order); feed it to
    /// [`Abort::on_reply`], or call [`Abort::on_quiet`] if none comes.
    ReadBriefly,
    /// The control connection is in step again.
    Done,
}

/// Resynchronises the control connection after an interrupted transfer.
///
/// The driver sends `ABOR` and closes the data connection, then reads. The
/// transfer and the ABOR each get a reply (426 then 226, or 226 then 225,
/// in whatever order and wording). After the first of them the driver sends
/// `NOOP` — not earlier: some servers (pure-ftpd) read ABOR during the
/// transfer and drop whatever came in the same packet — and everything up
/// to NOOP's 200 is consumed. A server that sent fewer than two replies
/// before the 200 may still send one late (libunftp does), so one more is
/// awaited briefly.
#[derive(Debug, Default)]
pub struct Abort {
    before_noop: usize,
    noop_sent: bool,
    noop_seen: bool,
}

impl Abort {
    /// The first command to send, before closing the data connection.
    pub const COMMAND: Command = Command::Abor;

    /// Most replies accepted before NOOP's: more means the server is lost.
    const MAX_REPLIES: usize = 6;

    /// A new abort.
    pub fn new() -> Abort {
        Abort::default()
    }

    /// Feeds a reply.
    pub fn on_reply(&mut self, reply: Reply) -> Result<AbortStep, Error> {
        if self.noop_seen {
            // The straggler: the transfer's or ABOR's late reply.
            return Ok(AbortStep::Done);
        }
        if reply.code() == ReplyCode::NOT_AVAILABLE {
            return Err(Error::Reply {
                command: "ABOR".into(),
                reply,
            });
        }
        if self.noop_sent && reply.code() == ReplyCode::OK {
            self.noop_seen = true;
            return Ok(if self.before_noop >= 2 {
                AbortStep::Done
            } else {
                AbortStep::ReadBriefly
            });
        }
        self.before_noop += 1;
        if self.before_noop > Abort::MAX_REPLIES {
            return Err(Error::Reply {
                command: "NOOP after ABOR".into(),
                reply,
            });
        }
        if self.noop_sent {
            Ok(AbortStep::Read)
        } else {
            self.noop_sent = true;
            Ok(AbortStep::SendNoop)
        }
    }

    /// No straggler came within the grace period.
    pub fn on_quiet(&mut self) -> AbortStep {
        AbortStep::Done
    }
}

/// Checks the final reply of a transfer: 2xx (226 or 250) is success.
pub fn finish_transfer(command: &Command, reply: Reply) -> Result<Reply, Error> {
    expect(command, reply, Expect::Completion)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(text: &str) -> Reply {
        Reply::parse_line(text.as_bytes()).unwrap()
    }

    fn login(acct: Option<&str>) -> Login {
        Login::new(
            Arg::new("user", "bob").unwrap(),
            Secret::new("pw").unwrap(),
            acct.map(|a| Secret::new(a).unwrap()),
        )
    }

    #[test]
    fn login_user_pass() {
        let mut l = login(None);
        assert_eq!(l.start().to_string(), "USER bob");
        let Step::Send(pass) = l.on_reply(reply("331 need password")).unwrap() else {
            panic!("expected PASS")
        };
        assert_eq!(pass.to_string(), "PASS ****");
        assert!(matches!(
            l.on_reply(reply("230 ok")).unwrap(),
            Step::Done(_)
        ));
    }

    #[test]
    fn login_without_password_and_with_account() {
        let mut l = login(None);
        l.start();
        assert!(matches!(
            l.on_reply(reply("230 no password needed")).unwrap(),
            Step::Done(_)
        ));

        let mut l = login(Some("acct"));
        l.start();
        l.on_reply(reply("331 pw")).unwrap();
        let Step::Send(acct) = l.on_reply(reply("332 need account")).unwrap() else {
            panic!("expected ACCT")
        };
        assert_eq!(acct.to_string(), "ACCT ****");
        assert!(matches!(
            l.on_reply(reply("230 in")).unwrap(),
            Step::Done(_)
        ));
    }

    #[test]
    fn login_refusals() {
        let mut l = login(None);
        l.start();
        l.on_reply(reply("331 pw")).unwrap();
        assert!(matches!(
            l.on_reply(reply("530 bad")),
            Err(Error::LoginRefused(_))
        ));

        let mut l = login(None);
        l.start();
        l.on_reply(reply("331 pw")).unwrap();
        assert!(matches!(
            l.on_reply(reply("332 acct please")),
            Err(Error::LoginRefused(_))
        ));

        let mut l = login(None);
        l.start();
        assert!(
            matches!(l.on_reply(reply("421 busy")), Err(Error::LoginRefused(r)) if r.code().is_transient())
        );
    }

    fn session(peer: &str, mode: DataMode, trust: bool) -> Session {
        Session::new(peer.parse().unwrap(), mode, trust, true)
    }

    fn retr(rest: Option<u64>) -> DataRequest {
        DataRequest {
            command: Command::Retr(Arg::path("f").unwrap()),
            transfer_type: TransferType::Binary,
            rest,
        }
    }

    fn sent(step: DataStep) -> String {
        match step {
            DataStep::Send(c) => c.to_string(),
            other => panic!("expected a command, got {other:?}"),
        }
    }

    #[test]
    fn passive_with_epsv_type_and_rest() {
        let mut s = session("10.0.0.1:21", DataMode::Passive, false);
        let mut d = DataSetup::new(retr(Some(4_294_967_396)));
        assert_eq!(sent(d.start(&mut s).unwrap()), "TYPE I");
        assert_eq!(sent(d.on_reply(&mut s, reply("200 ok")).unwrap()), "EPSV");
        let step = d.on_reply(&mut s, reply("229 ok (|||5000|)")).unwrap();
        assert_eq!(step, DataStep::Connect("10.0.0.1:5000".parse().unwrap()));
        assert_eq!(sent(d.connected()), "REST 4294967396");
        assert_eq!(sent(d.on_reply(&mut s, reply("350 ok")).unwrap()), "RETR f");
        let DataStep::Ready { announced_size, .. } =
            d.on_reply(&mut s, reply("150 here (99 bytes)")).unwrap()
        else {
            panic!("expected Ready")
        };
        assert_eq!(announced_size, Some(99));
        // TYPE is remembered for the next transfer.
        let mut d = DataSetup::new(retr(None));
        assert_eq!(sent(d.start(&mut s).unwrap()), "EPSV");
    }

    #[test]
    fn epsv_refused_falls_back_to_pasv_once_and_ignores_the_227_address() {
        let mut s = session("10.0.0.1:21", DataMode::Passive, false);
        s.type_set(TransferType::Binary);
        let mut d = DataSetup::new(retr(None));
        assert_eq!(sent(d.start(&mut s).unwrap()), "EPSV");
        assert_eq!(
            sent(d.on_reply(&mut s, reply("500 what?")).unwrap()),
            "PASV"
        );
        let step = d
            .on_reply(
                &mut s,
                reply("227 Entering Passive Mode (192,168,9,9,19,136)"),
            )
            .unwrap();
        assert_eq!(step, DataStep::Connect("10.0.0.1:5000".parse().unwrap()));
        let mut d = DataSetup::new(retr(None));
        assert_eq!(sent(d.start(&mut s).unwrap()), "PASV");
    }

    #[test]
    fn trusted_227_address_is_used_when_asked() {
        let mut s = session("10.0.0.1:21", DataMode::Passive, true);
        s.type_set(TransferType::Binary);
        s.set_features(Features::parse(&reply("211 none")));
        let mut d = DataSetup::new(retr(None));
        d.start(&mut s).unwrap();
        d.on_reply(&mut s, reply("500 no epsv")).unwrap();
        let step = d
            .on_reply(&mut s, reply("227 (192,168,9,9,19,136)"))
            .unwrap();
        assert_eq!(step, DataStep::Connect("192.168.9.9:5000".parse().unwrap()));
    }

    #[test]
    fn ipv6_never_falls_back_to_pasv() {
        let mut s = session("[::1]:21", DataMode::Passive, false);
        s.type_set(TransferType::Binary);
        let mut d = DataSetup::new(retr(None));
        assert_eq!(sent(d.start(&mut s).unwrap()), "EPSV");
        assert!(matches!(
            d.on_reply(&mut s, reply("500 no")),
            Err(Error::Reply { .. })
        ));
    }

    #[test]
    fn bad_passive_replies_are_protocol_errors() {
        let mut s = session("10.0.0.1:21", DataMode::Passive, false);
        s.type_set(TransferType::Binary);
        let mut d = DataSetup::new(retr(None));
        d.start(&mut s).unwrap();
        assert!(matches!(
            d.on_reply(&mut s, reply("229 garbage")),
            Err(Error::Protocol(_))
        ));
    }

    #[test]
    fn active_mode_uses_port_on_ipv4_and_eprt_on_ipv6() {
        let mut s = session("10.0.0.1:21", DataMode::Active, false);
        s.type_set(TransferType::Binary);
        let mut d = DataSetup::new(retr(None));
        assert_eq!(d.start(&mut s).unwrap(), DataStep::Listen);
        assert_eq!(
            sent(d.listening("10.0.0.2:5001".parse().unwrap())),
            "PORT 10,0,0,2,19,137"
        );
        assert_eq!(sent(d.on_reply(&mut s, reply("200 ok")).unwrap()), "RETR f");
        assert!(matches!(
            d.on_reply(&mut s, reply("150 go")).unwrap(),
            DataStep::Ready { .. }
        ));
        assert_eq!(
            DataSetup::server_ip(&s),
            "10.0.0.1".parse::<IpAddr>().unwrap()
        );

        let mut s = session("[::1]:21", DataMode::Active, false);
        s.type_set(TransferType::Binary);
        let mut d = DataSetup::new(retr(None));
        d.start(&mut s).unwrap();
        assert_eq!(
            sent(d.listening("[::1]:5001".parse().unwrap())),
            "EPRT |2|::1|5001|"
        );
    }

    #[test]
    fn abort_consumes_every_reply_up_to_noop() {
        let mut a = Abort::new();
        assert_eq!(
            a.on_reply(reply("426 aborted")).unwrap(),
            AbortStep::SendNoop
        );
        assert_eq!(a.on_reply(reply("226 abort ok")).unwrap(), AbortStep::Read);
        assert_eq!(a.on_reply(reply("200 noop")).unwrap(), AbortStep::Done);

        // libunftp: its 426 comes after NOOP's 200.
        let mut a = Abort::new();
        assert_eq!(
            a.on_reply(reply("226 closing")).unwrap(),
            AbortStep::SendNoop
        );
        assert_eq!(
            a.on_reply(reply("200 noop")).unwrap(),
            AbortStep::ReadBriefly
        );
        assert_eq!(a.on_reply(reply("426 late")).unwrap(), AbortStep::Done);

        // A 200 before NOOP was sent is not NOOP's.
        let mut a = Abort::new();
        assert_eq!(a.on_reply(reply("200 odd")).unwrap(), AbortStep::SendNoop);
        assert_eq!(
            a.on_reply(reply("200 noop")).unwrap(),
            AbortStep::ReadBriefly
        );
        assert_eq!(a.on_quiet(), AbortStep::Done);

        let mut a = Abort::new();
        assert!(a.on_reply(reply("421 bye")).is_err());
        let mut a = Abort::new();
        let mut last = Ok(AbortStep::Read);
        for _ in 0..7 {
            last = a.on_reply(reply("150 again"));
        }
        assert!(last.is_err());
    }

    #[test]
    fn transfer_refusals_and_early_completion() {
        let mut s = session("10.0.0.1:21", DataMode::Passive, false);
        s.type_set(TransferType::Binary);
        let mut d = DataSetup::new(retr(Some(10)));
        d.start(&mut s).unwrap();
        d.on_reply(&mut s, reply("229 (|||5000|)")).unwrap();
        d.connected();
        let err = d
            .on_reply(&mut s, reply("502 REST not implemented"))
            .unwrap_err();
        assert_eq!(err.code(), Some(ReplyCode(502)));

        let mut d = DataSetup::new(retr(None));
        d.start(&mut s).unwrap();
        d.on_reply(&mut s, reply("229 (|||5000|)")).unwrap();
        d.connected();
        assert_eq!(
            d.on_reply(&mut s, reply("200 early")).unwrap(),
            DataStep::ReadReply
        );
        assert!(matches!(
            d.on_reply(&mut s, reply("150 go")).unwrap(),
            DataStep::Ready { .. }
        ));

        let mut d = DataSetup::new(retr(None));
        d.start(&mut s).unwrap();
        d.on_reply(&mut s, reply("229 (|||5000|)")).unwrap();
        d.connected();
        let err = d.on_reply(&mut s, reply("550 no such file")).unwrap_err();
        assert!(err.is_permanent());
        assert_eq!(err.to_string(), "RETR f: 550 no such file");
    }
}
