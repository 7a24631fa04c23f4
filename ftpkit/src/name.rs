//! [`Name`]: a file name or path as the server sent it.

use std::{borrow::Cow, fmt};

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

    /// Whether the name can be used as one local path component without
    /// leaving the directory it is joined to or surprising a program or a
    /// terminal it is handed to.
    ///
    /// Names come from the server and a hostile server picks them: a
    /// listing may hold `../x`, `/etc/x`, `a/b` or `-R`. ftpkit returns
    /// such names as they were sent; check with this method before turning
    /// one into a local file name (as `ftpkit get` with a glob does).
    ///
    /// A safe component is not empty, not `.` or `..`, holds no `/`, no
    /// `\` (a separator on Windows), no NUL and no control character (C0,
    /// DEL, or the C1 controls of UTF-8), is valid UTF-8, and does not start
    /// with `-` (so it cannot be read as an option).
    ///
    /// ```
    /// use ftpkit::Name;
    /// assert!(Name::from("report 2024.csv").is_safe_component());
    /// for bad in ["", ".", "..", "../x", "/etc/x", "a/b", "a\\b", "-R", "x\u{1b}[2J"] {
    ///     assert!(!Name::from(bad).is_safe_component(), "{bad:?}");
    /// }
    /// ```
    pub fn is_safe_component(&self) -> bool {
        let Some(text) = self.as_str() else {
            return false;
        };
        !(text.is_empty()
            || text == "."
            || text == ".."
            || text.starts_with('-')
            || text
                .chars()
                .any(|c| c == '/' || c == '\\' || c.is_control()))
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
    fn safe_components() {
        for good in [
            "a",
            "report.csv",
            "caf\u{e9}",
            " spaced ",
            "a-b",
            "..hidden",
            "x..",
            "~",
        ] {
            assert!(Name::from(good).is_safe_component(), "{good:?}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "x/..",
            "/etc/x",
            "/",
            "a/b",
            "a\\b",
            "..\\x",
            "-R",
            "-",
            "--help",
            "a\0b",
            "a\rb",
            "a\nb",
            "\u{1b}[2J",
            "x\u{7f}",
            "x\u{9b}1m",
        ] {
            assert!(!Name::from(bad).is_safe_component(), "{bad:?}");
        }
        assert!(
            !Name::from(&b"caf\xe9"[..]).is_safe_component(),
            "not UTF-8"
        );
    }

    #[test]
    fn escaped_names() {
        assert_eq!(Name::from("plain name").escaped(), "plain name");
        assert_eq!(Name::from("a\tb\r\n").escaped(), "a\\tb\\r\\n");
        assert_eq!(Name::from("\u{1b}]0;x\u{7}").escaped(), "\\u{1b}]0;x\\u{7}");
        assert_eq!(Name::from(&b"\xff-\x00"[..]).escaped(), "\u{fffd}-\\u{0}");
    }
}
