//! `ftpkit get --segments N` and `mirror`'s segmented downloads of large
//! files, end to end: the files arrive byte-exact, over the connections
//! asked for, with no `.part` or progress record left.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::{
    fs,
    path::Path,
    process::{Command, Output},
};

use ftpkit_testkit::{MemoryServer, UnftpServer, random_bytes, sha256_file, sha256_hex};

fn ftpkit(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ftpkit"))
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

#[test]
fn get_with_segments_fetches_one_file_over_that_many_connections() {
    let server = MemoryServer::start();
    let data = random_bytes((5 << 20) + 17, 1);
    server.put_file("big.bin", data.clone());
    let work = tempfile::tempdir().unwrap();
    let url = format!("ftp://u:p@{}/big.bin", server.addr());
    let err = ok(&ftpkit(&["get", "--segments", "4", &url], work.path()));
    assert!(err.contains("SHA-256 verified"), "{err}");
    assert_eq!(sha256_file(work.path().join("big.bin")), sha256_hex(&data));
    assert!(!work.path().join("big.bin.part").exists());
    assert!(!work.path().join("big.bin.part.segments").exists());
    let commands = server.commands();
    let retrs = commands.iter().filter(|c| c.starts_with("RETR ")).count();
    assert_eq!(retrs, 4, "{commands:?}");
    assert_eq!(server.logins(), 4);
}

#[test]
fn segments_out_of_range_are_a_usage_error() {
    let work = tempfile::tempdir().unwrap();
    for n in ["0", "17"] {
        let out = ftpkit(
            &["get", "--segments", n, "ftp://127.0.0.1:9/f"],
            work.path(),
        );
        assert_eq!(out.status.code(), Some(2), "--segments {n}");
    }
}

#[test]
fn mirror_splits_the_files_over_the_threshold_only() {
    let server = UnftpServer::start();
    let src = server.root().join("tree");
    fs::create_dir_all(src.join("d")).unwrap();
    let big = random_bytes((3 << 20) + 5, 2);
    let small = random_bytes(100_000, 3);
    fs::write(src.join("d/big.bin"), &big).unwrap();
    fs::write(src.join("small.bin"), &small).unwrap();
    let work = tempfile::tempdir().unwrap();
    let url = format!("ftp://{}/tree/", server.addr());
    let err = ok(&ftpkit(
        &["-v", "mirror", "--segment-threshold", "2M", &url, "down"],
        work.path(),
    ));
    let down = work.path().join("down");
    assert_eq!(sha256_file(down.join("d/big.bin")), sha256_hex(&big));
    assert_eq!(sha256_file(down.join("small.bin")), sha256_hex(&small));
    assert!(!down.join("d/big.bin.part.segments").exists());
    // Three ranges of at least 1 MiB, each from its start but the first.
    let rests = err.lines().filter(|l| l.contains("> REST ")).count();
    assert_eq!(rests, 2, "{err}");

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
