//! Server replies: the reply code, the reply itself, and an incremental reader
//! that turns control-connection bytes into replies (RFC 959 section 4.2).
//!
//! The reader does no I/O: a driver feeds it whatever bytes arrived and asks
//! for the next complete reply. It enforces two limits so that a hostile
//! server cannot make the client allocate without bound: the length of one
//! line and the total size of one (multi-line) reply.

use std::fmt;

/// A three-digit FTP reply code such as `226`.
///
/// Codes are kept open (any value from 100 to 599) rather than as an enum:
/// servers use codes that no RFC lists, and the class helpers answer the
/// questions a client actually asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReplyCode(pub u16);

/// The class of a reply, given by its first digit (RFC 959 section 4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyClass {
    /// 1xx: positive preliminary; another reply follows (e.g. 150 before a transfer).
    Preliminary,
    /// 2xx: positive completion.
    Completion,
    /// 3xx: positive intermediate; the server waits for another command (e.g. 331 after USER).
    Intermediate,
    /// 4xx: transient negative; the same command may succeed later.
    TransientNegative,
    /// 5xx: permanent negative; repeating the command will not help.
    PermanentNegative,
}

impl ReplyCode {
    /// 150: file status okay, about to open the data connection.
    pub const OPENING_DATA: ReplyCode = ReplyCode(150);
    /// 200: command okay.
    pub const OK: ReplyCode = ReplyCode(200);
    /// 211: system status, or the FEAT reply.
    pub const SYSTEM_STATUS: ReplyCode = ReplyCode(211);
    /// 213: file status (SIZE, MDTM).
    pub const FILE_STATUS: ReplyCode = ReplyCode(213);
    /// 220: service ready (the greeting).
    pub const READY: ReplyCode = ReplyCode(220);
    /// 221: closing the control connection (QUIT).
    pub const CLOSING: ReplyCode = ReplyCode(221);
    /// 226: closing the data connection, transfer complete.
    pub const TRANSFER_COMPLETE: ReplyCode = ReplyCode(226);
    /// 227: entering passive mode (PASV).
    pub const PASSIVE: ReplyCode = ReplyCode(227);
    /// 229: entering extended passive mode (EPSV).
    pub const EXTENDED_PASSIVE: ReplyCode = ReplyCode(229);
    /// 230: user logged in.
    pub const LOGGED_IN: ReplyCode = ReplyCode(230);
    /// 234: security exchange accepted (AUTH TLS).
    pub const AUTH_OK: ReplyCode = ReplyCode(234);
    /// 250: requested file action okay.
    pub const FILE_ACTION_OK: ReplyCode = ReplyCode(250);
    /// 257: path created, or the current directory (PWD, MKD).
    pub const PATH_CREATED: ReplyCode = ReplyCode(257);
    /// 331: user name okay, need password.
    pub const NEED_PASSWORD: ReplyCode = ReplyCode(331);
    /// 332: need account for login.
    pub const NEED_ACCOUNT: ReplyCode = ReplyCode(332);
    /// 350: requested file action pending further information (REST, RNFR).
    pub const PENDING: ReplyCode = ReplyCode(350);
    /// 421: service not available, closing control connection.
    pub const NOT_AVAILABLE: ReplyCode = ReplyCode(421);
    /// 426: connection closed, transfer aborted.
    pub const TRANSFER_ABORTED: ReplyCode = ReplyCode(426);
    /// 530: not logged in.
    pub const NOT_LOGGED_IN: ReplyCode = ReplyCode(530);
    /// 550: file unavailable (not found, no access).
    pub const FILE_UNAVAILABLE: ReplyCode = ReplyCode(550);

    /// The class of this code, from its first digit. Codes outside 100..=599
    /// never reach a caller: the reader rejects them as protocol errors.
    pub fn class(self) -> ReplyClass {
        match self.0 / 100 {
            1 => ReplyClass::Preliminary,
            2 => ReplyClass::Completion,
            3 => ReplyClass::Intermediate,
            4 => ReplyClass::TransientNegative,
            _ => ReplyClass::PermanentNegative,
        }
    }

    /// 1xx: another reply follows.
    pub fn is_preliminary(self) -> bool {
        self.class() == ReplyClass::Preliminary
    }

    /// 2xx: the command succeeded.
    pub fn is_completion(self) -> bool {
        self.class() == ReplyClass::Completion
    }

    /// 3xx: the server waits for a further command.
    pub fn is_intermediate(self) -> bool {
        self.class() == ReplyClass::Intermediate
    }

    /// 4xx: a transient failure; trying again later may succeed.
    pub fn is_transient(self) -> bool {
        self.class() == ReplyClass::TransientNegative
    }

    /// 5xx: a permanent failure.
    pub fn is_permanent(self) -> bool {
        self.class() == ReplyClass::PermanentNegative
    }

    /// 4xx or 5xx.
    pub fn is_negative(self) -> bool {
        self.is_transient() || self.is_permanent()
    }
}

impl fmt::Display for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03}", self.0)
    }
}

/// One complete reply: its code and every line as the server sent it.
#[derive(Clone, PartialEq, Eq)]
pub struct Reply {
    code: ReplyCode,
    /// Each line without its line terminator, code prefix included.
    lines: Vec<Vec<u8>>,
}

impl Reply {
    /// Builds a reply from its code and raw lines (each without CRLF).
    ///
    /// Used by the reader, and by tests that need a reply to feed a parser.
    pub fn new(code: ReplyCode, lines: Vec<Vec<u8>>) -> Reply {
        Reply { code, lines }
    }

    /// Parses one single-line reply such as `b"227 Entering Passive Mode (...)"`,
    /// a convenience for tests and examples.
    pub fn parse_line(line: &[u8]) -> Result<Reply, ProtocolError> {
        let mut reader = ReplyReader::new(ReplyLimits::default());
        reader.feed(line);
        reader.feed(b"\r\n");
        reader
            .next_reply()?
            .ok_or(ProtocolError::MalformedReply("incomplete reply".into()))
    }

    /// The reply code.
    pub fn code(&self) -> ReplyCode {
        self.code
    }

    /// Every line as sent, without terminators (code prefixes included).
    pub fn lines(&self) -> &[Vec<u8>] {
        &self.lines
    }

    /// The text of the first line after the code and separator, as bytes.
    pub fn message_bytes(&self) -> &[u8] {
        self.lines
            .first()
            .and_then(|l| l.get(4..))
            .unwrap_or_default()
    }

    /// The text of the first line after the code, lossily decoded as UTF-8.
    pub fn message(&self) -> String {
        String::from_utf8_lossy(self.message_bytes()).into_owned()
    }

    /// The whole reply text, lines joined with `\n`, lossily decoded as UTF-8
    /// (what ftplib's `sendcmd` returns).
    pub fn text(&self) -> String {
        let mut out = String::new();
        for (i, line) in self.lines.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&String::from_utf8_lossy(line));
        }
        out
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Reply").field(&self.text()).finish()
    }
}

/// Displays the reply the way a user should see it in an error: the first
/// line, with control characters escaped so a hostile server cannot forge
/// terminal output.
impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let first = self.lines.first().map(Vec::as_slice).unwrap_or_default();
        let text = String::from_utf8_lossy(first);
        for c in text.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        if self.lines.len() > 1 {
            write!(f, " [+{} lines]", self.lines.len() - 1)?;
        }
        Ok(())
    }
}

/// Limits that bound what one reply may cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplyLimits {
    /// The longest line accepted, in bytes, without its terminator
    /// (ftplib's `MAXLINE`, 8192 by default).
    pub max_line: usize,
    /// The largest whole reply accepted, in bytes, over all its lines
    /// (1 MiB by default: enough for any FEAT, HELP or STAT reply).
    pub max_reply: usize,
}

impl Default for ReplyLimits {
    fn default() -> Self {
        ReplyLimits {
            max_line: 8192,
            max_reply: 1 << 20,
        }
    }
}

/// Turns bytes from the control connection into replies, incrementally.
///
/// Lines end in CRLF (RFC 959); a bare LF is accepted too, as many servers
/// send it. A multi-line reply starts with `NNN-` and ends only at a line
/// that starts with the same code followed by a space; inner lines that start
/// with other digits do not end it.
#[derive(Debug)]
pub struct ReplyReader {
    limits: ReplyLimits,
    buf: Vec<u8>,
    /// Where the next unparsed line starts in `buf`.
    start: usize,
    /// The multi-line reply being assembled, if any.
    partial: Option<(ReplyCode, Vec<Vec<u8>>, usize)>,
}

impl ReplyReader {
    /// A reader with the given limits.
    pub fn new(limits: ReplyLimits) -> ReplyReader {
        ReplyReader {
            limits,
            buf: Vec::new(),
            start: 0,
            partial: None,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> ReplyLimits {
        self.limits
    }

    /// Appends bytes received from the server.
    pub fn feed(&mut self, data: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Bytes received after the last complete reply, not yet part of one.
    pub fn buffered(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or_default()
    }

    /// Whether bytes or a partial reply are waiting.
    pub fn has_pending(&self) -> bool {
        !self.buffered().is_empty() || self.partial.is_some()
    }

    /// Drops every byte received after the last complete reply.
    ///
    /// Called after `234` to `AUTH TLS`: anything a server (or an attacker on
    /// the path) sent in cleartext after it must not be taken as a reply
    /// once the connection is encrypted.
    pub fn discard_buffered(&mut self) {
        self.buf.clear();
        self.start = 0;
        self.partial = None;
    }

    /// Returns the next complete reply, `Ok(None)` if more bytes are needed,
    /// or an error if the server broke the protocol or a limit.
    pub fn next_reply(&mut self) -> Result<Option<Reply>, ProtocolError> {
        loop {
            let rest = self.buf.get(self.start..).unwrap_or_default();
            let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
                if rest.len() > self.limits.max_line + 1 {
                    return Err(ProtocolError::LineTooLong {
                        limit: self.limits.max_line,
                    });
                }
                self.compact();
                return Ok(None);
            };
            let mut line = rest.get(..nl).unwrap_or_default();
            if let Some(stripped) = line.strip_suffix(b"\r") {
                line = stripped;
            }
            if line.len() > self.limits.max_line {
                return Err(ProtocolError::LineTooLong {
                    limit: self.limits.max_line,
                });
            }
            let line = line.to_vec();
            self.start += nl + 1;
            if let Some(reply) = self.take_line(line)? {
                self.compact();
                return Ok(Some(reply));
            }
        }
    }

    /// Adds one line to the reply being assembled; returns the reply when complete.
    fn take_line(&mut self, line: Vec<u8>) -> Result<Option<Reply>, ProtocolError> {
        match self.partial.take() {
            None => {
                let code = leading_code(&line)
                    .ok_or_else(|| ProtocolError::MalformedReply(escape_for_error(&line)))?;
                match line.get(3) {
                    Some(b'-') => {
                        let size = line.len();
                        self.check_total(size)?;
                        self.partial = Some((code, vec![line], size));
                        Ok(None)
                    }
                    None | Some(b' ') => Ok(Some(Reply::new(code, vec![line]))),
                    Some(_) => Err(ProtocolError::MalformedReply(escape_for_error(&line))),
                }
            }
            Some((code, mut lines, size)) => {
                let size = size + line.len() + 1;
                self.check_total(size)?;
                let last =
                    leading_code(&line) == Some(code) && matches!(line.get(3), None | Some(b' '));
                lines.push(line);
                if last {
                    Ok(Some(Reply::new(code, lines)))
                } else {
                    self.partial = Some((code, lines, size));
                    Ok(None)
                }
            }
        }
    }

    fn check_total(&self, size: usize) -> Result<(), ProtocolError> {
        if size > self.limits.max_reply {
            Err(ProtocolError::ReplyTooLong {
                limit: self.limits.max_reply,
            })
        } else {
            Ok(())
        }
    }

    /// Moves unparsed bytes to the front so the buffer does not grow.
    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }
}

/// The reply code at the start of a line: three ASCII digits, 100 to 599.
fn leading_code(line: &[u8]) -> Option<ReplyCode> {
    let digits = line.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = digits
        .iter()
        .fold(0u16, |acc, &d| acc * 10 + u16::from(d - b'0'));
    (100..600).contains(&value).then_some(ReplyCode(value))
}

/// A short, printable rendering of untrusted bytes for an error message.
pub(crate) fn escape_for_error(bytes: &[u8]) -> String {
    const MAX: usize = 80;
    let shown = bytes.get(..MAX).unwrap_or(bytes);
    let mut out: String = String::from_utf8_lossy(shown)
        .chars()
        .flat_map(char::escape_default)
        .collect();
    if bytes.len() > MAX {
        out.push('…');
    }
    out
}

/// Ways a server breaks the protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A reply line that does not start with a three-digit code from 100 to 599.
    #[error("malformed reply: {0}")]
    MalformedReply(String),
    /// A reply line longer than the limit.
    #[error("reply line longer than {limit} bytes")]
    LineTooLong {
        /// The line limit in force.
        limit: usize,
    },
    /// A multi-line reply larger than the limit.
    #[error("reply larger than {limit} bytes")]
    ReplyTooLong {
        /// The reply limit in force.
        limit: usize,
    },
    /// A reply whose text could not be parsed as the command requires
    /// (a 227 without an address, a 257 without a quoted path, a 213 without a number).
    #[error("cannot parse {what} from reply: {reply}")]
    UnparsableReply {
        /// What was looked for.
        what: &'static str,
        /// The reply, escaped and shortened.
        reply: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8]) -> Result<Vec<Reply>, ProtocolError> {
        let mut r = ReplyReader::new(ReplyLimits::default());
        r.feed(input);
        let mut out = Vec::new();
        while let Some(reply) = r.next_reply()? {
            out.push(reply);
        }
        Ok(out)
    }

    #[test]
    fn single_line() {
        let replies = read_all(b"220 Service ready\r\n").unwrap();
        assert_eq!(replies.len(), 1);
        assert_eq!(replies[0].code(), ReplyCode(220));
        assert_eq!(replies[0].message(), "Service ready");
    }

    #[test]
    fn bare_lf_and_code_only_line() {
        let replies = read_all(b"200 ok\n226\r\n").unwrap();
        assert_eq!(replies[0].code(), ReplyCode(200));
        assert_eq!(replies[1].code(), ReplyCode(226));
        assert_eq!(replies[1].message(), "");
    }

    #[test]
    fn multiline_ends_only_on_same_code_and_space() {
        let input = b"211-Features:\r\n MLSD\r\n226 not the end\r\n211-still inside\r\n211x nor this\r\n211 End\r\n";
        let replies = read_all(input).unwrap();
        assert_eq!(replies.len(), 1);
        assert_eq!(replies[0].code(), ReplyCode(211));
        assert_eq!(replies[0].lines().len(), 6);
        assert_eq!(replies[0].lines()[5], b"211 End");
    }

    #[test]
    fn every_prefix_needs_more_bytes_then_completes() {
        let input = b"150-About to open\r\n 123 inner\r\n150 (42 bytes)\r\n";
        for cut in 0..input.len() {
            let mut r = ReplyReader::new(ReplyLimits::default());
            r.feed(&input[..cut]);
            assert!(r.next_reply().unwrap().is_none(), "cut at {cut}");
            r.feed(&input[cut..]);
            let reply = r.next_reply().unwrap().unwrap();
            assert_eq!(reply.code(), ReplyCode(150));
            assert_eq!(reply.lines().len(), 3);
        }
    }

    #[test]
    fn byte_at_a_time() {
        let input = b"230-Welcome\r\n230 Logged in\r\n200 next\r\n";
        let mut r = ReplyReader::new(ReplyLimits::default());
        let mut replies = Vec::new();
        for b in input {
            r.feed(&[*b]);
            while let Some(reply) = r.next_reply().unwrap() {
                replies.push(reply);
            }
        }
        assert_eq!(replies.len(), 2);
        assert_eq!(replies[1].code(), ReplyCode(200));
    }

    #[test]
    fn malformed_first_lines_are_errors() {
        for bad in [
            &b"hello\r\n"[..],
            b"22 short\r\n",
            b"099 too small\r\n",
            b"600 too big\r\n",
            b"2x0 letters\r\n",
            b"220xno separator\r\n",
            b"\r\n",
        ] {
            assert!(
                matches!(read_all(bad), Err(ProtocolError::MalformedReply(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn line_limit_applies_before_the_newline_arrives() {
        let mut r = ReplyReader::new(ReplyLimits {
            max_line: 16,
            max_reply: 1024,
        });
        r.feed(&[b'2'; 18]);
        assert!(matches!(
            r.next_reply(),
            Err(ProtocolError::LineTooLong { limit: 16 })
        ));
    }

    #[test]
    fn total_limit_stops_endless_multiline() {
        let mut r = ReplyReader::new(ReplyLimits {
            max_line: 100,
            max_reply: 1000,
        });
        r.feed(b"211-start\r\n");
        let mut result = Ok(None);
        for _ in 0..1000 {
            r.feed(b"211-more and more\r\n");
            result = r.next_reply();
            if result.is_err() {
                break;
            }
        }
        assert!(matches!(
            result,
            Err(ProtocolError::ReplyTooLong { limit: 1000 })
        ));
    }

    #[test]
    fn buffered_bytes_can_be_discarded() {
        let mut r = ReplyReader::new(ReplyLimits::default());
        r.feed(b"234 AUTH TLS ok\r\n230 forged\r\n");
        assert_eq!(r.next_reply().unwrap().unwrap().code(), ReplyCode(234));
        assert_eq!(r.buffered(), b"230 forged\r\n");
        r.discard_buffered();
        assert!(r.next_reply().unwrap().is_none());
        assert!(!r.has_pending());
    }

    #[test]
    fn display_escapes_control_characters() {
        let reply = Reply::parse_line(b"550 no\x1b[31m file").unwrap();
        assert_eq!(reply.to_string(), "550 no\\u{1b}[31m file");
    }

    #[test]
    fn classes() {
        assert!(ReplyCode(150).is_preliminary());
        assert!(ReplyCode(226).is_completion());
        assert!(ReplyCode(331).is_intermediate());
        assert!(ReplyCode(421).is_transient());
        assert!(ReplyCode(550).is_permanent());
        assert!(ReplyCode(550).is_negative() && ReplyCode(450).is_negative());
        assert!(!ReplyCode(250).is_negative());
    }
}
