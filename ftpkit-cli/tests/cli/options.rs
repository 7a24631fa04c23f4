//! `get`/`put --parallel`, `put --create-dirs`, `--ascii`, `chmod` and
//! `mirror --perms`, against the in-process libunftp server, the scripted
//! fake server and, where they run, the interop servers.

use std::{collections::BTreeMap, fs, os::unix::fs::PermissionsExt, path::Path};

use ftpkit_testkit::{FakeServer, Script, UnftpServer, random_bytes, sha256_file, sha256_hex};

use super::{code, ftpkit, stderr, url};

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn put_and_get_in_parallel_move_every_file_intact() {
    let server = UnftpServer::start();
    fs::create_dir(server.root().join("up")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..10).map(|i| format!("f{i}.bin")).collect();
    for (i, name) in names.iter().enumerate() {
        fs::write(
            dir.path().join(name),
            random_bytes(200_000 + i * 7_919, i as u64),
        )
        .unwrap();
    }
    let mut args = vec!["put", "--parallel", "4"];
    args.extend(names.iter().map(String::as_str));
    let dest = url(&server, "up/");
    args.push(&dest);
    let out = ftpkit(&args, dir.path());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    for (i, name) in names.iter().enumerate() {
        assert_eq!(
            sha256_file(server.root().join("up").join(name)),
            sha256_hex(&random_bytes(200_000 + i * 7_919, i as u64)),
            "{name}"
        );
    }

    fs::create_dir(dir.path().join("down")).unwrap();
    let out = ftpkit(
        &["get", "-P", "4", "-o", "down", &url(&server, "up/*.bin")],
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    for (i, name) in names.iter().enumerate() {
        assert_eq!(
            sha256_file(dir.path().join("down").join(name)),
            sha256_hex(&random_bytes(200_000 + i * 7_919, i as u64)),
            "{name}"
        );
    }
}

#[test]
fn a_failed_file_in_a_parallel_get_leaves_the_others_and_sets_the_exit_code() {
    let server = UnftpServer::start();
    for i in 0..8 {
        fs::write(
            server.root().join(format!("g{i}")),
            random_bytes(50_000, 100 + i),
        )
        .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let mut urls: Vec<String> = (0..8).map(|i| url(&server, &format!("g{i}"))).collect();
    urls.insert(3, url(&server, "missing"));
    let mut args = vec!["get", "--parallel", "4", "-o", "."];
    args.extend(urls.iter().map(String::as_str));
    // Loud: the result lines come in the order of the arguments.
    let out = ftpkit_testkit::command(env!("CARGO_BIN_EXE_ftpkit"))
        .args(["--timeout", "10"])
        .args(&args)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 5, "{}", stderr(&out));
    for i in 0..8 {
        assert_eq!(
            sha256_file(dir.path().join(format!("g{i}"))),
            sha256_hex(&random_bytes(50_000, 100 + i))
        );
    }
    let text = stderr(&out);
    let order: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split(':').next())
        .map(|first| first.trim_start_matches("./"))
        .filter(|first| first.starts_with('g') || *first == "ftpkit")
        .collect();
    assert_eq!(
        order,
        ["g0", "g1", "g2", "ftpkit", "g3", "g4", "g5", "g6", "g7"],
        "{text}"
    );
    assert!(text.contains("ftpkit: missing: "), "{text}");
    assert!(!dir.path().join("missing").exists());

    let other = UnftpServer::start();
    let out = ftpkit(
        &["get", "-P", "2", &url(&server, "g0"), &url(&other, "g0")],
        dir.path(),
    );
    assert_eq!(code(&out), 2, "one server only: {}", stderr(&out));
}

#[test]
fn put_create_dirs_makes_each_missing_level() {
    let server = UnftpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let data = random_bytes(30_000, 7);
    fs::write(dir.path().join("r.bin"), &data).unwrap();

    let out = ftpkit(&["put", "r.bin", &url(&server, "x/y/z/r.bin")], dir.path());
    assert_eq!(
        code(&out),
        5,
        "no directory, no --create-dirs: {}",
        stderr(&out)
    );

    let out = ftpkit(
        &[
            "put",
            "--create-dirs",
            "r.bin",
            &url(&server, "x/y/z/r.bin"),
        ],
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        sha256_file(server.root().join("x/y/z/r.bin")),
        sha256_hex(&data)
    );

    // Levels that exist are accepted; a directory URL and parallel too.
    fs::write(dir.path().join("s.bin"), &data).unwrap();
    let out = ftpkit(
        &[
            "put",
            "--create-dirs",
            "-P",
            "2",
            "r.bin",
            "s.bin",
            &url(&server, "x/y/w/"),
        ],
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        sha256_file(server.root().join("x/y/w/s.bin")),
        sha256_hex(&data)
    );

    // A file where a directory should be is not taken for one.
    fs::write(server.root().join("x/plain"), b"f").unwrap();
    let out = ftpkit(
        &[
            "put",
            "--create-dirs",
            "r.bin",
            &url(&server, "x/plain/r.bin"),
        ],
        dir.path(),
    );
    assert_eq!(code(&out), 5, "{}", stderr(&out));
}

#[test]
fn ascii_downloads_convert_crlf_and_uploads_send_crlf() {
    let server = FakeServer::start(vec![
        Script::login_anonymous()
            .expect("TYPE A")
            .reply("200 ok")
            .expect("EPSV")
            .epsv()
            .expect("RETR notes.txt")
            .reply("150 go")
            .send_data(b"one\r\ntwo\r\nbare\rcr\r\n")
            .reply("226 done")
            .expect("QUIT")
            .reply("221 bye"),
        Script::login_anonymous()
            .expect("TYPE A")
            .reply("200 ok")
            .expect("EPSV")
            .epsv()
            .expect("STOR up.txt")
            .reply("150 go")
            .recv_data()
            .reply("226 done")
            .expect("QUIT")
            .reply("221 bye"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let base = format!("ftp://{}", server.addr());
    let out = ftpkit(
        &["get", "--ascii", &format!("{base}/notes.txt")],
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        fs::read(dir.path().join("notes.txt")).unwrap(),
        b"one\ntwo\nbare\rcr\n"
    );
    assert!(!dir.path().join("notes.txt.part").exists());

    fs::write(dir.path().join("up.txt"), b"alpha\nbeta\r\ngamma").unwrap();
    let out = ftpkit(
        &["put", "--ascii", "up.txt", &format!("{base}/up.txt")],
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let transcript = server.finish();
    assert_eq!(transcript.uploads, [b"alpha\r\nbeta\r\ngamma\r\n".to_vec()]);

    let out = ftpkit(
        &["get", "--ascii", "-c", &format!("{base}/notes.txt")],
        dir.path(),
    );
    assert_eq!(code(&out), 2, "text cannot resume: {}", stderr(&out));
}

#[test]
fn chmod_sends_site_chmod_and_explains_a_server_without_it() {
    let server = FakeServer::start(vec![
        Script::login_anonymous()
            .expect("SITE CHMOD 755 bin/run.sh")
            .reply("200 SITE CHMOD command successful")
            .expect("SITE CHMOD 755 /abs/x")
            .reply("200 ok")
            .expect("QUIT")
            .reply("221 bye"),
        Script::login_anonymous()
            .expect("SITE CHMOD 644 f")
            .reply("500 'SITE CHMOD' not understood"),
        Script::login_anonymous()
            .expect("SITE CHMOD 4711 secret")
            .reply("550 secret: Operation not permitted"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let base = format!("ftp://{}", server.addr());
    for bad in ["999", "0o755", "12345", "u+x"] {
        let out = ftpkit(&["chmod", bad, &format!("{base}/f")], dir.path());
        assert_eq!(code(&out), 2, "{bad}: {}", stderr(&out));
    }
    let out = ftpkit(
        &[
            "chmod",
            "0755",
            &format!("{base}/bin/run.sh"),
            &format!("{base}/%2Fabs/x"),
        ],
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    let out = ftpkit(&["chmod", "644", &format!("{base}/f")], dir.path());
    assert_eq!(code(&out), 5, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the server does not offer SITE CHMOD: 500"),
        "{}",
        stderr(&out)
    );
    let out = ftpkit(&["chmod", "4711", &format!("{base}/secret")], dir.path());
    assert_eq!(code(&out), 5, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("secret: SITE CHMOD refused: 550"),
        "{}",
        stderr(&out)
    );
    let transcript = server.finish();
    assert!(
        transcript
            .commands
            .iter()
            .all(|c| !c.contains("999") && !c.contains("u+x")),
        "bad modes are refused before connecting: {:?}",
        transcript.commands
    );
}

/// The interop servers' settings (`servers.env`), or `None` when they
/// are not running.
fn interop_env() -> Option<BTreeMap<String, String>> {
    let dir = std::env::var("FTPKIT_INTEROP_DIR").unwrap_or_else(|_| "/tmp/ftpkit-interop".into());
    let text = fs::read_to_string(format!("{dir}/servers.env")).ok()?;
    let mut env: BTreeMap<String, String> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
        .collect();
    env.insert("DIR".into(), dir);
    Some(env)
}

#[test]
fn mirror_perms_carries_modes_both_ways() {
    // pyftpdlib lists modes and offers SITE CHMOD; its home is on this disk.
    let Some(env) = interop_env() else {
        eprintln!("skipped: the interop servers are not running");
        return;
    };
    let addr = env
        .get("FTPKIT_INTEROP_SERVERS")
        .and_then(|list| list.split(' ').find_map(|s| s.strip_prefix("pyftpdlib=")))
        .expect("servers.env names pyftpdlib")
        .to_owned();
    let home = Path::new(&env["DIR"]).join("pyftpdlib/home");
    let unique = format!("cli-perms-{}", std::process::id());
    let base = format!(
        "ftp://{}:{}@{addr}/{unique}",
        env["FTPKIT_INTEROP_USER"], env["FTPKIT_INTEROP_PASS"]
    );
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("run.sh", 0o751),
        ("sub/private", 0o600),
        ("pub.txt", 0o664),
    ];
    fs::create_dir_all(dir.path().join("up/sub")).unwrap();
    for (name, m) in files {
        let path = dir.path().join("up").join(name);
        fs::write(&path, name.as_bytes()).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(m)).unwrap();
    }
    let out = ftpkit(
        &["mirror", "--reverse", "--perms", "up", &format!("{base}/")],
        dir.path(),
    );
    let remote = home.join(&unique);
    let result = std::panic::catch_unwind(|| {
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        for (name, m) in files {
            assert_eq!(mode(&remote.join(name)), m, "uploaded {name}");
        }
        // Back down, with the server's modes changed on its disk.
        fs::set_permissions(remote.join("run.sh"), fs::Permissions::from_mode(0o705)).unwrap();
        let out = ftpkit(
            &["mirror", "--perms", &format!("{base}/"), "down"],
            dir.path(),
        );
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert_eq!(mode(&dir.path().join("down/run.sh")), 0o705);
        assert_eq!(mode(&dir.path().join("down/sub/private")), 0o600);
        assert_eq!(mode(&dir.path().join("down/pub.txt")), 0o664);
    });
    let _ = fs::remove_dir_all(&remote);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn mirror_perms_is_skipped_with_a_warning_where_the_server_cannot() {
    let server = UnftpServer::start();
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("up")).unwrap();
    fs::write(dir.path().join("up/a.txt"), b"a").unwrap();
    let out = ftpkit_testkit::command(env!("CARGO_BIN_EXE_ftpkit"))
        .args(["--timeout", "10", "mirror", "--reverse", "--perms", "up"])
        .arg(url(&server, "site/"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--perms: the server does not offer SITE CHMOD"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fs::read(server.root().join("site/a.txt")).unwrap(), b"a");
}
