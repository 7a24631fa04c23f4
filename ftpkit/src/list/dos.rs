//! DOS and IIS lines: `MM-DD-YY  HH:MMAM  <DIR>  name` or `... 12345 name`,
//! with two- or four-digit years, 12- or 24-hour times, and sizes that may
//! carry thousands separators.

use super::{
    entry::{Entry, EntryKind, at},
    unix::{field, fields, small},
};
use crate::name::Name;

/// Parses one DOS/IIS line; `None` if it is not one. Two-digit years
/// 70–99 are 19xx, 00–69 are 20xx. Times are read as UTC; a date that
/// does not exist (`02-30-24`) is not a DOS line.
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
        (EntryKind::File, Some(size(third)?))
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
        modified: Some(at(year, month, day, hour, minute, 0)?),
        time_precision: super::TimePrecision::Minute,
        permissions: None,
        owner: None,
        group: None,
        raw: line.to_vec(),
    })
}

/// Decimal digits with optional `,` thousands separators, fitting a u64.
fn size(field: &[u8]) -> Option<u64> {
    if !field.first()?.is_ascii_digit() || field.ends_with(b",") {
        return None;
    }
    field
        .iter()
        .filter(|&&b| b != b',')
        .try_fold(0u64, |acc, &d| {
            if !d.is_ascii_digit() {
                return None;
            }
            acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        line: &str,
        name: &str,
        kind: EntryKind,
        size: Option<u64>,
        modified: Option<std::time::SystemTime>,
    ) {
        let expected = Entry {
            name: Name::from(name),
            kind,
            size,
            modified,
            time_precision: crate::TimePrecision::Minute,
            permissions: None,
            owner: None,
            group: None,
            raw: line.as_bytes().to_vec(),
        };
        assert_eq!(parse_dos(line.as_bytes()), Some(expected), "{line:?}");
    }

    #[test]
    fn iis_and_dos_lines() {
        use EntryKind::{Directory, File};
        // IIS 10, MS-DOS style listing (the default).
        check(
            "01-02-24  10:20AM       <DIR>          Windows dir",
            "Windows dir",
            Directory,
            None,
            at(2024, 1, 2, 10, 20, 0),
        );
        check(
            "11-05-23  03:07PM                 5426 web.config",
            "web.config",
            File,
            Some(5426),
            at(2023, 11, 5, 15, 7, 0),
        );
        // IIS 6 / Windows NT 4 FTP service: two-digit years from the 1900s.
        check(
            "11-30-98  12:05PM              1,234,567 old report.doc",
            "old report.doc",
            File,
            Some(1_234_567),
            at(1998, 11, 30, 12, 5, 0),
        );
        check(
            "01-01-70  12:00AM                    0 epoch",
            "epoch",
            File,
            Some(0),
            at(1970, 1, 1, 0, 0, 0),
        );
        check(
            "12-31-69  11:59PM                    1 y2069",
            "y2069",
            File,
            Some(1),
            at(2069, 12, 31, 23, 59, 0),
        );
        // IIS 10 with "four-digit years" enabled.
        check(
            "03-04-2025  09:15AM       <DIR>          aspnet_client",
            "aspnet_client",
            Directory,
            None,
            at(2025, 3, 4, 9, 15, 0),
        );
        // Serv-U / FileZilla Server in DOS mode: 24-hour clock.
        check(
            "03-04-2025  00:15   42 midnight.txt",
            "midnight.txt",
            File,
            Some(42),
            at(2025, 3, 4, 0, 15, 0),
        );
        check(
            "03-04-25  23:15   <dir>   lower",
            "lower",
            Directory,
            None,
            at(2025, 3, 4, 23, 15, 0),
        );
        // 12 AM is midnight, 12 PM noon; lower-case am/pm.
        check(
            "03-04-25  12:15AM   1 a",
            "a",
            File,
            Some(1),
            at(2025, 3, 4, 0, 15, 0),
        );
        check(
            "03-04-25  12:15PM   1 a",
            "a",
            File,
            Some(1),
            at(2025, 3, 4, 12, 15, 0),
        );
        check(
            "03-04-25  11:59pm   1 a",
            "a",
            File,
            Some(1),
            at(2025, 3, 4, 23, 59, 0),
        );
        // Inner and trailing spaces stay in the name; huge sizes.
        check(
            "03-04-25  11:59PM   18,446,744,073,709,551,615   big  file ",
            "big  file ",
            File,
            Some(u64::MAX),
            at(2025, 3, 4, 23, 59, 0),
        );
    }

    #[test]
    fn not_dos_lines() {
        for line in [
            &b"13-01-24  10:20AM  <DIR>  x"[..],
            b"00-01-24  10:20AM  <DIR>  x",
            b"01-32-24  10:20AM  <DIR>  x",
            b"01-00-24  10:20AM  <DIR>  x",
            b"01-02-24  13:20PM  1 x",
            b"01-02-24  25:20  1 x",
            b"02-30-25  11:59PM   1 no such day",
            b"02-29-25  11:59PM   1 not a leap year",
            b"01-02-24  10:60AM  1 x",
            b"01-02-24  10-20AM  1 x",
            b"01-02-245  10:20AM  1 x",
            b"1-2-24  10:20AM  1 x",
            b"01-02-24  10:20AM  <DIR>",
            b"01-02-24  10:20AM  <DIR>   ",
            b"01-02-24  10:20AM  12a x",
            b"01-02-24  10:20AM  1,2, x",
            b"01-02-24  10:20AM  ,12 x",
            b"01-02-24  10:20AM  -12 x",
            b"01-02-24  10:20AM  18446744073709551616 x",
            b"01-02-24  10:20AM  99999999999999999999999999 x",
            b"-rw-r--r-- 1 u g 5 Jan 01 2020 x",
            b"",
            b"   ",
            b"\0\0\0\0\0\0\0\0\0\0\0\0",
        ] {
            assert_eq!(parse_dos(line), None, "{:?}", String::from_utf8_lossy(line));
        }
        let garbage: Vec<u8> = (0..10_240u32).map(|i| (i * 13 % 256) as u8).collect();
        assert_eq!(parse_dos(&garbage), None);
        let line = b"01-02-24  10:20AM       <DIR>          Windows dir";
        for end in 0..=line.len() {
            let _ = parse_dos(line.get(..end).unwrap());
        }
    }
}
