//! Commands and their encoding.
//!
//! Every argument is an [`Arg`], a type that cannot hold CR, LF or NUL: a
//! command is checked when it is built, before anything is sent, so no
//! argument can end a command early and inject another (the class of bug
//! behind GHSA-8mhj-xm4h-m5m6). Passwords are [`Secret`]s that never show in
//! `Debug` or `Display`, so they never reach a log.

use std::{
    fmt,
    net::{SocketAddr, SocketAddrV4},
};

use crate::error::InvalidInput;

/// The longest argument accepted, in bytes. Longer paths are refused before
/// anything is sent; servers commonly cap a command line near this length.
pub const MAX_ARG_LEN: usize = 4096;

/// A command argument: bytes without CR, LF or NUL, at most [`MAX_ARG_LEN`] long.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Arg(Vec<u8>);

impl Arg {
    /// Checks `bytes` and wraps them. `what` names the argument in the error
    /// ("path", "password", "command").
    pub fn new(what: &'static str, bytes: impl Into<Vec<u8>>) -> Result<Arg, InvalidInput> {
        let bytes = bytes.into();
        if bytes.iter().any(|&b| b == b'\r' || b == b'\n') {
            return Err(InvalidInput::LineBreak(what));
        }
        if bytes.contains(&0) {
            return Err(InvalidInput::Nul(what));
        }
        if bytes.len() > MAX_ARG_LEN {
            return Err(InvalidInput::TooLong {
                what,
                len: bytes.len(),
                max: MAX_ARG_LEN,
            });
        }
        Ok(Arg(bytes))
    }

    /// A path argument (`what` = "path").
    pub fn path(bytes: impl AsRef<[u8]>) -> Result<Arg, InvalidInput> {
        Arg::new("path", bytes.as_ref())
    }

    /// The argument's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Whether the argument is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

/// A password or account: an [`Arg`] that hides itself in `Debug` and `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arg);

impl Secret {
    /// Checks and wraps a password.
    pub fn new(password: impl Into<Vec<u8>>) -> Result<Secret, InvalidInput> {
        Arg::new("password", password).map(Secret)
    }

    /// The secret bytes, for encoding only.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// The representation type of a transfer (RFC 959 section 3.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferType {
    /// `TYPE A`: text, lines end in CRLF on the wire.
    Ascii,
    /// `TYPE I`: image, bytes as they are.
    Binary,
}

/// Data channel protection level for FTPS (RFC 2228 `PROT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protection {
    /// `PROT C`: data connections in cleartext.
    Clear,
    /// `PROT P`: data connections over TLS.
    Private,
}

/// One command to the server.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// `USER name`.
    User(Arg),
    /// `PASS password` (redacted in Display).
    Pass(Secret),
    /// `ACCT account` (redacted in Display).
    Acct(Secret),
    /// `CWD path`.
    Cwd(Arg),
    /// `CDUP`.
    Cdup,
    /// `PWD`.
    Pwd,
    /// `MKD path`.
    Mkd(Arg),
    /// `RMD path`.
    Rmd(Arg),
    /// `DELE path`.
    Dele(Arg),
    /// `RNFR path`.
    Rnfr(Arg),
    /// `RNTO path`.
    Rnto(Arg),
    /// `SIZE path` (RFC 3659).
    Size(Arg),
    /// `MDTM path` (RFC 3659).
    Mdtm(Arg),
    /// `TYPE A` or `TYPE I`.
    Type(TransferType),
    /// `PASV`.
    Pasv,
    /// `EPSV` (RFC 2428).
    Epsv,
    /// `PORT h1,h2,h3,h4,p1,p2`.
    Port(SocketAddrV4),
    /// `EPRT |proto|address|port|` (RFC 2428).
    Eprt(SocketAddr),
    /// `REST offset` (RFC 3659 restart in stream mode).
    Rest(u64),
    /// `RETR path`.
    Retr(Arg),
    /// `STOR path`.
    Stor(Arg),
    /// `APPE path`.
    Appe(Arg),
    /// `LIST [path]`.
    List(Option<Arg>),
    /// `NLST [path]`.
    Nlst(Option<Arg>),
    /// `MLSD [path]` (RFC 3659).
    Mlsd(Option<Arg>),
    /// `MLST [path]` (RFC 3659).
    Mlst(Option<Arg>),
    /// `SITE args`.
    Site(Arg),
    /// `NOOP`.
    Noop,
    /// `FEAT` (RFC 2389).
    Feat,
    /// `OPTS args` (RFC 2389), e.g. `OPTS UTF8 ON`.
    Opts(Arg),
    /// `ABOR`.
    Abor,
    /// `QUIT`.
    Quit,
    /// `AUTH TLS` (RFC 4217).
    AuthTls,
    /// `PBSZ 0` (RFC 4217).
    Pbsz0,
    /// `PROT C` or `PROT P`.
    Prot(Protection),
    /// `CCC`: clear the command channel (RFC 4217).
    Ccc,
    /// A checksum command: `HASH path` (draft-bryan-ftpext-hash) or one of
    /// `XSHA256`, `XSHA512`, `XSHA1`, `XMD5`, `XCRC` with a path.
    Checksum(crate::proto::hash::HashCommand, Arg),
    /// `MFMT YYYYMMDDHHMMSS path`: set a file's modification time
    /// (draft-somers-ftp-mfxx).
    Mfmt(crate::proto::hash::Timeval, Arg),
    /// `PRET command`: announces the transfer command before `EPSV`/`PASV`,
    /// for distributed servers (drftpd) that pick the data node by it.
    Pret(Arg),
    /// A raw command line as given by the caller (ftplib's `sendcmd`).
    /// Shown redacted when it is `PASS` or `ACCT`.
    Raw(Arg),
}

impl Command {
    /// A raw command line, checked for CR, LF and NUL.
    pub fn raw(line: impl Into<Vec<u8>>) -> Result<Command, InvalidInput> {
        Arg::new("command", line).map(Command::Raw)
    }

    /// Whether the data connection this transfer command opens is only
    /// read by the client (`RETR` and the listings). Anything else, a raw
    /// command included, may send on it.
    pub fn only_receives(&self) -> bool {
        matches!(
            self,
            Command::Retr(_) | Command::List(_) | Command::Nlst(_) | Command::Mlsd(_)
        )
    }

    /// The command's verb, as sent (`RETR`, `PASS`, ...).
    pub fn verb(&self) -> &str {
        match self {
            Command::User(_) => "USER",
            Command::Pass(_) => "PASS",
            Command::Acct(_) => "ACCT",
            Command::Cwd(_) => "CWD",
            Command::Cdup => "CDUP",
            Command::Pwd => "PWD",
            Command::Mkd(_) => "MKD",
            Command::Rmd(_) => "RMD",
            Command::Dele(_) => "DELE",
            Command::Rnfr(_) => "RNFR",
            Command::Rnto(_) => "RNTO",
            Command::Size(_) => "SIZE",
            Command::Mdtm(_) => "MDTM",
            Command::Type(_) => "TYPE",
            Command::Pasv => "PASV",
            Command::Epsv => "EPSV",
            Command::Port(_) => "PORT",
            Command::Eprt(_) => "EPRT",
            Command::Rest(_) => "REST",
            Command::Retr(_) => "RETR",
            Command::Stor(_) => "STOR",
            Command::Appe(_) => "APPE",
            Command::List(_) => "LIST",
            Command::Nlst(_) => "NLST",
            Command::Mlsd(_) => "MLSD",
            Command::Mlst(_) => "MLST",
            Command::Site(_) => "SITE",
            Command::Noop => "NOOP",
            Command::Feat => "FEAT",
            Command::Opts(_) => "OPTS",
            Command::Abor => "ABOR",
            Command::Quit => "QUIT",
            Command::AuthTls => "AUTH",
            Command::Pbsz0 => "PBSZ",
            Command::Prot(_) => "PROT",
            Command::Ccc => "CCC",
            Command::Checksum(command, _) => command.verb(),
            Command::Mfmt(..) => "MFMT",
            Command::Pret(_) => "PRET",
            Command::Raw(line) => {
                let bytes = line.as_bytes();
                let end = bytes.iter().position(|&b| b == b' ').unwrap_or(bytes.len());
                std::str::from_utf8(bytes.get(..end).unwrap_or_default()).unwrap_or("?")
            }
        }
    }

    /// Appends the command line, CRLF included, to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        fn opt(out: &mut Vec<u8>, verb: &str, arg: &Option<Arg>) {
            out.extend_from_slice(verb.as_bytes());
            if let Some(arg) = arg {
                out.push(b' ');
                out.extend_from_slice(arg.as_bytes());
            }
        }
        let with = |out: &mut Vec<u8>, verb: &str, arg: &[u8]| {
            out.extend_from_slice(verb.as_bytes());
            out.push(b' ');
            out.extend_from_slice(arg);
        };
        match self {
            Command::User(a)
            | Command::Cwd(a)
            | Command::Mkd(a)
            | Command::Rmd(a)
            | Command::Dele(a)
            | Command::Rnfr(a)
            | Command::Rnto(a)
            | Command::Size(a)
            | Command::Mdtm(a)
            | Command::Retr(a)
            | Command::Stor(a)
            | Command::Appe(a)
            | Command::Site(a)
            | Command::Pret(a)
            | Command::Opts(a) => with(out, self.verb(), a.as_bytes()),
            Command::Pass(s) | Command::Acct(s) => with(out, self.verb(), s.expose()),
            Command::List(a) | Command::Nlst(a) | Command::Mlsd(a) | Command::Mlst(a) => {
                opt(out, self.verb(), a)
            }
            Command::Type(TransferType::Ascii) => out.extend_from_slice(b"TYPE A"),
            Command::Type(TransferType::Binary) => out.extend_from_slice(b"TYPE I"),
            Command::Port(addr) => with(out, "PORT", format_port(*addr).as_bytes()),
            Command::Eprt(addr) => with(out, "EPRT", format_eprt(*addr).as_bytes()),
            Command::Rest(n) => with(out, "REST", n.to_string().as_bytes()),
            Command::AuthTls => out.extend_from_slice(b"AUTH TLS"),
            Command::Pbsz0 => out.extend_from_slice(b"PBSZ 0"),
            Command::Prot(Protection::Clear) => out.extend_from_slice(b"PROT C"),
            Command::Prot(Protection::Private) => out.extend_from_slice(b"PROT P"),
            Command::Raw(line) => out.extend_from_slice(line.as_bytes()),
            Command::Checksum(_, a) => with(out, self.verb(), a.as_bytes()),
            Command::Mfmt(time, a) => {
                with(out, "MFMT", time.as_str().as_bytes());
                out.push(b' ');
                out.extend_from_slice(a.as_bytes());
            }
            Command::Cdup
            | Command::Pwd
            | Command::Pasv
            | Command::Epsv
            | Command::Noop
            | Command::Feat
            | Command::Abor
            | Command::Quit
            | Command::Ccc => out.extend_from_slice(self.verb().as_bytes()),
        }
        out.extend_from_slice(b"\r\n");
    }

    /// `PRET` for this transfer command: its command line as the argument.
    pub fn pret(transfer: &Command) -> Result<Command, InvalidInput> {
        let mut line = Vec::new();
        transfer.encode(&mut line);
        line.truncate(line.len().saturating_sub(2));
        Arg::new("command", line).map(Command::Pret)
    }

    /// Whether the command carries a secret that must not be logged.
    pub fn is_secret(&self) -> bool {
        match self {
            Command::Pass(_) | Command::Acct(_) => true,
            Command::Raw(_) => {
                let verb = self.verb();
                verb.eq_ignore_ascii_case("PASS") || verb.eq_ignore_ascii_case("ACCT")
            }
            _ => false,
        }
    }
}

/// Displays the command line as it is sent, but with passwords and accounts
/// shown as `****`: safe for logs and error messages.
impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_secret() {
            return write!(f, "{} ****", self.verb());
        }
        let mut line = Vec::new();
        self.encode(&mut line);
        line.truncate(line.len().saturating_sub(2));
        f.write_str(&String::from_utf8_lossy(&line))
    }
}

/// Formats the argument of `PORT`: `h1,h2,h3,h4,p1,p2`.
pub fn format_port(addr: SocketAddrV4) -> String {
    let [a, b, c, d] = addr.ip().octets();
    let port = addr.port();
    format!("{a},{b},{c},{d},{},{}", port >> 8, port & 0xff)
}

/// Formats the argument of `EPRT`: `|1|addr|port|` or `|2|addr|port|`.
pub fn format_eprt(addr: SocketAddr) -> String {
    let proto = if addr.is_ipv4() { 1 } else { 2 };
    format!("|{proto}|{}|{}|", addr.ip(), addr.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(cmd: &Command) -> Vec<u8> {
        let mut out = Vec::new();
        cmd.encode(&mut out);
        out
    }

    #[test]
    fn arguments_refuse_line_breaks_and_nul() {
        assert_eq!(
            Arg::path("a\r\nDELE b"),
            Err(InvalidInput::LineBreak("path"))
        );
        assert_eq!(Arg::path("a\nb"), Err(InvalidInput::LineBreak("path")));
        assert_eq!(Arg::path("a\rb"), Err(InvalidInput::LineBreak("path")));
        assert_eq!(Arg::path("a\0b"), Err(InvalidInput::Nul("path")));
        assert!(matches!(
            Arg::path(vec![b'a'; MAX_ARG_LEN + 1]),
            Err(InvalidInput::TooLong { .. })
        ));
        assert!(Arg::path(vec![b'a'; MAX_ARG_LEN]).is_ok());
        assert!(Command::raw("NOOP\r\nDELE x").is_err());
        assert!(Secret::new("pw\r\n").is_err());
    }

    #[test]
    fn encodes_with_crlf_and_keeps_bytes() {
        let path = Arg::path(b"dir with space/\xff\xfe.bin".as_slice()).unwrap();
        assert_eq!(
            line(&Command::Retr(path)),
            b"RETR dir with space/\xff\xfe.bin\r\n"
        );
        assert_eq!(line(&Command::Rest(5_000_000_000)), b"REST 5000000000\r\n");
        assert_eq!(line(&Command::List(None)), b"LIST\r\n");
        assert_eq!(line(&Command::Type(TransferType::Binary)), b"TYPE I\r\n");
        assert_eq!(line(&Command::Prot(Protection::Private)), b"PROT P\r\n");
    }

    #[test]
    fn passwords_never_display() {
        let pass = Command::Pass(Secret::new("hunter2").unwrap());
        assert_eq!(line(&pass), b"PASS hunter2\r\n");
        assert_eq!(pass.to_string(), "PASS ****");
        assert!(!format!("{pass:?}").contains("hunter2"));
        let raw = Command::raw("pass hunter2").unwrap();
        assert_eq!(raw.to_string(), "pass ****");
        let acct = Command::Acct(Secret::new("acct1").unwrap());
        assert_eq!(acct.to_string(), "ACCT ****");
        assert_eq!(
            Command::User(Arg::new("user", "bob").unwrap()).to_string(),
            "USER bob"
        );
    }

    #[test]
    fn port_and_eprt() {
        let v4: SocketAddrV4 = "192.168.1.2:50021".parse().unwrap();
        assert_eq!(format_port(v4), "192,168,1,2,195,101");
        assert_eq!(format_eprt(SocketAddr::V4(v4)), "|1|192.168.1.2|50021|");
        let v6: SocketAddr = "[::1]:2121".parse().unwrap();
        assert_eq!(format_eprt(v6), "|2|::1|2121|");
    }
}
