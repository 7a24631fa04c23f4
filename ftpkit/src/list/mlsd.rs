//! MLSD and MLST lines (RFC 3659 section 7): `fact=value;fact=value; name`.

use std::collections::BTreeMap;

use super::entry::{Entry, EntryKind, unix_mode};
use crate::{name::Name, proto::parse::parse_timeval_bytes};

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

impl MlsdEntry {
    /// Whether this is the listed directory itself (`type=cdir`) or its
    /// parent (`type=pdir`): listings skip both.
    pub fn is_self_or_parent(&self) -> bool {
        self.fact("type")
            .is_some_and(|t| t.eq_ignore_ascii_case("cdir") || t.eq_ignore_ascii_case("pdir"))
    }
}

/// Parses an MLSD line into a typed [`Entry`]; `None` for a line that is
/// not MLSD, and for the `cdir` and `pdir` entries. Reads the facts in
/// place, without building the map of [`MlsdEntry`]: listings of millions
/// of lines stay fast.
pub fn parse_mlsd_entry(line: &[u8]) -> Option<Entry> {
    parse_facts(line, false)
}

/// Parses the facts line of an `MLST` reply (RFC 3659 7.2) into an
/// [`Entry`]: like [`parse_mlsd_entry`], but `type=cdir` (the usual answer
/// for a directory itself) is kept, as a directory.
pub fn parse_mlst_entry(line: &[u8]) -> Option<Entry> {
    parse_facts(line, true)
}

fn parse_facts(line: &[u8], keep_self: bool) -> Option<Entry> {
    let mut kind = EntryKind::Unknown;
    let (mut size, mut sizd, mut modified, mut permissions) = (None, None, None, None);
    let mut owner: Ranked<'_> = None;
    let mut group: Ranked<'_> = None;
    // One pass: `key=value;` facts up to the first space, the name after
    // it. Empty facts are skipped; a fact without `=`, or a line without
    // the space, is not MLSD.
    let mut rest = line;
    let name = loop {
        let stop = rest.iter().position(|&b| matches!(b, b'=' | b';' | b' '))?;
        let (key, after_key) = (rest.get(..stop)?, rest.get(stop + 1..)?);
        match rest.get(stop) {
            Some(b'=') => {}
            Some(b' ') if key.is_empty() => break after_key,
            Some(b';') if key.is_empty() => {
                rest = after_key;
                continue;
            }
            _ => return None,
        }
        let end = after_key.iter().position(|&b| matches!(b, b';' | b' '))?;
        let value = after_key.get(..end)?;
        rest = after_key.get(end + 1..)?;
        let last = after_key.get(end) == Some(&b' ');
        // One comparison per fact: the key in lower case, on the stack.
        let mut lower = [0u8; FACT_NAME_MAX];
        let key = match lower.get_mut(..key.len()) {
            Some(slot) => {
                slot.copy_from_slice(key);
                slot.make_ascii_lowercase();
                &*slot
            }
            // Longer than any fact read here: matches none.
            None => b"",
        };
        match key {
            b"type" => {
                let (k, is_self_or_parent) = mlsd_kind(value);
                if is_self_or_parent && !keep_self {
                    return None;
                }
                kind = k;
            }
            b"size" => size = super::unix::number(value),
            b"sizd" => sizd = super::unix::number(value),
            b"modify" => modified = parse_timeval_bytes(value),
            b"unix.mode" => permissions = unix_mode(value).map(|m| m & 0o7777),
            // Names beat numbers: ownername over owner over uid.
            b"unix.ownername" => prefer(&mut owner, 0, value),
            b"unix.owner" => prefer(&mut owner, 1, value),
            b"unix.uid" => prefer(&mut owner, 2, value),
            b"unix.groupname" => prefer(&mut group, 0, value),
            b"unix.group" => prefer(&mut group, 1, value),
            b"unix.gid" => prefer(&mut group, 2, value),
            _ => {}
        }
        if last {
            break rest;
        }
    };
    let text = |v: Ranked<'_>| v.map(|(_, b)| String::from_utf8_lossy(b).into_owned());
    Some(Entry {
        name: Name::from(name),
        kind,
        size: size.or(sizd),
        modified,
        time_precision: if modified.is_some() {
            super::TimePrecision::Second
        } else {
            super::TimePrecision::None
        },
        permissions,
        owner: text(owner),
        group: text(group),
        raw: line.to_vec(),
    })
}

/// The longest fact name [`parse_facts`] reads (`unix.ownername`,
/// `unix.groupname`): longer names are skipped without a look.
const FACT_NAME_MAX: usize = 14;

/// A fact value with the rank of the fact it came from (lower is better).
type Ranked<'a> = Option<(u8, &'a [u8])>;

/// Keeps `value` in `slot` unless a fact of better rank (lower) is there.
fn prefer<'a>(slot: &mut Ranked<'a>, rank: u8, value: &'a [u8]) {
    if slot.is_none_or(|(have, _)| have > rank) {
        *slot = Some((rank, value));
    }
}

/// The MLST facts ftpkit reads, in the order it asks for them.
const WANTED_FACTS: [&str; 12] = [
    "type",
    "size",
    "modify",
    "perm",
    "unix.mode",
    "unix.ownername",
    "unix.groupname",
    "unix.owner",
    "unix.group",
    "unix.uid",
    "unix.gid",
    "sizd",
];

/// The argument of `OPTS` that turns on every fact ftpkit reads which the
/// server offers (its FEAT line `MLST type*;size*;modify;perm;unix.mode;`,
/// where `*` marks the facts sent already), e.g.
/// `MLST type;size;modify;perm;unix.mode;`; `None` when every such fact
/// is on already (nothing to ask). RFC 3659 §7.9: the request names the
/// whole set wanted, so the facts already on are named again.
///
/// ```
/// use ftpkit::list::mlsd::mlst_opts_argument;
/// assert_eq!(
///     mlst_opts_argument("type*;size*;modify*;perm;unix.mode;media-type;").as_deref(),
///     Some("MLST type;size;modify;perm;unix.mode;")
/// );
/// assert_eq!(mlst_opts_argument("type*;size*;modify*;"), None);
/// ```
pub fn mlst_opts_argument(offered: &str) -> Option<String> {
    let facts: Vec<(&str, bool)> = offered
        .split(';')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(|f| match f.strip_suffix('*') {
            Some(name) => (name, true),
            None => (f, false),
        })
        .collect();
    let mut missing = false;
    let mut argument = String::from("MLST ");
    for wanted in WANTED_FACTS {
        if let Some(&(name, on)) = facts.iter().find(|(n, _)| n.eq_ignore_ascii_case(wanted)) {
            missing |= !on;
            // The server's own spelling; only plain fact names are sent.
            if name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            {
                argument.push_str(name);
                argument.push(';');
            }
        }
    }
    missing.then_some(argument)
}

/// The kind for a `type` fact, and whether it is `cdir` or `pdir` (the
/// listed directory or its parent, which listings skip).
fn mlsd_kind(value: &[u8]) -> (EntryKind, bool) {
    let is = |t: &[u8]| value.eq_ignore_ascii_case(t);
    let starts = |t: &[u8]| {
        value
            .get(..t.len())
            .is_some_and(|v| v.eq_ignore_ascii_case(t))
    };
    let kind = if is(b"file") {
        EntryKind::File
    } else if is(b"dir") {
        EntryKind::Directory
    } else if is(b"cdir") || is(b"pdir") {
        return (EntryKind::Directory, true);
    } else if starts(b"os.unix=slink") || starts(b"os.unix=symlink") {
        EntryKind::Symlink {
            target: value
                .iter()
                .position(|&b| b == b':')
                .and_then(|i| value.get(i + 1..))
                // `slink:` with nothing after it names no target.
                .filter(|target| !target.is_empty())
                .map(Name::from),
        }
    } else {
        EntryKind::Other
    };
    (kind, false)
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

    #[test]
    fn typed_entries_from_real_servers() {
        // proftpd 1.3.8
        let line = b"modify=20261124044308;perm=adfrw;size=3;type=file;unique=FE00UA4E001;UNIX.group=1001;UNIX.groupname=ftpkit;UNIX.mode=0644;UNIX.owner=1001;UNIX.ownername=ftpkit; a file;with semi.txt";
        let e = parse_mlsd_entry(line).unwrap();
        assert_eq!(e.name, "a file;with semi.txt");
        assert_eq!(e.kind, EntryKind::File);
        assert_eq!(e.size, Some(3));
        assert_eq!(e.permissions, Some(0o644));
        assert_eq!(
            (e.owner.as_deref(), e.group.as_deref()),
            (Some("ftpkit"), Some("ftpkit"))
        );
        let secs = e
            .modified
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert_eq!(secs, 1_795_495_388);
        assert_eq!(e.raw, line.to_vec());
        // pure-ftpd 1.0.50: sizd for directories, numeric owner
        let e = parse_mlsd_entry(b"type=dir;sizd=4096;modify=20261124044318;UNIX.mode=0755;UNIX.uid=1001;UNIX.gid=1001;unique=fe00gad2011; sub dir").unwrap();
        assert_eq!(
            (e.kind.clone(), e.size, e.owner.as_deref()),
            (EntryKind::Directory, Some(4096), Some("1001"))
        );
        assert!(parse_mlsd_entry(b"type=cdir;sizd=4096;modify=20261124044318; .").is_none());
        assert!(parse_mlsd_entry(b"type=pdir;sizd=4096; ..").is_none());
        let this = parse_mlst_entry(b"type=cdir;modify=20261124044318; /home/ftpkit").unwrap();
        assert_eq!(
            (this.kind.clone(), this.name.to_string()),
            (EntryKind::Directory, "/home/ftpkit".into())
        );
        // pyftpdlib: lower-case facts, perm only
        let e = parse_mlsd_entry(
            b"modify=20261124044327;perm=radfwMT;size=3;type=file;unique=fe00gb06001; x",
        )
        .unwrap();
        assert_eq!((e.permissions, e.owner), (None, None));
        // Symlinks (RFC 3659 leaves OS.unix types to servers: proftpd's form)
        // pyftpdlib writes Python's octal: `0o644`.
        let e = parse_mlsd_entry(b"type=file;unix.mode=0o4755;unix.uid=0; su").unwrap();
        assert_eq!(e.permissions, Some(0o4755));
        let e = parse_mlsd_entry(b"type=file;unix.mode=0644; f").unwrap();
        assert_eq!(e.permissions, Some(0o644));
        assert_eq!(
            parse_mlsd_entry(b"type=file;unix.mode=0o9; f")
                .unwrap()
                .permissions,
            None
        );
        for no_target in [&b"type=OS.unix=slink:; l"[..], b"type=OS.unix=symlink; l"] {
            let e = parse_mlsd_entry(no_target).unwrap();
            assert_eq!(e.kind, EntryKind::Symlink { target: None });
        }
        let e = parse_mlsd_entry(b"type=OS.unix=slink:/etc/hosts;size=10; link").unwrap();
        assert_eq!(
            e.kind,
            EntryKind::Symlink {
                target: Some(Name::from("/etc/hosts"))
            }
        );
        // Fact names in any case, long unknown facts skipped, `type`
        // values in any case.
        let e = parse_mlsd_entry(
            b"TYPE=FILE;Size=7;MODIFY=20240101000000;Unix.Mode=0600;UNIX.UID=5;unix.OWNERNAME=ann;x.a.fact.name.longer.than.any=1;Unix.Gid=6; f",
        )
        .unwrap();
        assert_eq!(
            (e.kind.clone(), e.size, e.permissions),
            (EntryKind::File, Some(7), Some(0o600))
        );
        assert_eq!(
            (e.owner.as_deref(), e.group.as_deref()),
            (Some("ann"), Some("6"))
        );
        assert_eq!(e.time_precision, crate::list::TimePrecision::Second);
        assert!(parse_mlsd_entry(b"Type=CDir; .").is_none());
        assert!(parse_mlsd_entry(b"type=PDIR; ..").is_none());
        assert_eq!(
            parse_mlsd_entry(b"type=Dir; d").unwrap().kind,
            EntryKind::Directory
        );
        assert_eq!(
            parse_mlsd_entry(b"type=OS.Unix=SLINK:t; l").unwrap().kind,
            EntryKind::Symlink {
                target: Some(Name::from("t"))
            }
        );
        for other in [
            &b"type=fil; o"[..],
            b"type=; o",
            b"type=os.unix=blk; o",
            b"type=OS.uni; o",
        ] {
            assert_eq!(parse_mlsd_entry(other).unwrap().kind, EntryKind::Other);
        }
        // A long unknown fact last, a value with `=`, no `;` before the
        // space, empty facts: the name is still what follows the space.
        let e = parse_mlsd_entry(b"type=file;x.a.fact.name.longer.than.any=1; f g").unwrap();
        assert_eq!(
            (e.name.to_string(), e.kind),
            ("f g".into(), EntryKind::File)
        );
        let e = parse_mlsd_entry(b";;type=dir;;x=a=b;size=3 n;m=1").unwrap();
        assert_eq!(
            (e.name.to_string(), e.kind, e.size),
            ("n;m=1".into(), EntryKind::Directory, Some(3))
        );
        // A fact without `=`, a line without the space: not MLSD.
        assert!(parse_mlsd_entry(b"type=file;size; f").is_none());
        assert!(parse_mlsd_entry(b"type=file;size f").is_none());
        assert!(parse_mlsd_entry(b"type=file;size=1").is_none());
        assert!(parse_mlsd_entry(b"type=file;size=1;").is_none());
        // Fractional seconds
        let e = parse_mlsd_entry(b"type=file;modify=20240101000000.250; f").unwrap();
        assert_eq!(
            e.modified
                .unwrap()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_millis(),
            250
        );
    }
}
