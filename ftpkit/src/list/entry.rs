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
    /// line as its name and raw text.
    pub fn unknown(line: &[u8]) -> Entry {
        Entry {
            name: Name::from(line),
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
                let secs_of_day = t
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_secs() % 86_400)
                    .unwrap_or(0);
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
