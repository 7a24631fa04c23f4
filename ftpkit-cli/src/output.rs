//! Printing what the server sent, safely: a hostile server must not be
//! able to drive the terminal with escape sequences.

use std::io::{self, Write};

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

/// The result line of a transfer on stderr: what moved and what was checked.
pub fn report_transfer(name: &str, bytes: u64, size_checked: bool) {
    let checked = if size_checked {
        "size checked against the server's SIZE"
    } else {
        "size unknown: not checked"
    };
    eprintln!("{name}: {bytes} bytes ({checked})");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_control_characters_only() {
        let mut out = Vec::new();
        write_line(&mut out, b"ok \xc3\xa9 \x1b[31mred\x07").unwrap();
        assert_eq!(out, b"ok \xc3\xa9 \\x1b[31mred\\x07\n");
    }
}
