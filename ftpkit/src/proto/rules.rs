//! The decisions of single commands that every driver shares: what a
//! greeting must look like, which login to send, when `CDUP` falls back to
//! `CWD ..`, which replies a raw command or a standalone `ABOR` accepts,
//! which listing command to use, when a download's size must match what the
//! server announced, and how a host string splits into host and port.
//!
//! The blocking and the async drivers call these functions instead of
//! deciding on their own, so both behave the same by construction.

use std::{net::IpAddr, time::Duration};

use super::{
    Arg, Command, Expect, Features, Login, Reply, ReplyCode, Secret, TransferType, finish_transfer,
};
use crate::{
    error::{Error, InvalidInput, ProtocolError, Result},
    list::{Entry, MlsdEntry, parse_mlsd_line, parse_mlst_entry},
    name::Name,
    tls::TlsMode,
};

/// The default FTP port.
pub const DEFAULT_PORT: u16 = 21;

/// The default port for implicit FTPS.
pub const DEFAULT_IMPLICIT_TLS_PORT: u16 = 990;

/// How long to wait for a late reply after an abort (see [`Abort`](super::Abort)).
pub const ABORT_GRACE: Duration = Duration::from_millis(300);

/// The port to use when an address names none.
pub fn default_port(tls_mode: Option<TlsMode>) -> u16 {
    match tls_mode {
        Some(TlsMode::Implicit) => DEFAULT_IMPLICIT_TLS_PORT,
        _ => DEFAULT_PORT,
    }
}

/// What to do with a reply while waiting for the greeting.
#[derive(Debug, PartialEq, Eq)]
pub enum Greeting {
    /// 120 ("ready in a few minutes"): read the reply that follows.
    Wait,
    /// The server is ready; this is its greeting.
    Ready(Reply),
}

/// Whether `reply` leaves the control connection out of step: a 1xx to a
/// command that opens no transfer promises another reply, which must not
/// be read as the answer to the next command. Drivers mark the client
/// unusable then.
pub fn is_stray_preliminary(reply: &Reply, expected: Expect) -> bool {
    reply.code().is_preliminary() && expected != Expect::Preliminary
}

/// How many `120` replies a greeting may hold before the next one is taken
/// as a refusal: a server that floods `120` must not keep a client waiting
/// forever, each reply restarting the idle timeout.
pub const MAX_GREETING_WAITS: usize = 8;

/// Judges a greeting: 120 means wait for the next reply, 2xx is ready,
/// anything else refuses the connection (its code kept in the error).
pub fn on_greeting(reply: Reply) -> Result<Greeting> {
    if reply.code() == ReplyCode(120) {
        Ok(Greeting::Wait)
    } else if reply.code().is_completion() {
        Ok(Greeting::Ready(reply))
    } else {
        Err(Error::Reply {
            command: "connect".into(),
            reply,
        })
    }
}

/// Refuses to send credentials in clear when TLS was asked for.
pub fn check_credentials_allowed(tls_mode: Option<TlsMode>, secured: bool) -> Result<()> {
    if tls_mode.is_some() && !secured {
        return Err(Error::InvalidInput(InvalidInput::CleartextCredentials));
    }
    Ok(())
}

/// The user and password a login sends, with ftplib's defaults: an empty
/// user is `anonymous`, and an anonymous login with an empty (or `-`)
/// password sends `anonymous@`.
pub fn login_defaults(user: &str, password: &str) -> (String, String) {
    let user = if user.is_empty() {
        Login::ANONYMOUS_USER
    } else {
        user
    };
    let anonymous = user == Login::ANONYMOUS_USER;
    let password = match password {
        "" | "-" if anonymous => format!("{password}{}", Login::ANONYMOUS_PASSWORD),
        other => other.to_owned(),
    };
    (user.to_owned(), password)
}

/// The login exchange for these credentials, with the defaults of
/// [`login_defaults`]. An empty account is no account.
pub fn login_for(user: &str, password: &str, account: Option<&str>) -> Result<Login> {
    let (user, password) = login_defaults(user, password);
    let acct = match account {
        Some(a) if !a.is_empty() => Some(Secret::new(a)?),
        _ => None,
    };
    Ok(Login::new(
        Arg::new("user name", user.as_str())?,
        Secret::new(password)?,
        acct,
    ))
}

/// How to change directory to `path`: `Some(CDUP)` first for `..` (then
/// [`cdup_unknown`] decides whether to fall back), and the `CWD` command,
/// `.` for an empty path.
pub fn cwd_commands(path: &[u8]) -> Result<(Option<Command>, Command)> {
    let first = (path == b"..").then_some(Command::Cdup);
    let path = if path.is_empty() { b"." } else { path };
    Ok((first, Command::Cwd(Arg::path(path)?)))
}

/// Whether a failed `CDUP` means the server does not know the command
/// (500 or 502), so `CWD ..` should be tried.
pub fn cdup_unknown(result: &Result<Reply>) -> bool {
    matches!(result, Err(Error::Reply { reply, .. })
        if reply.code() == ReplyCode(500) || reply.code() == ReplyCode(502))
}

/// The path a `MKD` created: from its 257 reply, or the path asked for if
/// the reply names none.
pub fn mkd_result(reply: &Reply, asked: &[u8]) -> Name {
    super::parse_257(reply).unwrap_or_else(|_| Name::from(asked))
}

/// A raw command line's reply as `sendcmd` judges it: 4xx and 5xx are errors.
pub fn sendcmd_result(command: &Command, reply: Reply) -> Result<Reply> {
    if reply.code().is_negative() {
        return Err(Error::Reply {
            command: command.to_string(),
            reply,
        });
    }
    Ok(reply)
}

/// Whether a raw command line changes the transfer type (`TYPE ...`), so
/// the session must forget the type it knew.
pub fn changes_type(line: &[u8]) -> bool {
    line.get(..4)
        .is_some_and(|v| v.eq_ignore_ascii_case(b"TYPE"))
}

/// The command to send after `FEAT`, if any: `OPTS UTF8 ON` when the server
/// lists `UTF8` (RFC 2640) and the client's names are UTF-8 (`utf8_names`:
/// a client told the server's names are in another charset does not switch
/// the server to UTF-8). Its reply does not matter.
pub fn after_features(features: &Features, utf8_names: bool) -> Result<Option<Command>> {
    if utf8_names && features.supports("UTF8") {
        Ok(Some(Command::Opts(Arg::new("OPTS", "UTF8 ON")?)))
    } else {
        Ok(None)
    }
}

/// Whether `command` must wait for the `OPTS UTF8 ON` a `FEAT` reply called
/// for ([`after_features`]): a command whose line is not ASCII (the server
/// reads its name in its default charset until then), or one whose reply or
/// data carries names in the server's charset (`PWD`, `MKD`, the listings,
/// `SITE`, a raw command other than those that name nothing, such as
/// `QUIT` or `NOOP`). A transfer, `SIZE` or checksum of a file with an
/// ASCII name does not wait for it.
pub fn needs_utf8_mode(command: &Command) -> bool {
    let mut line = Vec::new();
    command.encode(&mut line);
    if !line.is_ascii() {
        return true;
    }
    match command {
        Command::Pwd
        | Command::Mkd(_)
        | Command::List(_)
        | Command::Nlst(_)
        | Command::Mlsd(_)
        | Command::Mlst(_)
        | Command::Site(_) => true,
        Command::Raw(_) => !NAMELESS_VERBS
            .iter()
            .any(|verb| command.verb().eq_ignore_ascii_case(verb)),
        _ => false,
    }
}

/// Verbs whose command and reply carry no path name.
const NAMELESS_VERBS: [&str; 14] = [
    "QUIT", "NOOP", "ABOR", "TYPE", "MODE", "STRU", "PASV", "EPSV", "REST", "SYST", "FEAT", "ALLO",
    "PBSZ", "PROT",
];

/// Whether `command` must wait for the `OPTS MLST` a `FEAT` reply called
/// for ([`mlst_options`]): `MLSD` and `MLST`, typed or raw.
pub fn needs_mlst_options(command: &Command) -> bool {
    match command {
        Command::Mlsd(_) | Command::Mlst(_) => true,
        Command::Raw(_) => ["MLSD", "MLST"]
            .iter()
            .any(|verb| command.verb().eq_ignore_ascii_case(verb)),
        _ => false,
    }
}

/// The command to send after `FEAT` for listings: `OPTS MLST ...` when the
/// server offers facts ftpkit reads but does not send them by default
/// (see [`crate::list::mlsd::mlst_opts_argument`]). Its reply does not
/// matter: a server that refuses keeps its default facts.
pub fn mlst_options(features: &Features) -> Result<Option<Command>> {
    match features
        .params("MLST")
        .and_then(crate::list::mlsd::mlst_opts_argument)
    {
        Some(argument) => Ok(Some(Command::Opts(Arg::new("OPTS", argument)?))),
        None => Ok(None),
    }
}

/// The reply to a standalone `ABOR` (no transfer running through the
/// client): 2xx or 426 are accepted.
pub fn abort_result(reply: Reply) -> Result<Reply> {
    if reply.code().is_completion() || reply.code() == ReplyCode::TRANSFER_ABORTED {
        Ok(reply)
    } else {
        Err(Error::Reply {
            command: "ABOR".into(),
            reply,
        })
    }
}

/// An optional path argument: `None` for an empty path.
pub fn optional_path(path: &[u8]) -> Result<Option<Arg>> {
    if path.is_empty() {
        Ok(None)
    } else {
        Ok(Some(Arg::path(path)?))
    }
}

/// The facts of a `MLST` reply (the line that starts with a space).
pub fn mlst_facts(reply: &Reply) -> Result<MlsdEntry> {
    reply
        .lines()
        .iter()
        .find_map(|line| line.strip_prefix(b" ").and_then(parse_mlsd_line))
        .ok_or_else(|| {
            Error::Protocol(ProtocolError::UnparsableReply {
                what: "MLST facts",
                reply: reply.to_string(),
            })
        })
}

/// The typed entry of a `MLST` reply, if it names one.
pub fn mlst_entry(reply: &Reply) -> Option<Entry> {
    reply
        .lines()
        .iter()
        .find_map(|line| line.strip_prefix(b" ").and_then(parse_mlst_entry))
}

pub use crate::list::ListingFormat;

/// The listing command for typed entries: `MLSD` when FEAT lists `MLST` or
/// `MLSD`, `LIST` otherwise.
pub fn listing_command(features: &Features, path: Option<Arg>) -> (ListingFormat, Command) {
    if features.supports("MLST") || features.supports("MLSD") {
        (ListingFormat::Mlsd, Command::Mlsd(path))
    } else {
        (ListingFormat::List, Command::List(path))
    }
}

/// Whether `stat` can ask `MLST` rather than list the path.
pub fn stat_uses_mlst(features: &Features) -> bool {
    features.supports("MLST")
}

/// The size a download must reach to be complete: the size the 1xx reply
/// announced, checked only where it must equal the bytes received (binary
/// mode from the start of the file).
pub fn expected_size(announced: Option<u64>, ty: TransferType, rest: Option<u64>) -> Option<u64> {
    announced.filter(|_| ty == TransferType::Binary && rest.is_none())
}

/// Judges the end of a download: the final reply must be 2xx, and no fewer
/// bytes may have arrived than [`expected_size`] says.
pub fn finish_download(
    command: &Command,
    reply: Reply,
    expected: Option<u64>,
    received: u64,
) -> Result<Reply> {
    let reply = finish_transfer(command, reply)?;
    if let Some(expected) = expected
        && received < expected
    {
        return Err(Error::Incomplete { expected, received });
    }
    Ok(reply)
}

/// Whether a reply makes the connection unusable: 421, the server is
/// closing the control connection.
pub fn closes_connection(reply: &Reply) -> bool {
    reply.code() == ReplyCode::NOT_AVAILABLE
}

/// `RNFR` must get 3xx, `RNTO` 2xx.
pub fn rename_commands(from: &[u8], to: &[u8]) -> Result<[(Command, Expect); 2]> {
    let to = Arg::path(to)?;
    Ok([
        (Command::Rnfr(Arg::path(from)?), Expect::Intermediate),
        (Command::Rnto(to), Expect::Completion),
    ])
}

/// Splits `host[:port]`, `[v6]:port` or a bare IPv6 address into host and port.
pub fn split_host_port(addr: &str, default_port: u16) -> Result<(String, u16)> {
    let bad = || Error::InvalidInput(InvalidInput::Address(addr.escape_default().to_string()));
    if addr.is_empty() || addr.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad());
    }
    let parse_port = |p: &str| p.parse::<u16>().ok().filter(|&p| p != 0).ok_or_else(bad);
    if let Some(rest) = addr.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        let port = match after {
            "" => default_port,
            _ => parse_port(after.strip_prefix(':').ok_or_else(bad)?)?,
        };
        return Ok((host.to_owned(), port));
    }
    match addr.matches(':').count() {
        0 => Ok((addr.to_owned(), default_port)),
        1 => {
            let (host, port) = addr.split_once(':').ok_or_else(bad)?;
            if host.is_empty() {
                return Err(bad());
            }
            Ok((host.to_owned(), parse_port(port)?))
        }
        _ => Ok((addr.to_owned(), default_port)),
    }
}

/// Whether an active-mode data connection from `from` may be accepted: only
/// from the server's own address (IPv4-mapped IPv6 included), so a third
/// party can neither inject nor steal data.
pub fn accepts_data_from(from: IpAddr, server_ip: IpAddr) -> bool {
    let canon = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    canon(from) == canon(server_ip)
}

/// What a reconnect must repeat to stand where the session stood: the
/// last successful login and the working directory. Both drivers keep one
/// and follow its answers.
#[derive(Clone, Default)]
pub struct SessionMemory {
    login: Option<(String, String, Option<String>)>,
    cwd: Cwd,
}

/// Where the session is, for a reconnect to return to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Cwd {
    /// The login directory: nothing to do.
    #[default]
    Login,
    /// A directory known by its absolute path (from PWD).
    Known(Name),
    /// Changed since the last PWD.
    Unknown,
}

impl std::fmt::Debug for SessionMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password is never shown.
        f.debug_struct("SessionMemory")
            .field("user", &self.login.as_ref().map(|l| &l.0))
            .field("cwd", &self.cwd)
            .finish_non_exhaustive()
    }
}

/// What a reconnect sends after the greeting (and TLS).
#[derive(Debug)]
pub struct Replay {
    /// Log in again: user, password, account.
    pub login: Option<(String, String, Option<String>)>,
    /// Then return to the directory.
    pub cwd: Option<Command>,
}

impl SessionMemory {
    /// A login succeeded with these credentials (as given to
    /// [`login_for`]); the session is in the login directory.
    pub fn on_login(&mut self, user: &str, password: &str, account: Option<&str>) {
        let (user, password) = login_defaults(user, password);
        self.login = Some((user, password, account.map(str::to_owned)));
        self.cwd = Cwd::Login;
    }

    /// `CWD` or `CDUP` succeeded: the directory is known only after a `PWD`.
    pub fn on_cwd(&mut self) {
        self.cwd = Cwd::Unknown;
    }

    /// A raw command was sent: one that may change the directory or the
    /// login makes what a reconnect restores unknown.
    pub fn on_raw(&mut self, command: &Command) {
        let verb = command.verb().to_ascii_uppercase();
        if matches!(verb.as_str(), "CWD" | "CDUP" | "XCWD" | "XCUP") {
            self.cwd = Cwd::Unknown;
        } else if matches!(verb.as_str(), "USER" | "PASS" | "ACCT" | "REIN") {
            self.login = None;
        }
    }

    /// Whether a `PWD` is needed before a transfer that may reconnect.
    pub fn needs_pwd(&self) -> bool {
        self.cwd == Cwd::Unknown
    }

    /// The `PWD` reply's directory.
    pub fn set_dir(&mut self, dir: Name) {
        self.cwd = Cwd::Known(dir);
    }

    /// What a reconnect must send; an error if the directory changed since
    /// the last `PWD` (returning to the login directory would be wrong).
    pub fn replay(&self) -> Result<Replay> {
        let cwd = match &self.cwd {
            Cwd::Unknown => return Err(Error::Unusable),
            Cwd::Login => None,
            Cwd::Known(dir) => Some(Command::Cwd(Arg::path(dir.as_bytes())?)),
        };
        Ok(Replay {
            login: self.login.clone(),
            cwd,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(text: &str) -> Reply {
        Reply::parse_line(text.as_bytes()).unwrap()
    }

    #[test]
    fn host_port_forms() {
        assert_eq!(
            split_host_port("example.com", 21).unwrap(),
            ("example.com".into(), 21)
        );
        assert_eq!(
            split_host_port("example.com:2121", 21).unwrap(),
            ("example.com".into(), 2121)
        );
        assert_eq!(
            split_host_port("[::1]:990", 21).unwrap(),
            ("::1".into(), 990)
        );
        assert_eq!(split_host_port("[::1]", 21).unwrap(), ("::1".into(), 21));
        assert_eq!(split_host_port("::1", 21).unwrap(), ("::1".into(), 21));
        for bad in [
            "",
            "host:",
            "host:0",
            "host:99999",
            ":21",
            "[::1",
            "[::1]x",
            "a b",
            "h\r\n:21",
        ] {
            assert!(split_host_port(bad, 21).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn session_memory_replays_login_and_directory() {
        let mut m = SessionMemory::default();
        m.on_login("", "", None);
        let replay = m.replay().unwrap();
        assert_eq!(
            replay.login,
            Some(("anonymous".into(), "anonymous@".into(), None))
        );
        assert!(replay.cwd.is_none());
        m.on_cwd();
        assert!(m.needs_pwd() && m.replay().is_err());
        m.set_dir(Name::from("/a b"));
        assert_eq!(m.replay().unwrap().cwd.unwrap().to_string(), "CWD /a b");
        m.on_raw(&Command::raw("PASS x").unwrap());
        assert!(m.replay().unwrap().login.is_none());
        assert!(!format!("{m:?}").contains("anonymous@"));
    }

    #[test]
    fn mapped_addresses_are_the_same_host() {
        let v4: IpAddr = "127.0.0.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert!(accepts_data_from(mapped, v4));
        assert!(!accepts_data_from("127.0.0.2".parse().unwrap(), v4));
    }

    #[test]
    fn greetings_and_logins() {
        assert_eq!(on_greeting(reply("120 soon")).unwrap(), Greeting::Wait);
        assert!(matches!(
            on_greeting(reply("220 hi")).unwrap(),
            Greeting::Ready(_)
        ));
        assert_eq!(
            on_greeting(reply("421 busy")).unwrap_err().code(),
            Some(ReplyCode(421))
        );
        let mut login = login_for("", "", Some("")).unwrap();
        assert_eq!(login.start().to_string(), "USER anonymous");
        assert!(check_credentials_allowed(Some(TlsMode::Explicit), false).is_err());
        assert!(check_credentials_allowed(None, false).is_ok());
    }

    #[test]
    fn sizes_cwd_and_listing_choice() {
        assert_eq!(expected_size(Some(9), TransferType::Binary, None), Some(9));
        assert_eq!(expected_size(Some(9), TransferType::Ascii, None), None);
        assert_eq!(expected_size(Some(9), TransferType::Binary, Some(1)), None);
        let cmd = Command::Noop;
        assert!(matches!(
            finish_download(&cmd, reply("226 ok"), Some(9), 8),
            Err(Error::Incomplete {
                expected: 9,
                received: 8
            })
        ));
        let (first, cwd) = cwd_commands(b"..").unwrap();
        assert_eq!(first, Some(Command::Cdup));
        assert_eq!(cwd.to_string(), "CWD ..");
        assert_eq!(cwd_commands(b"").unwrap().1.to_string(), "CWD .");
        let feats = Features::parse(&reply("211 none"));
        assert_eq!(listing_command(&feats, None).0, ListingFormat::List);
        assert!(changes_type(b"type a"));
        assert!(!changes_type(b"TY"));
        assert!(abort_result(reply("426 gone")).is_ok());
        assert!(abort_result(reply("500 what")).is_err());
    }

    #[test]
    fn opts_utf8_on_only_for_a_client_whose_names_are_utf8() {
        let lines = [
            b"211-Features:".to_vec(),
            b" UTF8".to_vec(),
            b"211 End".to_vec(),
        ];
        let utf8 = Features::parse(&Reply::new(ReplyCode::SYSTEM_STATUS, lines.to_vec()));
        let on = after_features(&utf8, true).unwrap().map(|c| c.to_string());
        assert_eq!(on.as_deref(), Some("OPTS UTF8 ON"));
        // A client told the names are CP1251 leaves the server as it is.
        assert_eq!(after_features(&utf8, false).unwrap(), None);
        let none = Features::parse(&reply("211 none"));
        assert_eq!(after_features(&none, true).unwrap(), None);
    }

    #[test]
    fn owed_opts_wait_for_the_commands_they_matter_to() {
        let path = |p: &[u8]| Arg::path(p).unwrap();
        let ascii = [
            Command::Retr(path(b"f.bin")),
            Command::Stor(path(b"dir/f")),
            Command::Size(path(b"f")),
            Command::Type(TransferType::Binary),
            Command::Epsv,
            Command::Cwd(path(b"pub")),
            Command::Noop,
            Command::Raw(path(b"QUIT")),
            Command::Raw(path(b"noop")),
        ];
        for command in &ascii {
            assert!(!needs_utf8_mode(command), "{command}");
            assert!(!needs_mlst_options(command), "{command}");
        }
        for command in [
            Command::Retr(path("é".as_bytes())),
            Command::Cwd(path("Müller".as_bytes())),
            Command::Pwd,
            Command::Mkd(path(b"new")),
            Command::Nlst(None),
            Command::List(None),
            Command::Raw(path(b"STAT")),
        ] {
            assert!(needs_utf8_mode(&command), "{command}");
        }
        for command in [
            Command::Mlsd(None),
            Command::Mlst(Some(path(b"f"))),
            Command::Raw(path(b"mlsd pub")),
        ] {
            assert!(
                needs_utf8_mode(&command) && needs_mlst_options(&command),
                "{command}"
            );
        }
        assert!(!needs_mlst_options(&Command::List(None)));
    }
}
