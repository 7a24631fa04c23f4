//! `~/.netrc`: the credentials file of ftp(1), curl and lftp.
//!
//! Grammar (tokens separated by white space, newlines included):
//! `machine NAME` starts an entry and `default` the catch-all entry; within
//! an entry `login NAME`, `password SECRET` and `account SECRET` set
//! fields; `macdef NAME` is followed by a macro body that ends at an empty
//! line and is skipped. A token may be double-quoted, with `\"` and `\\`
//! escapes, so passwords can hold spaces. Comments start with `#`
//! at the beginning of a token and run to the end of the line.

use std::path::{Path, PathBuf};

/// The credentials for one host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    /// `login`.
    pub login: Option<String>,
    /// `password`.
    pub password: Option<String>,
    /// `account`.
    pub account: Option<String>,
}

/// A parsed netrc file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Netrc {
    machines: Vec<(String, Entry)>,
    default: Option<Entry>,
}

impl Netrc {
    /// Parses the text of a netrc file. Unknown tokens are skipped.
    pub fn parse(text: &str) -> Netrc {
        let mut netrc = Netrc::default();
        let mut tokens = Tokens::new(text);
        // Where the fields go: a machine's entry, the default, or nowhere
        // (before the first machine).
        enum Target {
            None,
            Machine(usize),
            Default,
        }
        let mut target = Target::None;
        while let Some(token) = tokens.next() {
            let field = match token.as_str() {
                "machine" => {
                    let name = tokens.next().unwrap_or_default();
                    netrc.machines.push((name, Entry::default()));
                    target = Target::Machine(netrc.machines.len() - 1);
                    continue;
                }
                "default" => {
                    netrc.default.get_or_insert_with(Entry::default);
                    target = Target::Default;
                    continue;
                }
                "macdef" => {
                    let _name = tokens.next();
                    tokens.skip_macro();
                    continue;
                }
                "login" | "password" | "account" => token,
                _ => continue,
            };
            let value = tokens.next();
            let entry = match target {
                Target::Machine(i) => netrc.machines.get_mut(i).map(|(_, e)| e),
                Target::Default => netrc.default.as_mut(),
                Target::None => None,
            };
            if let Some(entry) = entry {
                match field.as_str() {
                    "login" => entry.login = value,
                    "password" => entry.password = value,
                    _ => entry.account = value,
                }
            }
        }
        netrc
    }

    /// Reads and parses `path`; `None` if it cannot be read.
    pub fn load(path: &Path) -> Option<Netrc> {
        std::fs::read_to_string(path).ok().map(|t| Netrc::parse(&t))
    }

    /// The default location: `$NETRC`, else `~/.netrc`.
    pub fn default_path() -> Option<PathBuf> {
        if let Some(path) = std::env::var_os("NETRC") {
            return Some(PathBuf::from(path));
        }
        std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".netrc"))
    }

    /// The entry for `host` (case-insensitive), else the `default` entry.
    /// With `user`, only an entry whose login is that user (or has none).
    pub fn find(&self, host: &str, user: Option<&str>) -> Option<&Entry> {
        let fits = |e: &Entry| match (user, &e.login) {
            (Some(u), Some(l)) => u == l,
            _ => true,
        };
        self.machines
            .iter()
            .find(|(name, e)| name.eq_ignore_ascii_case(host) && fits(e))
            .map(|(_, e)| e)
            .or(self.default.as_ref().filter(|e| fits(e)))
    }
}

/// The tokens of a netrc file.
struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str) -> Tokens<'a> {
        Tokens { rest: text }
    }

    /// Skips a macro body: everything up to and including an empty line.
    fn skip_macro(&mut self) {
        // The rest of the macdef line, then lines until an empty one.
        let mut lines = self.rest.split_inclusive('\n');
        let mut consumed = lines.next().map_or(0, str::len);
        for line in lines {
            consumed += line.len();
            if line.trim().is_empty() {
                break;
            }
        }
        self.rest = self.rest.get(consumed..).unwrap_or_default();
    }
}

impl Iterator for Tokens<'_> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        loop {
            self.rest = self.rest.trim_start();
            if self.rest.starts_with('#') {
                let end = self.rest.find('\n').unwrap_or(self.rest.len());
                self.rest = self.rest.get(end..).unwrap_or_default();
                continue;
            }
            break;
        }
        if self.rest.is_empty() {
            return None;
        }
        let mut token = String::new();
        let mut chars = self.rest.char_indices();
        if self.rest.starts_with('"') {
            chars.next();
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => {
                        self.rest = self.rest.get(i + 1..).unwrap_or_default();
                        return Some(token);
                    }
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            token.push(escaped);
                        }
                    }
                    c => token.push(c),
                }
            }
            self.rest = "";
            return Some(token);
        }
        for (i, c) in chars {
            if c.is_whitespace() {
                self.rest = self.rest.get(i..).unwrap_or_default();
                return Some(token);
            }
            token.push(c);
        }
        self.rest = "";
        Some(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
# work
machine ftp.example.com login alice password "s3cret with spaces"
machine files.example.org
    login bob
    password b\"ob
    account acct-7
macdef init
cd /pub
binary

machine after.example.net login carol password c
default login anonymous password guest@example.com
"#;

    #[test]
    fn parses_machines_default_quotes_and_macros() {
        let n = Netrc::parse(SAMPLE);
        let a = n.find("FTP.example.com", None).unwrap();
        assert_eq!(a.login.as_deref(), Some("alice"));
        assert_eq!(a.password.as_deref(), Some("s3cret with spaces"));
        let b = n.find("files.example.org", None).unwrap();
        assert_eq!(b.password.as_deref(), Some("b\\\"ob"));
        assert_eq!(b.account.as_deref(), Some("acct-7"));
        // The macro body is skipped; the machine after it is read.
        let c = n.find("after.example.net", None).unwrap();
        assert_eq!(c.login.as_deref(), Some("carol"));
        let d = n.find("elsewhere", None).unwrap();
        assert_eq!(d.login.as_deref(), Some("anonymous"));
    }

    #[test]
    fn a_user_selects_the_matching_entry() {
        let n = Netrc::parse("machine h login a password pa\nmachine h login b password pb\n");
        assert_eq!(
            n.find("h", Some("b")).unwrap().password.as_deref(),
            Some("pb")
        );
        assert_eq!(
            n.find("h", Some("a")).unwrap().password.as_deref(),
            Some("pa")
        );
        assert!(n.find("h", Some("c")).is_none());
        assert!(n.find("other", None).is_none());
    }

    #[test]
    fn odd_files_do_not_panic() {
        for text in [
            "",
            "machine",
            "login x",
            "\"unterminated",
            "macdef",
            "# only a comment",
        ] {
            let _ = Netrc::parse(text);
        }
    }
}
