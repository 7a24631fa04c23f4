//! MLSD and MLST lines (RFC 3659 section 7): `fact=value;fact=value; name`.

use std::collections::BTreeMap;

use crate::name::Name;

/// One entry of an MLSD listing: its name and its facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MlsdEntry {
    /// The entry's name, bytes as sent (it may contain spaces and semicolons).
    pub name: Name,
    /// Facts with names in lower case (`type`, `size`, `modify`, `perm`, `unix.mode`, ...)
    /// and values as sent.
    pub facts: BTreeMap<String, String>,
}

impl MlsdEntry {
    /// A fact by name, case-insensitively.
    pub fn fact(&self, name: &str) -> Option<&str> {
        self.facts
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// Parses one MLSD line. The facts end at the first space; everything after
/// it is the name, kept whole. Returns `None` for a line without that space.
pub fn parse_mlsd_line(line: &[u8]) -> Option<MlsdEntry> {
    let space = line.iter().position(|&b| b == b' ')?;
    let facts_part = line.get(..space)?;
    let name = line.get(space + 1..)?;
    let mut facts = BTreeMap::new();
    for fact in facts_part.split(|&b| b == b';') {
        if fact.is_empty() {
            continue;
        }
        let eq = fact.iter().position(|&b| b == b'=')?;
        let key = String::from_utf8_lossy(fact.get(..eq)?).to_ascii_lowercase();
        let value = String::from_utf8_lossy(fact.get(eq + 1..)?).into_owned();
        facts.insert(key, value);
    }
    Some(MlsdEntry {
        name: Name::from(name),
        facts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_and_odd_names() {
        let e = parse_mlsd_line(b"Type=file;Size=1024;Modify=20240101120000; a name; with semis")
            .unwrap();
        assert_eq!(e.name, "a name; with semis");
        assert_eq!(e.fact("type"), Some("file"));
        assert_eq!(e.fact("SIZE"), Some("1024"));
        let e = parse_mlsd_line(b" no-facts").unwrap();
        assert!(e.facts.is_empty());
        assert_eq!(e.name, "no-facts");
        assert!(parse_mlsd_line(b"type=file;size=1").is_none());
        assert!(parse_mlsd_line(b"garbage; x").is_none());
    }
}
