//! [`Charset`]: the character set a server's names are written in.

use std::{borrow::Cow, fmt};

use encoding_rs::Encoding;

/// The character set of a server's names: UTF-8 (RFC 2640, the default),
/// or a legacy one such as Latin-1, CP1251 or GBK that older and Windows
/// servers use.
///
/// ftpkit keeps every name as the bytes the server sent ([`Name`]), so a
/// name read from a listing goes back in `RETR`, `DELE` or `CWD`
/// byte for byte whatever the charset; the charset only turns names into
/// text ([`Charset::decode`]) and text typed by a user into a name
/// ([`Charset::encode`]).
///
/// ```
/// use ftpkit::Charset;
/// let cp1251 = Charset::for_label("cp1251").unwrap();
/// assert_eq!(cp1251.encode("файл.txt").unwrap(), b"\xf4\xe0\xe9\xeb.txt");
/// assert_eq!(cp1251.decode(b"\xf4\xe0\xe9\xeb.txt"), "файл.txt");
/// assert!(Charset::for_label("latin1").unwrap().encode("файл").is_err());
/// ```
///
/// [`Name`]: crate::Name
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Charset(&'static Encoding);

impl Charset {
    /// UTF-8, the default.
    pub const UTF_8: Charset = Charset(encoding_rs::UTF_8);

    /// The charset a label names, as the WHATWG Encoding Standard lists
    /// them (`utf-8`, `latin1`, `iso-8859-1`, `windows-1252`, `cp1251`,
    /// `koi8-r`, `gbk`, `gb18030`, `shift_jis`, `euc-kr`, `big5`...), case
    /// and surrounding spaces ignored. `latin1` and `iso-8859-1` mean
    /// windows-1252, as in browsers: the same letters, and printable
    /// characters where ISO-8859-1 has control codes. `None` for an unknown
    /// label, and for UTF-16, which no FTP command can carry.
    pub fn for_label(label: &str) -> Option<Charset> {
        let encoding = Encoding::for_label_no_replacement(label.trim().as_bytes())?;
        // Names travel in ASCII-compatible command lines.
        encoding.is_ascii_compatible().then_some(Charset(encoding))
    }

    /// The charset's canonical name (`UTF-8`, `windows-1251`, `GBK`...).
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// Whether this is UTF-8.
    pub fn is_utf8(&self) -> bool {
        self.0 == encoding_rs::UTF_8
    }

    /// A name as text; bytes the charset cannot decode show as `U+FFFD`.
    pub fn decode<'a>(&self, bytes: &'a [u8]) -> Cow<'a, str> {
        self.0.decode_without_bom_handling(bytes).0
    }

    /// A name as text, if every byte decodes.
    pub fn decode_exact<'a>(&self, bytes: &'a [u8]) -> Option<Cow<'a, str>> {
        self.0
            .decode_without_bom_handling_and_without_replacement(bytes)
    }

    /// Text as the bytes of a name in this charset; an error names the
    /// first character the charset cannot write.
    pub fn encode(&self, text: &str) -> Result<Vec<u8>, Unwritable> {
        let (bytes, _, unmappable) = self.0.encode(text);
        if unmappable {
            let missing = text
                .chars()
                .find(|c| {
                    let mut buf = [0u8; 4];
                    self.0.encode(c.encode_utf8(&mut buf)).2
                })
                .unwrap_or(char::REPLACEMENT_CHARACTER);
            return Err(Unwritable {
                character: missing,
                charset: self.name(),
            });
        }
        Ok(bytes.into_owned())
    }
}

/// Text that a charset cannot write: names its first missing character.
/// Converts into [`InvalidInput::Charset`](crate::InvalidInput::Charset).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{character:?} cannot be written in {charset}")]
pub struct Unwritable {
    /// The first character the charset lacks.
    pub character: char,
    /// The charset's name.
    pub charset: &'static str,
}

impl Default for Charset {
    fn default() -> Charset {
        Charset::UTF_8
    }
}

impl fmt::Debug for Charset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Charset({})", self.name())
    }
}

impl fmt::Display for Charset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Charset {
    type Err = String;

    /// A label, as [`Charset::for_label`] reads it.
    fn from_str(label: &str) -> Result<Charset, String> {
        Charset::for_label(label).ok_or_else(|| {
            format!("{label:?} is not a known charset: use e.g. utf-8, latin1, cp1251 or gbk")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_round_trips() {
        assert!(Charset::for_label(" UTF-8 ").unwrap().is_utf8());
        assert_eq!(Charset::for_label("latin1").unwrap().name(), "windows-1252");
        assert_eq!(Charset::for_label("utf-16le"), None);
        assert_eq!(Charset::for_label("klingon"), None);
        let latin1 = Charset::for_label("iso-8859-1").unwrap();
        assert_eq!(latin1.encode("café").unwrap(), b"caf\xe9");
        assert_eq!(latin1.decode(b"caf\xe9"), "café");
        let gbk = Charset::for_label("gbk").unwrap();
        assert_eq!(gbk.encode("中文").unwrap(), b"\xd6\xd0\xce\xc4");
        assert_eq!(gbk.decode(b"\xd6\xd0\xce\xc4"), "中文");
        assert_eq!(Charset::UTF_8.decode_exact(b"\xff"), None);
        assert_eq!(Charset::UTF_8.decode(b"a\xff"), "a\u{fffd}");
        let err = latin1.encode("aж").unwrap_err().to_string();
        assert!(err.contains("'ж'"), "{err}");
    }
}
