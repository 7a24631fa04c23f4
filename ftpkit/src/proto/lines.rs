//! Splitting a data stream into lines (`TYPE A` transfers and listings),
//! without I/O and with a bound on the length of one line.

use super::reply::ProtocolError;

/// Splits bytes into lines ending in LF or CRLF, terminators removed.
///
/// A line longer than the limit is an error, so a server that sends bytes
/// without a newline cannot make the client buffer without bound.
#[derive(Debug)]
pub struct LineSplitter {
    buf: Vec<u8>,
    start: usize,
    max_line: usize,
}

impl LineSplitter {
    /// A splitter that accepts lines of up to `max_line` bytes.
    pub fn new(max_line: usize) -> LineSplitter {
        LineSplitter {
            buf: Vec::new(),
            start: 0,
            max_line,
        }
    }

    /// Appends received bytes.
    pub fn feed(&mut self, data: &[u8]) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// The next complete line, `Ok(None)` if more bytes are needed.
    pub fn next_line(&mut self) -> Result<Option<&[u8]>, ProtocolError> {
        let rest = self.buf.get(self.start..).unwrap_or_default();
        // memchr's word-at-a-time (or SIMD) search: a long listing is
        // mostly this.
        match memchr::memchr(b'\n', rest) {
            Some(nl) => {
                let mut line = rest.get(..nl).unwrap_or_default();
                if let Some(stripped) = line.strip_suffix(b"\r") {
                    line = stripped;
                }
                if line.len() > self.max_line {
                    return Err(ProtocolError::LineTooLong {
                        limit: self.max_line,
                    });
                }
                self.start += nl + 1;
                Ok(Some(line))
            }
            None if rest.len() > self.max_line + 1 => Err(ProtocolError::LineTooLong {
                limit: self.max_line,
            }),
            None => Ok(None),
        }
    }

    /// At end of stream: the last line if it had no terminator.
    pub fn finish(&mut self) -> Option<&[u8]> {
        let rest = self.buf.get(self.start..).unwrap_or_default();
        self.start = self.buf.len();
        let line = rest.strip_suffix(b"\r").unwrap_or(rest);
        (!line.is_empty()).then_some(line)
    }
}

/// Appends `line` to `out` with its end converted to CRLF, as `TYPE A`
/// requires: a trailing LF, CR or CRLF becomes CRLF, and one is added if
/// missing (ftplib's `storlines`).
pub fn to_crlf_line(line: &[u8], out: &mut Vec<u8>) {
    let body = line
        .strip_suffix(b"\r\n")
        .or_else(|| line.strip_suffix(b"\n"))
        .or_else(|| line.strip_suffix(b"\r"))
        .unwrap_or(line);
    out.extend_from_slice(body);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]], max: usize) -> Result<Vec<Vec<u8>>, ProtocolError> {
        let mut s = LineSplitter::new(max);
        let mut out = Vec::new();
        for chunk in chunks {
            s.feed(chunk);
            while let Some(line) = s.next_line()? {
                out.push(line.to_vec());
            }
        }
        if let Some(last) = s.finish() {
            out.push(last.to_vec());
        }
        Ok(out)
    }

    #[test]
    fn crlf_lf_and_unterminated_last_line() {
        let lines = split(&[b"a\r\nb", b"b\nc\r", b"\nlast"], 100).unwrap();
        assert_eq!(
            lines,
            vec![
                b"a".to_vec(),
                b"bb".to_vec(),
                b"c".to_vec(),
                b"last".to_vec()
            ]
        );
    }

    #[test]
    fn empty_lines_are_kept() {
        assert_eq!(
            split(&[b"\r\n\n"], 10).unwrap(),
            vec![Vec::<u8>::new(), Vec::new()]
        );
    }

    #[test]
    fn endless_line_is_an_error() {
        let big = vec![b'x'; 50];
        assert!(matches!(
            split(&[&big], 16),
            Err(ProtocolError::LineTooLong { limit: 16 })
        ));
        assert!(split(&[&big[..16], b"\n"], 16).is_ok());
    }

    #[test]
    fn crlf_conversion() {
        let mut out = Vec::new();
        for line in [&b"a\n"[..], b"b\r\n", b"c\r", b"d"] {
            to_crlf_line(line, &mut out);
        }
        assert_eq!(out, b"a\r\nb\r\nc\r\nd\r\n");
    }
}
