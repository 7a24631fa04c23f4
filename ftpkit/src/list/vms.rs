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
    let second = clock.next().and_then(|s| small(s, 0, 60));
    let time_precision = match second {
        Some(_) => super::TimePrecision::Second,
        None => super::TimePrecision::Minute,
    };
    let second = second.unwrap_or(0);
    // `[GROUP,OWNER]` or `[OWNER]` (a UIC), then `(S,O,G,W)` rights.
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let (group, owner) =
        match field(line, &spans, 4).and_then(|f| f.strip_prefix(b"[")?.strip_suffix(b"]")) {
            Some(uic) => match uic.iter().position(|&b| b == b',') {
                Some(comma) => (uic.get(..comma).map(text), uic.get(comma + 1..).map(text)),
                None => (None, Some(text(uic))),
            },
            None => (None, None),
        };
    let permissions = field(line, &spans, 5).and_then(rights);
    Some(Entry {
        name: Name::from(name),
        kind,
        size,
        modified: Some(at(year, month, day, hour, minute, second)?),
        time_precision,
        permissions,
        owner,
        group,
        raw: line.to_vec(),
    })
}

/// `(RWED,RWED,RE,)` — system, owner, group, world — as Unix bits for
/// owner, group and world: R → r, W or D → w, E → x (system is dropped).
fn rights(field: &[u8]) -> Option<u32> {
    let inner = field.strip_prefix(b"(")?.strip_suffix(b")")?;
    let mut classes = inner.split(|&b| b == b',');
    let _system = classes.next()?;
    let mut mode = 0;
    for shift in [6, 3, 0] {
        let mut bits = 0;
        for &c in classes.next()? {
            bits |= match c.to_ascii_uppercase() {
                b'R' => 4,
                b'W' | b'D' => 2,
                b'E' => 1,
                _ => return None,
            };
        }
        mode |= bits << shift;
    }
    classes.next().is_none().then_some(mode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::too_many_arguments)]
    fn check(
        line: &str,
        name: &str,
        kind: EntryKind,
        size: Option<u64>,
        modified: Option<std::time::SystemTime>,
        permissions: Option<u32>,
        owner: Option<&str>,
        group: Option<&str>,
    ) {
        // `HH:MM:SS` gives the second, `HH:MM` only the minute.
        let clock = line.split_whitespace().nth(3).unwrap_or_default();
        let expected = Entry {
            name: Name::from(name),
            kind,
            size,
            modified,
            time_precision: if clock.matches(':').count() == 2 {
                crate::TimePrecision::Second
            } else {
                crate::TimePrecision::Minute
            },
            permissions,
            owner: owner.map(str::to_owned),
            group: group.map(str::to_owned),
            raw: line.as_bytes().to_vec(),
        };
        assert_eq!(parse_vms(line.as_bytes()), Some(expected), "{line:?}");
    }

    #[test]
    fn openvms_lines() {
        use EntryKind::{Directory, File};
        // OpenVMS TCP/IP Services (UCX) FTP server, DIR/SIZE/DATE/OWNER/PROT.
        check(
            "LOGIN.COM;2            5/6      12-JAN-2024 10:20:30  [USERS,ALICE]  (RWED,RWED,RE,)",
            "LOGIN.COM",
            File,
            Some(2560),
            at(2024, 1, 12, 10, 20, 30),
            Some(0o750),
            Some("ALICE"),
            Some("USERS"),
        );
        check(
            "MAIL.DIR;1  1  3-MAR-1999 09:00  [ALICE]  (RWE,RWE,,)",
            "MAIL",
            Directory,
            Some(512),
            at(1999, 3, 3, 9, 0, 0),
            Some(0o700),
            Some("ALICE"),
            None,
        );
        // MultiNet / Process FTP: hundredths of seconds, no owner or rights.
        check(
            "CII-MANUAL.TEX;1  213/216  29-JAN-1996 03:33:12.45",
            "CII-MANUAL.TEX",
            File,
            Some(213 * 512),
            at(1996, 1, 29, 3, 33, 12),
            None,
            None,
            None,
        );
        // Lower-case month, several versions of a file.
        check(
            "README.TXT;12  0  1-feb-2000 00:00:00  [1,1]  (RWED,RWED,RWED,RWED)",
            "README.TXT",
            File,
            Some(0),
            at(2000, 2, 1, 0, 0, 0),
            Some(0o777),
            Some("1"),
            Some("1"),
        );
        // Unreadable rights are left out, the rest is kept.
        check(
            "A.B;1  1  1-JAN-2000 00:00  [X,Y]  (junk)",
            "A.B",
            File,
            Some(512),
            at(2000, 1, 1, 0, 0, 0),
            None,
            Some("Y"),
            Some("X"),
        );
    }

    #[test]
    fn not_vms_lines() {
        for bad in [
            &b"NOVERSION.TXT 5 12-JAN-2024 10:20"[..],
            b"A.B;x 5 12-JAN-2024 10:20",
            b"A.B; 5 12-JAN-2024 10:20",
            b"A.B;1 5 12-FOO-2024 10:20",
            b"A.B;1 5 32-JAN-2024 10:20",
            b"A.B;1 5 0-JAN-2024 10:20",
            b"A.B;1 5 31-APR-2024 10:20",
            b"A.B;1 5 12-JAN-2024 25:20",
            b"A.B;1 5 12-JAN-2024",
            b"A.B;1 x/6 12-JAN-2024 10:20",
            b"A.B;1 99999999999999999999999 12-JAN-2024 10:20",
            b";1 5 12-JAN-2024 10:20",
            b"Directory DISK$USER:[ALICE]",
            b"Total of 3 files, 25/30 blocks.",
            b"",
            b"-rw-r--r-- 1 u g 5 Jan 01 2020 x;1",
        ] {
            assert_eq!(parse_vms(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        let garbage: Vec<u8> = (0..10_240u32).map(|i| (i * 31 % 256) as u8).collect();
        assert_eq!(parse_vms(&garbage), None);
    }
}
