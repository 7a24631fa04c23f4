//! Printing what the server sent, safely: a hostile server must not be
//! able to drive the terminal with escape sequences.

use std::{
    io::{self, Write},
    time::SystemTime,
};

use ftpkit::{Entry, EntryKind, TimePrecision};

/// Writes `bytes` with control characters (below 0x20, and 0x7f) shown as
/// `\xNN`, then a newline. Other bytes are written as they are, so names
/// that are not UTF-8 keep their bytes.
pub fn write_line(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b < 0x20 || b == 0x7f {
            out.write_all(bytes.get(start..i).unwrap_or_default())?;
            write!(out, "\\x{b:02x}")?;
            start = i + 1;
        }
    }
    out.write_all(bytes.get(start..).unwrap_or_default())?;
    out.write_all(b"\n")
}

/// The columns of a long listing line: type and permissions, owner,
/// group, size, time (UTC).
pub fn long_columns(entry: &Entry) -> [String; 5] {
    // As `ls -l`: the type letter (- d l c b p s), then rwx with the
    // set-id and sticky bits (s S t T).
    let mode = entry
        .mode_string()
        .unwrap_or_else(|| format!("{}?????????", entry.type_char()));
    let clean = |s: &Option<String>| s.as_deref().map_or_else(|| "-".to_owned(), escape);
    [
        mode,
        clean(&entry.owner),
        clean(&entry.group),
        entry.size.map_or_else(|| "-".to_owned(), |s| s.to_string()),
        entry.modified.map_or_else(
            || "-".to_owned(),
            |t| match entry.time_precision {
                // The time of day is unknown: the date alone.
                TimePrecision::Day => format_time(t, false)
                    .split(' ')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                _ => format_time(t, false),
            },
        ),
    ]
}

/// `2024-03-01 12:30` (or RFC 3339 `2024-03-01T12:30:00Z` for JSON), UTC.
pub fn format_time(t: SystemTime, rfc3339: bool) -> String {
    let mut out = Vec::with_capacity(20);
    // Writing to a Vec cannot fail.
    let _ = write_time(&mut out, t, rfc3339);
    String::from_utf8_lossy(&out).into_owned()
}

/// Writes `t` as [`format_time`] shows it, without building a string.
fn write_time(out: &mut impl Write, t: SystemTime, rfc3339: bool) -> io::Result<()> {
    let (y, m, d) = ftpkit::date::civil_date(t);
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() % 86_400)
        .unwrap_or(0);
    let (hh, mm, ss) = (secs / 3600, secs % 3600 / 60, secs % 60);
    // Digit by digit (a JSON listing writes one time per entry); a year
    // of other than four digits through the formatter.
    let Some(year) = u64::try_from(y).ok().filter(|&y| y <= 9999) else {
        return if rfc3339 {
            write!(out, "{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
        } else {
            write!(out, "{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}")
        };
    };
    let mut text = *b"0000-00-00T00:00:00Z";
    for (range, n) in [
        (0..4, year),
        (5..7, m.into()),
        (8..10, d.into()),
        (11..13, hh),
        (14..16, mm),
        (17..19, ss),
    ] {
        put_digits(text.get_mut(range).unwrap_or_default(), n, 10);
    }
    if rfc3339 {
        out.write_all(&text)
    } else {
        // `2024-03-01 12:30`
        if let Some(t) = text.get_mut(10) {
            *t = b' ';
        }
        out.write_all(text.get(..16).unwrap_or_default())
    }
}

/// Fills `digits` with `n` in base `radix` (2 to 10), right-aligned and
/// zero-padded; the digits that do not fit are dropped.
fn put_digits(digits: &mut [u8], mut n: u64, radix: u64) {
    let radix = radix.clamp(2, 10);
    for slot in digits.iter_mut().rev() {
        // A digit below 10: the cast keeps it.
        *slot = b'0' + (n % radix) as u8;
        n /= radix;
    }
}

/// Writes `n` in base `radix` (2 to 10), zero-padded to at least `width`
/// digits, from a stack buffer: without the formatting machinery, called
/// for several fields of every entry of a JSON listing.
fn write_digits(out: &mut impl Write, n: u64, radix: u64, width: usize) -> io::Result<()> {
    let radix = radix.clamp(2, 10);
    let mut len = 1;
    let mut rest = n / radix;
    while rest > 0 {
        len += 1;
        rest /= radix;
    }
    // Enough for u64::MAX in base 2.
    let mut buf = [b'0'; 64];
    let digits = buf.get_mut(..len.max(width).min(64)).unwrap_or_default();
    put_digits(digits, n, radix);
    out.write_all(digits)
}

/// Control characters shown as `?`, for text from the server in a
/// column or a message.
pub fn escape(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// One entry as a JSON object with stable field names: name, type, size,
/// modified, time_precision (`second`, `minute`, `day`, or null),
/// permissions, owner, group, target, raw.
pub fn entry_json(entry: &Entry) -> String {
    let mut out = Vec::with_capacity(160);
    // Writing to a Vec cannot fail.
    let _ = write_entry_json(&mut out, entry);
    String::from_utf8_lossy(&out).into_owned()
}

/// Writes [`entry_json`]'s object straight to `out` (no newline), without
/// building strings on the way: `ls --json` writes one per entry as the
/// listing streams in.
pub fn write_entry_json(out: &mut impl Write, entry: &Entry) -> io::Result<()> {
    let (kind, target) = match &entry.kind {
        EntryKind::File => ("file", None),
        EntryKind::Directory => ("dir", None),
        EntryKind::Symlink { target } => ("symlink", target.as_ref()),
        EntryKind::Other => ("other", None),
        EntryKind::Unknown => ("unknown", None),
    };
    out.write_all(b"{\"name\":")?;
    write_json_string(out, &entry.name.to_string_lossy())?;
    out.write_all(b",\"type\":\"")?;
    out.write_all(kind.as_bytes())?;
    out.write_all(b"\",\"size\":")?;
    match entry.size {
        Some(size) => out.write_all(itoa::Buffer::new().format(size).as_bytes())?,
        None => out.write_all(b"null")?,
    }
    out.write_all(b",\"modified\":")?;
    match entry.modified {
        Some(t) => {
            out.write_all(b"\"")?;
            write_time(out, t, true)?;
            out.write_all(b"\"")?;
        }
        None => out.write_all(b"null")?,
    }
    out.write_all(match entry.time_precision {
        TimePrecision::Second => b",\"time_precision\":\"second\"".as_slice(),
        TimePrecision::Minute => b",\"time_precision\":\"minute\"",
        TimePrecision::Day => b",\"time_precision\":\"day\"",
        _ => b",\"time_precision\":null",
    })?;
    match entry.permissions {
        Some(p) => {
            out.write_all(b",\"permissions\":\"")?;
            write_digits(out, p.into(), 8, 4)?;
            out.write_all(b"\"")?;
        }
        None => out.write_all(b",\"permissions\":null")?,
    }
    out.write_all(b",\"owner\":")?;
    write_json_option(out, entry.owner.as_deref())?;
    out.write_all(b",\"group\":")?;
    write_json_option(out, entry.group.as_deref())?;
    out.write_all(b",\"target\":")?;
    write_json_option(out, target.map(|t| t.to_string_lossy()).as_deref())?;
    out.write_all(b",\"raw\":")?;
    let raw = (entry.kind == EntryKind::Unknown).then(|| String::from_utf8_lossy(&entry.raw));
    write_json_option(out, raw.as_deref())?;
    out.write_all(b"}")
}

/// A JSON string literal, or `null`.
fn write_json_option(out: &mut impl Write, text: Option<&str>) -> io::Result<()> {
    match text {
        Some(text) => write_json_string(out, text),
        None => out.write_all(b"null"),
    }
}

/// A JSON string literal (RFC 8259): quotes, backslashes and control
/// characters escaped.
pub fn json_string(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len() + 2);
    // Writing to a Vec cannot fail.
    let _ = write_json_string(&mut out, text);
    String::from_utf8_lossy(&out).into_owned()
}

/// Writes [`json_string`]'s literal to `out`: runs that need no escape
/// go out whole.
fn write_json_string(out: &mut impl Write, text: &str) -> io::Result<()> {
    let bytes = text.as_bytes();
    out.write_all(b"\"")?;
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            // Every byte of a multi-byte UTF-8 character is 0x80 or more.
            b if b < 0x20 => {
                out.write_all(bytes.get(start..i).unwrap_or_default())?;
                write!(out, "\\u{b:04x}")?;
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.write_all(bytes.get(start..i).unwrap_or_default())?;
        out.write_all(escaped)?;
        start = i + 1;
    }
    out.write_all(bytes.get(start..).unwrap_or_default())?;
    out.write_all(b"\"")
}

/// The result line of a transfer on stderr: what moved and what was checked.
pub fn report_transfer(
    settings: &crate::plan::Settings,
    op: &str,
    remote: &str,
    local: &str,
    report: &ftpkit::TransferReport,
) {
    if settings.json_summary {
        println!("{}", transfer_json(op, remote, local, report));
    }
    if settings.quiet {
        return;
    }
    // Verification turned off says so, rather than blaming the server.
    let verified = if settings.transfer.verify == ftpkit::Verify::Off {
        "not verified (--no-verify)".to_owned()
    } else {
        report.verified.describe()
    };
    let mut line = format!(
        "{}: {} bytes, {verified}",
        if op == "put" { remote } else { local },
        report.size,
    );
    if report.resumed_from > 0 {
        line.push_str(&format!(", resumed at byte {}", report.resumed_from));
    }
    if report.retries > 0 {
        line.push_str(&format!(", {} retries", report.retries));
    }
    eprintln!("{line}");
}

/// The result line of a text (`--ascii`) transfer: `bytes` on the local
/// side, nothing verified.
pub fn report_text_transfer(
    settings: &crate::plan::Settings,
    op: &str,
    remote: &str,
    local: &str,
    bytes: u64,
) {
    if settings.json_summary {
        let report = ftpkit::TransferReport {
            size: bytes,
            transferred: bytes,
            ..ftpkit::TransferReport::default()
        };
        println!("{}", transfer_json(op, remote, local, &report));
    }
    if !settings.quiet {
        let name = if op == "put" { remote } else { local };
        eprintln!("{name}: {bytes} bytes as text (TYPE A), not verified");
    }
}

/// One JSON object describing a finished transfer.
pub fn transfer_json(
    op: &str,
    remote: &str,
    local: &str,
    report: &ftpkit::TransferReport,
) -> String {
    let opt = |v: Option<u64>| v.map_or_else(|| "null".to_owned(), |n| n.to_string());
    format!(
        "{{\"op\":{},\"remote\":{},\"local\":{},\"size\":{},\"transferred\":{},\"resumed_from\":{},\"retries\":{},\"restarts\":{},\"verified_size\":{},\"verified_hash\":{},\"mtime_preserved\":{}}}",
        json_string(op),
        json_string(remote),
        json_string(local),
        report.size,
        report.transferred,
        report.resumed_from,
        report.retries,
        report.restarts,
        opt(report.verified.size),
        report
            .verified
            .hash
            .map_or_else(|| "null".to_owned(), |h| json_string(h.name())),
        report.mtime_preserved,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfer_summaries_are_json() {
        let report = ftpkit::TransferReport {
            size: 10,
            transferred: 4,
            resumed_from: 6,
            verified: ftpkit::Verified {
                size: Some(10),
                hash: Some(ftpkit::HashAlgorithm::Sha256),
            },
            ..ftpkit::TransferReport::default()
        };
        assert_eq!(
            transfer_json("get", "d/f", "f", &report),
            "{\"op\":\"get\",\"remote\":\"d/f\",\"local\":\"f\",\"size\":10,\"transferred\":4,\"resumed_from\":6,\"retries\":0,\"restarts\":0,\"verified_size\":10,\"verified_hash\":\"SHA-256\",\"mtime_preserved\":false}"
        );
    }

    #[test]
    fn json_strings_and_entries() {
        assert_eq!(json_string("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
        let entry = Entry {
            name: ftpkit::Name::from("x \"y\""),
            kind: EntryKind::Symlink {
                target: Some(ftpkit::Name::from("/t")),
            },
            size: Some(5),
            modified: SystemTime::UNIX_EPOCH
                .checked_add(std::time::Duration::from_secs(86_400 + 61)),
            time_precision: TimePrecision::Second,
            permissions: Some(0o644),
            owner: Some("u".into()),
            group: None,
            raw: Vec::new(),
        };
        assert_eq!(
            entry_json(&entry),
            r#"{"name":"x \"y\"","type":"symlink","size":5,"modified":"1970-01-02T00:01:01Z","time_precision":"second","permissions":"0644","owner":"u","group":null,"target":"/t","raw":null}"#
        );
        assert_eq!(long_columns(&entry)[0], "lrw-r--r--");
    }

    #[test]
    fn digits_and_times_as_the_formatter_writes_them() {
        let digits = |n: u64, radix: u64, width: usize| {
            let mut out = Vec::new();
            write_digits(&mut out, n, radix, width).unwrap();
            String::from_utf8(out).unwrap()
        };
        for n in [0, 1, 7, 8, 9, 10, 99, 4095, 1 << 40, u64::MAX] {
            assert_eq!(digits(n, 10, 1), n.to_string());
            assert_eq!(digits(n, 10, 4), format!("{n:04}"));
            assert_eq!(digits(n, 8, 4), format!("{n:04o}"));
        }
        assert_eq!(digits(u64::MAX, 2, 1), format!("{:b}", u64::MAX));
        // Times: the written digits against the formatter's, across the
        // range a listing shows, and a year of five digits.
        for secs in [
            0,
            59,
            86_399,
            951_782_400,
            1_709_210_096,
            4_102_444_799,
            253_402_300_800,
        ] {
            let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs);
            let (y, m, d) = ftpkit::date::civil_date(t);
            let (hh, mm, ss) = (secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
            assert_eq!(
                format_time(t, true),
                format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
            );
            assert_eq!(
                format_time(t, false),
                format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}")
            );
        }
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_709_210_096);
        assert_eq!(format_time(t, true), "2024-02-29T12:34:56Z");
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(253_402_300_800);
        assert_eq!(format_time(t, false), "10000-01-01 00:00");
    }

    #[test]
    fn escapes_control_characters_only() {
        let mut out = Vec::new();
        write_line(&mut out, b"ok \xc3\xa9 \x1b[31mred\x07").unwrap();
        assert_eq!(out, b"ok \xc3\xa9 \\x1b[31mred\\x07\n");
    }
}
