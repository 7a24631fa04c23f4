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

    #[test]
    fn publicfile_lines() {
        // From the EPLF specification (cr.yp.to/ftp/list/eplf.html).
        let e = parse_eplf(b"+i8388621.48594,m825718503,r,s280,\tdjb.html").unwrap();
        assert_eq!(
            (e.name.to_string(), e.kind.clone(), e.size),
            ("djb.html".into(), EntryKind::File, Some(280))
        );
        assert_eq!(
            e.modified,
            SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(825_718_503))
        );
        let e = parse_eplf(b"+i8388621.50690,m824255907,/,\t514").unwrap();
        assert!(e.is_dir());
        assert_eq!(e.name, "514");
        assert_eq!(
            parse_eplf(b"+up644,r,\tx").unwrap().permissions,
            Some(0o644)
        );
        assert!(parse_eplf(b"+r,s1").is_none());
        assert!(parse_eplf(b"+r,\t").is_none());
        assert!(parse_eplf(b"r,\tx").is_none());
        assert_eq!(
            parse_eplf(b"+s99999999999999999999999,\tbig").unwrap().size,
            None
        );
    }
}
