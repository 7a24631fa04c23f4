//! EPLF, the Easily Parsed LIST Format (publicfile and a few others):
//! `+fact,fact,...<TAB>name`.

use std::time::{Duration, SystemTime};

use super::entry::{Entry, EntryKind};
use crate::name::Name;

/// Parses one EPLF line; `None` if it is not one. Facts: `r` (a file),
/// `/` (a directory), `s<size>`, `m<seconds since 1970>`, `up<octal mode>`;
/// others (`i<id>`) are left in `raw`.
pub fn parse_eplf(line: &[u8]) -> Option<Entry> {
    let body = line.strip_prefix(b"+")?;
    let tab = body.iter().position(|&b| b == b'\t')?;
    let name = body.get(tab + 1..)?;
    if name.is_empty() {
        return None;
    }
    let mut entry = Entry::unknown(line);
    entry.name = Name::from(name);
    for fact in body.get(..tab)?.split(|&b| b == b',') {
        match fact {
            [b'r'] => entry.kind = EntryKind::File,
            [b'/'] => entry.kind = EntryKind::Directory,
            [b's', digits @ ..] => entry.size = super::unix::number(digits),
            [b'm', digits @ ..] => {
                entry.modified = super::unix::number(digits)
                    .and_then(|secs| SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs)));
                entry.time_precision = if entry.modified.is_some() {
                    super::TimePrecision::Second
                } else {
                    super::TimePrecision::None
                };
            }
            [b'u', b'p', octal @ ..] => {
                entry.permissions = std::str::from_utf8(octal)
                    .ok()
                    .and_then(|o| u32::from_str_radix(o, 8).ok())
                    .map(|m| m & 0o7777);
            }
            _ => {}
        }
    }
    if entry.kind == EntryKind::Unknown {
        entry.kind = EntryKind::Other;
    }
    Some(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(
        line: &[u8],
        name: &str,
        kind: EntryKind,
        size: Option<u64>,
        secs: Option<u64>,
        permissions: Option<u32>,
    ) -> Entry {
        Entry {
            name: Name::from(name),
            kind,
            size,
            modified: secs.and_then(|s| SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(s))),
            time_precision: if secs.is_some() {
                crate::TimePrecision::Second
            } else {
                crate::TimePrecision::None
            },
            permissions,
            owner: None,
            group: None,
            raw: line.to_vec(),
        }
    }

    #[test]
    fn publicfile_lines() {
        // publicfile 0.52, from the EPLF specification (cr.yp.to/ftp/list/eplf.html).
        let l = b"+i8388621.48594,m825718503,r,s280,\tdjb.html";
        assert_eq!(
            parse_eplf(l),
            Some(entry(
                l,
                "djb.html",
                EntryKind::File,
                Some(280),
                Some(825_718_503),
                None
            ))
        );
        let l = b"+i8388621.50690,m824255907,/,\t514";
        assert_eq!(
            parse_eplf(l),
            Some(entry(
                l,
                "514",
                EntryKind::Directory,
                None,
                Some(824_255_907),
                None
            ))
        );
        let l = b"+i8388621.48598,m824253270,r,s612,\t514.html";
        assert_eq!(
            parse_eplf(l),
            Some(entry(
                l,
                "514.html",
                EntryKind::File,
                Some(612),
                Some(824_253_270),
                None
            ))
        );
        // anonftpd / with up (permissions) and a name with spaces and a tab.
        let l = b"+up644,r,s0,\t a\tb ";
        assert_eq!(
            parse_eplf(l),
            Some(entry(
                l,
                " a\tb ",
                EntryKind::File,
                Some(0),
                None,
                Some(0o644)
            ))
        );
        let l = b"+/,up4755,\tsetuid dir";
        assert_eq!(
            parse_eplf(l),
            Some(entry(
                l,
                "setuid dir",
                EntryKind::Directory,
                None,
                None,
                Some(0o4755)
            ))
        );
        // Neither r nor /: something that is neither fetchable nor listable.
        let l = b"+m0,\tthing";
        assert_eq!(
            parse_eplf(l),
            Some(entry(l, "thing", EntryKind::Other, None, Some(0), None))
        );
        let l = b"+\tbare";
        assert_eq!(
            parse_eplf(l),
            Some(entry(l, "bare", EntryKind::Other, None, None, None))
        );
        // Bad facts are dropped, not fatal.
        let l = b"+r,s99999999999999999999999,m-5,mx,up999,upx,up,s,m,,,zzz\tbig";
        assert_eq!(
            parse_eplf(l),
            Some(entry(l, "big", EntryKind::File, None, None, None))
        );
    }

    #[test]
    fn not_eplf_lines() {
        for bad in [
            &b"+r,s1"[..],
            b"+r,\t",
            b"r,\tx",
            b"",
            b"+",
            b"\t",
            b" +r,\tx",
        ] {
            assert_eq!(parse_eplf(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        let mut long = b"+".to_vec();
        long.extend(std::iter::repeat_n(b',', 10_240));
        long.extend(b"\tname");
        assert_eq!(parse_eplf(&long).map(|e| e.kind), Some(EntryKind::Other));
    }
}
