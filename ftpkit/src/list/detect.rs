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

/// `total 123` (and `Total of 123 blocks`-style summaries).
fn is_total(line: &[u8]) -> bool {
    let lower = line.get(..5).map(<[u8]>::to_ascii_lowercase);
    lower.as_deref() == Some(b"total")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::list::EntryKind;

    #[test]
    fn every_format_is_recognised_and_the_rest_is_kept() {
        let now = SystemTime::now();
        let kinds: Vec<EntryKind> = [
            &b"-rw-r--r--   1 ftpkit   ftpkit          3 Nov 24 04:43 a.txt\r\n"[..],
            b"01-02-24  10:20AM       <DIR>          Windows dir",
            b"+i8388621.48594,m825718503,r,s280,\tdjb.html",
            b"MAIL.DIR;1  1  3-MAR-1999 09:00  [ALICE]  (RWE,RWE,,)",
            b"something else entirely",
        ]
        .iter()
        .map(|l| parse_list_line(l, now).unwrap().kind)
        .collect();
        assert_eq!(
            kinds,
            [
                EntryKind::File,
                EntryKind::Directory,
                EntryKind::File,
                EntryKind::Directory,
                EntryKind::Unknown
            ]
        );
        assert!(parse_list_line(b"total 42", now).is_none());
        assert!(parse_list_line(b"", now).is_none());
        assert!(parse_list_line(b"   \r\n", now).is_none());
        let odd = parse_list_line(b"\x00\xff garbage", now).unwrap();
        assert_eq!(
            (odd.kind, odd.raw),
            (EntryKind::Unknown, b"\x00\xff garbage".to_vec())
        );
    }
}
