//! End-to-end tests of the `ftpkit` binary against the in-process libunftp
//! server and the scripted fake server.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::{fs, path::Path, process::Output};

use ftpkit_testkit::{
    DataFault, FakeServer, MemoryServer, Script, UnftpServer, random_bytes, sha256_file, sha256_hex,
};

fn ftpkit(args: &[&str], cwd: &Path) -> Output {
    ftpkit_testkit::command(env!("CARGO_BIN_EXE_ftpkit"))
        .args(["--timeout", "5", "-q"])
        .args(args)
        .current_dir(cwd)
        .env_remove("FTPKIT_PASSWORD")
        .output()
        .expect("run ftpkit")
}

/// Like `ftpkit`, without `-q`: the result lines show on stderr (no
/// progress bar: stderr is a pipe).
fn ftpkit_loud(args: &[&str], cwd: &Path) -> Output {
    ftpkit_testkit::command(env!("CARGO_BIN_EXE_ftpkit"))
        .args(["--timeout", "5"])
        .args(args)
        .current_dir(cwd)
        .env_remove("FTPKIT_PASSWORD")
        .output()
        .expect("run ftpkit")
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn url(server: &UnftpServer, path: &str) -> String {
    format!("ftp://{}/{path}", server.addr())
}

#[cfg(unix)]
#[path = "cli/options.rs"]
mod options;

#[test]
fn help_documents_the_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = ftpkit(&["--help"], dir.path());
    assert_eq!(code(&out), 0);
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        "2  usage error",
        "3  network error",
        "4  login refused",
        "5  the server refused",
        "8  incomplete",
        "10  some files were skipped",
    ] {
        assert!(text.contains(line), "--help lacks {line:?}");
    }
    assert_eq!(
        code(&ftpkit(&["get"], dir.path())),
        2,
        "missing arguments are a usage error"
    );
}

#[test]
fn subcommand_help_shows_the_options_that_apply() {
    let dir = tempfile::tempdir().unwrap();
    let help = |command: &str| {
        let out = ftpkit(&[command, "--help"], dir.path());
        assert_eq!(code(&out), 0);
        String::from_utf8(out.stdout).unwrap()
    };
    let ls = help("ls");
    for transfer_only in [
        "--fsync",
        "--sendfile",
        "--unsent-limit",
        "--limit-rate",
        "--retries",
        "--no-verify",
    ] {
        assert!(
            !ls.contains(transfer_only),
            "ls --help shows {transfer_only}"
        );
    }
    assert!(
        ls.contains("TLS options:") && ls.contains("--timeout"),
        "{ls}"
    );
    for command in ["get", "put", "mirror", "shell"] {
        let text = help(command);
        assert!(
            text.contains("Transfer options:") && text.contains("--limit-rate"),
            "{command}: {text}"
        );
    }
    // Transfer options are the command's own: they come after it.
    let out = ftpkit(&["--retries", "2", "ls", "ftp://127.0.0.1:9/"], dir.path());
    assert_eq!(code(&out), 2, "{}", stderr(&out));
}

#[test]
fn put_ls_and_get_round_trip_with_hashes() {
    let server = UnftpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let data = random_bytes(3 << 20, 11);
    fs::write(dir.path().join("data.bin"), &data).unwrap();

    let out = ftpkit(&["put", "data.bin", &url(&server, "")], dir.path());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        sha256_file(server.root().join("data.bin")),
        sha256_hex(&data)
    );

    let out = ftpkit(&["ls", &url(&server, "")], dir.path());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "data.bin\n");
    let out = ftpkit(&["ls", "-l", &url(&server, "")], dir.path());
    assert!(String::from_utf8_lossy(&out.stdout).contains("3145728"));

    let down = tempfile::tempdir().unwrap();
    let out = ftpkit(&["get", &url(&server, "data.bin")], down.path());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(sha256_file(down.path().join("data.bin")), sha256_hex(&data));
    assert!(!down.path().join("data.bin.part").exists());

    let out = ftpkit(&["get", "-o", "-", &url(&server, "data.bin")], down.path());
    assert_eq!(sha256_hex(&out.stdout), sha256_hex(&data));
}

#[test]
fn get_resume_continues_a_part_file_with_rest() {
    let server = UnftpServer::start();
    let data = random_bytes(2 << 20, 12);
    fs::write(server.root().join("big.bin"), &data).unwrap();
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("out.bin.part"), &data[..700_000]).unwrap();
    let out = ftpkit(
        &["get", "-c", "-o", "out.bin", &url(&server, "big.bin")],
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(sha256_file(dir.path().join("out.bin")), sha256_hex(&data));
    assert!(!dir.path().join("out.bin.part").exists());

    // A whole file left by another tool resumes too (nothing left to fetch).
    let out = ftpkit(
        &["get", "-c", "-o", "out.bin", &url(&server, "big.bin")],
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(sha256_file(dir.path().join("out.bin")), sha256_hex(&data));
}

#[test]
fn get_resumes_a_part_file_after_comparing_an_overlap() {
    // 40,000 bytes are already in f.part: REST asks for the last 32 KiB of
    // them again (7232 = 40000 - 32768) to compare, then the rest arrives.
    let data = random_bytes(50_000, 3);
    let server = FakeServer::start(vec![
        Script::login_anonymous()
            .expect("TYPE I")
            .reply("200 ok")
            .expect("FEAT")
            .reply("211 no features")
            .expect("SIZE f")
            .reply("213 50000")
            .expect("MDTM f")
            .reply("550 not available")
            .expect("EPSV")
            .epsv()
            .expect("REST 7232")
            .reply("350 ok")
            .expect("RETR f")
            .reply("150 go")
            .send_data(&data[7232..])
            .reply("226 done")
            .expect("QUIT")
            .reply("221 bye"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("f.part"), &data[..40_000]).unwrap();
    let out = ftpkit_loud(
        &[
            "get",
            "--json-summary",
            &format!("ftp://{}/f", server.addr()),
        ],
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(fs::read(dir.path().join("f")).unwrap(), data);
    let summary = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        summary.contains("\"resumed_from\":40000") && summary.contains("\"verified_size\":50000"),
        "{summary}"
    );
    assert!(
        stderr(&out).contains("size 50000 verified (no hash offered)"),
        "{}",
        stderr(&out)
    );
    server.finish();
}

#[test]
fn no_pipelining_sends_one_command_at_a_time_and_asks_the_size_again() {
    // The server drops whatever arrives beyond the command it reads: a
    // client that sent ahead would lose commands and hang.
    let one = |script: Script, command: &str, reply: &str| {
        script.expect(command).drop_pending().reply(reply)
    };
    let mut script = Script::login_anonymous();
    script = one(script, "TYPE I", "200 ok");
    script = one(script, "SIZE f", "213 4");
    script = one(script, "MDTM f", "550 not available");
    script = script
        .expect("EPSV")
        .drop_pending()
        .epsv()
        .expect("RETR f")
        .reply("150 go")
        .send_data(b"data")
        .reply("226 done");
    script = one(script, "SIZE f", "213 4");
    script = one(script, "FEAT", "211 no features");
    script = one(script, "QUIT", "221 bye");
    let server = FakeServer::start(vec![script]);
    let dir = tempfile::tempdir().unwrap();
    let out = ftpkit(
        &[
            "get",
            "--no-pipelining",
            &format!("ftp://{}/f", server.addr()),
        ],
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(fs::read(dir.path().join("f")).unwrap(), b"data");
    let transcript = server.finish();
    assert!(transcript.dropped.is_empty(), "{:?}", transcript.dropped);
}

#[test]
fn a_short_download_leaves_only_the_part_file_and_exits_8() {
    let server = FakeServer::start(vec![
        Script::login_anonymous()
            .expect("TYPE I")
            .reply("200 ok")
            .expect("FEAT")
            .reply("211 no features")
            .expect("SIZE f")
            .reply("550 SIZE not allowed")
            .expect("MDTM f")
            .reply("550 MDTM not allowed")
            .expect("EPSV")
            .epsv()
            .expect("RETR f")
            .reply("150 Opening BINARY mode data connection (10 bytes)")
            .send_data_then(b"0123456789", DataFault::CloseAt(4))
            .reply("226 Transfer complete"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let out = ftpkit(
        &[
            "get",
            "--retries",
            "0",
            &format!("ftp://{}/f", server.addr()),
        ],
        dir.path(),
    );
    assert_eq!(code(&out), 8, "{}", stderr(&out));
    assert!(
        !dir.path().join("f").exists(),
        "a short file must not get the final name"
    );
    assert_eq!(fs::read(dir.path().join("f.part")).unwrap(), b"0123");
    server.finish_allow_unplayed();
}

#[test]
fn a_missing_file_exits_5_with_the_servers_reply_on_one_line() {
    let server = UnftpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let out = ftpkit(&["get", &url(&server, "nope.txt")], dir.path());
    assert_eq!(code(&out), 5);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("ftpkit: RETR nope.txt: 550"), "{err}");
    assert!(
        !dir.path().join("nope.txt.part").exists(),
        "no empty .part left behind"
    );
}

#[test]
fn refused_login_exits_4_and_network_errors_exit_3() {
    let server = FakeServer::start(vec![
        Script::new()
            .reply("220 hi")
            .expect("USER bob")
            .reply("331 pw")
            .expect("PASS secret-pw")
            .reply("530 Login incorrect"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let out = ftpkit(
        &["ls", &format!("ftp://bob:secret-pw@{}/", server.addr())],
        dir.path(),
    );
    assert_eq!(code(&out), 4);
    assert!(!stderr(&out).contains("secret-pw"));
    server.finish();

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = ftpkit(&["ls", &format!("ftp://{closed}/")], dir.path());
    assert_eq!(code(&out), 3, "{}", stderr(&out));
}

#[test]
fn line_breaks_in_a_url_are_refused_before_connecting() {
    let server = FakeServer::start(vec![]);
    let dir = tempfile::tempdir().unwrap();
    for bad in ["a%0D%0ADELE%20b", "a%0Ab", "a%00"] {
        let out = ftpkit(
            &["get", &format!("ftp://{}/{bad}", server.addr())],
            dir.path(),
        );
        assert_eq!(code(&out), 2, "{bad}: {}", stderr(&out));
    }
    let out = ftpkit(
        &["ls", "--insecure", &format!("ftp://{}/", server.addr())],
        dir.path(),
    );
    assert_eq!(
        code(&out),
        2,
        "TLS options on a plain URL: {}",
        stderr(&out)
    );
    let t = server.finish();
    assert!(t.commands.is_empty(), "{:?}", t.commands);
}

#[test]
fn put_resume_sends_only_the_rest() {
    let server = UnftpServer::start();
    let data = random_bytes(3 << 20, 13);
    fs::write(server.root().join("up.bin"), &data[..1_000_000]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("up.bin"), &data).unwrap();
    let out = ftpkit(
        &["put", "-c", "up.bin", &url(&server, "up.bin")],
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(sha256_file(server.root().join("up.bin")), sha256_hex(&data));
}

#[test]
fn put_resume_compares_the_servers_bytes_then_appends() {
    let server = FakeServer::start(vec![
        Script::login_anonymous()
            .expect("TYPE I")
            .reply("200 ok")
            .expect("SIZE f")
            .reply("213 3")
            .expect("EPSV")
            .epsv()
            .expect("RETR f")
            .reply("150 go")
            .send_data(b"abc")
            .reply("226 ok")
            .expect("EPSV")
            .epsv()
            .expect("APPE f")
            .reply("150 go")
            .recv_data()
            .reply("226 ok")
            .expect("SIZE f")
            .reply("213 6")
            .expect("FEAT")
            .reply("211 no features")
            .expect("QUIT")
            .reply("221 bye"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("f"), b"abcdef").unwrap();
    let out = ftpkit(
        &["put", "-c", "f", &format!("ftp://{}/f", server.addr())],
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(server.finish().uploads[0], b"def");
}

#[test]
fn put_no_verify_sends_no_feat_after_the_transfer() {
    // After the 226: MFMT for the time (refused here), then QUIT; a FEAT
    // or an OPTS UTF8 ON would not match the script.
    let server = FakeServer::start(vec![
        Script::login_anonymous()
            .expect("TYPE I")
            .reply("200 ok")
            .expect("EPSV")
            .epsv()
            .expect("STOR f")
            .reply("150 go")
            .recv_data()
            .reply("226 ok")
            .expect_prefix("MFMT ")
            .reply("500 unknown command")
            .expect("QUIT")
            .reply("221 bye"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("f"), b"abc").unwrap();
    let out = ftpkit(
        &[
            "put",
            "--no-verify",
            "f",
            &format!("ftp://{}/f", server.addr()),
        ],
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let t = server.finish();
    assert_eq!(t.uploads[0], b"abc");
    assert!(
        !t.commands
            .iter()
            .any(|c| c == "FEAT" || c.starts_with("OPTS")),
        "{:?}",
        t.commands
    );
}

#[test]
fn a_refused_command_still_ends_the_session_with_quit() {
    // Whatever the exit code, the server sees the session end politely:
    // QUIT after the refusal, not a connection dropped without a word.
    let cases: [(&str, &str, &str, &str); 4] = [
        ("rm", "gone", "DELE gone", "550 no such file"),
        ("mkdir", "gone", "MKD gone", "550 cannot create"),
        ("rmdir", "gone", "RMD gone", "550 no such directory"),
        ("ls", "gone/", "CWD gone", "550 no such directory"),
    ];
    for (command, path, sent, refusal) in cases {
        let server = FakeServer::start(vec![
            Script::login_anonymous()
                .expect(sent)
                .reply(refusal)
                .expect("QUIT")
                .reply("221 bye"),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let out = ftpkit(
            &[command, &format!("ftp://{}/{path}", server.addr())],
            dir.path(),
        );
        assert_eq!(code(&out), 5, "{command}: {}", stderr(&out));
        server.finish();
    }
}

#[test]
fn ls_of_a_directory_lists_from_inside_it_and_prints_bare_names() {
    // Some servers (vsftpd) prefix each name with the path NLST was
    // given; from inside the directory every server sends bare names.
    let server = FakeServer::start(vec![
        Script::login_anonymous()
            .expect("CWD pub/data")
            .reply("250 ok")
            .expect("TYPE A")
            .reply("200 ok")
            .expect("EPSV")
            .epsv()
            .expect("NLST")
            .reply("150 here")
            .send_data(b"a.txt\r\nb c.txt\r\n")
            .reply("226 done")
            .expect("QUIT")
            .reply("221 bye"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let out = ftpkit(
        &["ls", &format!("ftp://{}/pub/data/", server.addr())],
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(out.stdout, b"a.txt\nb c.txt\n");
    server.finish();
}

#[test]
fn verbose_traces_commands_with_the_password_hidden() {
    let server = UnftpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let out = ftpkit_testkit::command(env!("CARGO_BIN_EXE_ftpkit"))
        .args([
            "-v",
            "ls",
            &format!("ftp://alice:hunter2@{}/", server.addr()),
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("> USER alice") && err.contains("> PASS ****"),
        "{err}"
    );
    assert!(!err.contains("hunter2"));
}

#[test]
fn hostile_names_are_printed_without_control_characters() {
    let server = FakeServer::start(vec![
        Script::login_anonymous()
            .expect("TYPE A")
            .reply("200 ok")
            .expect("EPSV")
            .epsv()
            .expect("NLST")
            .reply("150 here")
            .send_data(b"evil\x1b[2Jname\r\nok\r\n")
            .reply("226 done")
            .expect("QUIT")
            .reply("221 bye"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let out = ftpkit(&["ls", &format!("ftp://{}/", server.addr())], dir.path());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(out.stdout, b"evil\\x1b[2Jname\nok\n");
    server.finish();
}

#[test]
fn ls_json_writes_entries_while_the_listing_is_still_arriving() {
    use std::{
        io::BufRead,
        process::Stdio,
        sync::mpsc,
        time::{Duration, Instant},
    };
    // Half of a long listing, then the server goes silent without ending
    // it: the entries already received must be on stdout by then, since
    // `ls --json` writes them as they are parsed instead of holding the
    // listing whole.
    let listing: Vec<u8> = (0..4000)
        .flat_map(|i| format!("-rw-r--r-- 1 u g {i} 2024-01-01 00:00 f{i:05}\r\n").into_bytes())
        .collect();
    let server = FakeServer::start(vec![
        list_opened().send_data_then(&listing, DataFault::StallAt(listing.len() / 2)),
    ]);
    let dir = tempfile::tempdir().unwrap();
    // What the client says goes to a file, shown if it ends too soon.
    let errors = dir.path().join("stderr");
    let mut child = ftpkit_testkit::command(env!("CARGO_BIN_EXE_ftpkit"))
        .args(["--timeout", "20", "-v", "ls", "--json"])
        .arg(format!("ftp://{}/", server.addr()))
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&errors).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut lines = Vec::new();
    while lines.len() < 1000 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(_) => break,
        }
    }
    let ended = child.try_wait().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        ended.is_none(),
        "the listing ended early ({ended:?}) after {} lines; the client said:\n{}",
        lines.len(),
        std::fs::read_to_string(&errors).unwrap_or_default()
    );
    assert_eq!(
        lines.len(),
        1000,
        "entries printed before the listing ended"
    );
    for (i, line) in lines.iter().enumerate() {
        assert!(
            line.starts_with(&format!(
                "{{\"name\":\"f{i:05}\",\"type\":\"file\",\"size\":{i},"
            )),
            "{line}"
        );
    }
    server.finish_allow_unplayed();
}

/// A server up to the `150` of a `LIST` of its root.
fn list_opened() -> Script {
    Script::login_anonymous()
        .expect("FEAT")
        .reply("211-Features:\r\n SIZE\r\n211 End")
        .expect("TYPE A")
        .reply("200 ok")
        // FEAT lists neither EPSV nor MLST: PASV, then LIST.
        .expect("PASV")
        .pasv()
        .expect("LIST")
        .reply("150 here")
}

fn listing_server(listing: &[u8]) -> FakeServer {
    FakeServer::start(vec![
        list_opened()
            .send_data(listing)
            .reply("226 done")
            .expect("QUIT")
            .reply("221 bye"),
    ])
}

const LISTING: &[u8] = b"total 3\r\n-rw-r--r-- 1 alice staff 1234 2024-02-29 23:59 notes \"v2\".txt\r\nlrwxrwxrwx 1 root root 11 2024-01-01 00:00 hosts -> /etc/hosts\r\nnot a listing line\r\n";

#[test]
fn ls_long_and_json_show_typed_entries() {
    let dir = tempfile::tempdir().unwrap();
    let server = listing_server(LISTING);
    let out = ftpkit(
        &["ls", "--json", &format!("ftp://{}/", server.addr())],
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            r#"{"name":"notes \"v2\".txt","type":"file","size":1234,"modified":"2024-02-29T23:59:00Z","time_precision":"minute","permissions":"0644","owner":"alice","group":"staff","target":null,"raw":null}"#,
            r#"{"name":"hosts","type":"symlink","size":11,"modified":"2024-01-01T00:00:00Z","time_precision":"minute","permissions":"0777","owner":"root","group":"root","target":"/etc/hosts","raw":null}"#,
            r#"{"name":"not a listing line","type":"unknown","size":null,"modified":null,"time_precision":null,"permissions":null,"owner":null,"group":null,"target":null,"raw":"not a listing line"}"#,
        ]
    );
    server.finish();

    let server = listing_server(LISTING);
    let out = ftpkit(
        &["ls", "-l", &format!("ftp://{}/", server.addr())],
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "-rw-r--r-- alice staff 1234 2024-02-29 23:59 notes \"v2\".txt\n\
         lrwxrwxrwx root  root    11 2024-01-01 00:00 hosts -> /etc/hosts\n\
         not a listing line\n"
    );
    server.finish();
}

/// Every type letter and special bit of `ls -l`, a date known only to the
/// day, and a link the server gives no target for.
const EVERY_KIND: &[u8] = b"total 9\r\n\
-rwsr-xr-x 1 root root 10 2024-02-29 23:59 su\r\n\
-rwxr-sr-T 1 root mail 10 2024-02-29 23:59 sg\r\n\
drwxrwxrwt 9 root root 4096 2024-02-29 23:59 tmp\r\n\
crw-rw-rw- 1 root root 1, 3 2024-02-29 23:59 null\r\n\
brw-rw---- 1 root disk 8, 0 2024-02-29 23:59 sda\r\n\
prw-r--r-- 1 root root 0 2024-02-29 23:59 fifo\r\n\
srwxrwxrwx 1 root root 0 2024-02-29 23:59 sock\r\n\
-rw-r--r-- 1 root root 7 Jan  5  2019 old\r\n\
lrwxrwxrwx 1 root root 4 2024-02-29 23:59 dangling -> \r\n";

#[test]
fn ls_long_shows_every_type_and_special_bit_as_ls_does() {
    let dir = tempfile::tempdir().unwrap();
    let server = listing_server(EVERY_KIND);
    let out = ftpkit(
        &["ls", "-l", &format!("ftp://{}/", server.addr())],
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "-rwsr-xr-x root root   10 2024-02-29 23:59 su\n\
         -rwxr-sr-T root mail   10 2024-02-29 23:59 sg\n\
         drwxrwxrwt root root 4096 2024-02-29 23:59 tmp\n\
         crw-rw-rw- root root    - 2024-02-29 23:59 null\n\
         brw-rw---- root disk    - 2024-02-29 23:59 sda\n\
         prw-r--r-- root root    0 2024-02-29 23:59 fifo\n\
         srwxrwxrwx root root    0 2024-02-29 23:59 sock\n\
         -rw-r--r-- root root    7 2019-01-05       old\n\
         lrwxrwxrwx root root    4 2024-02-29 23:59 dangling\n"
    );
    server.finish();

    let server = listing_server(EVERY_KIND);
    let out = ftpkit(
        &["ls", "--json", &format!("ftp://{}/", server.addr())],
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains(r#""permissions":"4755""#), "{}", lines[0]);
    assert!(lines[2].contains(r#""permissions":"1777""#), "{}", lines[2]);
    assert!(
        lines[7].contains(r#""modified":"2019-01-05T00:00:00Z","time_precision":"day""#),
        "{}",
        lines[7]
    );
    assert!(
        lines[8].contains(r#""type":"symlink""#) && lines[8].contains(r#""target":null"#),
        "a link with no target has none, not \"\": {}",
        lines[8]
    );
    server.finish();
}

#[test]
fn file_and_directory_commands() {
    let server = UnftpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = ftpkit(args, dir.path());
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["mkdir", "-p", &url(&server, "a/b/c")]);
    run(&["mkdir", "-p", &url(&server, "a/b")]);
    assert!(server.root().join("a/b/c").is_dir());
    let out = ftpkit(&["mkdir", &url(&server, "a")], dir.path());
    assert_eq!(code(&out), 5, "mkdir of an existing directory without -p");

    fs::write(server.root().join("a/f.txt"), b"hello world").unwrap();
    assert_eq!(run(&["cat", &url(&server, "a/f.txt")]), "hello world");
    assert_eq!(run(&["size", &url(&server, "a/f.txt")]), "11\n");
    assert_eq!(
        run(&["size", "--json", &url(&server, "a/f.txt")]),
        "{\"name\":\"a/f.txt\",\"size\":11}\n"
    );
    let stat = run(&["stat", "--json", &url(&server, "a/f.txt")]);
    assert!(
        stat.contains("\"type\":\"file\"") && stat.contains("\"size\":11"),
        "{stat}"
    );
    assert!(run(&["stat", &url(&server, "a/f.txt")]).contains(" 11 "));

    run(&["mv", &url(&server, "a/f.txt"), "a/g.txt"]);
    assert!(server.root().join("a/g.txt").is_file() && !server.root().join("a/f.txt").exists());
    let reply = run(&["quote", &url(&server, ""), "NOOP"]);
    assert!(reply.starts_with("200"), "{reply}");
    let out = ftpkit(&["quote", &url(&server, ""), "NOSUCHCMD"], dir.path());
    assert_eq!(code(&out), 5, "{}", stderr(&out));
    // A refusal prints like a success: the reply on stdout, nothing added.
    let refused = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(refused.starts_with("50"), "{refused:?}");
    assert_eq!(stderr(&out), "", "nothing on stderr");

    run(&["rm", &url(&server, "a/g.txt")]);
    assert!(!server.root().join("a/g.txt").exists());
    run(&["rmdir", &url(&server, "a/b/c")]);
    assert!(!server.root().join("a/b/c").exists());
    let out = ftpkit(&["rm", &url(&server, "nope")], dir.path());
    assert_eq!(code(&out), 5);
}

#[test]
fn get_several_urls_and_a_glob_into_a_directory() {
    let server = UnftpServer::start();
    fs::create_dir(server.root().join("exports")).unwrap();
    for (name, seed) in [("a.csv", 1), ("b.csv", 2), ("notes.txt", 3)] {
        fs::write(
            server.root().join("exports").join(name),
            random_bytes(10_000, seed),
        )
        .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("out")).unwrap();
    let out = ftpkit(
        &["get", "-o", "out", &url(&server, "exports/*.csv")],
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let mut got: Vec<String> = fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    got.sort();
    assert_eq!(got, ["a.csv", "b.csv"]);
    assert_eq!(
        sha256_file(dir.path().join("out/b.csv")),
        sha256_hex(&random_bytes(10_000, 2))
    );

    let out = ftpkit(
        &[
            "get",
            "-o",
            "out",
            &url(&server, "exports/notes.txt"),
            &url(&server, "exports/a.csv"),
        ],
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        sha256_file(dir.path().join("out/notes.txt")),
        sha256_hex(&random_bytes(10_000, 3))
    );

    let out = ftpkit(
        &["get", "-o", "out", &url(&server, "exports/*.none")],
        dir.path(),
    );
    assert_eq!(code(&out), 5, "no match: {}", stderr(&out));
    let out = ftpkit(
        &["get", "-o", "missing-dir", &url(&server, "exports/*.csv")],
        dir.path(),
    );
    assert_eq!(code(&out), 2, "-o must be a directory: {}", stderr(&out));
}

#[test]
fn a_glob_never_writes_outside_the_directory() {
    let server = FakeServer::start(vec![
        Script::login_anonymous()
            .expect("TYPE A")
            .reply("200 ok")
            .expect("EPSV")
            .epsv()
            .expect("NLST d/")
            .reply("150 here")
            .send_data(b"../escape.txt\r\n")
            .reply("226 done"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("out")).unwrap();
    let out = ftpkit(
        &[
            "get",
            "-o",
            "out",
            &format!("ftp://{}/d/*.txt", server.addr()),
        ],
        dir.path(),
    );
    // The base name "escape.txt" of "../escape.txt" is fetched as d/escape.txt,
    // never as ../escape.txt: here the server has no such file to offer.
    assert_ne!(code(&out), 0);
    assert!(!dir.path().join("escape.txt").exists());
    server.finish_allow_unplayed();
}

#[test]
fn get_and_put_retry_resume_and_say_what_was_verified() {
    use ftpkit_testkit::{Behavior, Content, Fault, MemoryServer};
    let server = MemoryServer::start();
    let data = random_bytes(800_000, 40);
    server.put_file("f.bin", data.clone());
    server.push_fault(Fault::ResetDataAt(300_000));
    let dir = tempfile::tempdir().unwrap();
    let url = format!("ftp://u:p@{}/f.bin", server.addr());
    let out = ftpkit_loud(&["get", &url], dir.path());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(sha256_file(dir.path().join("f.bin")), sha256_hex(&data));
    let err = stderr(&out);
    assert!(
        err.contains("size 800000 and SHA-256 verified") && err.contains("1 retries"),
        "{err}"
    );

    // Several files into a directory, through temporary names.
    let a = random_bytes(70_000, 41);
    let b = random_bytes(90_000, 42);
    fs::write(dir.path().join("a.bin"), &a).unwrap();
    fs::write(dir.path().join("b.bin"), &b).unwrap();
    server.push_fault(Fault::ResetDataAt(20_000));
    let out = ftpkit(
        &[
            "put",
            "--temp-name",
            "--json-summary",
            "a.bin",
            "b.bin",
            &format!("ftp://u:p@{}/", server.addr()),
        ],
        dir.path(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(server.file("a.bin"), Some(Content::Bytes(a)));
    assert_eq!(server.file("b.bin"), Some(Content::Bytes(b)));
    let summary = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(summary.lines().count(), 2, "{summary}");
    assert!(summary.contains("\"retries\":1"), "{summary}");
    assert!(server.commands().contains(&"RNTO a.bin".to_string()));

    // Several files need a directory URL.
    let out = ftpkit(
        &[
            "put",
            "a.bin",
            "b.bin",
            &format!("ftp://u:p@{}/x", server.addr()),
        ],
        dir.path(),
    );
    assert_eq!(code(&out), 2, "{}", stderr(&out));

    // A lying server: exit 8 and the .part kept; --no-verify accepts it.
    let liar = MemoryServer::with_behavior(Behavior {
        hash_lie: true,
        ..Behavior::default()
    });
    liar.put_file("g.bin", data.clone());
    let url = format!("ftp://u:p@{}/g.bin", liar.addr());
    let out = ftpkit(&["get", &url], dir.path());
    assert_eq!(code(&out), 8, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("SHA-256 mismatch"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("g.bin").exists());
    assert!(dir.path().join("g.bin.part").exists());
    let out = ftpkit_loud(&["get", "--no-verify", &url], dir.path());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not verified (--no-verify)"),
        "{}",
        stderr(&out)
    );
}

/// A glob over a listing with hostile names: each is skipped with one
/// escaped warning, the other files still come, and the exit code says
/// "skipped" (10), not "the server refused" (5).
#[test]
fn get_glob_skips_hostile_names_and_fetches_the_rest() {
    let server = MemoryServer::start();
    for name in [
        "dir/a\\b.txt",
        "dir/evil\u{1b}[2J.txt",
        "dir/good.txt",
        "dir/tab\there.txt",
        "dir/zz.txt",
    ] {
        server.put_file(name, name.as_bytes().to_vec());
    }
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("out")).unwrap();
    let out = ftpkit(
        &[
            "get",
            "-o",
            "out",
            &format!("ftp://u:p@{}/dir/*", server.addr()),
        ],
        dir.path(),
    );
    let err = stderr(&out);
    assert_eq!(code(&out), 10, "{err}");
    let mut saved: Vec<String> = fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    saved.sort();
    assert_eq!(saved, ["good.txt", "zz.txt"], "{err}");
    assert_eq!(
        fs::read(dir.path().join("out/zz.txt")).unwrap(),
        b"dir/zz.txt"
    );
    assert!(
        !err.contains('\u{1b}') && !err.contains('\t'),
        "raw control characters: {err:?}"
    );
    for shown in [
        "a\\b.txt",
        "evil\\u{1b}[2J.txt",
        "tab\\there.txt",
        "3 files skipped",
    ] {
        assert!(err.contains(shown), "no warning naming {shown}: {err}");
    }
    assert_eq!(err.matches("ftpkit: warning").count(), 3, "{err}");
    assert!(
        !server
            .commands()
            .iter()
            .any(|c| c.starts_with("RETR") && !c.ends_with("good.txt") && !c.ends_with("zz.txt")),
        "a refused name was fetched: {:?}",
        server.commands()
    );
}

#[test]
fn get_with_segments_fetches_one_file_over_that_many_connections() {
    let server = MemoryServer::start();
    let data = random_bytes((5 << 20) + 17, 1);
    server.put_file("big.bin", data.clone());
    let work = tempfile::tempdir().unwrap();
    let src = format!("ftp://u:p@{}/big.bin", server.addr());
    let out = ftpkit_loud(&["get", "--segments", "4", &src], work.path());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("SHA-256 verified"),
        "{}",
        stderr(&out)
    );
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
        assert_eq!(code(&out), 2, "--segments {n}");
    }
}
