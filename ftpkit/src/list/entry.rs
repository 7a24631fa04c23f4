//! [`Entry`]: one file, directory or link of a listing, typed.

use std::time::{Duration, SystemTime};

use crate::{
    date::{civil_date, civil_to_system_time},
    name::Name,
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

/// How precisely a listing knows an entry's modification time.
///
/// `LIST` lines carry times to the minute (`Nov 24 12:30`) or only to the
/// day (`Nov 24  2019`, for files older than six months), while MLSD,
/// `MDTM` and a local disk know the second. Two times can only be compared
/// at the coarser precision of the two: [`TimePrecision::truncate`] both to
/// [`TimePrecision::coarser`] of their precisions first.
///
/// Ordered from the coarsest (`None`) to the finest (`Second`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum TimePrecision {
    /// No time at all.
    #[default]
    None,
    /// The date only: the time of day is unknown (shown as midnight UTC).
    Day,
    /// Hours and minutes: the seconds are unknown (shown as `:00`).
    Minute,
    /// To the second (or finer).
    Second,
}

impl TimePrecision {
    /// The coarser of two precisions: the one two times can be compared at.
    ///
    /// ```
    /// use ftpkit::TimePrecision;
    /// assert_eq!(TimePrecision::Second.coarser(TimePrecision::Minute), TimePrecision::Minute);
    /// ```
    pub fn coarser(self, other: TimePrecision) -> TimePrecision {
        self.min(other)
    }

    /// `time` with what this precision does not know cut off: the seconds
    /// for `Minute`, the time of day for `Day`, the fraction of a second
    /// for `Second`; `None` leaves it as it is.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use ftpkit::TimePrecision;
    /// let t = UNIX_EPOCH + Duration::from_secs(86_400 + 3_600 + 61);
    /// assert_eq!(TimePrecision::Minute.truncate(t), UNIX_EPOCH + Duration::from_secs(86_400 + 3_660));
    /// assert_eq!(TimePrecision::Day.truncate(t), UNIX_EPOCH + Duration::from_secs(86_400));
    /// ```
    pub fn truncate(self, time: SystemTime) -> SystemTime {
        let unit: i64 = match self {
            TimePrecision::None => return time,
            TimePrecision::Day => 86_400,
            TimePrecision::Minute => 60,
            TimePrecision::Second => 1,
        };
        let secs = match time.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            // Before 1970: round down, away from the epoch.
            Err(e) => {
                let d = e.duration();
                let whole = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
                if d.subsec_nanos() > 0 {
                    -whole.saturating_add(1)
                } else {
                    -whole
                }
            }
        };
        let floored = secs.div_euclid(unit).saturating_mul(unit);
        let magnitude = Duration::from_secs(floored.unsigned_abs());
        let result = if floored >= 0 {
            SystemTime::UNIX_EPOCH.checked_add(magnitude)
        } else {
            SystemTime::UNIX_EPOCH.checked_sub(magnitude)
        };
        result.unwrap_or(time)
    }

    /// Whether two times, known to these precisions, are the same at the
    /// coarser of the two.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use ftpkit::TimePrecision::{Minute, Second};
    /// let listed = UNIX_EPOCH + Duration::from_secs(600); // LIST: 00:10
    /// let exact = UNIX_EPOCH + Duration::from_secs(637); // MDTM: 00:10:37
    /// assert!(Minute.same_time(listed, Second, exact));
    /// assert!(!Second.same_time(listed, Second, exact));
    /// ```
    pub fn same_time(self, a: SystemTime, other: TimePrecision, b: SystemTime) -> bool {
        let at = self.coarser(other);
        at.truncate(a) == at.truncate(b)
    }
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
    /// `LIST` formats: see `time_precision`).
    pub modified: Option<SystemTime>,
    /// How precisely `modified` is known: [`TimePrecision::None`] when it
    /// is `None`, `Minute` or `Day` for most `LIST` lines, `Second` for
    /// MLSD and EPLF.
    pub time_precision: TimePrecision,
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
            time_precision: TimePrecision::None,
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

    /// The type letter `ls -l` shows: `-` file, `d` directory, `l` link,
    /// and for other entries `c` (character device), `b` (block device),
    /// `p` (pipe), `s` (socket) or `D` (door) when the listing says which,
    /// from the first letter of a Unix `LIST` line or from an MLSD
    /// `type=OS.unix=...` or `unix.mode` fact; `?` when it does not.
    ///
    /// ```
    /// let now = std::time::SystemTime::now();
    /// let e = ftpkit::list::parse_unix(b"crw-rw-rw- 1 root root 1, 3 Jan 1 2020 null", now).unwrap();
    /// assert_eq!(e.type_char(), 'c');
    /// ```
    pub fn type_char(&self) -> char {
        match self.kind {
            EntryKind::File => '-',
            EntryKind::Directory => 'd',
            EntryKind::Symlink { .. } => 'l',
            EntryKind::Unknown => '?',
            EntryKind::Other => other_type_char(&self.raw).unwrap_or('?'),
        }
    }

    /// The mode as `ls -l` shows it: the [type letter](Entry::type_char)
    /// then `rwx` triplets with the set-user-ID, set-group-ID and sticky
    /// bits as `s`/`S` and `t`/`T`, e.g. `-rwsr-xr-x`, `drwxrwxrwt`;
    /// `None` when the permissions are unknown.
    ///
    /// ```
    /// let now = std::time::SystemTime::now();
    /// let e = ftpkit::list::parse_unix(b"drwxrwxrwt 9 root root 4096 Jan 1 2020 tmp", now).unwrap();
    /// assert_eq!(e.mode_string().as_deref(), Some("drwxrwxrwt"));
    /// ```
    pub fn mode_string(&self) -> Option<String> {
        let bits = self.permissions?;
        Some(format!("{}{}", self.type_char(), mode_string(bits)))
    }

    /// Formats the entry as a Unix `ls -l` line with a long-ISO date
    /// (`2024-03-01 12:30`), which [`parse_unix`](super::parse_unix) reads
    /// back to the same kind, name, size, permissions, owner, group and
    /// minute of modification. Unknown fields print as `?`, size as 0.
    pub fn format_unix(&self) -> String {
        // An entry of another kind the listing did not name is shown as a
        // pipe, so that it reads back as one of another kind.
        let kind = match (self.type_char(), &self.kind) {
            ('?', EntryKind::Other) => 'p',
            ('?', _) => '-',
            (letter, _) => letter,
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

/// The `ls -l` type letter of an entry that is neither a file, a
/// directory nor a link, from its raw line: a Unix `LIST` line's first
/// letter, or the MLSD facts `type=OS.unix=chr|blk|fifo|socket|door`
/// (as some servers write them) or the file-type bits of `unix.mode`.
fn other_type_char(raw: &[u8]) -> Option<char> {
    if let Some(&first) = raw.first()
        && b"cbpsD".contains(&first)
        && raw
            .get(1..10)
            .is_some_and(|m| m.iter().all(|c| b"-rwxsStTlL".contains(c)))
    {
        return Some(char::from(first));
    }
    let facts = raw.get(..raw.iter().position(|&b| b == b' ')?)?;
    let mut letter = None;
    for fact in facts.split(|&b| b == b';') {
        let Some(eq) = fact.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (key, value) = (fact.get(..eq)?, fact.get(eq + 1..)?);
        if key.eq_ignore_ascii_case(b"type") {
            let lower = value.to_ascii_lowercase();
            // `OS.unix=chr-1/3`: the word after the last `=`.
            let after = lower.rsplit(|&b| b == b'=').next().unwrap_or_default();
            let end = after
                .iter()
                .position(|b| !b.is_ascii_alphabetic())
                .unwrap_or(after.len());
            let kind = after.get(..end).unwrap_or_default();
            let found = match kind {
                b"chr" | b"char" | b"cdev" => Some('c'),
                b"blk" | b"block" | b"bdev" => Some('b'),
                b"fifo" | b"pipe" => Some('p'),
                b"sock" | b"socket" => Some('s'),
                b"door" => Some('D'),
                _ => None,
            };
            if found.is_some() {
                return found;
            }
        } else if key.eq_ignore_ascii_case(b"unix.mode") {
            let mode = unix_mode(value).unwrap_or(0);
            letter = match mode & 0o170_000 {
                0o020_000 => Some('c'),
                0o060_000 => Some('b'),
                0o010_000 => Some('p'),
                0o140_000 => Some('s'),
                _ => letter,
            };
        }
    }
    letter
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

/// A `unix.mode` value: octal digits, with the `0o` prefix pyftpdlib
/// writes (`unix.mode=0o644`) or without (`0644`); the file-type bits are
/// kept.
pub(crate) fn unix_mode(value: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(value).ok()?;
    let digits = text
        .strip_prefix("0o")
        .or_else(|| text.strip_prefix("0O"))
        .unwrap_or(text);
    u32::from_str_radix(digits, 8).ok()
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
                time_precision: TimePrecision::None,
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
    fn type_letters_and_special_bits_as_ls_shows_them() {
        let now = at(2026, 11, 24, 12, 0, 0).unwrap();
        for (line, mode) in [
            ("-rwsr-xr-x 1 root root 10 Jan  1  2020 su", "-rwsr-xr-x"),
            ("-rwxr-sr-x 1 root mail 10 Jan  1  2020 sg", "-rwxr-sr-x"),
            ("-rwSr--r-- 1 root root 10 Jan  1  2020 S", "-rwSr--r--"),
            ("drwxrwxrwt 9 root root 4096 Jan  1  2020 tmp", "drwxrwxrwt"),
            ("drwxr-xr-T 2 root root 4096 Jan  1  2020 T", "drwxr-xr-T"),
            ("lrwxrwxrwx 1 root root 4 Jan  1  2020 l -> t", "lrwxrwxrwx"),
            (
                "crw-rw-rw- 1 root root 1, 3 Jan  1  2020 null",
                "crw-rw-rw-",
            ),
            ("brw-rw---- 1 root disk 8, 0 Jan  1  2020 sda", "brw-rw----"),
            ("prw-r--r-- 1 root root 0 Jan  1  2020 fifo", "prw-r--r--"),
            ("srwxrwxrwx 1 root root 0 Jan  1  2020 sock", "srwxrwxrwx"),
        ] {
            let e = super::super::parse_unix(line.as_bytes(), now).unwrap();
            assert_eq!(e.mode_string().as_deref(), Some(mode), "{line}");
        }
        for (facts, letter) in [
            ("type=OS.unix=chr-1/3;unix.mode=0666; null", 'c'),
            ("type=OS.unix=blk;unix.mode=0660; sda", 'b'),
            ("type=OS.unix=fifo; p", 'p'),
            ("type=OS.unix=socket; s", 's'),
            ("type=unknown-thing;unix.mode=0140755; s2", 's'),
            ("type=unknown-thing;unix.mode=0o20666; c2", 'c'),
            ("type=OS.unix=slink:/t; l", 'l'),
            ("type=strange; x", '?'),
        ] {
            let e = super::super::parse_mlsd_entry(facts.as_bytes()).unwrap();
            assert_eq!(e.type_char(), letter, "{facts}");
        }
        assert_eq!(Entry::unknown(b"x").mode_string(), None);
    }

    #[test]
    fn times_compare_at_the_coarser_precision() {
        use TimePrecision::{Day, Minute, None, Second};
        let t = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        assert!(None < Day && Day < Minute && Minute < Second);
        assert_eq!(Minute.truncate(t(86_400 * 3 + 125)), t(86_400 * 3 + 120));
        assert_eq!(Day.truncate(t(86_400 * 3 + 125)), t(86_400 * 3));
        assert_eq!(Second.truncate(t(125) + Duration::from_millis(900)), t(125));
        assert_eq!(None.truncate(t(125)), t(125));
        let before = SystemTime::UNIX_EPOCH - Duration::from_secs(30);
        assert_eq!(
            Minute.truncate(before),
            SystemTime::UNIX_EPOCH - Duration::from_secs(60)
        );
        // LIST says 00:02, MDTM 00:02:05: the same minute.
        assert!(Minute.same_time(t(120), Second, t(125)));
        assert!(Second.same_time(t(125), Minute, t(120)));
        assert!(!Second.same_time(t(120), Second, t(125)));
        assert!(!Minute.same_time(t(120), Second, t(185)));
        // A date alone: any time that day.
        assert!(Day.same_time(t(86_400), Second, t(86_400 * 2 - 1)));
        assert!(!Day.same_time(t(86_400), Second, t(86_400 * 2)));
    }

    #[test]
    fn format_unix_lines() {
        let e = Entry {
            name: Name::from(" two  spaces"),
            kind: EntryKind::Directory,
            size: Some(4096),
            modified: at(2024, 2, 29, 23, 59, 0),
            time_precision: TimePrecision::Minute,
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
