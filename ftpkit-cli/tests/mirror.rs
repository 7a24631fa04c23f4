//! `ftpkit mirror` end to end: a 1,000-file tree both ways with hash
//! checks, only-changed copies, --delete, --dry-run, filters, and hostile
//! server names that must never write outside the target folder.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    process::Output,
};

use ftpkit_testkit::{Behavior, MemoryServer, UnftpServer, random_bytes, sha256_file, sha256_hex};

fn ftpkit(args: &[&str], cwd: &Path) -> Output {
    ftpkit_testkit::command(env!("CARGO_BIN_EXE_ftpkit"))
        .args(["--timeout", "10"])
        .args(args)
        .current_dir(cwd)
        .env_remove("FTPKIT_PASSWORD")
        .output()
        .expect("run ftpkit")
}

fn ok(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{err}");
    err
}

/// Every file under `root`, by relative path, with its SHA-256.
fn hashes(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for item in fs::read_dir(dir).unwrap() {
            let path = item.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, sha256_file(&path));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// 1,000 files of 1–8 KiB in ten directories, two of them nested.
fn make_tree(root: &Path) -> BTreeMap<String, String> {
    let mut want = BTreeMap::new();
    for d in 0..10 {
        let dir: PathBuf = if d < 2 {
            root.join(format!("d{d}")).join("inner")
        } else {
            root.join(format!("d{d}"))
        };
        fs::create_dir_all(&dir).unwrap();
        for f in 0..100 {
            let data = random_bytes(1024 + (d * 100 + f) * 7 % 7168, (d * 1000 + f) as u64);
            let path = dir.join(format!("f{f:03}.bin"));
            fs::write(&path, &data).unwrap();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            want.insert(rel, sha256_hex(&data));
        }
    }
    want
}

#[test]
fn mirror_a_thousand_files_both_ways_with_hash_checks() {
    let server = UnftpServer::start();
    let work = tempfile::tempdir().unwrap();
    let src = server.root().join("tree");
    let want = make_tree(&src);
    assert_eq!(want.len(), 1000);
    let url = format!("ftp://{}/tree/", server.addr());

    // Download over four connections.
    let err = ok(&ftpkit(
        &["mirror", "--parallel", "4", &url, "down"],
        work.path(),
    ));
    assert!(err.contains("1000 files copied"), "{err}");
    assert_eq!(hashes(&work.path().join("down")), want);

    // Nothing changed: nothing copied.
    let err = ok(&ftpkit(&["mirror", &url, "down"], work.path()));
    assert!(
        err.contains("0 files copied") && err.contains("1000 up to date"),
        "{err}"
    );

    // One file changed, one gone: one copy, and --delete removes the other.
    fs::write(src.join("d5/f007.bin"), b"changed").unwrap();
    fs::remove_file(src.join("d6/f001.bin")).unwrap();
    let out = ftpkit(
        &["mirror", "--dry-run", "--delete", &url, "down"],
        work.path(),
    );
    ok(&out);
    let plan = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        plan.contains("get d5/f007.bin") && plan.contains("delete d6/f001.bin"),
        "{plan}"
    );
    assert!(
        work.path().join("down/d6/f001.bin").exists(),
        "dry run changed nothing"
    );
    let err = ok(&ftpkit(&["mirror", "--delete", &url, "down"], work.path()));
    assert!(
        err.contains("1 files copied") && err.contains("1 deleted"),
        "{err}"
    );
    assert_eq!(hashes(&work.path().join("down")), hashes(&src));

    // Upload the local copy to a new remote directory.
    let up_url = format!("ftp://{}/up/copy/", server.addr());
    let err = ok(&ftpkit(
        &["mirror", "--reverse", "--parallel", "4", "down", &up_url],
        work.path(),
    ));
    assert!(err.contains("999 files copied"), "{err}");
    assert_eq!(hashes(&server.root().join("up/copy")), hashes(&src));
    let err = ok(&ftpkit(
        &["mirror", "--reverse", "down", &up_url],
        work.path(),
    ));
    assert!(
        err.contains("0 files copied") && err.contains("999 up to date"),
        "{err}"
    );
}

#[test]
fn mirror_filters_choose_what_is_copied() {
    let server = UnftpServer::start();
    let work = tempfile::tempdir().unwrap();
    let src = server.root().join("f");
    fs::create_dir_all(src.join("tmp")).unwrap();
    fs::create_dir_all(src.join("keep")).unwrap();
    fs::write(src.join("a.csv"), b"a").unwrap();
    fs::write(src.join("b.txt"), b"b").unwrap();
    fs::write(src.join("keep/c.csv"), b"c").unwrap();
    fs::write(src.join("tmp/d.csv"), b"d").unwrap();
    let url = format!("ftp://{}/f/", server.addr());
    ok(&ftpkit(
        &[
            "mirror",
            "--include",
            "*.csv",
            "--exclude",
            "tmp",
            &url,
            "out",
        ],
        work.path(),
    ));
    let got: Vec<String> = hashes(&work.path().join("out")).into_keys().collect();
    assert_eq!(got, ["a.csv", "keep/c.csv"]);
}

#[test]
fn hostile_server_names_never_leave_the_target_folder() {
    let mut listings = BTreeMap::new();
    listings.insert(
        String::new(),
        [
            "type=file;size=2; ../escape.txt",
            "type=file;size=2; /tmp/abs.txt",
            "type=file;size=2; a/b.txt",
            "type=file;size=2; a\\b.txt",
            "type=file;size=2; bell\u{7}.txt",
            "type=file;size=2; ..",
            "type=dir; ..",
            "type=OS.unix=symlink; link",
            "type=file;size=2; ok.txt",
            "type=dir; sub",
            "type=dir; planted",
        ]
        .join("\r\n")
            + "\r\n",
    );
    listings.insert(
        "sub".into(),
        "type=file;size=2; ../../up.txt\r\ntype=file;size=2; fine.txt\r\n".into(),
    );
    listings.insert("planted".into(), "type=file;size=2; x.txt\r\n".into());
    let server = MemoryServer::with_behavior(Behavior {
        listings,
        hashes: vec![],
        ..Behavior::default()
    });
    for name in [
        "ok.txt",
        "sub/fine.txt",
        "planted/x.txt",
        "../escape.txt",
        "a/b.txt",
    ] {
        server.put_file(name, b"hi".to_vec());
    }
    let work = tempfile::tempdir().unwrap();
    let outside = work.path().join("outside");
    fs::create_dir(&outside).unwrap();
    let target = work.path().join("target");
    fs::create_dir(&target).unwrap();
    // A symlink planted in the target, pointing outside it.
    std::os::unix::fs::symlink(&outside, target.join("planted")).unwrap();

    let url = format!("ftp://u:p@{}/", server.addr());
    let out = ftpkit(&["mirror", "--delete", &url, "target"], work.path());
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(10), "unsafe names skipped: {err}");
    assert!(!err.contains(" in : "), "the login folder is named: {err}");
    let files: Vec<String> = hashes(&target).into_keys().collect();
    assert_eq!(files, ["ok.txt", "sub/fine.txt"], "{err}");
    assert_eq!(
        fs::read_dir(&outside).unwrap().count(),
        0,
        "nothing written outside"
    );
    assert!(!work.path().join("escape.txt").exists() && !work.path().join("up.txt").exists());
    assert!(
        target.join("planted").is_symlink(),
        "the planted link is left alone"
    );
    for shown in [
        "../escape.txt",
        "a/b.txt",
        "a\\b.txt",
        "bell\\u{7}.txt",
        "symlinks are not followed",
        "planted",
    ] {
        assert!(err.contains(shown), "no warning naming {shown}: {err}");
    }
    assert!(!err.contains('\u{7}'), "control characters are escaped");
}

/// A server without MLSD (vsftpd): LIST gives times to the minute, MDTM to
/// the second. An unchanged tree must not be fetched again.
#[test]
fn an_unchanged_mirror_from_a_list_only_server_transfers_nothing_the_second_time() {
    let server = MemoryServer::with_behavior(Behavior {
        list_only: true,
        ..Behavior::default()
    });
    // An hour ago at 37 seconds past the minute: LIST shows the minute only.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let recent = std::time::UNIX_EPOCH + std::time::Duration::from_secs(now / 60 * 60 - 3600 + 37);
    for (name, data) in [
        ("a.txt", &b"alpha"[..]),
        ("d/b.txt", b"bravo"),
        ("d/e/c.txt", b"c"),
    ] {
        server.put_file(name, data.to_vec());
        server.set_modified(name, recent);
    }
    let work = tempfile::tempdir().unwrap();
    let url = format!("ftp://u:p@{}/", server.addr());
    let retrs = || {
        server
            .commands()
            .iter()
            .filter(|c| c.starts_with("RETR "))
            .count()
    };

    let err = ok(&ftpkit(&["mirror", &url, "copy"], work.path()));
    assert!(server.commands().iter().any(|c| c == "LIST"), "{err}");
    assert_eq!(retrs(), 3, "{err}");
    assert!(
        !err.contains("ftpkit: warning"),
        "no warning for . and ..: {err}"
    );
    let local = fs::metadata(work.path().join("copy/d/b.txt"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        local, recent,
        "the local time comes from MDTM, to the second"
    );

    let err = ok(&ftpkit(&["mirror", &url, "copy"], work.path()));
    assert_eq!(retrs(), 3, "the second run fetched files again: {err}");
    assert!(
        err.contains("0 files copied") && err.contains("3 up to date"),
        "{err}"
    );

    // A file changed since is fetched, and only it.
    server.put_file("d/b.txt", b"bravo, changed".to_vec());
    let err = ok(&ftpkit(&["mirror", &url, "copy"], work.path()));
    assert_eq!(retrs(), 4, "{err}");
    assert_eq!(
        fs::read(work.path().join("copy/d/b.txt")).unwrap(),
        b"bravo, changed"
    );
}

#[test]
fn mirror_splits_the_files_over_the_segment_threshold_only() {
    let server = UnftpServer::start();
    let src = server.root().join("tree");
    fs::create_dir_all(src.join("d")).unwrap();
    let big = random_bytes((3 << 20) + 5, 2);
    let small = random_bytes(100_000, 3);
    fs::write(src.join("d/big.bin"), &big).unwrap();
    fs::write(src.join("small.bin"), &small).unwrap();
    let work = tempfile::tempdir().unwrap();
    let url = format!("ftp://{}/tree/", server.addr());
    // Paced (per connection), so that the big file's first connection is
    // still at it when the others have logged in.
    let err = ok(&ftpkit(
        &[
            "-v",
            "mirror",
            "--segment-threshold",
            "2M",
            "--limit-rate",
            "8M",
            &url,
            "down",
        ],
        work.path(),
    ));
    let down = work.path().join("down");
    assert_eq!(sha256_file(down.join("d/big.bin")), sha256_hex(&big));
    assert_eq!(sha256_file(down.join("small.bin")), sha256_hex(&small));
    assert!(!down.join("d/big.bin.part.segments").exists());
    // The first connection starts with the whole file at its first byte;
    // another one takes the far half (REST), each part 1 MiB or more: no
    // third part of 3 MiB is that big.
    let rests = err.lines().filter(|l| l.contains("> REST ")).count();
    assert_eq!(rests, 1, "{err}");

    // --segments 1: no ranges at all.
    fs::remove_dir_all(&down).unwrap();
    let err = ok(&ftpkit(
        &[
            "-v",
            "mirror",
            "--segments",
            "1",
            "--segment-threshold",
            "2M",
            &url,
            "down",
        ],
        work.path(),
    ));
    assert_eq!(sha256_file(down.join("d/big.bin")), sha256_hex(&big));
    assert!(!err.contains("> REST "), "{err}");
}
