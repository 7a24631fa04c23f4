//! Unix `ls -l` lines, as most servers send them for `LIST`.
//!
//! Covered: the type character and nine permission characters (with
//! set-id and sticky bits, and a trailing `+`, `@` or `.` mark), with or
//! without a group column, numeric ids, device files (`major, minor`
//! instead of a size), symlinks (`name -> target`), names with spaces and
//! leading spaces, and dates as `Mon DD HH:MM` (the year inferred as `ls`
//! does), `Mon DD YYYY`, `YYYY-MM-DD HH:MM` and
//! `YYYY-MM-DD HH:MM:SS.nnnnnnnnn +zzzz`.

use std::time::{Duration, SystemTime};

use super::entry::{Entry, EntryKind, TimePrecision, at};
use crate::{
    date::{civil_date, civil_to_system_time},
    name::Name,
};

/// The most fields looked at before the date: permissions, links, owner,
/// group, size (or major, minor) and a spare.
const MAX_FIELDS: usize = 12;

/// The fields a Unix line may need read: mode, links, owner, group,
/// major, minor and a three-field date; the name is not split.
const UNIX_FIELDS: usize = 9;

/// How far in the future a yearless date may be before it is last year's.
const DAY: Duration = Duration::from_secs(86_400);

/// Parses one `ls -l` line; `None` if it is not one (including `total N`).
/// `now` is the reference for `Mon DD HH:MM` dates, which carry no year:
/// the year is `now`'s, or the one before if that would put the date
/// more than a day in the future.
pub fn parse_unix(line: &[u8], now: SystemTime) -> Option<Entry> {
    let (kind_char, permissions) = parse_mode(line)?;
    let spans = fields_upto(line, UNIX_FIELDS);
    // The link count; a few servers leave it out.
    let first_id = match field(line, &spans, 1) {
        Some(links) if links.iter().all(u8::is_ascii_digit) => 2,
        Some(_) => 1,
        None => return None,
    };
    // The date follows the size: find it, after the ids.
    let (date_at, (modified, precision), date_end) = (first_id + 1..spans.len())
        .find_map(|i| parse_date(line, &spans, i, now).map(|(t, end)| (i, t, end)))?;
    let size_field = field(line, &spans, date_at.checked_sub(1)?)?;
    let device_kind = matches!(kind_char, b'b' | b'c');
    // `major, minor` (two fields) in place of the size...
    let split_device = device_kind
        && date_at >= first_id + 2
        && field(line, &spans, date_at - 2).is_some_and(|f| f.ends_with(b","));
    let (size, last_id) = if split_device {
        (None, date_at - 2)
    } else {
        match number(size_field) {
            Some(n) => (Some(n), date_at - 1),
            // ...or `major,minor` / `0x...` in one field, for devices only.
            None if device_kind => (None, date_at - 1),
            None => return None,
        }
    };
    // Between the link count and the size: owner and group, or owner only.
    let text = |i: usize| field(line, &spans, i).map(|b| String::from_utf8_lossy(b).into_owned());
    let (owner, group) = match last_id.checked_sub(first_id)? {
        0 => (None, None),
        1 => (text(first_id), None),
        2 => (text(first_id), text(first_id + 1)),
        _ => return None,
    };
    // The name starts one space after the date: extra spaces belong to it.
    let rest = line.get(date_end + 1..)?;
    if rest.is_empty() {
        return None;
    }
    let (name, kind) = match kind_char {
        b'd' => (rest, EntryKind::Directory),
        b'-' => (rest, EntryKind::File),
        b'l' => match find(rest, b" -> ") {
            Some(arrow) => (
                rest.get(..arrow)?,
                EntryKind::Symlink {
                    // `name -> ` with nothing after it names no target.
                    target: rest
                        .get(arrow + 4..)
                        .filter(|target| !target.is_empty())
                        .map(Name::from),
                },
            ),
            // `name ->` with the trailing space trimmed: no target either.
            None => (
                rest.strip_suffix(b" ->").unwrap_or(rest),
                EntryKind::Symlink { target: None },
            ),
        },
        _ => (rest, EntryKind::Other),
    };
    Some(Entry {
        name: Name::from(name),
        kind,
        size,
        modified: Some(modified),
        time_precision: precision,
        permissions: Some(permissions),
        owner,
        group,
        raw: line.to_vec(),
    })
}

/// The type character and permission bits of the first field.
fn parse_mode(line: &[u8]) -> Option<(u8, u32)> {
    let kind = *line.first()?;
    if !b"-dlbcpsD".contains(&kind) {
        return None;
    }
    let chars = line.get(1..10)?;
    let mut mode = 0u32;
    for (i, &c) in chars.iter().enumerate() {
        let bit = 1u32 << (8 - i);
        let position = i % 3;
        let ok = match (position, c) {
            (_, b'-') => true,
            (0, b'r') | (1, b'w') | (2, b'x') => {
                mode |= bit;
                true
            }
            (2, b's' | b't') => {
                mode |= bit | special(i);
                true
            }
            (2, b'S' | b'T' | b'l') => {
                mode |= special(i);
                true
            }
            _ => false,
        };
        if !ok {
            return None;
        }
    }
    // After the nine characters: a space, or an ACL/attribute mark.
    match line.get(10) {
        Some(b' ') => {}
        Some(b'+' | b'@' | b'.') if line.get(11) == Some(&b' ') => {}
        _ => return None,
    }
    Some((kind, mode))
}

/// The set-uid, set-gid or sticky bit for the execute position `i` (2, 5, 8).
fn special(i: usize) -> u32 {
    match i {
        2 => 0o4000,
        5 => 0o2000,
        _ => 0o1000,
    }
}

/// The byte ranges of the first fields, separated by runs of spaces,
/// kept on the stack: no allocation per line.
pub(super) struct Fields {
    spans: [(usize, usize); MAX_FIELDS],
    len: usize,
}

impl Fields {
    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn get(&self, i: usize) -> Option<&(usize, usize)> {
        self.spans.get(..self.len)?.get(i)
    }
}

/// Splits the first fields of `line`.
pub(super) fn fields(line: &[u8]) -> Fields {
    fields_upto(line, MAX_FIELDS)
}

/// Splits at most the first `max` fields of `line` (the rest is not read).
fn fields_upto(line: &[u8], max: usize) -> Fields {
    let mut out = Fields {
        spans: [(0, 0); MAX_FIELDS],
        len: 0,
    };
    let mut from = 0;
    for slot in out.spans.iter_mut().take(max) {
        let Some(rest) = line.get(from..) else { break };
        let Some(skip) = rest.iter().position(|&b| b != b' ') else {
            break;
        };
        let start = from + skip;
        let word = line.get(start..).unwrap_or_default();
        let end = start + word.iter().position(|&b| b == b' ').unwrap_or(word.len());
        *slot = (start, end);
        out.len += 1;
        from = end;
    }
    out
}

pub(super) fn field<'a>(line: &'a [u8], spans: &Fields, i: usize) -> Option<&'a [u8]> {
    let &(start, end) = spans.get(i)?;
    line.get(start..end)
}

/// A date starting at field `i`: the time, how precisely the line gives
/// it, and the byte offset where it ends.
fn parse_date(
    line: &[u8],
    spans: &Fields,
    i: usize,
    now: SystemTime,
) -> Option<((SystemTime, TimePrecision), usize)> {
    let first = field(line, spans, i)?;
    if let Some(month) = month(first) {
        let day = small(field(line, spans, i + 1)?, 1, 31)?;
        let third = field(line, spans, i + 2)?;
        let end = spans.get(i + 2)?.1;
        if let Some((hour, minute)) = hh_mm(third) {
            let (year, ..) = civil_date(now);
            let this_year = at(year, month, day, hour, minute, 0);
            let t = match this_year {
                Some(t) if now.checked_add(DAY).is_none_or(|limit| t <= limit) => t,
                _ => at(year - 1, month, day, hour, minute, 0)?,
            };
            return Some(((t, TimePrecision::Minute), end));
        }
        if third.len() == 4 {
            let year = i64::from(small(third, 1900, 9999)?);
            return Some(((at(year, month, day, 0, 0, 0)?, TimePrecision::Day), end));
        }
        return None;
    }
    // ISO: YYYY-MM-DD HH:MM[:SS[.frac]] [+zzzz]
    if first.len() == 10 && first.get(4) == Some(&b'-') && first.get(7) == Some(&b'-') {
        let year = i64::from(small(first.get(..4)?, 1900, 9999)?);
        let month = small(first.get(5..7)?, 1, 12)?;
        let day = small(first.get(8..10)?, 1, 31)?;
        let time = field(line, spans, i + 1)?;
        let (hour, minute) = hh_mm(time.get(..5)?)?;
        let (second, nanos, precision) = match time.get(5..) {
            Some([]) => (0, 0, TimePrecision::Minute),
            Some([b':', s1, s2, frac @ ..]) => (
                small(&[*s1, *s2], 0, 60)?,
                fraction(frac)?,
                TimePrecision::Second,
            ),
            _ => return None,
        };
        let t = civil_to_system_time(year, month, day, hour, minute, second, nanos)?;
        // full-iso names the zone: bring the time to UTC.
        if let Some(zone) = field(line, spans, i + 2)
            && let Some(offset) = zone_offset(zone)
        {
            let t = match offset {
                east if east >= 0 => t.checked_sub(Duration::from_secs(east.unsigned_abs()))?,
                west => t.checked_add(Duration::from_secs(west.unsigned_abs()))?,
            };
            return Some(((t, precision), spans.get(i + 2)?.1));
        }
        return Some(((t, precision), spans.get(i + 1)?.1));
    }
    None
}

/// `.nnnnnnnnn` (up to 9 digits, or none at all) as nanoseconds.
fn fraction(frac: &[u8]) -> Option<u32> {
    let digits = match frac {
        [] => return Some(0),
        [b'.', digits @ ..] if !digits.is_empty() && digits.len() <= 9 => digits,
        _ => return None,
    };
    let mut nanos = 0u32;
    for place in 0..9 {
        let digit = match digits.get(place) {
            Some(d) if d.is_ascii_digit() => u32::from(d - b'0'),
            Some(_) => return None,
            None => 0,
        };
        nanos = nanos * 10 + digit;
    }
    Some(nanos)
}

/// `+hhmm` / `-hhmm` as seconds east of UTC.
fn zone_offset(zone: &[u8]) -> Option<i64> {
    let (sign, digits) = match zone {
        [b'+', rest @ ..] => (1, rest),
        [b'-', rest @ ..] => (-1, rest),
        _ => return None,
    };
    if digits.len() != 4 {
        return None;
    }
    let hours = i64::from(small(digits.get(..2)?, 0, 23)?);
    let minutes = i64::from(small(digits.get(2..)?, 0, 59)?);
    Some(sign * (hours * 3600 + minutes * 60))
}

/// `Jan`..`Dec`, any case.
pub(super) fn month(field: &[u8]) -> Option<u32> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
        b"dec",
    ];
    if field.len() != 3 {
        return None;
    }
    let lower = [
        field.first()?.to_ascii_lowercase(),
        field.get(1)?.to_ascii_lowercase(),
        field.get(2)?.to_ascii_lowercase(),
    ];
    MONTHS
        .iter()
        .position(|m| **m == lower)
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// `HH:MM`.
fn hh_mm(field: &[u8]) -> Option<(u32, u32)> {
    let colon = field.iter().position(|&b| b == b':')?;
    let hour = small(field.get(..colon)?, 0, 23)?;
    let minute = small(field.get(colon + 1..)?, 0, 59)?;
    (field.len() <= 5).then_some((hour, minute))
}

/// A decimal number of at most 4 digits within `min..=max`.
pub(super) fn small(digits: &[u8], min: u32, max: u32) -> Option<u32> {
    if digits.is_empty() || digits.len() > 4 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = digits
        .iter()
        .fold(0u32, |acc, &d| acc * 10 + u32::from(d - b'0'));
    (min..=max).contains(&value).then_some(value)
}

/// A size: decimal digits that fit in a u64.
pub(super) fn number(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    /// 2026-11-24 12:00 UTC, the reference "now" of these tests.
    fn now() -> SystemTime {
        at(2026, 11, 24, 12, 0, 0).unwrap()
    }

    /// The entry every field of which a test expects.
    #[allow(clippy::too_many_arguments)]
    fn entry(
        line: &str,
        name: &str,
        kind: EntryKind,
        size: Option<u64>,
        modified: Option<SystemTime>,
        permissions: u32,
        owner: Option<&str>,
        group: Option<&str>,
    ) -> Entry {
        // What the line's date gives: a time with seconds, a time of day,
        // or a year in its place (the day only).
        let words: Vec<&str> = line.split_whitespace().collect();
        let clock = |w: &&str, colons: usize| {
            w.len() >= 4
                && w.matches(':').count() == colons
                && w.starts_with(|c: char| c.is_ascii_digit())
        };
        let time_precision = if words.iter().any(|w| clock(w, 2)) {
            TimePrecision::Second
        } else if words.iter().any(|w| clock(w, 1)) {
            TimePrecision::Minute
        } else {
            TimePrecision::Day
        };
        Entry {
            name: Name::from(name),
            kind,
            size,
            modified,
            time_precision,
            permissions: Some(permissions),
            owner: owner.map(str::to_owned),
            group: group.map(str::to_owned),
            raw: line.as_bytes().to_vec(),
        }
    }

    fn check(expected: Entry) {
        let line = String::from_utf8(expected.raw.clone()).unwrap();
        assert_eq!(
            parse_unix(line.as_bytes(), now()),
            Some(expected),
            "{line:?}"
        );
    }

    fn file() -> EntryKind {
        EntryKind::File
    }

    fn dir() -> EntryKind {
        EntryKind::Directory
    }

    #[test]
    fn real_server_lines() {
        // proftpd 1.3.8 (captured from the test server, :2122)
        let l = "-rw-r--r--   1 ftpkit   ftpkit          3 Nov 24 04:43 a file;with semi.txt";
        check(entry(
            l,
            "a file;with semi.txt",
            file(),
            Some(3),
            at(2026, 11, 24, 4, 43, 0),
            0o644,
            Some("ftpkit"),
            Some("ftpkit"),
        ));
        let l = "drwxr-xr-x   2 ftpkit   ftpkit       4096 Nov 24 04:43 sub dir";
        check(entry(
            l,
            "sub dir",
            dir(),
            Some(4096),
            at(2026, 11, 24, 4, 43, 0),
            0o755,
            Some("ftpkit"),
            Some("ftpkit"),
        ));
        // pure-ftpd 1.0.50 (:2123): numeric owner, named group
        let l = "drwxr-xr-x    2 1001       ftpkit           4096 Nov 24 04:37 ftpkit-resume-11886-16965960";
        check(entry(
            l,
            "ftpkit-resume-11886-16965960",
            dir(),
            Some(4096),
            at(2026, 11, 24, 4, 37, 0),
            0o755,
            Some("1001"),
            Some("ftpkit"),
        ));
        let l = "-rw-r--r--    1 1001       ftpkit        5242880 Nov 24 05:51 act.bin";
        check(entry(
            l,
            "act.bin",
            file(),
            Some(5_242_880),
            at(2026, 11, 24, 5, 51, 0),
            0o644,
            Some("1001"),
            Some("ftpkit"),
        ));
        // vsftpd 3.0.3 (:2121): numeric ids by default
        let l = "-rw-r--r--    1 1001     1001     1073741824 Nov 24 04:29 bench-big.bin";
        check(entry(
            l,
            "bench-big.bin",
            file(),
            Some(1_073_741_824),
            at(2026, 11, 24, 4, 29, 0),
            0o644,
            Some("1001"),
            Some("1001"),
        ));
        let l = "drwxr-xr-x    2 1001     1001      3518464 Nov 24 04:32 bench-list";
        check(entry(
            l,
            "bench-list",
            dir(),
            Some(3_518_464),
            at(2026, 11, 24, 4, 32, 0),
            0o755,
            Some("1001"),
            Some("1001"),
        ));
        // pyftpdlib 1.5 (:2124)
        let l = "-rw-r--r--   1 root     root            3 Nov 24 04:43 a file;with semi.txt";
        check(entry(
            l,
            "a file;with semi.txt",
            file(),
            Some(3),
            at(2026, 11, 24, 4, 43, 0),
            0o644,
            Some("root"),
            Some("root"),
        ));
        // libunftp 0.24
        let l = "-rw-r--r--            1            0            0        8388608 Nov 24 04:08 data.bin";
        check(entry(
            l,
            "data.bin",
            file(),
            Some(8_388_608),
            at(2026, 11, 24, 4, 8, 0),
            0o644,
            Some("0"),
            Some("0"),
        ));
        // wu-ftpd 2.6 / Serv-U (Unix style): old year, padded
        let l = "-rw-rw-rw-   1 user     group      123456 Mar  3  2019 report 2019.pdf";
        check(entry(
            l,
            "report 2019.pdf",
            file(),
            Some(123_456),
            at(2019, 3, 3, 0, 0, 0),
            0o666,
            Some("user"),
            Some("group"),
        ));
        // NetBSD ftpd (ls -lgA)
        let l = "lrwxr-xr-x  1 root  wheel  11 Feb  1 09:30 sys -> usr/src/sys";
        check(entry(
            l,
            "sys",
            EntryKind::Symlink {
                target: Some(Name::from("usr/src/sys")),
            },
            Some(11),
            at(2026, 2, 1, 9, 30, 0),
            0o755,
            Some("root"),
            Some("wheel"),
        ));
    }

    #[test]
    fn classic_variants() {
        // Without a group column (old BSD ftpd, some embedded servers).
        let l = "-rw-r--r--  1 bob  1234 Jan  5  2021 old.txt";
        check(entry(
            l,
            "old.txt",
            file(),
            Some(1234),
            at(2021, 1, 5, 0, 0, 0),
            0o644,
            Some("bob"),
            None,
        ));
        // Without a link count (a few embedded servers).
        let l = "-rw-r--r-- ftp ftp 77 Jan  5  2021 nolinks";
        check(entry(
            l,
            "nolinks",
            file(),
            Some(77),
            at(2021, 1, 5, 0, 0, 0),
            0o644,
            Some("ftp"),
            Some("ftp"),
        ));
        // GNU ls: symlink, sticky and set-id bits, ACL / xattr / SELinux marks.
        let l = "lrwxrwxrwx 1 root root 11 Mar  3 10:00 hosts -> /etc/hosts";
        check(entry(
            l,
            "hosts",
            EntryKind::Symlink {
                target: Some(Name::from("/etc/hosts")),
            },
            Some(11),
            at(2026, 3, 3, 10, 0, 0),
            0o777,
            Some("root"),
            Some("root"),
        ));
        let l = "lrwxrwxrwx 1 root root 11 Mar  3 10:00 a -> b -> c";
        check(entry(
            l,
            "a",
            EntryKind::Symlink {
                target: Some(Name::from("b -> c")),
            },
            Some(11),
            at(2026, 3, 3, 10, 0, 0),
            0o777,
            Some("root"),
            Some("root"),
        ));
        let l = "lrwxrwxrwx 1 root root 11 Mar  3 10:00 dangling";
        check(entry(
            l,
            "dangling",
            EntryKind::Symlink { target: None },
            Some(11),
            at(2026, 3, 3, 10, 0, 0),
            0o777,
            Some("root"),
            Some("root"),
        ));
        for bare in [
            "lrwxrwxrwx 1 u g 4 Jan  1  2020 link -> ",
            "lrwxrwxrwx 1 u g 4 Jan  1  2020 link ->",
            "lrwxrwxrwx 1 u g 4 Jan  1  2020 link",
        ] {
            let e = parse_unix(bare.as_bytes(), now()).unwrap();
            assert_eq!(
                (e.name.as_bytes(), e.kind),
                (&b"link"[..], EntryKind::Symlink { target: None }),
                "{bare:?}"
            );
        }
        // " -> " in a plain file's name is part of the name.
        let l = "-rw-r--r-- 1 u g 1 Mar  3 10:00 x -> y";
        check(entry(
            l,
            "x -> y",
            file(),
            Some(1),
            at(2026, 3, 3, 10, 0, 0),
            0o644,
            Some("u"),
            Some("g"),
        ));
        // Solaris ACL mark.
        let l = "drwxrwxrwt+ 9 root root 4096 Mar  3 10:00 tmp";
        check(entry(
            l,
            "tmp",
            dir(),
            Some(4096),
            at(2026, 3, 3, 10, 0, 0),
            0o1777,
            Some("root"),
            Some("root"),
        ));
        let l = "-rwsr-sr-x 1 root root 4096 Mar  3 10:00 su";
        check(entry(
            l,
            "su",
            file(),
            Some(4096),
            at(2026, 3, 3, 10, 0, 0),
            0o6755,
            Some("root"),
            Some("root"),
        ));
        // macOS xattr mark, set-uid without execute (S), sticky without (T).
        let l = "-rwSr--r-T@ 1 root root 1 Mar  3 10:00 x";
        check(entry(
            l,
            "x",
            file(),
            Some(1),
            at(2026, 3, 3, 10, 0, 0),
            0o5644,
            Some("root"),
            Some("root"),
        ));
        // SELinux context mark (GNU ls on RHEL).
        let l = "-rw-r--r--. 1 root root 0 Mar  3 10:00 selinux";
        check(entry(
            l,
            "selinux",
            file(),
            Some(0),
            at(2026, 3, 3, 10, 0, 0),
            0o644,
            Some("root"),
            Some("root"),
        ));
        // Device files: major, minor instead of a size (Linux, BSD, one field, hex).
        let l = "brw-rw----  1 root disk   8,   0 Nov 20 09:00 sda";
        check(entry(
            l,
            "sda",
            EntryKind::Other,
            None,
            at(2026, 11, 20, 9, 0, 0),
            0o660,
            Some("root"),
            Some("disk"),
        ));
        let l = "brw-r--r-- 1 root disk 8, 0 Jan 1 2024 sda";
        check(entry(
            l,
            "sda",
            EntryKind::Other,
            None,
            at(2024, 1, 1, 0, 0, 0),
            0o644,
            Some("root"),
            Some("disk"),
        ));
        let l = "crw-rw-rw-  1 root  wheel    3,2 Nov 20 09:00 null";
        check(entry(
            l,
            "null",
            EntryKind::Other,
            None,
            at(2026, 11, 20, 9, 0, 0),
            0o666,
            Some("root"),
            Some("wheel"),
        ));
        let l = "crw-rw-rw-  1 root  wheel  0x2a Nov 20 09:00 zero";
        check(entry(
            l,
            "zero",
            EntryKind::Other,
            None,
            at(2026, 11, 20, 9, 0, 0),
            0o666,
            Some("root"),
            Some("wheel"),
        ));
        // Pipes and sockets.
        let l = "prw-r--r-- 1 u g 0 Nov 20 09:00 fifo";
        check(entry(
            l,
            "fifo",
            EntryKind::Other,
            Some(0),
            at(2026, 11, 20, 9, 0, 0),
            0o644,
            Some("u"),
            Some("g"),
        ));
        let l = "srwxrwxrwx 1 u g 0 Nov 20 09:00 sock";
        check(entry(
            l,
            "sock",
            EntryKind::Other,
            Some(0),
            at(2026, 11, 20, 9, 0, 0),
            0o777,
            Some("u"),
            Some("g"),
        ));
        // Names with leading, inner and trailing spaces keep them.
        let l = "-rw-r--r-- 1 u g 5 Jan  1  2024   spaced  name ";
        check(entry(
            l,
            "  spaced  name ",
            file(),
            Some(5),
            at(2024, 1, 1, 0, 0, 0),
            0o644,
            Some("u"),
            Some("g"),
        ));
        let l = "-rw-r--r-- 1 u g 5 Jan  1 10:00  lead";
        check(entry(
            l,
            " lead",
            file(),
            Some(5),
            at(2026, 1, 1, 10, 0, 0),
            0o644,
            Some("u"),
            Some("g"),
        ));
        // Names that look like dates or numbers.
        let l = "-rw-r--r-- 1 u g 5 Jan  1  2024 Feb 2 2020";
        check(entry(
            l,
            "Feb 2 2020",
            file(),
            Some(5),
            at(2024, 1, 1, 0, 0, 0),
            0o644,
            Some("u"),
            Some("g"),
        ));
        // Non-UTF-8 and NUL bytes in names are kept as bytes.
        let e = parse_unix(b"-rw-r--r-- 1 u g 5 Jan 01 2020 a\0b\xff", UNIX_EPOCH).unwrap();
        assert_eq!(e.name.as_bytes(), b"a\0b\xff");
        // Sizes up to u64::MAX.
        let l = "-rw-r--r-- 1 u g 18446744073709551615 Jan 01 2020 max";
        check(entry(
            l,
            "max",
            file(),
            Some(u64::MAX),
            at(2020, 1, 1, 0, 0, 0),
            0o644,
            Some("u"),
            Some("g"),
        ));
        // Month names in any case.
        let l = "-rw-r--r-- 1 u g 5 JAN 01 2020 x";
        check(entry(
            l,
            "x",
            file(),
            Some(5),
            at(2020, 1, 1, 0, 0, 0),
            0o644,
            Some("u"),
            Some("g"),
        ));
        let l = "-rw-r--r-- 1 u g 5 dec 31 1999 x";
        check(entry(
            l,
            "x",
            file(),
            Some(5),
            at(1999, 12, 31, 0, 0, 0),
            0o644,
            Some("u"),
            Some("g"),
        ));
    }

    #[test]
    fn iso_dates() {
        // ls --time-style=long-iso
        let l = "-rw-r--r-- 1 u g 5 2024-02-29 23:59 leap";
        check(entry(
            l,
            "leap",
            file(),
            Some(5),
            at(2024, 2, 29, 23, 59, 0),
            0o644,
            Some("u"),
            Some("g"),
        ));
        // ls --time-style=full-iso: nanoseconds kept, zone applied.
        let l = "-rw-r--r-- 1 u g 5 2024-02-29 23:59:58.123456789 +0000 full iso";
        let t = civil_to_system_time(2024, 2, 29, 23, 59, 58, 123_456_789);
        check(entry(
            l,
            "full iso",
            file(),
            Some(5),
            t,
            0o644,
            Some("u"),
            Some("g"),
        ));
        let l = "-rw-r--r-- 1 u g 5 2024-03-01 01:30:00.000000000 +0200 east";
        check(entry(
            l,
            "east",
            file(),
            Some(5),
            at(2024, 2, 29, 23, 30, 0),
            0o644,
            Some("u"),
            Some("g"),
        ));
        let l = "-rw-r--r-- 1 u g 5 2024-02-29 20:00:00.5 -0330 west";
        let t = civil_to_system_time(2024, 2, 29, 23, 30, 0, 500_000_000);
        check(entry(
            l,
            "west",
            file(),
            Some(5),
            t,
            0o644,
            Some("u"),
            Some("g"),
        ));
        // Seconds without a zone: the next word is the name.
        let l = "-rw-r--r-- 1 u g 5 2024-02-29 20:00:01 +0200x";
        check(entry(
            l,
            "+0200x",
            file(),
            Some(5),
            at(2024, 2, 29, 20, 0, 1),
            0o644,
            Some("u"),
            Some("g"),
        ));
        for bad in [
            "-rw-r--r-- 1 u g 5 2023-02-29 10:00 x",
            "-rw-r--r-- 1 u g 5 2024-13-01 10:00 x",
            "-rw-r--r-- 1 u g 5 2024-01-01 24:00 x",
            "-rw-r--r-- 1 u g 5 2024-01-01 10:00:00.1234567890 +0000 x",
            "-rw-r--r-- 1 u g 5 2024-01-01 10:00:00,1 +0000 x",
        ] {
            assert_eq!(parse_unix(bad.as_bytes(), now()), None, "{bad:?}");
        }
    }

    #[test]
    fn the_year_is_inferred_as_ls_does() {
        let modified =
            |line: &str, now: SystemTime| parse_unix(line.as_bytes(), now).unwrap().modified;
        // Before "now": this year. Up to a day after: still this year.
        assert_eq!(
            modified("-rw-r--r-- 1 u g 1 Nov 24 11:00 a", now()),
            at(2026, 11, 24, 11, 0, 0)
        );
        assert_eq!(
            modified("-rw-r--r-- 1 u g 1 Nov 25 12:00 a", now()),
            at(2026, 11, 25, 12, 0, 0)
        );
        // More than a day after: last year.
        assert_eq!(
            modified("-rw-r--r-- 1 u g 1 Nov 25 12:01 a", now()),
            at(2025, 11, 25, 12, 1, 0)
        );
        assert_eq!(
            modified("-rw-r--r-- 1 u g 1 Dec 31 11:00 a", now()),
            at(2025, 12, 31, 11, 0, 0)
        );
        // Early January: December is last year's.
        let new_year = at(2027, 1, 2, 0, 0, 0).unwrap();
        assert_eq!(
            modified("-rw-r--r-- 1 u g 1 Dec 31 23:59 a", new_year),
            at(2026, 12, 31, 23, 59, 0)
        );
        assert_eq!(
            modified("-rw-r--r-- 1 u g 1 Jan  2 23:59 a", new_year),
            at(2027, 1, 2, 23, 59, 0)
        );
        // 29 February: this year has none, so it is last year's if that
        // was a leap year; otherwise it is not a date.
        assert_eq!(
            modified(
                "-rw-r--r-- 1 u g 1 Feb 29 11:00 a",
                at(2025, 3, 1, 0, 0, 0).unwrap()
            ),
            at(2024, 2, 29, 11, 0, 0)
        );
        assert_eq!(
            parse_unix(
                b"-rw-r--r-- 1 u g 1 Feb 29 11:00 a",
                at(2026, 3, 1, 0, 0, 0).unwrap()
            ),
            None
        );
        // A "now" at the end of time does not overflow.
        let far = UNIX_EPOCH + Duration::from_secs(i64::MAX as u64 / 4);
        assert!(
            parse_unix(b"-rw-r--r-- 1 u g 1 Feb 20 11:00 a", far)
                .is_none_or(|e| e.modified.is_some())
        );
        let early = UNIX_EPOCH - Duration::from_secs(86_400 * 366 * 3000);
        let _ = parse_unix(b"-rw-r--r-- 1 u g 1 Feb 20 11:00 a", early);
    }

    #[test]
    fn not_unix_lines() {
        for line in [
            "total 12",
            "",
            "   ",
            "-",
            "-rw-r--r--",
            "-rw-r--r-- ",
            "-rw-r--r-- 1 u g 5 Foo 01 2020 x",
            "-rw-r--r-- 1 u g 5 Jan 32 2020 x",
            "-rw-r--r-- 1 u g 5 Jan 00 2020 x",
            "-rw-r--r-- 1 u g 5 Jan 0 2020 x",
            "-rw-r--r-- 1 u g 5 Apr 31 2020 x",
            "-rw-r--r-- 1 u g 5 Jan 01 25:00 x",
            "-rw-r--r-- 1 u g 5 Jan 01 12:60 x",
            "-rw-r--r-- 1 u g 5 Jan 01 123:00 x",
            "-rw-r--r-- 1 u g 5 Jan 01 20201 x",
            "-rw-r--r-- 1 u g 5 Jan 01 1899 x",
            "-rw-r--r-- 1 u g 99999999999999999999999 Jan 01 2020 x",
            "-rw-r--r-- 1 u g 18446744073709551616 Jan 01 2020 x",
            "-rw-r--r-- 1 u g -5 Jan 01 2020 x",
            "-rw-r--r-- 1 u g 5 Jan 01 2020",
            "-rw-r--r-- 1 u g 5 Jan 01 2020 ",
            "-rw-r--r-- 1 a b c 5 Jan 01 2020 too many ids",
            "-rw-r--r-- 1 u g 8, 0 Jan 01 2020 comma on a file",
            "xrw-r--r-- 1 u g 5 Jan 01 2020 x",
            "-rwqr--r-- 1 u g 5 Jan 01 2020 x",
            "-rw-r--r--x 1 u g 5 Jan 01 2020 x",
            "-rw-r--r--\t1 u g 5 Jan 01 2020 x",
            "drwxr-xr-x 1 u g 5 Jan",
            "drwxr-xr-x 1 u g 5 Jan 01",
            "01-02-24  10:20AM       <DIR>          Windows dir",
            "+i8388621.48594,m825718503,r,s280,\tdjb.html",
            "LOGIN.COM;2  5/6  12-JAN-2024 10:20:30  [USERS,ALICE]  (RWED,RWED,RE,)",
        ] {
            assert_eq!(parse_unix(line.as_bytes(), now()), None, "{line:?}");
        }
        let garbage: Vec<u8> = (0..10_240u32).map(|i| (i * 7 % 256) as u8).collect();
        assert_eq!(parse_unix(&garbage, now()), None);
        let mut long = b"-rw-r--r-- ".to_vec();
        long.extend(std::iter::repeat_n(b'9', 10_240));
        assert_eq!(parse_unix(&long, now()), None);
        let mut long = b"-rw-r--r-- 1 u g 5 Jan 01 2020 ".to_vec();
        long.extend(std::iter::repeat_n(b' ', 10_240));
        assert_eq!(
            parse_unix(&long, now()).unwrap().name.as_bytes().len(),
            10_240
        );
        assert_eq!(parse_unix(&[0u8; 64], now()), None);
        assert_eq!(parse_unix(&[b' '; 64], now()), None);
    }

    /// Every prefix and every one-byte change of real lines: no panic.
    #[test]
    fn mutations_never_panic() {
        let lines: [&[u8]; 3] = [
            b"lrwxrwxrwx 1 root root 11 Mar  3 10:00 hosts -> /etc/hosts",
            b"brw-rw----  1 root disk   8,   0 Nov 20 09:00 sda",
            b"-rw-r--r-- 1 u g 5 2024-02-29 23:59:58.123456789 +0000 full iso",
        ];
        for line in lines {
            for end in 0..=line.len() {
                let _ = parse_unix(line.get(..end).unwrap(), now());
            }
            for i in 0..line.len() {
                for b in [0u8, b' ', b'9', b':', b'-', b',', b'+', 0xff] {
                    let mut changed = line.to_vec();
                    *changed.get_mut(i).unwrap() = b;
                    let _ = parse_unix(&changed, now());
                }
            }
        }
    }

    #[test]
    fn format_then_parse_is_the_identity() {
        let kinds = [
            EntryKind::File,
            EntryKind::Directory,
            EntryKind::Other,
            EntryKind::Symlink {
                target: Some(Name::from("../t a r g e t")),
            },
        ];
        for (i, kind) in kinds.into_iter().enumerate() {
            for name in ["a b -> c", "  lead", "x", "trail ", "Jan 01 2020"] {
                if matches!(kind, EntryKind::Symlink { .. }) && name.contains(" -> ") {
                    continue;
                }
                let e = Entry {
                    name: Name::from(name),
                    kind: kind.clone(),
                    size: Some(42 << (i * 10)),
                    modified: at(2023 - i as i64 * 30, 7, 14, 9, 26, 0),
                    time_precision: TimePrecision::Minute,
                    permissions: Some(0o4755 ^ (i as u32 * 0o1111)),
                    owner: Some("alice".into()),
                    group: Some("staff".into()),
                    raw: Vec::new(),
                };
                let line = e.format_unix();
                let back = parse_unix(line.as_bytes(), now()).unwrap();
                assert_eq!(back.raw, line.as_bytes());
                assert_eq!(
                    Entry {
                        raw: Vec::new(),
                        ..back
                    },
                    e,
                    "{line}"
                );
            }
        }
    }
}
