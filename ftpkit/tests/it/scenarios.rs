//! One description of the end-to-end scenarios, run against every server:
//! the in-process libunftp server (`unftp.rs`) and the real servers of the
//! interop suite (`interop.rs`). Every byte that moves is checked by hash.

use std::{
    io::Read,
    time::{SystemTime, UNIX_EPOCH},
};

use ftpkit::{Client, Config, DataMode, Error, ReplyCode};
use ftpkit_testkit::{random_bytes, sha256_hex};

/// A server to run the scenarios against.
pub struct Target {
    /// Name shown in failures.
    pub name: String,
    /// `host:port`.
    pub addr: String,
    /// Login user (empty: anonymous).
    pub user: String,
    /// Login password.
    pub pass: String,
    /// Base client configuration (timeouts, TLS).
    pub config: Config,
    /// Whether the server offers MLSD.
    pub mlsd: bool,
    /// Whether MDTM answers.
    pub mdtm: bool,
    /// Size of the large transfer, in bytes.
    pub big: usize,
}

/// Connects, retrying when the server read our TLS ClientHello as a command.
///
/// libunftp answers `AUTH TLS` with 234 and switches its side to TLS
/// asynchronously, so a ClientHello sent at once is sometimes read as a
/// plaintext command and answered in clear (a race in its AUTH handler).
/// ftpkit reports that as a corrupt TLS message, as it should; the tests
/// retry so the race does not make them flaky.
pub fn connect_with_retry(addr: &str, config: Config) -> ftpkit::Result<Client> {
    let mut attempt = 0;
    loop {
        match Client::connect_with(addr, config.clone()) {
            Err(Error::Tls {
                source: rustls::Error::InvalidMessage(_),
                ..
            }) if attempt < 5 => {
                attempt += 1;
            }
            other => return other,
        }
    }
}

impl Target {
    fn connect(&self, mode: DataMode) -> Client {
        let mut client = connect_with_retry(&self.addr, self.config.clone().mode(mode))
            .unwrap_or_else(|e| panic!("{}: connect to {}: {e}", self.name, self.addr));
        client
            .login(&self.user, &self.pass)
            .unwrap_or_else(|e| panic!("{}: login: {e}", self.name));
        client
    }
}

/// A directory name no other test uses.
fn unique(tag: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("ftpkit-{tag}-{}-{nanos}", std::process::id())
}

/// Runs every scenario in passive mode and the transfer scenario in active mode.
pub fn run_all(target: &Target) {
    session_basics(target);
    transfers(target, DataMode::Passive);
    transfers(target, DataMode::Active);
    resume(target);
    listings(target);
    typed_listing(target);
    big_transfer(target);
    verified_files(target);
}

/// Login, pwd, mkdir, cwd, rename, delete, rmdir, and errors keep their codes.
pub fn session_basics(target: &Target) {
    let mut c = target.connect(DataMode::Passive);
    let home = c.pwd().unwrap();
    assert!(
        home.as_bytes().starts_with(b"/"),
        "{}: pwd {home}",
        target.name
    );
    let dir = unique("basics");
    c.mkd(&dir).unwrap();
    c.cwd(&dir).unwrap();
    assert!(c.pwd().unwrap().as_bytes().ends_with(dir.as_bytes()));
    c.put("a.txt", &mut &b"hello"[..]).unwrap();
    assert_eq!(c.size("a.txt").unwrap(), 5);
    c.rename("a.txt", "b.txt").unwrap();
    let missing = c.size("a.txt").unwrap_err();
    assert!(
        missing.is_permanent(),
        "{}: SIZE of a renamed file: {missing}",
        target.name
    );
    if target.mdtm {
        let t = c.mdtm("b.txt").unwrap();
        let age = SystemTime::now()
            .duration_since(t)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        assert!(age < 24 * 3600, "{}: MDTM far off: {t:?}", target.name);
    }
    c.delete("b.txt").unwrap();
    let err = c.cwd("no-such-dir").unwrap_err();
    assert!(
        matches!(err, Error::Reply { .. }) && err.is_permanent(),
        "{}: {err}",
        target.name
    );
    c.cwd("..").unwrap();
    assert_eq!(c.pwd().unwrap(), home);
    c.rmd(&dir).unwrap();
    c.noop().unwrap();
    assert_eq!(c.quit().unwrap().code(), ReplyCode(221));
}

/// Upload and download, checked by hash, in the given mode; append too.
pub fn transfers(target: &Target, mode: DataMode) {
    let mut c = target.connect(mode);
    let dir = unique("xfer");
    c.mkd(&dir).unwrap();
    c.cwd(&dir).unwrap();
    let data = random_bytes(1 << 20, 1);
    assert_eq!(
        c.put("data.bin", &mut data.as_slice()).unwrap(),
        data.len() as u64
    );
    let mut back = Vec::new();
    c.get("data.bin", &mut back).unwrap();
    assert_eq!(
        sha256_hex(&back),
        sha256_hex(&data),
        "{} {mode:?}: download",
        target.name
    );

    c.append("data.bin", &mut &b"tail"[..]).unwrap();
    assert_eq!(c.size("data.bin").unwrap(), data.len() as u64 + 4);

    // A streaming reader, read to the end, confirms with the server.
    let mut reader = c.retrieve("data.bin").reader().unwrap();
    let mut streamed = Vec::new();
    reader.read_to_end(&mut streamed).unwrap();
    assert!(reader.finish().unwrap().code().is_completion());
    assert_eq!(&streamed[data.len()..], b"tail");

    c.delete("data.bin").unwrap();
    c.cwd("..").unwrap();
    c.rmd(&dir).unwrap();
    c.quit().unwrap();
}

/// An interrupted download resumed with REST, and an upload resumed with
/// REST+STOR, both byte-identical at the end.
pub fn resume(target: &Target) {
    let mut c = target.connect(DataMode::Passive);
    let dir = unique("resume");
    c.mkd(&dir).unwrap();
    c.cwd(&dir).unwrap();
    let data = random_bytes(3 << 20, 2);
    c.put("r.bin", &mut data.as_slice()).unwrap();

    let mut part = vec![0u8; 1 << 20];
    {
        let mut reader = c.retrieve("r.bin").reader().unwrap();
        reader.read_exact(&mut part).unwrap();
        reader.abort().unwrap();
    }
    c.noop().unwrap();
    c.retrieve("r.bin")
        .rest(part.len() as u64)
        .to_writer(&mut part)
        .unwrap();
    assert_eq!(
        sha256_hex(&part),
        sha256_hex(&data),
        "{}: resumed download",
        target.name
    );

    let half = data.len() / 2;
    c.put("up.bin", &mut &data[..half]).unwrap();
    let have = c.size("up.bin").unwrap();
    assert_eq!(have, half as u64);
    c.store("up.bin")
        .rest(have)
        .from_reader(&mut &data[half..])
        .unwrap();
    let mut back = Vec::new();
    c.get("up.bin", &mut back).unwrap();
    assert_eq!(
        sha256_hex(&back),
        sha256_hex(&data),
        "{}: resumed upload",
        target.name
    );

    c.delete("r.bin").unwrap();
    c.delete("up.bin").unwrap();
    c.cwd("..").unwrap();
    c.rmd(&dir).unwrap();
    c.quit().unwrap();
}

/// NLST, LIST and (where offered) MLSD name the same files.
pub fn listings(target: &Target) {
    let mut c = target.connect(DataMode::Passive);
    let dir = unique("list");
    c.mkd(&dir).unwrap();
    c.cwd(&dir).unwrap();
    for name in ["one.txt", "two words.txt", "caf\u{e9}.txt"] {
        c.put(name, &mut &b"x"[..]).unwrap();
    }
    c.mkd("sub").unwrap();
    let mut names: Vec<String> = c
        .nlst("")
        .unwrap()
        .iter()
        .map(|n| n.to_string_lossy().trim_start_matches("./").to_owned())
        .filter(|n| n != "." && n != "..") // pure-ftpd lists them
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["caf\u{e9}.txt", "one.txt", "sub", "two words.txt"],
        "{}: NLST",
        target.name
    );
    let lines = c.list("").unwrap();
    for name in ["one.txt", "two words.txt", "sub"] {
        assert!(
            lines.iter().any(|l| l.to_string_lossy().ends_with(name)),
            "{}: LIST lacks {name}: {lines:?}",
            target.name
        );
    }
    if target.mlsd {
        let entries = c.mlsd("").unwrap();
        let file = entries.iter().find(|e| e.name == "one.txt").unwrap();
        assert_eq!(
            file.fact("type").map(str::to_ascii_lowercase).as_deref(),
            Some("file")
        );
        assert_eq!(file.fact("size"), Some("1"));
        let sub = entries.iter().find(|e| e.name == "sub").unwrap();
        assert_eq!(
            sub.fact("type").map(str::to_ascii_lowercase).as_deref(),
            Some("dir")
        );
    }
    for name in ["one.txt", "two words.txt", "caf\u{e9}.txt"] {
        c.delete(name).unwrap();
    }
    c.rmd("sub").unwrap();
    c.cwd("..").unwrap();
    c.rmd(&dir).unwrap();
    c.quit().unwrap();
}

/// One large transfer each way, checked by hash.
pub fn big_transfer(target: &Target) {
    let mut c = target.connect(DataMode::Passive);
    let name = unique("big");
    let data = random_bytes(target.big, 3);
    c.put(&name, &mut data.as_slice()).unwrap();
    assert_eq!(c.size(&name).unwrap(), data.len() as u64);
    let mut back = Vec::with_capacity(data.len());
    c.get(&name, &mut back).unwrap();
    assert_eq!(
        sha256_hex(&back),
        sha256_hex(&data),
        "{}: big transfer",
        target.name
    );
    c.delete(&name).unwrap();
    c.quit().unwrap();
}

/// `list_entries` (MLSD where offered, else LIST) and the LIST parser give
/// the same typed entries for the same directory.
pub fn typed_listing(target: &Target) {
    let mut c = target.connect(DataMode::Passive);
    let dir = unique("typed");
    c.mkd(&dir).unwrap();
    c.cwd(&dir).unwrap();
    c.put("one.txt", &mut &b"12345"[..]).unwrap();
    c.put("two words.txt", &mut &b"abc"[..]).unwrap();
    c.mkd("sub").unwrap();
    let now = SystemTime::now();
    for use_list in [false, true] {
        let entries: Vec<ftpkit::list::Entry> = if use_list {
            c.list_entries_from_list("")
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        } else {
            c.list_entries("")
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let mut summary: Vec<(String, bool, Option<u64>)> = entries
            .iter()
            .filter(|e| e.name != "." && e.name != "..")
            .map(|e| {
                let size = if e.is_dir() { None } else { e.size };
                (e.name.to_string_lossy().into_owned(), e.is_dir(), size)
            })
            .collect();
        summary.sort();
        assert_eq!(
            summary,
            [
                ("one.txt".to_owned(), false, Some(5)),
                ("sub".to_owned(), true, None),
                ("two words.txt".to_owned(), false, Some(3)),
            ],
            "{} (LIST: {use_list}): {entries:?}",
            target.name
        );
        for e in &entries {
            if let Some(t) = e.modified {
                let off = now
                    .duration_since(t)
                    .or_else(|e| Ok::<_, ()>(e.duration()))
                    .unwrap_or_default();
                assert!(
                    off.as_secs() < 2 * 86_400,
                    "{}: {:?} modified {t:?}",
                    target.name,
                    e.name
                );
            }
        }
    }
    c.delete("one.txt").unwrap();
    c.delete("two words.txt").unwrap();
    c.rmd("sub").unwrap();
    c.cwd("..").unwrap();
    c.rmd(&dir).unwrap();
    c.quit().unwrap();
}

/// `upload` (through a temporary name) and `download` (resuming a `.part`
/// file): byte-identical both ways, sizes verified, and a content hash
/// wherever the server advertises a checksum command.
pub fn verified_files(target: &Target) {
    let mut c = target.connect(DataMode::Passive);
    let dir = unique("verified");
    c.mkd(&dir).unwrap();
    c.cwd(&dir).unwrap();
    let hash_offered = ftpkit::proto::hash::HashCommand::choose(c.features().unwrap()).is_some();
    let local = tempfile::tempdir().unwrap();
    let data = random_bytes(3 << 20, 31);
    let src = local.path().join("src.bin");
    std::fs::write(&src, &data).unwrap();

    let up = c.upload(&src, "v.bin").temp_name(true).run().unwrap();
    assert_eq!(up.verified.size, Some(data.len() as u64), "{}", target.name);
    assert_eq!(up.verified.hash.is_some(), hash_offered, "{}", target.name);
    assert!(
        c.size("v.bin.part").is_err(),
        "{}: temporary name left",
        target.name
    );

    let dst = local.path().join("dst.bin");
    std::fs::write(local.path().join("dst.bin.part"), &data[..1 << 20]).unwrap();
    let down = c.download("v.bin", &dst).run().unwrap();
    assert_eq!(down.resumed_from, 1 << 20, "{}", target.name);
    assert_eq!(
        ftpkit_testkit::sha256_file(&dst),
        sha256_hex(&data),
        "{}: verified download",
        target.name
    );
    assert_eq!(
        down.verified.hash.is_some(),
        hash_offered,
        "{}",
        target.name
    );
    if target.mdtm {
        assert!(down.mtime_preserved, "{}", target.name);
    }
    c.delete("v.bin").unwrap();
    c.cdup().unwrap();
    c.rmd(&dir).unwrap();
}
