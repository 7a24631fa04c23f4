//! Content hashes: which checksum command a server offers, how to read its
//! answer, and a streaming [`Hasher`] for the local side. No I/O.
//!
//! Servers advertise checksums in FEAT in two ways:
//!
//! - `HASH SHA-1;SHA-256*;SHA-512;MD5;CRC32` (draft-bryan-ftpext-hash):
//!   the client picks an algorithm with `OPTS HASH SHA-256` and asks with
//!   `HASH path`; the reply is `213 SHA-256 0-49 <hex> path`.
//! - `XSHA256`, `XSHA512`, `XSHA1`, `XMD5`, `XCRC` (proftpd's mod_digest,
//!   Serv-U and others): `XSHA256 path` answers `250 <hex>` or `213 <hex>`.

use std::{fmt, time::SystemTime};

use super::{Features, Reply, reply::ProtocolError};

/// A content hash algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-512.
    Sha512,
    /// SHA-1.
    Sha1,
    /// MD5.
    Md5,
    /// CRC-32 (IEEE), as `XCRC` and `HASH CRC32` report it.
    Crc32,
}

impl HashAlgorithm {
    /// The name used by the `HASH` command (`SHA-256`, `MD5`, `CRC32`).
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "SHA-256",
            HashAlgorithm::Sha512 => "SHA-512",
            HashAlgorithm::Sha1 => "SHA-1",
            HashAlgorithm::Md5 => "MD5",
            HashAlgorithm::Crc32 => "CRC32",
        }
    }

    /// Length of the digest in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha512 => 64,
            HashAlgorithm::Sha1 => 20,
            HashAlgorithm::Md5 => 16,
            HashAlgorithm::Crc32 => 4,
        }
    }

    fn from_name(name: &str) -> Option<HashAlgorithm> {
        let name = name.trim().trim_end_matches('*');
        [
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha512,
            HashAlgorithm::Sha1,
            HashAlgorithm::Md5,
            HashAlgorithm::Crc32,
        ]
        .into_iter()
        .find(|a| a.name().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A checksum command the server offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashCommand {
    /// `HASH path` after `OPTS HASH <algorithm>` (draft-bryan-ftpext-hash).
    Hash(HashAlgorithm),
    /// `XSHA256`, `XSHA512`, `XSHA1`, `XMD5` or `XCRC`.
    X(HashAlgorithm),
}

impl HashCommand {
    /// The algorithm the command computes.
    pub fn algorithm(self) -> HashAlgorithm {
        match self {
            HashCommand::Hash(a) | HashCommand::X(a) => a,
        }
    }

    /// The command's verb.
    pub fn verb(self) -> &'static str {
        match self {
            HashCommand::Hash(_) => "HASH",
            HashCommand::X(HashAlgorithm::Sha256) => "XSHA256",
            HashCommand::X(HashAlgorithm::Sha512) => "XSHA512",
            HashCommand::X(HashAlgorithm::Sha1) => "XSHA1",
            HashCommand::X(HashAlgorithm::Md5) => "XMD5",
            HashCommand::X(HashAlgorithm::Crc32) => "XCRC",
        }
    }

    /// The strongest checksum command the features advertise, preferring
    /// SHA-256, then SHA-512, SHA-1, MD5 and CRC-32, and for each the
    /// standard `HASH` over its `X` forerunner.
    pub fn choose(features: &Features) -> Option<HashCommand> {
        let hash_algorithms: Vec<HashAlgorithm> = features
            .params("HASH")
            .map(|p| p.split(';').filter_map(HashAlgorithm::from_name).collect())
            .unwrap_or_default();
        [
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha512,
            HashAlgorithm::Sha1,
            HashAlgorithm::Md5,
            HashAlgorithm::Crc32,
        ]
        .into_iter()
        .find_map(|a| {
            if hash_algorithms.contains(&a) {
                Some(HashCommand::Hash(a))
            } else if features.supports(HashCommand::X(a).verb()) {
                Some(HashCommand::X(a))
            } else {
                None
            }
        })
    }

    /// The argument of `OPTS` that selects this algorithm for `HASH`
    /// (`HASH SHA-256`), if the command needs one.
    pub fn opts_argument(self) -> Option<String> {
        match self {
            HashCommand::Hash(a) => Some(format!("HASH {}", a.name())),
            HashCommand::X(_) => None,
        }
    }

    /// Reads the digest from the server's reply: the first word of a reply
    /// line that is a hex string of the algorithm's length (for `HASH`,
    /// after checking the algorithm named on that line). Lines are read
    /// from the last: servers such as proftpd send `213-Computing ...`
    /// before the line with the digest.
    pub fn parse_reply(self, reply: &Reply) -> Result<Vec<u8>, ProtocolError> {
        let bad = || ProtocolError::UnparsableReply {
            what: "a checksum",
            reply: reply.to_string(),
        };
        if !reply.code().is_completion() {
            return Err(bad());
        }
        let want = self.algorithm().digest_len() * 2;
        reply
            .lines()
            .iter()
            .rev()
            .find_map(|line| {
                let text = String::from_utf8_lossy(line.get(4..).unwrap_or_default());
                let mut words = text.split_ascii_whitespace();
                if let HashCommand::Hash(algorithm) = self
                    && words.next().and_then(HashAlgorithm::from_name) != Some(algorithm)
                {
                    return None;
                }
                words
                    .find(|w| w.len() == want && w.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(decode_hex)
            })
            .ok_or_else(bad)
    }
}

/// Lower-case hex of `bytes`.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text
        .bytes()
        .map(|b| {
            char::from(b)
                .to_digit(16)
                .and_then(|d| u8::try_from(d).ok())
        })
        .collect::<Option<_>>()?;
    Some(
        digits
            .chunks(2)
            .map(|p| p.iter().fold(0, |acc, d| acc * 16 + d))
            .collect(),
    )
}

/// A streaming hash of the local side of a transfer.
pub struct Hasher {
    state: HasherState,
}

enum HasherState {
    Ring(ring::digest::Context),
    Md5(md5::Md5),
    Crc32(crc32fast::Hasher),
}

impl Hasher {
    /// A hasher for `algorithm`.
    pub fn new(algorithm: HashAlgorithm) -> Hasher {
        use ring::digest;
        let state = match algorithm {
            HashAlgorithm::Sha256 => HasherState::Ring(digest::Context::new(&digest::SHA256)),
            HashAlgorithm::Sha512 => HasherState::Ring(digest::Context::new(&digest::SHA512)),
            HashAlgorithm::Sha1 => {
                HasherState::Ring(digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY))
            }
            HashAlgorithm::Md5 => HasherState::Md5(<md5::Md5 as md5::Digest>::new()),
            HashAlgorithm::Crc32 => HasherState::Crc32(crc32fast::Hasher::new()),
        };
        Hasher { state }
    }

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.state {
            HasherState::Ring(c) => c.update(bytes),
            HasherState::Md5(h) => md5::Digest::update(h, bytes),
            HasherState::Crc32(h) => h.update(bytes),
        }
    }

    /// The digest (CRC-32 big-endian, as servers print it).
    pub fn finish(self) -> Vec<u8> {
        match self.state {
            HasherState::Ring(c) => c.finish().as_ref().to_vec(),
            HasherState::Md5(h) => md5::Digest::finalize(h).to_vec(),
            HasherState::Crc32(h) => h.finalize().to_be_bytes().to_vec(),
        }
    }
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hasher")
    }
}

/// A UTC time as `YYYYMMDDHHMMSS`, the form of MDTM replies and MFMT
/// arguments (RFC 3659 section 2.3).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Timeval(String);

impl Timeval {
    /// Formats `time` (whole seconds; times before 1970 are clamped to it).
    pub fn new(time: SystemTime) -> Timeval {
        let secs = time
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let (y, m, d) = crate::date::civil_date(time.max(SystemTime::UNIX_EPOCH));
        let day = secs % 86_400;
        Timeval(format!(
            "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
            day / 3600,
            day / 60 % 60,
            day % 60
        ))
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::ReplyReader;
    use std::time::Duration;

    fn reply(text: &str) -> Reply {
        Reply::parse_line(text.as_bytes()).unwrap()
    }

    fn features(lines: &str) -> Features {
        let mut reader = ReplyReader::new(Default::default());
        reader.feed(format!("211-Features:\r\n{lines}211 End\r\n").as_bytes());
        Features::parse(&reader.next_reply().unwrap().unwrap())
    }

    #[test]
    fn chooses_the_strongest_offered() {
        let f = features(" HASH SHA-1;SHA-256*;MD5\r\n XCRC\r\n");
        assert_eq!(
            HashCommand::choose(&f),
            Some(HashCommand::Hash(HashAlgorithm::Sha256))
        );
        let f = features(" XCRC f;s;e\r\n XMD5 f;s;e\r\n XSHA1 f\r\n XSHA256 f\r\n");
        assert_eq!(
            HashCommand::choose(&f),
            Some(HashCommand::X(HashAlgorithm::Sha256))
        );
        let f = features(" XCRC\r\n");
        assert_eq!(
            HashCommand::choose(&f),
            Some(HashCommand::X(HashAlgorithm::Crc32))
        );
        assert_eq!(HashCommand::choose(&features(" MDTM\r\n")), None);
        assert_eq!(
            HashCommand::Hash(HashAlgorithm::Sha256).opts_argument(),
            Some("HASH SHA-256".into())
        );
    }

    #[test]
    fn parses_digests() {
        let sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let cmd = HashCommand::Hash(HashAlgorithm::Sha256);
        let digest = cmd
            .parse_reply(&reply(&format!("213 SHA-256 0-4 {sha} test.txt")))
            .unwrap();
        assert_eq!(to_hex(&digest), sha);
        // Wrong algorithm named, wrong length, error reply: all refused.
        assert!(
            cmd.parse_reply(&reply(&format!("213 MD5 0-4 {sha} f")))
                .is_err()
        );
        assert!(cmd.parse_reply(&reply("213 SHA-256 0-4 abcd f")).is_err());
        assert!(cmd.parse_reply(&reply("550 no such file")).is_err());
        let x = HashCommand::X(HashAlgorithm::Md5);
        let md5 = "098F6BCD4621D373CADE4E832627B4F6";
        assert_eq!(
            to_hex(&x.parse_reply(&reply(&format!("250 {md5}"))).unwrap()),
            md5.to_ascii_lowercase()
        );
        // proftpd's mod_digest: a "Computing" line before the digest.
        let mut reader = ReplyReader::new(Default::default());
        reader.feed(format!("250-Computing MD5 digest\r\n250 {md5}\r\n").as_bytes());
        let multi = reader.next_reply().unwrap().unwrap();
        assert_eq!(
            to_hex(&x.parse_reply(&multi).unwrap()),
            md5.to_ascii_lowercase()
        );
        let crc = HashCommand::X(HashAlgorithm::Crc32);
        assert_eq!(
            crc.parse_reply(&reply("250 D87F7E0C")).unwrap(),
            vec![0xd8, 0x7f, 0x7e, 0x0c]
        );
    }

    #[test]
    fn hashers_match_known_vectors() {
        let cases = [
            (
                HashAlgorithm::Sha256,
                "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            ),
            (
                HashAlgorithm::Sha1,
                "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
            ),
            (HashAlgorithm::Md5, "098f6bcd4621d373cade4e832627b4f6"),
            (HashAlgorithm::Crc32, "d87f7e0c"),
        ];
        for (algorithm, want) in cases {
            let mut h = Hasher::new(algorithm);
            h.update(b"te");
            h.update(b"st");
            let digest = h.finish();
            assert_eq!(digest.len(), algorithm.digest_len());
            assert_eq!(to_hex(&digest), want, "{algorithm}");
        }
    }

    #[test]
    fn timeval_round_trips_through_the_mdtm_parser() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_123);
        let v = Timeval::new(t);
        assert_eq!(v.as_str(), "20231114221523");
        assert_eq!(crate::proto::parse::parse_timeval(v.as_str()), Some(t));
        assert_eq!(
            Timeval::new(SystemTime::UNIX_EPOCH).as_str(),
            "19700101000000"
        );
    }
}
