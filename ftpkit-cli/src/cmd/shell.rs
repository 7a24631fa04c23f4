//! `ftpkit shell URL`: an interactive session in the manner of ftp(1) and
//! lftp, with line editing, history and tab completion of remote names
//! (rustyline) on a terminal, and plain line-by-line reading otherwise, so
//! scripts can drive it.
//!
//! A failed command prints `error: ...` on stderr and the session goes on;
//! the exit code is that of the last failure (0 when everything worked).
//! Transfers go through the library's verified, resumable `download` and
//! `upload`, with the shell's `--retries`, `--no-verify` and `--limit-rate`.
//!
//! With `--encoding`, every path typed is sent in the server's charset and
//! every name shown (`ls`, `nls`, `pwd`, completion, `mget`'s local names)
//! is read from it; names the server gave are passed back byte for byte.

use std::{
    cell::RefCell,
    collections::HashMap,
    io::{BufRead, IsTerminal, Write},
    path::{Path, PathBuf},
    rc::Rc,
};

use ftpkit::{Charset, Entry, EntryKind};
use rustyline::{
    Context, Editor, Helper,
    completion::{Completer, Pair},
    highlight::Highlighter,
    hint::Hinter,
    history::DefaultHistory,
    validate::Validator,
};

use crate::{exit::Exit, failure::Failure, glob, output, plan::Settings};

/// The commands, for `help` and completion.
const COMMANDS: &[(&str, &str)] = &[
    ("ls", "ls [PATH]            list a directory (long form)"),
    ("dir", "dir [PATH]           same as ls"),
    ("nls", "nls [PATH]           names only (NLST)"),
    ("cd", "cd PATH              change the remote directory"),
    (
        "cdup",
        "cdup                 go to the parent remote directory",
    ),
    ("pwd", "pwd                  print the remote directory"),
    (
        "lcd",
        "lcd [PATH]           change the local directory (home without PATH)",
    ),
    ("lpwd", "lpwd                 print the local directory"),
    (
        "get",
        "get REMOTE [LOCAL]   download (resumes NAME.part, verifies)",
    ),
    ("put", "put LOCAL [REMOTE]   upload (verifies)"),
    (
        "mget",
        "mget GLOB...         download every remote match into the local directory",
    ),
    ("mput", "mput GLOB...         upload every local match"),
    ("mkdir", "mkdir PATH           create a remote directory"),
    ("rmdir", "rmdir PATH           remove a remote directory"),
    (
        "rm",
        "rm PATH...           delete remote files (also: delete)",
    ),
    ("mv", "mv FROM TO           rename (also: rename)"),
    ("size", "size PATH            size in bytes"),
    ("stat", "stat PATH            one entry, typed"),
    (
        "quote",
        "quote CMD [ARGS]     send a raw command, print the reply",
    ),
    ("help", "help                 this list (also: ?)"),
    (
        "bye",
        "bye                  end the session (also: quit, exit)",
    ),
];

/// Runs the session.
pub fn run(url: &str, settings: &Settings) -> Result<(), Failure> {
    let target = settings.url(url)?;
    let mut client = super::connect(&target, settings)?;
    if !target.path.is_empty() {
        client.cwd(&target.path)?;
    }
    let session = Rc::new(RefCell::new(Session {
        client,
        charset: settings.reach.charset(),
        settings: settings.clone(),
        listings: HashMap::new(),
        last_failure: None,
    }));
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        let prompt = format!("ftpkit {}> ", target.host);
        let mut editor: Editor<RemoteNames, DefaultHistory> = Editor::new()
            .map_err(|e| Failure::Local("<terminal>".into(), std::io::Error::other(e)))?;
        editor.set_helper(Some(RemoteNames {
            session: session.clone(),
        }));
        loop {
            match editor.readline(&prompt) {
                Ok(line) => {
                    let _ = editor.add_history_entry(line.as_str());
                    if !session.borrow_mut().execute(&line) {
                        break;
                    }
                }
                Err(rustyline::error::ReadlineError::Interrupted) => continue,
                Err(_) => break, // Ctrl-D or a closed terminal
            }
        }
    } else {
        for line in std::io::stdin().lock().lines() {
            let line = line.map_err(|e| Failure::Local("<stdin>".into(), e))?;
            if !session.borrow_mut().execute(&line) {
                break;
            }
        }
    }
    let mut session = Rc::try_unwrap(session)
        .map_err(|_| Failure::Remote("the session is still in use".into()))?
        .into_inner();
    let failure = session.last_failure.take();
    drop(session);
    match failure {
        None => Ok(()),
        Some(exit) => Err(Failure::Reported(exit)),
    }
}

struct Session {
    client: super::Connection,
    /// The server's charset for names (`--encoding`).
    charset: Charset,
    settings: Settings,
    /// Remote directory listings for completion, by directory.
    listings: HashMap<String, Vec<(String, bool)>>,
    last_failure: Option<Exit>,
}

impl Session {
    /// Runs one command line; `false` ends the session.
    fn execute(&mut self, line: &str) -> bool {
        let words = match split(line) {
            Ok(words) => words,
            Err(msg) => {
                self.fail(&Failure::Usage(msg));
                return true;
            }
        };
        let Some((command, args)) = words.split_first() else {
            return true;
        };
        if matches!(command.as_str(), "bye" | "quit" | "exit") {
            return false;
        }
        if let Err(failure) = self.dispatch(command, args) {
            self.fail(&failure);
        }
        true
    }

    fn fail(&mut self, failure: &Failure) {
        eprintln!("error: {failure}");
        self.last_failure = Some(failure.exit());
    }

    /// A path typed by the user, as the bytes of a name in the server's
    /// charset.
    fn wire(&self, text: &str) -> Result<Vec<u8>, Failure> {
        Ok(self.client.encode_path(text)?)
    }

    /// A name read from the server, as text in its charset.
    fn shown(&self, name: &[u8]) -> String {
        self.charset.decode(name).into_owned()
    }

    fn dispatch(&mut self, command: &str, args: &[String]) -> Result<(), Failure> {
        let arg = |i: usize| -> Result<&str, Failure> {
            args.get(i)
                .map(String::as_str)
                .ok_or_else(|| Failure::Usage(format!("{command}: missing argument; try help")))
        };
        // The optional first argument (ls, nls), in the server's charset.
        let first = match args.first() {
            Some(text) => self.wire(text)?,
            None => Vec::new(),
        };
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let local = |e: std::io::Error| Failure::Local("<stdout>".into(), e);
        match command {
            "ls" | "dir" => {
                let charset = self.charset;
                let entries: Vec<Entry> = self
                    .client
                    .list_entries(&first)?
                    .map(|entry| entry.map(|e| crate::reach::decoded(e, charset)))
                    .collect::<Result<_, _>>()?;
                super::ls::write_long(&mut out, &entries).map_err(local)?;
            }
            "nls" => {
                for name in self.client.nlst(&first)? {
                    output::write_line(&mut out, self.shown(name.as_bytes()).as_bytes())
                        .map_err(local)?;
                }
            }
            "cd" => {
                let path = self.wire(arg(0)?)?;
                self.client.cwd(path)?;
                self.listings.clear();
            }
            "cdup" => {
                self.client.cdup()?;
                self.listings.clear();
            }
            "pwd" => {
                let dir = self.client.pwd()?;
                output::write_line(&mut out, self.shown(dir.as_bytes()).as_bytes())
                    .map_err(local)?;
            }
            "lcd" => {
                let dir = match args.first() {
                    Some(d) => PathBuf::from(d),
                    None => std::env::var_os("HOME")
                        .map(PathBuf::from)
                        .unwrap_or_default(),
                };
                std::env::set_current_dir(&dir).map_err(|e| Failure::Local(dir.clone(), e))?;
                writeln!(out, "local directory: {}", current_dir().display()).map_err(local)?;
            }
            "lpwd" => writeln!(out, "{}", current_dir().display()).map_err(local)?,
            "get" => {
                let remote = arg(0)?;
                let local_path = match args.get(1) {
                    Some(l) => PathBuf::from(l),
                    None => PathBuf::from(local_name(remote)?),
                };
                let wire = self.wire(remote)?;
                self.get(&wire, &local_path, None)?;
            }
            "put" => {
                let local_path = PathBuf::from(arg(0)?);
                let remote = match args.get(1) {
                    Some(r) => r.clone(),
                    None => local_path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .map(str::to_owned)
                        .ok_or_else(|| Failure::Usage("put: no usable file name".into()))?,
                };
                let wire = self.wire(&remote)?;
                self.put(&local_path, &wire)?;
            }
            "mget" => {
                if args.is_empty() {
                    return Err(Failure::Usage("mget: give one or more globs".into()));
                }
                // The one safe-name rule, as `get` globs: a refused name
                // is skipped with a warning and the others still come.
                let mut skipped = 0;
                let mut jobs = Vec::new();
                for pattern in args {
                    for remote in self.remote_matches(pattern)? {
                        let mut parts = remote.rsplitn(2, |&b| b == b'/');
                        let base = parts.next().unwrap_or_default();
                        let folder = parts.next().unwrap_or_default();
                        if matches!(base, b"." | b"..") {
                            continue;
                        }
                        match super::check_name_in(base, self.charset) {
                            Ok(name) => jobs.push((remote.clone(), name)),
                            Err(why) => {
                                super::warn(&format!(
                                    "skipping a server entry in {}: {why}",
                                    super::shown_folder(&self.shown(folder).into_bytes())
                                ));
                                skipped += 1;
                            }
                        }
                    }
                }
                for (n, (remote, name)) in jobs.iter().enumerate() {
                    // The next file's commands go out with this one's RETR.
                    let next = jobs.get(n + 1).map(|(next, _)| next.as_slice());
                    self.get(remote, Path::new(name), next)?;
                }
                if skipped > 0 {
                    return Err(Failure::Skipped(skipped));
                }
            }
            "mput" => {
                if args.is_empty() {
                    return Err(Failure::Usage("mput: give one or more globs".into()));
                }
                for pattern in args {
                    for path in local_matches(pattern)? {
                        let name = path
                            .file_name()
                            .and_then(|n| n.to_str())
                            .unwrap_or_default()
                            .to_owned();
                        let wire = self.wire(&name)?;
                        self.put(&path, &wire)?;
                    }
                }
            }
            "mkdir" => {
                let path = self.wire(arg(0)?)?;
                self.client.mkd(path)?;
                self.listings.clear();
            }
            "rmdir" => {
                let path = self.wire(arg(0)?)?;
                self.client.rmd(path)?;
                self.listings.clear();
            }
            "rm" | "delete" => {
                arg(0)?;
                for path in args {
                    let path = self.wire(path)?;
                    self.client.delete(path)?;
                }
                self.listings.clear();
            }
            "mv" | "rename" => {
                let (from, to) = (self.wire(arg(0)?)?, self.wire(arg(1)?)?);
                self.client.rename(from, to)?;
                self.listings.clear();
            }
            "size" => {
                let path = self.wire(arg(0)?)?;
                writeln!(out, "{}", self.client.size(path)?).map_err(local)?;
            }
            "stat" => {
                let path = self.wire(arg(0)?)?;
                match self.client.stat(path)? {
                    Some(entry) => {
                        let entry = crate::reach::decoded(entry, self.charset);
                        super::ls::write_long(&mut out, &[entry]).map_err(local)?;
                    }
                    None => return Err(Failure::Remote(format!("{}: not found", arg(0)?))),
                }
            }
            "quote" => {
                arg(0)?;
                let line = self.wire(&args.join(" "))?;
                let reply = self.client.sendcmd(line)?;
                for line in reply.lines() {
                    output::write_line(&mut out, line).map_err(local)?;
                }
            }
            "help" | "?" => {
                for (_, text) in COMMANDS {
                    writeln!(out, "{text}").map_err(local)?;
                }
            }
            other => {
                return Err(Failure::Usage(format!(
                    "unknown command {other:?}; try help"
                )));
            }
        }
        out.flush().map_err(local)
    }

    /// Downloads `remote` to `local_path`; `next`, the file downloaded
    /// right after, has its commands sent with this one's `RETR`.
    fn get(
        &mut self,
        remote: &[u8],
        local_path: &Path,
        next: Option<&[u8]>,
    ) -> Result<(), Failure> {
        let mut download = self
            .client
            .download(remote, local_path)
            .options(self.settings.transfer.clone());
        if let Some(next) = next {
            download = download.followed_by(next);
        }
        let report = download.run()?;
        output::report_transfer(
            &self.settings,
            "get",
            &self.shown(remote),
            &local_path.display().to_string(),
            &report,
        );
        Ok(())
    }

    fn put(&mut self, local_path: &Path, remote: &[u8]) -> Result<(), Failure> {
        let report = self
            .client
            .upload(local_path, remote)
            .options(self.settings.transfer.clone())
            .run()
            .map_err(|e| Failure::of_local_file(local_path, e))?;
        self.listings.clear();
        output::report_transfer(
            &self.settings,
            "put",
            &self.shown(remote),
            &local_path.display().to_string(),
            &report,
        );
        Ok(())
    }

    /// Remote paths matching `pattern` (a glob in the last component), as
    /// the server's bytes; the pattern is written in the server's charset.
    fn remote_matches(&mut self, pattern: &str) -> Result<Vec<Vec<u8>>, Failure> {
        let (dir, name) = match pattern.rsplit_once('/') {
            Some((dir, name)) => (format!("{dir}/"), name),
            None => (String::new(), pattern),
        };
        let (dir, name) = (self.wire(&dir)?, self.wire(name)?);
        let mut found: Vec<Vec<u8>> = self
            .client
            .nlst(&dir)?
            .into_iter()
            .filter_map(|n| {
                let base = n.as_bytes().rsplit(|&b| b == b'/').next()?;
                glob::matches(&name, base).then(|| [&dir[..], base].concat())
            })
            .collect();
        found.sort();
        if found.is_empty() {
            return Err(Failure::Remote(format!("{pattern}: no match")));
        }
        Ok(found)
    }

    /// Names and kinds in a remote directory, cached until something changes.
    fn names_in(&mut self, dir: &str) -> Vec<(String, bool)> {
        if let Some(names) = self.listings.get(dir) {
            return names.clone();
        }
        let charset = self.charset;
        let listing = self
            .wire(dir)
            .ok()
            .and_then(|path| self.client.list_entries(path).ok());
        let names: Vec<(String, bool)> = match listing {
            Some(entries) => entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let dir = matches!(e.kind, EntryKind::Directory);
                    e.name
                        .safe_component_in(charset)
                        .map(|n| (n.into_owned(), dir))
                })
                .collect(),
            None => Vec::new(),
        };
        self.listings.insert(dir.to_owned(), names.clone());
        names
    }
}

/// The local name for a remote path: its last component, if safe.
fn local_name(remote: &str) -> Result<String, Failure> {
    let base = remote.rsplit('/').next().unwrap_or_default();
    ftpkit::Name::from(base)
        .safe_component()
        .map(str::to_owned)
        .ok_or_else(|| Failure::Usage(format!("{remote:?}: give a local name")))
}

/// Local files in the current directory matching `pattern`.
fn local_matches(pattern: &str) -> Result<Vec<PathBuf>, Failure> {
    let (dir, name) = match pattern.rsplit_once('/') {
        Some((dir, name)) => (PathBuf::from(dir), name),
        None => (PathBuf::from("."), pattern),
    };
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| Failure::Local(dir.clone(), e))?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| glob::matches(name.as_bytes(), e.file_name().as_encoded_bytes()))
        .map(|e| e.path())
        .collect();
    found.sort();
    if found.is_empty() {
        return Err(Failure::Local(
            PathBuf::from(pattern),
            std::io::Error::new(std::io::ErrorKind::NotFound, "no match"),
        ));
    }
    Ok(found)
}

fn current_dir() -> PathBuf {
    std::env::current_dir().unwrap_or_default()
}

/// Splits a command line into words: white space separates, single and
/// double quotes group, a backslash escapes the next character.
fn split(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), '\\') | (None, '\\') => {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
                in_word = true;
            }
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err("unterminated quote".into());
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Tab completion: command names first, then remote names.
struct RemoteNames {
    session: Rc<RefCell<Session>>,
}

impl Completer for RemoteNames {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = line.get(..pos).unwrap_or(line);
        let start = before.rfind(' ').map_or(0, |i| i + 1);
        let word = before.get(start..).unwrap_or_default();
        if start == 0 {
            let pairs = COMMANDS
                .iter()
                .filter(|(name, _)| name.starts_with(word))
                .map(|(name, _)| Pair {
                    display: (*name).to_owned(),
                    replacement: format!("{name} "),
                })
                .collect();
            return Ok((0, pairs));
        }
        let (dir, prefix) = match word.rsplit_once('/') {
            Some((dir, prefix)) => (format!("{dir}/"), prefix),
            None => (String::new(), word),
        };
        let Ok(mut session) = self.session.try_borrow_mut() else {
            return Ok((start, Vec::new()));
        };
        let pairs = session
            .names_in(&dir)
            .into_iter()
            .filter(|(name, _)| name.starts_with(prefix))
            .map(|(name, is_dir)| Pair {
                display: if is_dir {
                    format!("{name}/")
                } else {
                    name.clone()
                },
                replacement: format!("{dir}{name}{}", if is_dir { "/" } else { "" }),
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for RemoteNames {
    type Hint = String;
}

impl Highlighter for RemoteNames {}

impl Validator for RemoteNames {}

impl Helper for RemoteNames {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_words_with_quotes_and_escapes() {
        assert_eq!(
            split("get  'a b.txt' c\\ d \"e f\"").unwrap(),
            ["get", "a b.txt", "c d", "e f"]
        );
        assert_eq!(split("  ").unwrap(), Vec::<String>::new());
        assert_eq!(split("put ''").unwrap(), ["put", ""]);
        assert!(split("get 'open").is_err());
    }

    #[test]
    fn local_names_from_hostile_remote_paths_are_refused() {
        assert_eq!(local_name("dir/ok.txt").unwrap(), "ok.txt");
        assert!(local_name("dir/..").is_err());
        assert!(local_name("x\u{1b}[2J").is_err());
    }
}
