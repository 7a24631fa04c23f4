//! Trust on first use, the ssh way: a file of `host:port fingerprint`
//! records. A server with a record is accepted if and only if it presents
//! the recorded certificate; a changed certificate is refused with both
//! fingerprints. Servers without a record are verified as usual.
//!
//! The file is plain text, one record a line, `#` for comments:
//!
//! ```text
//! # host:port SHA-256 of the certificate (DER)
//! ftp.example.com:21 3f1c...e9
//! [2001:db8::1]:990 a0b1...77
//! ```

use std::{
    collections::BTreeMap,
    fmt, io,
    path::{Path, PathBuf},
};

use super::cert::hex;
use crate::error::{Error, InvalidInput, Phase};

/// A known-hosts file, read into memory.
#[derive(Clone, PartialEq, Eq)]
pub struct KnownHosts {
    path: PathBuf,
    records: BTreeMap<String, [u8; 32]>,
}

impl fmt::Debug for KnownHosts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KnownHosts")
            .field("path", &self.path)
            .field("records", &self.records.len())
            .finish()
    }
}

/// The record key for a host and port: lower-case host, IPv6 in brackets.
pub fn host_key(host: &str, port: u16) -> String {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = host.to_ascii_lowercase();
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

impl KnownHosts {
    /// Where the file lives by default: `$XDG_CONFIG_HOME/ftpkit/known_hosts`,
    /// else `$HOME/.config/ftpkit/known_hosts`; `None` if neither is set.
    pub fn default_path() -> Option<PathBuf> {
        let nonempty = |name| std::env::var_os(name).filter(|v| !v.is_empty());
        let base = nonempty("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| nonempty("HOME").map(|home| PathBuf::from(home).join(".config")))?;
        Some(base.join("ftpkit").join("known_hosts"))
    }

    /// Reads the file at `path`; a missing file is an empty store (it is
    /// created by [`KnownHosts::save`]). A malformed line is an error: a
    /// store that cannot be read in full cannot be trusted.
    pub fn open(path: impl AsRef<Path>) -> Result<KnownHosts, Error> {
        let path = path.as_ref().to_path_buf();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(Error::Io {
                    phase: Phase::Local,
                    source: io::Error::new(source.kind(), format!("{}: {source}", path.display())),
                });
            }
        };
        let records = parse(&text).map_err(|(line, why)| {
            Error::InvalidInput(InvalidInput::Tls(format!(
                "{} line {line}: {why}",
                path.display()
            )))
        })?;
        Ok(KnownHosts { path, records })
    }

    /// The file this store reads and writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The recorded fingerprint for `host` and `port`, as 64 hex digits.
    pub fn get(&self, host: &str, port: u16) -> Option<String> {
        self.fingerprint(host, port).map(|fp| hex(&fp))
    }

    pub(crate) fn fingerprint(&self, host: &str, port: u16) -> Option<[u8; 32]> {
        self.records.get(&host_key(host, port)).copied()
    }

    /// Records (or replaces) the fingerprint for `host` and `port`.
    pub fn insert(&mut self, host: &str, port: u16, sha256_hex: &str) -> Result<(), Error> {
        let fp = parse_fingerprint(sha256_hex)?;
        self.records.insert(host_key(host, port), fp);
        Ok(())
    }

    /// Removes the record for `host` and `port`; whether there was one.
    pub fn remove(&mut self, host: &str, port: u16) -> bool {
        self.records.remove(&host_key(host, port)).is_some()
    }

    /// Writes the store back, creating the directory if needed; the file
    /// is replaced in one rename, so a reader never sees half of it.
    pub fn save(&self) -> Result<(), Error> {
        let local = |source: io::Error| Error::Io {
            phase: Phase::Local,
            source: io::Error::new(source.kind(), format!("{}: {source}", self.path.display())),
        };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(local)?;
        }
        let mut text = String::from("# ftpkit known hosts: host:port SHA-256 of the certificate\n");
        for (key, fp) in &self.records {
            text.push_str(&format!("{key} {}\n", hex(fp)));
        }
        let mut temp = self.path.clone().into_os_string();
        temp.push(".tmp");
        let temp = PathBuf::from(temp);
        std::fs::write(&temp, text).map_err(local)?;
        std::fs::rename(&temp, &self.path).map_err(local)
    }
}

/// Parses the file's text; on failure, the line number and why.
fn parse(text: &str) -> Result<BTreeMap<String, [u8; 32]>, (usize, String)> {
    let mut records = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let (Some(key), Some(fp), None) = (fields.next(), fields.next(), fields.next()) else {
            return Err((index + 1, "expected \"host:port fingerprint\"".into()));
        };
        let port_ok = key
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !port_ok {
            return Err((index + 1, format!("{key:?} is not host:port")));
        }
        let fp = parse_fingerprint(fp).map_err(|e| (index + 1, e.to_string()))?;
        records.insert(key.to_ascii_lowercase(), fp);
    }
    Ok(records)
}

/// Parses a SHA-256 fingerprint: 64 hex digits, optionally `:`-separated.
pub(crate) fn parse_fingerprint(hex: &str) -> Result<[u8; 32], Error> {
    let bad = || {
        Error::InvalidInput(InvalidInput::Tls(format!(
            "bad SHA-256 fingerprint {hex:?}"
        )))
    };
    let digits: Vec<u8> = hex.bytes().filter(|&b| b != b':').collect();
    if digits.len() != 64 {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(digits.chunks(2)) {
        let text = std::str::from_utf8(pair).map_err(|_| bad())?;
        *slot = u8::from_str_radix(text, 16).map_err(|_| bad())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn keys_are_host_and_port() {
        assert_eq!(host_key("FTP.Example.com", 21), "ftp.example.com:21");
        assert_eq!(host_key("::1", 990), "[::1]:990");
        assert_eq!(host_key("[::1]", 990), "[::1]:990");
    }

    #[test]
    fn records_round_trip_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("known_hosts");
        let mut store = KnownHosts::open(&path).unwrap();
        assert_eq!(store.get("h", 21), None);
        store.insert("H", 21, FP).unwrap();
        store.insert("::1", 990, &FP.to_uppercase()).unwrap();
        store.save().unwrap();
        let again = KnownHosts::open(&path).unwrap();
        assert_eq!(again.get("h", 21).as_deref(), Some(FP));
        assert_eq!(again.get("h", 2121), None);
        assert_eq!(again.get("::1", 990).as_deref(), Some(FP));
        let mut again = again;
        assert!(again.remove("h", 21));
        assert!(!again.remove("h", 21));
    }

    #[test]
    fn a_malformed_line_is_refused_with_its_number() {
        let err = parse(&format!("# c\nhost:21 {FP}\nhost {FP}\n")).unwrap_err();
        assert_eq!(err.0, 3);
        assert!(parse("host:21 abcd").is_err());
        assert!(parse(&format!("host:21 {FP} extra")).is_err());
    }
}
