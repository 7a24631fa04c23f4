//! Choosing the parser for each `LIST` line, with no configuration.

use std::time::SystemTime;

use super::{Entry, dos::parse_dos, eplf::parse_eplf, unix::parse_unix, vms::parse_vms};

/// Parses one line of a `LIST` reply in whichever format it is: EPLF
/// (starts with `+`), Unix `ls -l`, DOS/IIS (starts with a digit), or
/// OpenVMS. Returns `None` for empty lines and `total N` lines, and an
/// entry of kind `Unknown` with the raw text for a line nothing parses —
/// never an error that would lose the rest of the listing.
pub fn parse_list_line(line: &[u8], now: SystemTime) -> Option<Entry> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(|&b| b == b' ') || is_total(line) {
        return None;
    }
    let parsed = match line.first() {
        Some(b'+') => parse_eplf(line),
        Some(b'0'..=b'9') => parse_dos(line),
        _ => parse_unix(line, now),
    };
    Some(
        parsed
            .or_else(|| parse_vms(line))
            .unwrap_or_else(|| Entry::unknown(line)),
    )
}

/// `total 123` (`ls -l`; `total 12K` with `-h`), or VMS's
/// `Total of 3 files, 25/30 blocks.` A file named `TOTAL.TXT;1` is not.
fn is_total(line: &[u8]) -> bool {
    let Some((word, rest)) = line.split_at_checked(5) else {
        return false;
    };
    if !word.eq_ignore_ascii_case(b"total") {
        return false;
    }
    match rest {
        [b' ', b'o' | b'O', b'f' | b'F', b' ', ..] => true,
        [b' ', count @ ..] => {
            count.first().is_some_and(u8::is_ascii_digit)
                && count
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b','))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{list::EntryKind, name::Name};

    fn now() -> SystemTime {
        crate::list::entry::at(2026, 11, 24, 12, 0, 0).unwrap()
    }

    #[test]
    fn every_format_is_recognised_and_the_rest_is_kept() {
        let parsed: Vec<(EntryKind, Name, Vec<u8>)> = [
            // proftpd 1.3.8, with the CRLF of the data connection
            &b"-rw-r--r--   1 ftpkit   ftpkit          3 Nov 24 04:43 a.txt\r\n"[..],
            // IIS 10
            b"01-02-24  10:20AM       <DIR>          Windows dir\r\n",
            // publicfile (EPLF)
            b"+i8388621.48594,m825718503,r,s280,\tdjb.html\r\n",
            // OpenVMS UCX
            b"MAIL.DIR;1  1  3-MAR-1999 09:00  [ALICE]  (RWE,RWE,,)\n",
            // OpenVMS UCX, a name starting with a digit
            b"2024.LOG;3  1  3-MAR-1999 09:00  [ALICE]  (RWE,RWE,,)",
            // Not a listing line at all
            b"something else entirely\r\n",
            b"Directory DISK$USER:[ALICE]",
            // Malformed lines of each format
            b"+r,s1",
            b"13-45-24 10:20AM 1 x",
            b"-rw-r--r-- 1 u g 5 Foo 01 2020 x",
            b"TOTAL.TXT;1  1  3-MAR-1999 09:00",
        ]
        .iter()
        .map(|l| {
            let e = parse_list_line(l, now()).unwrap();
            (e.kind, e.name, e.raw)
        })
        .collect();
        let unknown = |s: &str| (EntryKind::Unknown, Name::from(s), s.as_bytes().to_vec());
        assert_eq!(
            parsed,
            [
                (
                    EntryKind::File,
                    Name::from("a.txt"),
                    b"-rw-r--r--   1 ftpkit   ftpkit          3 Nov 24 04:43 a.txt".to_vec()
                ),
                (
                    EntryKind::Directory,
                    Name::from("Windows dir"),
                    b"01-02-24  10:20AM       <DIR>          Windows dir".to_vec()
                ),
                (
                    EntryKind::File,
                    Name::from("djb.html"),
                    b"+i8388621.48594,m825718503,r,s280,\tdjb.html".to_vec()
                ),
                (
                    EntryKind::Directory,
                    Name::from("MAIL"),
                    b"MAIL.DIR;1  1  3-MAR-1999 09:00  [ALICE]  (RWE,RWE,,)".to_vec()
                ),
                (
                    EntryKind::File,
                    Name::from("2024.LOG"),
                    b"2024.LOG;3  1  3-MAR-1999 09:00  [ALICE]  (RWE,RWE,,)".to_vec()
                ),
                unknown("something else entirely"),
                unknown("Directory DISK$USER:[ALICE]"),
                unknown("+r,s1"),
                unknown("13-45-24 10:20AM 1 x"),
                unknown("-rw-r--r-- 1 u g 5 Foo 01 2020 x"),
                (
                    EntryKind::File,
                    Name::from("TOTAL.TXT"),
                    b"TOTAL.TXT;1  1  3-MAR-1999 09:00".to_vec()
                ),
            ]
        );
    }

    #[test]
    fn blank_and_total_lines_are_skipped() {
        for line in [
            &b""[..],
            b"\r\n",
            b"\n",
            b"   \r\n",
            b"total 42",
            b"total 42\r\n",
            b"TOTAL 0",
            b"total 1.5M",
            b"total 12K",
            b"Total of 3 files, 25/30 blocks.",
        ] {
            assert_eq!(
                parse_list_line(line, now()),
                None,
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
        for kept in [
            &b"total"[..],
            b"totally 5",
            b"total x",
            b"total 5 files here",
            b"total",
        ] {
            assert_eq!(
                parse_list_line(kept, now()).map(|e| e.kind),
                Some(EntryKind::Unknown),
                "{:?}",
                String::from_utf8_lossy(kept)
            );
        }
    }

    #[test]
    fn hostile_lines_never_panic() {
        let odd = parse_list_line(b"\x00\xff garbage", now()).unwrap();
        assert_eq!(
            (odd.kind, odd.raw),
            (EntryKind::Unknown, b"\x00\xff garbage".to_vec())
        );
        let garbage: Vec<u8> = (0..10_240u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert_eq!(
            parse_list_line(&garbage, now()).map(|e| e.raw.len()),
            Some(garbage.len())
        );
        for first in [b'+', b'-', b'd', b'l', b'0', b'A', b' ', b'\t', 0] {
            let mut line = vec![first];
            line.extend_from_slice(&garbage);
            let _ = parse_list_line(&line, now());
            line.truncate(40);
            let _ = parse_list_line(&line, now());
        }
        let _ = parse_list_line(&[0u8; 10_240], now());
        let _ = parse_list_line(&[b'-'; 10_240], now());
        let _ = parse_list_line(&[b'9'; 10_240], now());
        let _ = parse_list_line(b"\r", SystemTime::UNIX_EPOCH);
    }
}
