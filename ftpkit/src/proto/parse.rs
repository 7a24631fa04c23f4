//! Parsers for the replies that carry data: 227 (PASV), 229 (EPSV), 257
//! (quoted path), 150 (transfer size), 213 (SIZE and MDTM) and 211 (FEAT).
//!
//! Each takes a [`Reply`] and returns a value or a [`ProtocolError`]; none
//! can panic, whatever the server sent.

use std::{
    collections::BTreeMap,
    net::{Ipv4Addr, SocketAddrV4},
    time::SystemTime,
};

use super::{
    Reply,
    reply::{ProtocolError, escape_for_error},
};
use crate::{date::civil_to_system_time, name::Name};

fn unparsable(what: &'static str, reply: &Reply) -> ProtocolError {
    ProtocolError::UnparsableReply {
        what,
        reply: escape_for_error(reply.lines().first().map(Vec::as_slice).unwrap_or_default()),
    }
}

/// The address in a 227 reply: six comma-separated numbers
/// `h1,h2,h3,h4,p1,p2`, found anywhere in the text (servers vary the
/// wording and the brackets). Port 0 is refused.
///
/// Callers should not connect to the IP address by default: see
/// [`Config::trust_pasv_address`](crate::Config::trust_pasv_address).
pub fn parse_227(reply: &Reply) -> Result<SocketAddrV4, ProtocolError> {
    let text = reply.message_bytes();
    // Start only where a number starts, so "256,..." is not read as "56,...".
    for i in 0..text.len() {
        let starts_number = i == 0
            || text
                .get(i - 1)
                .is_some_and(|&b| !b.is_ascii_digit() && b != b'-');
        if starts_number && let Some(addr) = six_numbers_at(text.get(i..).unwrap_or_default()) {
            return Ok(addr);
        }
    }
    Err(unparsable("a passive address", reply))
}

/// Reads `h1,h2,h3,h4,p1,p2` at the start of `s`, each number 0..=255.
fn six_numbers_at(s: &[u8]) -> Option<SocketAddrV4> {
    let mut nums = [0u8; 6];
    let mut rest = s;
    for (i, slot) in nums.iter_mut().enumerate() {
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 3 {
            return None;
        }
        let value: u16 = std::str::from_utf8(rest.get(..digits)?)
            .ok()?
            .parse()
            .ok()?;
        *slot = u8::try_from(value).ok()?;
        rest = rest.get(digits..)?;
        if i < 5 {
            rest = rest.strip_prefix(b",")?;
        }
    }
    if rest.first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let [a, b, c, d, p1, p2] = nums;
    let port = u16::from(p1) << 8 | u16::from(p2);
    // Port 0 names no port: refused, as in a 229.
    (port != 0).then(|| SocketAddrV4::new(Ipv4Addr::new(a, b, c, d), port))
}

/// The port in a 229 reply: `(|||port|)`, where `|` may be any printable
/// delimiter the server chose (RFC 2428 section 3). Port 0 is refused.
pub fn parse_229(reply: &Reply) -> Result<u16, ProtocolError> {
    let text = reply.message_bytes();
    let open = text
        .iter()
        .position(|&b| b == b'(')
        .ok_or_else(|| unparsable("an extended passive port", reply))?;
    let inner = text.get(open + 1..).unwrap_or_default();
    let port = (|| {
        let (&delim, rest) = inner.split_first()?;
        if !(33..=126).contains(&delim) || delim.is_ascii_digit() {
            return None;
        }
        let rest = rest.strip_prefix(&[delim, delim][..])?;
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let rest_after = rest.get(digits..)?;
        if !rest_after.starts_with(&[delim, b')']) || digits == 0 || digits > 5 {
            return None;
        }
        let port: u16 = std::str::from_utf8(rest.get(..digits)?)
            .ok()?
            .parse()
            .ok()?;
        (port != 0).then_some(port)
    })();
    port.ok_or_else(|| unparsable("an extended passive port", reply))
}

/// The path in a 257 reply: the text between the first quote and the next
/// quote that is not doubled, with `""` read as one `"` (RFC 959 appendix II).
/// Bytes are kept as sent, so non-UTF-8 names survive.
pub fn parse_257(reply: &Reply) -> Result<Name, ProtocolError> {
    let text = reply.message_bytes();
    let start = text
        .iter()
        .position(|&b| b == b'"')
        .ok_or_else(|| unparsable("a quoted path", reply))?;
    let mut path = Vec::new();
    let mut bytes = text.get(start + 1..).unwrap_or_default().iter().peekable();
    while let Some(&b) = bytes.next() {
        if b == b'"' {
            if bytes.peek() == Some(&&b'"') {
                bytes.next();
                path.push(b'"');
            } else {
                return Ok(Name::from(path));
            }
        } else {
            path.push(b);
        }
    }
    Err(unparsable("a quoted path", reply))
}

/// The size announced in a 150 reply, as in `150 Opening BINARY mode data
/// connection for f (1234 bytes).`; `None` when the server gives none. The
/// count must end the reply, where servers put it: a file name that reads
/// as one (`x (5 bytes)`), echoed by a server that gives no count, is not
/// taken for it.
pub fn parse_150(reply: &Reply) -> Option<u64> {
    let text = reply.message_bytes().trim_ascii_end();
    let text = text.strip_suffix(b".").unwrap_or(text);
    let lower: Vec<u8> = text.to_ascii_lowercase();
    let head = lower.strip_suffix(b" bytes)")?;
    let open = head.iter().rposition(|&b| b == b'(')?;
    std::str::from_utf8(head.get(open + 1..)?)
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The number in a 213 reply to `SIZE`.
pub fn parse_size(reply: &Reply) -> Result<u64, ProtocolError> {
    let text = String::from_utf8_lossy(reply.message_bytes());
    text.trim().parse().map_err(|_| unparsable("a size", reply))
}

/// The time in a 213 reply to `MDTM`: `YYYYMMDDHHMMSS[.sss]`, in UTC (RFC 3659).
pub fn parse_mdtm(reply: &Reply) -> Result<SystemTime, ProtocolError> {
    let text = String::from_utf8_lossy(reply.message_bytes());
    parse_timeval(text.trim()).ok_or_else(|| unparsable("a modification time", reply))
}

/// Parses an RFC 3659 time-val, `YYYYMMDDHHMMSS[.fraction]`, in UTC.
pub fn parse_timeval(s: &str) -> Option<SystemTime> {
    parse_timeval_bytes(s.as_bytes())
}

/// [`parse_timeval`] on the bytes as received (an MLSD `modify` fact),
/// digit by digit: no text to check first, no number parsed twice.
pub(crate) fn parse_timeval_bytes(s: &[u8]) -> Option<SystemTime> {
    let (whole, fraction) = match s.iter().position(|&b| b == b'.') {
        Some(dot) => (s.get(..dot)?, Some(s.get(dot + 1..)?)),
        None => (s, None),
    };
    let [y0, y1, y2, y3, mo0, mo1, d0, d1, h0, h1, mi0, mi1, s0, s1] = *whole else {
        return None;
    };
    // Every digit's value, or None for a byte that is not one.
    let digit = |b: u8| b.is_ascii_digit().then(|| u32::from(b - b'0'));
    let two = |hi: u8, lo: u8| Some(digit(hi)? * 10 + digit(lo)?);
    let nanos = match fraction {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 => {
            let digits = f
                .iter()
                .try_fold(0u32, |acc, &b| Some(acc * 10 + digit(b)?))?;
            digits * 10u32.pow(9 - u32::try_from(f.len()).ok()?)
        }
        Some(_) => return None,
    };
    let year = two(y0, y1)? * 100 + two(y2, y3)?;
    civil_to_system_time(
        i64::from(year),
        two(mo0, mo1)?,
        two(d0, d1)?,
        two(h0, h1)?,
        two(mi0, mi1)?,
        two(s0, s1)?,
        nanos,
    )
}

/// What a server advertises in its reply to `FEAT` (RFC 2389).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Features {
    /// Feature name in upper case → its parameters (may be empty),
    /// e.g. `"MLST"` → `"type*;size*;modify*;"`, `"REST"` → `"STREAM"`.
    map: BTreeMap<String, String>,
}

impl Features {
    /// Parses a 211 reply. Feature lines start with a space; any other
    /// inner line is ignored. A 5xx reply (FEAT not supported) gives an
    /// empty set.
    pub fn parse(reply: &Reply) -> Features {
        let mut map = BTreeMap::new();
        if reply.code().is_completion() {
            let lines = reply.lines();
            for line in lines.iter().skip(1).take(lines.len().saturating_sub(2)) {
                let Some(feature) = line.strip_prefix(b" ") else {
                    continue;
                };
                let text = String::from_utf8_lossy(feature);
                let text = text.trim();
                let (name, params) = text.split_once(' ').unwrap_or((text, ""));
                if !name.is_empty() {
                    map.insert(name.to_ascii_uppercase(), params.trim().to_owned());
                }
            }
        }
        Features { map }
    }

    /// Whether the feature is advertised (case-insensitive), e.g. `"MLSD"`.
    pub fn supports(&self, name: &str) -> bool {
        self.map.contains_key(&name.to_ascii_uppercase())
    }

    /// The parameters of an advertised feature, e.g. `params("REST")` → `Some("STREAM")`.
    pub fn params(&self, name: &str) -> Option<&str> {
        self.map.get(&name.to_ascii_uppercase()).map(String::as_str)
    }

    /// Every advertised feature and its parameters.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether no feature was advertised.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn reply(text: &str) -> Reply {
        Reply::parse_line(text.as_bytes()).unwrap()
    }

    #[test]
    fn pasv_forms() {
        for text in [
            "227 Entering Passive Mode (127,0,0,1,195,80).",
            "227 Entering Passive Mode 127,0,0,1,195,80",
            "227 =127,0,0,1,195,80",
            "227 Entering Passive Mode (127,0,0,1,195,80",
        ] {
            assert_eq!(
                parse_227(&reply(text)).unwrap(),
                "127.0.0.1:50000".parse().unwrap(),
                "{text}"
            );
        }
    }

    #[test]
    fn pasv_garbage_is_an_error() {
        for text in [
            "227 Entering Passive Mode",
            "227 (256,0,0,1,1,1)",
            "227 (1,2,3,4,5)",
            "227 (1,2,3,4,5,)",
            "227 (1,2,3,4,5,9999)",
            "227 (,,,,,)",
            "227 (-1,2,3,4,5,6)",
            "227 Entering Passive Mode (127,0,0,1,0,0)",
        ] {
            assert!(
                matches!(
                    parse_227(&reply(text)),
                    Err(ProtocolError::UnparsableReply { .. })
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn epsv_forms() {
        assert_eq!(
            parse_229(&reply("229 Entering Extended Passive Mode (|||6446|)")).unwrap(),
            6446
        );
        assert_eq!(parse_229(&reply("229 ok (!!!65535!)")).unwrap(), 65535);
        for bad in [
            "229 Entering Extended Passive Mode",
            "229 (|||0|)",
            "229 (|||65536|)",
            "229 (|||99999999999|)",
            "229 (||||)",
            "229 (|1|127.0.0.1|80|)",
            "229 (|||80!)",
            "229 (",
            "229 (111801|)",
        ] {
            assert!(parse_229(&reply(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn quoted_paths() {
        assert_eq!(
            parse_257(&reply("257 \"/home/user\" is current directory")).unwrap(),
            Name::from("/home/user")
        );
        assert_eq!(
            parse_257(&reply("257 \"/a \"\"quoted\"\" dir\" created")).unwrap(),
            Name::from("/a \"quoted\" dir")
        );
        assert_eq!(parse_257(&reply("257 \"\"")).unwrap(), Name::from(""));
        let raw = Reply::parse_line(b"257 \"/caf\xe9\"").unwrap();
        assert_eq!(parse_257(&raw).unwrap().as_bytes(), b"/caf\xe9");
        assert!(parse_257(&reply("257 no quotes")).is_err());
        assert!(parse_257(&reply("257 \"unterminated")).is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(
            parse_150(&reply(
                "150 Opening BINARY mode data connection for f (1234 bytes)"
            )),
            Some(1234)
        );
        assert_eq!(parse_150(&reply("150 Opening (x) data (5 Bytes)")), Some(5));
        assert_eq!(parse_150(&reply("150 Here comes the data")), None);
        assert_eq!(parse_150(&reply("150 ( bytes)")), None);
        // A name that reads as a count is not one: the count ends the line.
        assert_eq!(
            parse_150(&reply(
                "150 Opening BINARY mode for x (5 bytes) (4096 bytes)."
            )),
            Some(4096)
        );
        assert_eq!(
            parse_150(&reply("150 Opening data channel for \"x (5 bytes)\"")),
            None
        );
        assert_eq!(parse_size(&reply("213 6000000000")).unwrap(), 6_000_000_000);
        assert!(parse_size(&reply("213 lots")).is_err());
        assert!(parse_size(&reply("213 -1")).is_err());
    }

    #[test]
    fn times() {
        let t = parse_mdtm(&reply("213 20240229123456")).unwrap();
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(),
            1_709_210_096
        );
        let t = parse_mdtm(&reply("213 19700101000001.5")).unwrap();
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH).unwrap(),
            Duration::from_millis(1500)
        );
        let t = parse_mdtm(&reply("213 19700101000001.123456789")).unwrap();
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH).unwrap(),
            Duration::new(1, 123_456_789)
        );
        for bad in [
            "213 20230229000000",
            "213 2024",
            "213 20241301000000",
            "213 20240101000000.",
            "213 2024010100000x",
            "213 +0240101000000",
            "213 2024-1-1T0:0:0",
            "213 20240101000000.5x",
            "213 20240101000000.1234567890",
            "213 20240101000000.5.5",
            "213 202401010000000",
        ] {
            assert!(parse_mdtm(&reply(bad)).is_err(), "{bad}");
        }
        assert!(
            civil_to_system_time(1969, 12, 31, 23, 59, 59, 0).unwrap() < SystemTime::UNIX_EPOCH
        );
    }

    #[test]
    fn features() {
        let mut reader = super::super::ReplyReader::new(Default::default());
        reader.feed(
            b"211-Features:\r\n MDTM\r\n REST STREAM\r\n mlst type*;size*;\r\n UTF8\r\n211 End\r\n",
        );
        let feat = Features::parse(&reader.next_reply().unwrap().unwrap());
        assert!(feat.supports("mdtm") && feat.supports("UTF8"));
        assert_eq!(feat.params("REST"), Some("STREAM"));
        assert_eq!(feat.params("MLST"), Some("type*;size*;"));
        assert!(!feat.supports("EPSV"));
        assert!(Features::parse(&reply("500 FEAT not understood")).is_empty());
        assert!(Features::parse(&reply("211 no features")).is_empty());
    }
}
