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

use super::entry::{Entry, EntryKind, at};
use crate::{name::Name, proto::parse::civil_date};

/// The most fields looked at before the date: permissions, links, owner,
/// group, size (or major, minor) and a spare.
const MAX_FIELDS: usize = 12;

/// Parses one `ls -l` line; `None` if it is not one (including `total N`).
/// `now` is the reference for `Mon DD HH:MM` dates, which carry no year:
/// the year is `now`'s, or the one before if that would put the date
/// more than a day in the future.
pub fn parse_unix(line: &[u8], now: SystemTime) -> Option<Entry> {
    let (kind_char, permissions) = parse_mode(line)?;
    let spans = fields(line);
    // The date follows the size: find it, at field 4 or later.
    let (date_at, modified, date_end) = (3..spans.len())
        .find_map(|i| parse_date(line, &spans, i, now).map(|(t, end)| (i, t, end)))?;
    let size_field = field(line, &spans, date_at.checked_sub(1)?)?;
    let device =
        date_at >= 2 && field(line, &spans, date_at - 2).is_some_and(|f| f.ends_with(b","));
    let size = if device {
        None
    } else {
        Some(number(size_field)?)
    };
    // Between the link count and the size: owner and group, or owner only.
    let first_id = 2;
    let last_id = if device {
        date_at.checked_sub(2)?
    } else {
        date_at - 1
    };
    let ids: Vec<&[u8]> = (first_id..last_id)
        .filter_map(|i| field(line, &spans, i))
        .collect();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let (owner, group) = match ids.as_slice() {
        [owner, group] => (Some(text(owner)), Some(text(group))),
        [owner] => (Some(text(owner)), None),
        [] => (None, None),
        _ => return None,
    };
    if field(line, &spans, 1).is_some_and(|links| links.iter().any(|b| !b.is_ascii_digit())) {
        return None;
    }
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
                    target: Some(Name::from(rest.get(arrow + 4..)?)),
                },
            ),
            None => (rest, EntryKind::Symlink { target: None }),
        },
        _ => (rest, EntryKind::Other),
    };
    Some(Entry {
        name: Name::from(name),
        kind,
        size,
        modified: Some(modified),
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
    let mut out = Fields {
        spans: [(0, 0); MAX_FIELDS],
        len: 0,
    };
    let mut i = 0;
    for slot in out.spans.iter_mut() {
        while line.get(i) == Some(&b' ') {
            i += 1;
        }
        if i >= line.len() {
            break;
        }
        let start = i;
        while line.get(i).is_some_and(|&b| b != b' ') {
            i += 1;
        }
        *slot = (start, i);
        out.len += 1;
    }
    out
}

pub(super) fn field<'a>(line: &'a [u8], spans: &Fields, i: usize) -> Option<&'a [u8]> {
    let &(start, end) = spans.get(i)?;
    line.get(start..end)
}

/// A date starting at field `i`: the time and the byte offset where it ends.
fn parse_date(
    line: &[u8],
    spans: &Fields,
    i: usize,
    now: SystemTime,
) -> Option<(SystemTime, usize)> {
    let first = field(line, spans, i)?;
    if let Some(month) = month(first) {
        let day = small(field(line, spans, i + 1)?, 1, 31)?;
        let third = field(line, spans, i + 2)?;
        let end = spans.get(i + 2)?.1;
        if let Some((hour, minute)) = hh_mm(third) {
            let (year, ..) = civil_date(now);
            let this_year = at(year, month, day, hour, minute, 0);
            let t = match this_year {
                Some(t) if t <= now + Duration::from_secs(86_400) => t,
                _ => at(year - 1, month, day, hour, minute, 0)?,
            };
            return Some((t, end));
        }
        if third.len() == 4 {
            let year = i64::from(small(third, 1900, 9999)?);
            return Some((at(year, month, day, 0, 0, 0)?, end));
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
        let second = match time.get(5..) {
            Some([]) => 0,
            Some([b':', rest @ ..]) => small(rest.get(..2)?, 0, 60)?,
            _ => return None,
        };
        let mut end = spans.get(i + 1)?.1;
        if let Some(zone) = field(line, spans, i + 2)
            && zone.len() == 5
            && matches!(zone.first(), Some(b'+' | b'-'))
            && zone
                .get(1..)
                .is_some_and(|z| z.iter().all(u8::is_ascii_digit))
        {
            end = spans.get(i + 2)?.1;
        }
        return Some((at(year, month, day, hour, minute, second)?, end));
    }
    None
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

    fn parse(line: &str) -> Entry {
        parse_unix(line.as_bytes(), now()).unwrap_or_else(|| panic!("did not parse: {line}"))
    }

    #[test]
    fn real_server_lines() {
        // proftpd 1.3.8
        let e =
            parse("-rw-r--r--   1 ftpkit   ftpkit          3 Nov 24 04:43 a file;with semi.txt");
        assert_eq!(e.name, "a file;with semi.txt");
        assert_eq!(
            (e.kind.clone(), e.size, e.permissions),
            (EntryKind::File, Some(3), Some(0o644))
        );
        assert_eq!(
            (e.owner.as_deref(), e.group.as_deref()),
            (Some("ftpkit"), Some("ftpkit"))
        );
        assert_eq!(e.modified, at(2026, 11, 24, 4, 43, 0));
        // pure-ftpd 1.0.50: numeric owner
        let e = parse("drwxr-xr-x    2 1001       ftpkit           4096 Nov 24 04:37 sub dir");
        assert_eq!(
            (e.kind.clone(), e.owner.as_deref(), e.name.to_string()),
            (EntryKind::Directory, Some("1001"), "sub dir".into())
        );
        // vsftpd 3.0.3: numeric ids by default
        let e = parse("-rw-r--r--    1 1001     1001      1048576 Nov 24 04:15 curl-up.bin");
        assert_eq!(
            (e.size, e.group.as_deref()),
            (Some(1_048_576), Some("1001"))
        );
        // libunftp 0.24
        let e = parse(
            "-rw-r--r--            1            0            0        8388608 Nov 24 04:08 data.bin",
        );
        assert_eq!(
            (e.size, e.name.to_string()),
            (Some(8_388_608), "data.bin".into())
        );
        // pyftpdlib
        let e = parse("drwxr-xr-x   2 root     root         4096 Nov 24 04:43 sub dir");
        assert!(e.is_dir());
    }

    #[test]
    fn classic_variants() {
        // Without a group column (old BSD ftpd, some embedded servers).
        let e = parse("-rw-r--r--  1 bob  1234 Jan  5  2021 old.txt");
        assert_eq!(
            (e.owner.as_deref(), e.group, e.size),
            (Some("bob"), None, Some(1234))
        );
        assert_eq!(e.modified, at(2021, 1, 5, 0, 0, 0));
        // Symlink, sticky and set-id bits, ACL mark.
        let e = parse("lrwxrwxrwx 1 root root 11 Mar  3 10:00 hosts -> /etc/hosts");
        assert_eq!(
            e.kind,
            EntryKind::Symlink {
                target: Some(Name::from("/etc/hosts"))
            }
        );
        assert_eq!(e.name, "hosts");
        assert_eq!(
            parse("drwxrwxrwt+ 9 root root 4096 Mar  3 10:00 tmp").permissions,
            Some(0o1777)
        );
        assert_eq!(
            parse("-rwsr-sr-x 1 root root 4096 Mar  3 10:00 su").permissions,
            Some(0o6755)
        );
        assert_eq!(
            parse("-rwSr--r--@ 1 root root 1 Mar  3 10:00 x").permissions,
            Some(0o4644)
        );
        // Device file: major, minor instead of a size.
        let e = parse("brw-rw----  1 root disk   8,   0 Nov 20 09:00 sda");
        assert_eq!(
            (e.kind.clone(), e.size, e.group.as_deref()),
            (EntryKind::Other, None, Some("disk"))
        );
        // Names with leading and inner spaces keep them.
        assert_eq!(
            parse("-rw-r--r-- 1 u g 5 Jan  1  2024   spaced  name ").name,
            "  spaced  name "
        );
        // ISO dates: long-iso and full-iso.
        let e = parse("-rw-r--r-- 1 u g 5 2024-02-29 23:59 leap");
        assert_eq!(e.modified, at(2024, 2, 29, 23, 59, 0));
        let e = parse("-rw-r--r-- 1 u g 5 2024-02-29 23:59:58.123456789 +0000 full iso");
        assert_eq!(
            (e.name.to_string(), e.modified),
            ("full iso".into(), at(2024, 2, 29, 23, 59, 58))
        );
        // Month names in any case.
        assert_eq!(
            parse("-rw-r--r-- 1 u g 5 JAN 01 2020 x").modified,
            at(2020, 1, 1, 0, 0, 0)
        );
    }

    #[test]
    fn the_year_is_inferred_as_ls_does() {
        // Before "now": this year. More than a day after: last year.
        assert_eq!(
            parse("-rw-r--r-- 1 u g 1 Nov 24 11:00 a").modified,
            at(2026, 11, 24, 11, 0, 0)
        );
        assert_eq!(
            parse("-rw-r--r-- 1 u g 1 Nov 25 11:00 a").modified,
            at(2026, 11, 25, 11, 0, 0)
        );
        assert_eq!(
            parse("-rw-r--r-- 1 u g 1 Dec 31 11:00 a").modified,
            at(2025, 12, 31, 11, 0, 0)
        );
        // 29 February: this year has none, so it is the last leap year's
        // if that is the year before; otherwise it is not a date.
        let after_leap = at(2025, 3, 1, 0, 0, 0).unwrap();
        let e = parse_unix(b"-rw-r--r-- 1 u g 1 Feb 29 11:00 a", after_leap).unwrap();
        assert_eq!(e.modified, at(2024, 2, 29, 11, 0, 0));
        let two_after = at(2026, 3, 1, 0, 0, 0).unwrap();
        assert!(parse_unix(b"-rw-r--r-- 1 u g 1 Feb 29 11:00 a", two_after).is_none());
    }

    #[test]
    fn not_unix_lines() {
        for line in [
            "total 12",
            "",
            "   ",
            "-rw-r--r-- 1 u g 5 Foo 01 2020 x",
            "-rw-r--r-- 1 u g 5 Jan 32 2020 x",
            "-rw-r--r-- 1 u g 5 Jan 01 25:00 x",
            "-rw-r--r-- 1 u g 99999999999999999999999 Jan 01 2020 x",
            "-rw-r--r-- 1 u g 5 Jan 01 2020",
            "-rw-r--r-- 1 u g 5 Jan 01 2020 ",
            "xrw-r--r-- 1 u g 5 Jan 01 2020 x",
            "-rwqr--r-- 1 u g 5 Jan 01 2020 x",
            "01-02-24  10:20AM       <DIR>          Windows dir",
        ] {
            assert!(parse_unix(line.as_bytes(), now()).is_none(), "{line:?}");
        }
        let garbage: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 256) as u8).collect();
        assert!(parse_unix(&garbage, now()).is_none());
        assert!(parse_unix(b"-rw-r--r-- 1 u g 5 Jan 01 2020 a\0b", UNIX_EPOCH).is_some());
    }

    #[test]
    fn format_then_parse_is_the_identity() {
        let e = Entry {
            name: Name::from("a b -> c"),
            kind: EntryKind::File,
            size: Some(42),
            modified: at(2023, 7, 14, 9, 26, 0),
            permissions: Some(0o4755),
            owner: Some("alice".into()),
            group: Some("staff".into()),
            raw: Vec::new(),
        };
        let line = e.format_unix();
        let back = parse_unix(line.as_bytes(), now()).unwrap();
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
