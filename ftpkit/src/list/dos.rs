//! DOS and IIS lines: `MM-DD-YY  HH:MMAM  <DIR>  name` or `... 12345 name`,
//! with two- or four-digit years, 12- or 24-hour times, and sizes that may
//! carry thousands separators.

use super::{
    entry::{Entry, EntryKind, at},
    unix::{field, fields, small},
};
use crate::name::Name;

/// Parses one DOS/IIS line; `None` if it is not one. Two-digit years
/// 70–99 are 19xx, 00–69 are 20xx. Times are read as UTC.
pub fn parse_dos(line: &[u8]) -> Option<Entry> {
    let spans = fields(line);
    let date = field(line, &spans, 0)?;
    let (month, day, year) = match date {
        [m1, m2, b'-', d1, d2, b'-', y @ ..] if y.len() == 2 || y.len() == 4 => {
            let year = i64::from(small(y, 0, 9999)?);
            let year = match (y.len(), year) {
                (2, 70..) => 1900 + year,
                (2, _) => 2000 + year,
                _ => year,
            };
            (small(&[*m1, *m2], 1, 12)?, small(&[*d1, *d2], 1, 31)?, year)
        }
        _ => return None,
    };
    let time = field(line, &spans, 1)?;
    let (clock, pm) = match time {
        [rest @ .., a, b'M' | b'm'] if matches!(a, b'A' | b'a' | b'P' | b'p') => {
            (rest, Some(matches!(a, b'P' | b'p')))
        }
        _ => (time, None),
    };
    let colon = clock.iter().position(|&b| b == b':')?;
    let mut hour = small(clock.get(..colon)?, 0, 23)?;
    let minute = small(clock.get(colon + 1..)?, 0, 59)?;
    match pm {
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        Some(_) if hour > 12 => return None,
        _ => {}
    }
    let third = field(line, &spans, 2)?;
    let (kind, size) = if third.eq_ignore_ascii_case(b"<DIR>") {
        (EntryKind::Directory, None)
    } else {
        let digits: Vec<u8> = third.iter().copied().filter(|&b| b != b',').collect();
        (EntryKind::File, Some(super::unix::number(&digits)?))
    };
    // The name follows the run of spaces after the third field.
    let after = spans.get(2)?.1;
    let rest = line.get(after..)?;
    let start = rest.iter().position(|&b| b != b' ')?;
    let name = rest.get(start..)?;
    Some(Entry {
        name: Name::from(name),
        kind,
        size,
        modified: at(year, month, day, hour, minute, 0),
        permissions: None,
        owner: None,
        group: None,
        raw: line.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iis_and_dos_lines() {
        // IIS 10, MS-DOS style listing (the default).
        let e = parse_dos(b"01-02-24  10:20AM       <DIR>          Windows dir").unwrap();
        assert_eq!(
            (e.kind.clone(), e.name.to_string()),
            (EntryKind::Directory, "Windows dir".into())
        );
        assert_eq!(e.modified, at(2024, 1, 2, 10, 20, 0));
        let e = parse_dos(b"11-30-98  12:05PM              1,234,567 old report.doc").unwrap();
        assert_eq!(
            (e.size, e.modified),
            (Some(1_234_567), at(1998, 11, 30, 12, 5, 0))
        );
        let e = parse_dos(b"03-04-2025  00:15   42 midnight.txt").unwrap();
        assert_eq!((e.size, e.modified), (Some(42), at(2025, 3, 4, 0, 15, 0)));
        assert_eq!(
            parse_dos(b"03-04-25  12:15AM   1 a").unwrap().modified,
            at(2025, 3, 4, 0, 15, 0)
        );
        assert_eq!(
            parse_dos(b"03-04-25  11:59pm   1 a").unwrap().modified,
            at(2025, 3, 4, 23, 59, 0)
        );
    }

    #[test]
    fn not_dos_lines() {
        for line in [
            &b"13-01-24  10:20AM  <DIR>  x"[..],
            b"01-02-24  13:20PM  1 x",
            b"01-02-24  10:20AM  <DIR>",
            b"01-02-24  10:20AM  12a x",
            b"-rw-r--r-- 1 u g 5 Jan 01 2020 x",
            b"",
        ] {
            assert!(
                parse_dos(line).is_none(),
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }
}
