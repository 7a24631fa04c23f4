//! `ftpkit shell` driven through its standard input, credentials from
//! netrc and the environment (checked in the server's transcript), and the
//! completion scripts and man page.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::{
    fs,
    io::Write,
    path::Path,
    process::{Output, Stdio},
};

use ftpkit_testkit::{
    FakeServer, MemoryServer, Script, UnftpServer, random_bytes, sha256_file, sha256_hex,
};

fn ftpkit_with_stdin(args: &[&str], cwd: &Path, stdin: &str) -> Output {
    let mut child = ftpkit_testkit::command(env!("CARGO_BIN_EXE_ftpkit"))
        .args(["--timeout", "10", "--no-netrc"])
        .args(args)
        .current_dir(cwd)
        .env_remove("FTPKIT_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ftpkit");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn shell_runs_a_script_from_stdin() {
    let server = UnftpServer::start();
    let work = tempfile::tempdir().unwrap();
    let a = random_bytes(300_000, 1);
    fs::write(work.path().join("a.bin"), &a).unwrap();
    fs::write(work.path().join("n1.txt"), b"one").unwrap();
    fs::write(work.path().join("n2.txt"), b"two").unwrap();
    fs::create_dir(work.path().join("back")).unwrap();
    let script = "\
pwd
mkdir d
cd d
put a.bin
mput *.txt
ls
size a.bin
cd nowhere
get a.bin copy.bin
lcd back
mget *.txt
rm a.bin
nls
bye
this line is never read
";
    let out = ftpkit_with_stdin(
        &["shell", &format!("ftp://{}/", server.addr())],
        work.path(),
        script,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The failed cd is reported and the session goes on; the exit code is
    // that of the failure (5: the server refused a file command).
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");
    assert!(stderr.contains("nowhere"), "{stderr}");
    assert!(stdout.lines().next().unwrap().starts_with('/'), "{stdout}");
    assert!(stdout.contains("300000"), "size printed: {stdout}");
    assert!(stdout.contains("n1.txt") && stdout.contains("n2.txt"));
    assert_eq!(sha256_file(work.path().join("copy.bin")), sha256_hex(&a));
    assert_eq!(fs::read(work.path().join("back/n1.txt")).unwrap(), b"one");
    assert_eq!(fs::read(work.path().join("back/n2.txt")).unwrap(), b"two");
    assert!(!server.root().join("d/a.bin").exists(), "rm ran");
    assert_eq!(fs::read(server.root().join("d/n2.txt")).unwrap(), b"two");
    assert!(stderr.contains("verified"), "result lines: {stderr}");
}

#[test]
fn shell_without_failures_exits_0_and_unknown_commands_fail() {
    let server = UnftpServer::start();
    let work = tempfile::tempdir().unwrap();
    let url = format!("ftp://{}/", server.addr());
    let out = ftpkit_with_stdin(&["shell", &url], work.path(), "help\npwd\n");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("mget GLOB"));
    let out = ftpkit_with_stdin(&["shell", &url], work.path(), "frobnicate\n");
    assert_eq!(out.status.code(), Some(2));
}

fn netrc_server(user: &str, pass: &str) -> FakeServer {
    FakeServer::start(vec![
        Script::new()
            .reply("220 hi")
            .expect(&format!("USER {user}"))
            .reply("331 password")
            .expect(&format!("PASS {pass}"))
            .reply("230 in")
            .expect("PWD")
            .reply("257 \"/\"")
            .expect("QUIT")
            .reply("221 bye"),
    ])
}

fn pwd_with(args: &[&str], url: &str, env: Option<&str>) -> Output {
    let mut cmd = ftpkit_testkit::command(env!("CARGO_BIN_EXE_ftpkit"));
    cmd.args(["--timeout", "5"])
        .args(args)
        .args(["quote", url, "PWD"])
        .env_remove("FTPKIT_PASSWORD")
        .stdin(Stdio::null());
    if let Some(pw) = env {
        cmd.env("FTPKIT_PASSWORD", pw);
    }
    cmd.output().unwrap()
}

#[test]
fn credentials_come_from_netrc_then_env_then_url() {
    let dir = tempfile::tempdir().unwrap();
    let netrc = dir.path().join("netrc");
    fs::write(
        &netrc,
        "machine 127.0.0.1 login bob password \"from netrc\"\nmachine 127.0.0.1 login alice password alice-pw\ndefault login anonymous password guest@\n",
    )
    .unwrap();
    let file = netrc.to_str().unwrap();

    // No user in the URL: the machine's first entry.
    let server = netrc_server("bob", "from netrc");
    let out = pwd_with(
        &["--netrc-file", file],
        &format!("ftp://{}/", server.addr()),
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.finish();

    // A user in the URL picks that user's entry.
    let server = netrc_server("alice", "alice-pw");
    let out = pwd_with(
        &["--netrc-file", file],
        &format!("ftp://alice@{}/", server.addr()),
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.finish();

    // FTPKIT_PASSWORD beats netrc; the URL's password beats both.
    let server = netrc_server("alice", "from-env");
    let out = pwd_with(
        &["--netrc-file", file],
        &format!("ftp://alice@{}/", server.addr()),
        Some("from-env"),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.finish();
    let server = netrc_server("alice", "in-url");
    let out = pwd_with(
        &["--netrc-file", file],
        &format!("ftp://alice:in-url@{}/", server.addr()),
        Some("from-env"),
    );
    assert_eq!(out.status.code(), Some(0));
    server.finish();

    // --no-netrc: anonymous.
    let server = netrc_server("anonymous", "anonymous@");
    let out = pwd_with(&["--no-netrc"], &format!("ftp://{}/", server.addr()), None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.finish();

    // A netrc file named but unreadable is a usage error.
    let out = pwd_with(
        &["--netrc-file", "/nonexistent/netrc"],
        "ftp://127.0.0.1:9/",
        None,
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn completions_and_man_page_cover_every_command() {
    for shell in ["bash", "zsh", "fish"] {
        let out = ftpkit_testkit::command(env!("CARGO_BIN_EXE_ftpkit"))
            .args(["completions", shell])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout);
        for sub in ["mirror", "shell", "get", "put"] {
            assert!(text.contains(sub), "{shell}: {sub}");
        }
    }
    let out = ftpkit_testkit::command(env!("CARGO_BIN_EXE_ftpkit"))
        .arg("man")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with(".ie") || text.contains(".TH"), "{text}");
    assert!(text.contains("mirror") && text.contains("Exit codes"));
}

#[test]
fn mget_skips_hostile_names_with_a_warning_and_fetches_the_rest() {
    let server = MemoryServer::start();
    for name in ["d/a\\b.txt", "d/bell\u{7}.txt", "d/ok.txt"] {
        server.put_file(name, b"hi".to_vec());
    }
    let work = tempfile::tempdir().unwrap();
    let out = ftpkit_with_stdin(
        &["shell", &format!("ftp://u:p@{}/", server.addr())],
        work.path(),
        "mget d/*.txt\nbye\n",
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(10), "{err}");
    assert_eq!(
        fs::read(work.path().join("ok.txt")).unwrap(),
        b"hi",
        "{err}"
    );
    let mut names: Vec<String> = fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["ok.txt"], "{err}");
    assert!(
        err.contains("a\\b.txt") && err.contains("bell\\u{7}.txt"),
        "{err}"
    );
    assert!(
        !err.contains('\u{7}'),
        "control characters are escaped: {err:?}"
    );
}

/// With `--encoding latin1`, the shell sends typed paths in Latin-1, shows
/// the server's names in UTF-8, and `mget` writes the Latin-1 name it
/// matched as a UTF-8 local name: exact bytes on the wire.
#[test]
fn shell_speaks_the_servers_charset() {
    let old: &[u8] = b"r\xe9sum\xe9.pdf";
    let new: &[u8] = b"vieux-r\xe9sum\xe9.pdf";
    let with = |verb: &[u8], name: &[u8]| [verb, name].concat();
    let server = FakeServer::start(vec![
        Script::login_anonymous()
            .expect("PWD")
            .raw(b"257 \"/d\xe9p\xf4t\" is the current directory\r\n")
            .expect_bytes(&with(b"RNFR ", old))
            .reply("350 go on")
            .expect_bytes(&with(b"RNTO ", new))
            .reply("250 renamed")
            .expect("TYPE A")
            .reply("200 ok")
            .expect("EPSV")
            .epsv()
            .expect("NLST")
            .reply("150 here")
            .send_data(&[new, b"\r\nautre.txt\r\n"].concat())
            .reply("226 done")
            .expect("TYPE I")
            .reply("200 ok")
            .expect("FEAT")
            .reply("211 no features")
            .expect_bytes(&with(b"SIZE ", new))
            .reply("213 4")
            .expect_bytes(&with(b"MDTM ", new))
            .reply("550 no")
            .expect("EPSV")
            .epsv()
            .expect_bytes(&with(b"RETR ", new))
            .reply("150 go")
            .send_data(b"data")
            .reply("226 done")
            .expect_bytes(&with(b"DELE ", new))
            .reply("250 gone")
            .expect("QUIT")
            .reply("221 bye"),
    ]);
    let work = tempfile::tempdir().unwrap();
    let script = "pwd\nmv résumé.pdf vieux-résumé.pdf\nmget vieux*\nrm vieux-résumé.pdf\nbye\n";
    let out = ftpkit_with_stdin(
        &[
            "-q",
            "--encoding",
            "latin1",
            "shell",
            &format!("ftp://{}/", server.addr()),
        ],
        work.path(),
        script,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "/dépôt\n");
    assert_eq!(
        fs::read(work.path().join("vieux-résumé.pdf")).unwrap(),
        b"data"
    );
    server.finish();
}
