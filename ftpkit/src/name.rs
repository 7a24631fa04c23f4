//! [`Name`]: a file name or path as the server sent it.

use std::{borrow::Cow, fmt};

use crate::charset::Charset;

/// A remote file name or path, kept as the bytes the server sent.
///
/// Most servers send UTF-8 (RFC 2640), but not all do; ftpkit never loses
/// the bytes of a name it cannot decode, so it can always be sent back.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Name(Vec<u8>);

impl Name {
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The name as `&str` if it is valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// The name as text, with invalid UTF-8 replaced by `U+FFFD`.
    pub fn to_string_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    /// The raw bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// The name as one local path component, if it is safe to use as one:
    /// valid UTF-8, not empty, not `.` or `..`, and without `/`, `\`, NUL
    /// or any control character. Names from a server are hostile until
    /// checked: `../x`, `/etc/x` or `a/b` would lead a download outside its
    /// folder, and control characters can drive a terminal.
    ///
    /// ```
    /// use ftpkit::Name;
    /// assert_eq!(Name::from("report.pdf").safe_component(), Some("report.pdf"));
    /// assert_eq!(Name::from("-R").safe_component(), Some("-R"));
    /// for hostile in ["..", "../x", "/etc/passwd", "a/b", "a\\b", "x\u{1b}[2J", ""] {
    ///     assert_eq!(Name::from(hostile).safe_component(), None);
    /// }
    /// ```
    pub fn safe_component(&self) -> Option<&str> {
        self.as_str().filter(|text| is_safe_component(text))
    }

    /// The name as text in `charset` (see [`Charset`]), with bytes it
    /// cannot decode shown as `U+FFFD`.
    ///
    /// ```
    /// let latin1 = ftpkit::Charset::for_label("latin1").unwrap();
    /// assert_eq!(ftpkit::Name::from(&b"r\xe9sum\xe9.pdf"[..]).decode(latin1), "résumé.pdf");
    /// ```
    pub fn decode(&self, charset: Charset) -> Cow<'_, str> {
        charset.decode(&self.0)
    }

    /// [`Name::safe_component`] for a server whose names are in `charset`:
    /// the name decoded (every byte must decode), then the same checks.
    ///
    /// ```
    /// use ftpkit::{Charset, Name};
    /// let cp1251 = Charset::for_label("cp1251").unwrap();
    /// assert_eq!(Name::from(&b"\xee\xf2\xf7\xb8\xf2.doc"[..]).safe_component_in(cp1251).as_deref(), Some("отчёт.doc"));
    /// assert_eq!(Name::from("..").safe_component_in(cp1251), None);
    /// ```
    pub fn safe_component_in(&self, charset: Charset) -> Option<Cow<'_, str>> {
        charset
            .decode_exact(&self.0)
            .filter(|text| is_safe_component(text))
    }

    /// The name as text with every control character escaped (`\n`,
    /// `\u{1b}`) and invalid UTF-8 shown as `U+FFFD`: safe to print on a
    /// terminal or in a log, whatever the server sent.
    ///
    /// ```
    /// assert_eq!(ftpkit::Name::from("a\u{1b}[2J\nb").escaped(), "a\\u{1b}[2J\\nb");
    /// ```
    pub fn escaped(&self) -> String {
        let mut out = String::with_capacity(self.0.len());
        for c in self.to_string_lossy().chars() {
            if c.is_control() {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        out
    }
}

/// Not empty, not `.` or `..`, and without `/`, `\`, NUL or any control
/// character: safe as one local path component.
fn is_safe_component(text: &str) -> bool {
    !(text.is_empty()
        || text == "."
        || text == ".."
        || text.contains(['/', '\\'])
        || text.chars().any(char::is_control))
}

impl From<Vec<u8>> for Name {
    fn from(bytes: Vec<u8>) -> Name {
        Name(bytes)
    }
}

impl From<&[u8]> for Name {
    fn from(bytes: &[u8]) -> Name {
        Name(bytes.to_vec())
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Name {
        Name(s.as_bytes().to_vec())
    }
}

impl From<String> for Name {
    fn from(s: String) -> Name {
        Name(s.into_bytes())
    }
}

impl AsRef<[u8]> for Name {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_string_lossy())
    }
}

/// Lossy: invalid UTF-8 shows as `U+FFFD`.
impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_names() {
        assert_eq!(Name::from("plain name").escaped(), "plain name");
        assert_eq!(Name::from("a\tb\r\n").escaped(), "a\\tb\\r\\n");
        assert_eq!(Name::from("\u{1b}]0;x\u{7}").escaped(), "\\u{1b}]0;x\\u{7}");
        assert_eq!(Name::from(&b"\xff-\x00"[..]).escaped(), "\u{fffd}-\\u{0}");
    }
}
