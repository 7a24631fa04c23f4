//! OpenVMS lines: `NAME.EXT;1   5/6   12-JAN-2024 10:20:30  [GROUP,OWNER]  (RWED,RWED,RE,)`.

use super::{
    entry::{Entry, EntryKind, at},
    unix::{field, fields, month, small},
};
use crate::name::Name;

/// Parses one OpenVMS line; `None` if it is not one. The version (`;1`) is
/// dropped from the name (it stays in `raw`); `NAME.DIR;1` is the directory
/// `NAME`. The size is the first block count × 512 bytes: VMS reports
/// blocks, not bytes.
pub fn parse_vms(line: &[u8]) -> Option<Entry> {
    let spans = fields(line);
    let file = field(line, &spans, 0)?;
    let semi = file.iter().rposition(|&b| b == b';')?;
    let version = file.get(semi + 1..)?;
    if version.is_empty() || !version.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let base = file.get(..semi)?;
    if base.is_empty() {
        return None;
    }
    let (name, kind) = match base.len().checked_sub(4).and_then(|i| base.get(i..)) {
        Some(ext) if ext.eq_ignore_ascii_case(b".DIR") => {
            (base.get(..base.len() - 4)?, EntryKind::Directory)
        }
        _ => (base, EntryKind::File),
    };
    let blocks = field(line, &spans, 1)?;
    let used = blocks.split(|&b| b == b'/').next()?;
    let size = super::unix::number(used)?.checked_mul(512);
    let date = field(line, &spans, 2)?;
    let mut parts = date.split(|&b| b == b'-');
    let day = small(parts.next()?, 1, 31)?;
    let month = month(parts.next()?)?;
    let year = i64::from(small(parts.next()?, 1900, 9999)?);
    let time = field(line, &spans, 3)?;
    let mut clock = time.split(|&b| b == b':' || b == b'.');
    let hour = small(clock.next()?, 0, 23)?;
    let minute = small(clock.next()?, 0, 59)?;
    let second = clock.next().and_then(|s| small(s, 0, 60)).unwrap_or(0);
    let owner = field(line, &spans, 4)
        .and_then(|f| f.strip_prefix(b"[")?.strip_suffix(b"]"))
        .map(|f| String::from_utf8_lossy(f).into_owned());
    Some(Entry {
        name: Name::from(name),
        kind,
        size,
        modified: at(year, month, day, hour, minute, second),
        permissions: None,
        owner,
        group: None,
        raw: line.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openvms_lines() {
        // OpenVMS TCP/IP Services FTP server.
        let e = parse_vms(
            b"LOGIN.COM;2            5/6      12-JAN-2024 10:20:30  [USERS,ALICE]  (RWED,RWED,RE,)",
        )
        .unwrap();
        assert_eq!(
            (e.name.to_string(), e.kind.clone(), e.size),
            ("LOGIN.COM".into(), EntryKind::File, Some(2560))
        );
        assert_eq!(e.modified, at(2024, 1, 12, 10, 20, 30));
        assert_eq!(e.owner.as_deref(), Some("USERS,ALICE"));
        let e = parse_vms(b"MAIL.DIR;1  1  3-MAR-1999 09:00  [ALICE]  (RWE,RWE,,)").unwrap();
        assert_eq!(
            (e.name.to_string(), e.kind.clone()),
            ("MAIL".into(), EntryKind::Directory)
        );
        for bad in [
            &b"NOVERSION.TXT 5 12-JAN-2024 10:20"[..],
            b"A.B;x 5 12-JAN-2024 10:20",
            b"A.B;1 5 12-FOO-2024 10:20",
            b";1 5 12-JAN-2024 10:20",
        ] {
            assert!(
                parse_vms(bad).is_none(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
