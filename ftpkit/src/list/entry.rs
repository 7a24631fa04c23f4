//! [`Entry`]: one file, directory or link of a listing, typed.

use std::time::SystemTime;

use crate::{
    name::Name,
    proto::parse::{civil_date, civil_to_system_time},
};

/// What an entry is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A symbolic link, with its target when the listing shows it.
    Symlink {
        /// Where the link points.
        target: Option<Name>,
    },
    /// Something else the server named: a device, a pipe, a socket.
    Other,
    /// A line no parser recognised: only `raw` (and `name`, the line) are set.
    Unknown,
}

/// One entry of a directory listing.
///
/// Times from `LIST` are read as UTC: servers do not say which zone they
/// use. MLSD times are UTC by definition (RFC 3659).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The name, as the bytes the server sent.
    pub name: Name,
    /// File, directory, link...
    pub kind: EntryKind,
    /// Size in bytes, when known.
    pub size: Option<u64>,
    /// Last modification, when known (to the minute or the day for most
    /// `LIST` formats).
    pub modified: Option<SystemTime>,
    /// Unix permission bits (`0o7777`), when known.
    pub permissions: Option<u32>,
    /// Owner, by name or number, when known.
    pub owner: Option<String>,
    /// Group, by name or number, when known.
    pub group: Option<String>,
    /// The line as the server sent it, for anything not modelled here.
    pub raw: Vec<u8>,
}

impl Entry {
    /// An entry for a line nothing could parse: kind `Unknown`, the whole
    /// line (less a trailing CR/LF) as its name, and as its raw text.
    pub fn unknown(line: &[u8]) -> Entry {
        let mut name = line;
        while let [rest @ .., b'\r' | b'\n'] = name {
            name = rest;
        }
        Entry {
            name: Name::from(name),
            kind: EntryKind::Unknown,
            size: None,
            modified: None,
            permissions: None,
            owner: None,
            group: None,
            raw: line.to_vec(),
        }
    }

    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        self.kind == EntryKind::Directory
    }

    /// Whether this is a regular file.
    pub fn is_file(&self) -> bool {
        self.kind == EntryKind::File
    }

    /// The name, if it is safe to use as one local path component (see
    /// [`Name::safe_component`]); `None` for names such as `../x`,
    /// `/etc/x`, `a/b` or names with control characters, which a hostile
    /// server can put in a listing. Entries of kind `Unknown` have no name
    /// to trust and always give `None`.
    pub fn safe_name(&self) -> Option<&str> {
        if self.kind == EntryKind::Unknown {
            return None;
        }
        self.name.safe_component()
    }

    /// Formats the entry as a Unix `ls -l` line with a long-ISO date
    /// (`2024-03-01 12:30`), which [`parse_unix`](super::parse_unix) reads
    /// back to the same kind, name, size, permissions, owner, group and
    /// minute of modification. Unknown fields print as `?`, size as 0.
    pub fn format_unix(&self) -> String {
        let kind = match self.kind {
            EntryKind::Directory => 'd',
            EntryKind::Symlink { .. } => 'l',
            EntryKind::Other => 'p',
            EntryKind::File | EntryKind::Unknown => '-',
        };
        let mode = self.permissions.unwrap_or(0);
        let date = match self.modified {
            Some(t) => {
                let (y, m, d) = civil_date(t);
                let secs = match t.duration_since(SystemTime::UNIX_EPOCH) {
                    Ok(d) => i64::try_from(d.as_secs()).unwrap_or(0),
                    Err(e) => i64::try_from(e.duration().as_secs()).map_or(0, |s| -s),
                };
                let secs_of_day = secs.rem_euclid(86_400);
                format!(
                    "{y:04}-{m:02}-{d:02} {:02}:{:02}",
                    secs_of_day / 3600,
                    secs_of_day % 3600 / 60
                )
            }
            None => "1970-01-01 00:00".to_owned(),
        };
        let mut line = format!(
            "{kind}{} 1 {} {} {} {date} {}",
            mode_string(mode),
            self.owner.as_deref().unwrap_or("?"),
            self.group.as_deref().unwrap_or("?"),
            self.size.unwrap_or(0),
            self.name
        );
        if let EntryKind::Symlink {
            target: Some(target),
        } = &self.kind
        {
            line.push_str(" -> ");
            line.push_str(&target.to_string_lossy());
        }
        line
    }
}

/// `rwxr-x--x` for the permission bits, with s/S and t/T.
pub(crate) fn mode_string(mode: u32) -> String {
    let mut out = String::with_capacity(9);
    for (shift, special, special_char) in [(6, 0o4000, 's'), (3, 0o2000, 's'), (0, 0o1000, 't')] {
        let bits = (mode >> shift) & 7;
        out.push(if bits & 4 != 0 { 'r' } else { '-' });
        out.push(if bits & 2 != 0 { 'w' } else { '-' });
        let exec = bits & 1 != 0;
        out.push(match (mode & special != 0, exec) {
            (true, true) => special_char,
            (true, false) => special_char.to_ascii_uppercase(),
            (false, true) => 'x',
            (false, false) => '-',
        });
    }
    out
}

/// The minute-precision UTC time for a civil date, used by the parsers.
pub(crate) fn at(
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
) -> Option<SystemTime> {
    civil_to_system_time(year, month, day, hour, minute, second, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keeps_the_line() {
        let e = Entry::unknown(b"anything at all\r\n");
        assert_eq!(
            e,
            Entry {
                name: Name::from("anything at all"),
                kind: EntryKind::Unknown,
                size: None,
                modified: None,
                permissions: None,
                owner: None,
                group: None,
                raw: b"anything at all\r\n".to_vec(),
            }
        );
        assert!(!e.is_dir() && !e.is_file());
        assert_eq!(e.safe_name(), None, "an unknown line names nothing");
        assert_eq!(Entry::unknown(b"\r\n\n").name, "");
        assert_eq!(Entry::unknown(b"").raw, b"");
    }

    #[test]
    fn format_unix_lines() {
        let e = Entry {
            name: Name::from(" two  spaces"),
            kind: EntryKind::Directory,
            size: Some(4096),
            modified: at(2024, 2, 29, 23, 59, 0),
            permissions: Some(0o1777),
            owner: Some("root".into()),
            group: Some("wheel".into()),
            raw: Vec::new(),
        };
        assert!(e.is_dir() && !e.is_file());
        assert_eq!(e.safe_name(), Some(" two  spaces"));
        for bad in ["../x", "/etc/x", "a/b", "..", "x\u{1b}[2J"] {
            let hostile = Entry {
                name: Name::from(bad),
                ..e.clone()
            };
            assert_eq!(hostile.safe_name(), None, "{bad:?}");
        }
        assert_eq!(
            e.format_unix(),
            "drwxrwxrwt 1 root wheel 4096 2024-02-29 23:59  two  spaces"
        );
        let e = Entry {
            kind: EntryKind::Symlink {
                target: Some(Name::from("/t")),
            },
            modified: at(1969, 12, 31, 23, 58, 0),
            permissions: Some(0o6644),
            ..e
        };
        assert_eq!(
            e.format_unix(),
            "lrwSr-Sr-- 1 root wheel 4096 1969-12-31 23:58  two  spaces -> /t"
        );
        let bare = Entry::unknown(b"x");
        assert_eq!(bare.format_unix(), "---------- 1 ? ? 0 1970-01-01 00:00 x");
        assert_eq!(mode_string(0o7000), "--S--S--T");
        assert_eq!(mode_string(0o7777), "rwsrwsrwt");
    }
}
