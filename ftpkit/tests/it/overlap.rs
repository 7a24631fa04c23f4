//! Overlapping downloads, on both drivers: a download that names the file
//! after it (`followed_by`) sends that file's `SIZE`, `MDTM` and `EPSV`
//! in the same write as its own `RETR`, and the next download uses their
//! replies and starts with its `RETR`. A server that answers them during
//! the transfer has the file fetched again from its start, byte-exact,
//! and no transfer overlaps again; replies read ahead and not used never
//! answer another command.

use std::fs;

use ftpkit::{Client, Verify};
use ftpkit_testkit::{DataFault, FakeServer, Script};

use crate::{dialogue::quick, resume::quick_retries};

const MDTM: &str = "213 20240102030405";

fn size(data: &[u8]) -> String {
    format!("213 {}", data.len())
}

/// `RETR name` with the next file's commands behind it, expected before
/// any reply (a client that waited for the `150` would time the script
/// out), then the transfer and the replies to those commands.
fn retr_with_next(name: &str, data: &[u8], next: &str, next_data: &[u8]) -> Script {
    Script::new()
        .expect(&format!("RETR {name}"))
        .expect(&format!("SIZE {next}"))
        .expect(&format!("MDTM {next}"))
        .expect("EPSV")
        .reply("150 here it comes")
        .send_data(data)
        .reply("226 done")
        .reply(&size(next_data))
        .reply(MDTM)
        .epsv()
}

/// `RETR name` alone and its transfer.
fn retr(name: &str, data: &[u8]) -> Script {
    Script::new()
        .expect(&format!("RETR {name}"))
        .reply("150 go")
        .send_data(data)
        .reply("226 done")
}

/// The first file's batch: `TYPE I` (if `ty`), `SIZE`, `MDTM`, `EPSV`.
fn batch(name: &str, data: &[u8], ty: bool) -> Script {
    let mut script = Script::new();
    if ty {
        script = script.expect("TYPE I");
    }
    script = script
        .expect(&format!("SIZE {name}"))
        .expect(&format!("MDTM {name}"))
        .expect("EPSV");
    if ty {
        script = script.reply("200 binary");
    }
    script.reply(&size(data)).reply(MDTM).epsv()
}

/// A session's first download, of a, with b's commands behind its
/// `RETR`, up to its `150`.
fn overlapping(a: &[u8]) -> Script {
    Script::login_anonymous()
        .then(batch("a", a, true))
        .expect("RETR a")
        .expect("SIZE b")
        .expect("MDTM b")
        .expect("EPSV")
        .reply("150 here it comes")
}

/// The new connection after an overlap went wrong: a, then b, each `RETR`
/// alone, nothing sent behind it.
fn one_at_a_time(a: &[u8], b: &[u8]) -> Script {
    let mut again = Script::login_anonymous().then(batch("a", a, true));
    again = alone(again, "RETR a", "150 go")
        .send_data(a)
        .reply("226 done");
    again = again
        .expect("SIZE b")
        .expect("MDTM b")
        .expect("EPSV")
        .reply(&size(b))
        .reply(MDTM)
        .epsv();
    alone(again, "RETR b", "150 go")
        .send_data(b)
        .reply("226 done")
}

/// Downloads `$name` into `$dir` (sizes verified), naming `$next` as the
/// file that follows; the result. A macro, for the dialogue's `w!`.
macro_rules! download_then {
    ($client:ident, $dir:expr, $name:expr, $next:expr) => {
        w!($client
            .download($name, $dir.path().join($name))
            .verify(Verify::SizeOnly)
            .followed_by($next)
            .run())
    };
}

/// `command`, its reply, and nothing sent along with it (anything else
/// received is dropped, and the transcript shows it).
fn alone(script: Script, command: &str, reply: &str) -> Script {
    script.expect(command).drop_pending().reply(reply)
}

dialogue! {
    fn each_retr_carries_the_next_files_commands_and_the_next_download_starts_with_retr() {
        let files: [(&str, &[u8]); 3] = [
            ("a", b"first file"),
            ("b", b"the second, longer file"),
            ("c", b"third"),
        ];
        let [(a, da), (b, db), (c, dc)] = files;
        let script = batch(a, da, true)
            .then(retr_with_next(a, da, b, db))
            .then(retr_with_next(b, db, c, dc))
            .expect(&format!("RETR {c}"))
            .reply("150 go")
            .send_data(dc)
            .reply("226 done");
        let (server, mut client) = logged_in!(script);
        let dir = tempfile::tempdir().unwrap();
        for (n, (name, data)) in files.iter().enumerate() {
            let dest = dir.path().join(name);
            let mut download = client.download(name, &dest).verify(Verify::SizeOnly);
            if let Some((next, _)) = files.get(n + 1) {
                download = download.followed_by(next);
            }
            let report = w!(download.run()).unwrap();
            assert_eq!(fs::read(&dest).unwrap(), *data, "{name}");
            // Verified by the size asked behind the transfer before it.
            assert_eq!(report.verified.size, Some(data.len() as u64), "{name}");
            assert_eq!((report.retries, report.restarts), (0, 0), "{name}");
        }
        let t = server.finish();
        assert_eq!(
            t.commands[2..],
            [
                "TYPE I", "SIZE a", "MDTM a", "EPSV",
                "RETR a", "SIZE b", "MDTM b", "EPSV",
                "RETR b", "SIZE c", "MDTM c", "EPSV",
                "RETR c",
            ]
        );
        assert!(t.dropped.is_empty(), "{:?}", t.dropped);
    }
}

dialogue! {
    fn a_server_that_answers_mid_transfer_has_the_file_fetched_again_and_no_more_overlap() {
        // pyftpdlib reads the commands behind a RETR during the transfer:
        // it answers them at once and drops the transfer it was running
        // (here after 5 bytes, with no final reply).
        let a = b"first file, cut short by the server".as_slice();
        let b = b"second file".as_slice();
        let disturbing = overlapping(a)
            .send_data_then(a, DataFault::CloseAt(5))
            .reply(&size(b))
            .reply(MDTM)
            .epsv();
        // The new connection: each RETR alone, nothing sent behind it.
        let again = one_at_a_time(a, b);
        let server = FakeServer::start(vec![disturbing, again]);
        let mut client = connect!(&server.addr().to_string(), quick()).unwrap();
        w!(client.login_anonymous()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let report = w!(client
            .download("a", dir.path().join("a"))
            .verify(Verify::SizeOnly)
            .retry(quick_retries())
            .followed_by("b")
            .run())
        .unwrap();
        assert_eq!(fs::read(dir.path().join("a")).unwrap(), a);
        // Fetched again at once: a restart, not a retry after a wait.
        assert_eq!((report.retries, report.restarts), (0, 1));
        // Named as followed, but not overlapped any more.
        let report = download_then!(client, dir, "b", "a").unwrap();
        assert_eq!(fs::read(dir.path().join("b")).unwrap(), b);
        assert_eq!(report.retries, 0);
        let t = server.finish();
        assert!(t.dropped.is_empty(), "sent behind a RETR: {:?}", t.dropped);
    }
}

/// The first download, of `$a` with `$b`'s commands behind its `RETR`,
/// on a server whose first connection drops the transfer as `$failing`
/// (a script up to its failure) says: the attempt goes on at once on a
/// new connection, resuming after the bytes already here, with nothing
/// sent behind any `RETR`: one retry, with no wait (the policy's would be
/// a minute, and the guard fail the test), and no overlap after it.
macro_rules! goes_on_at_once_without_them {
    ($failing:expr, $a:expr, $b:expr) => {{
        let (a, b) = ($a, $b);
        let server = FakeServer::start(vec![$failing, one_at_a_time(a, b)]);
        let mut client = connect!(&server.addr().to_string(), quick()).unwrap();
        w!(client.login_anonymous()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let slow = ftpkit::RetryPolicy {
            retries: 3,
            initial_delay: std::time::Duration::from_secs(60),
            max_delay: std::time::Duration::from_secs(60),
        };
        let report = w!(client
            .download("a", dir.path().join("a"))
            .verify(Verify::SizeOnly)
            .retry(slow)
            .followed_by("b")
            .run())
        .unwrap();
        assert_eq!(fs::read(dir.path().join("a")).unwrap(), a);
        assert_eq!((report.retries, report.restarts), (1, 0));
        let report = download_then!(client, dir, "b", "a").unwrap();
        assert_eq!(fs::read(dir.path().join("b")).unwrap(), b);
        assert!(!report.overlapped);
        let t = server.finish();
        assert!(t.dropped.is_empty(), "sent behind a RETR: {:?}", t.dropped);
    }};
}

dialogue! {
    fn a_transfer_reset_with_commands_behind_it_goes_on_at_once_without_them() within(crate::hostile::GUARD) {
        // pyftpdlib may also drop the transfer by resetting the data
        // connection before its replies to the commands behind it come.
        let a = b"first file, reset by the server".as_slice();
        let resetting = overlapping(a).send_data_then(a, DataFault::ResetAt(8));
        goes_on_at_once_without_them!(resetting, a, b"second file".as_slice());
    }
}

dialogue! {
    fn a_transfer_failed_with_commands_behind_it_goes_on_at_once_without_them() within(crate::hostile::GUARD) {
        // pyftpdlib may also end the transfer it drops with a `426`, and
        // answer the commands behind it after that.
        let a = b"first file, dropped by the server".as_slice();
        let b = b"second file".as_slice();
        let failing = overlapping(a)
            .send_data_then(a, DataFault::CloseAt(5))
            .reply("426 Transfer aborted; 5 bytes transmitted.")
            .reply(&size(b))
            .reply(MDTM)
            .epsv();
        goes_on_at_once_without_them!(failing, a, b);
    }
}

dialogue! {
    fn replies_read_ahead_and_not_used_answer_no_other_command() {
        let (a, b) = (b"first".as_slice(), b"second".as_slice());
        let script = batch("a", a, true)
            .then(retr_with_next("a", a, "b", b))
            // Not the download of b: a PWD, whose reply is its own.
            .expect("PWD")
            .reply("257 \"/pub\" is the directory")
            // b afterwards asks again: what was read ahead is gone.
            .then(batch("b", b, false))
            .then(retr("b", b));
        let (server, mut client) = logged_in!(script);
        let dir = tempfile::tempdir().unwrap();
        download_then!(client, dir, "a", "b").unwrap();
        assert_eq!(w!(client.pwd()).unwrap().as_str(), Some("/pub"));
        w!(client.download("b", dir.path().join("b")).verify(Verify::SizeOnly).run()).unwrap();
        assert_eq!(fs::read(dir.path().join("a")).unwrap(), a);
        assert_eq!(fs::read(dir.path().join("b")).unwrap(), b);
        let t = server.finish();
        assert!(t.dropped.is_empty(), "{:?}", t.dropped);
    }
}

dialogue! {
    fn a_refused_retr_leaves_the_next_files_replies_to_its_download() {
        let b = b"second".as_slice();
        let script = batch("a", b"", true)
            .expect("RETR a")
            .expect("SIZE b")
            .expect("MDTM b")
            .expect("EPSV")
            .reply("550 a: no such file")
            .reply(&size(b))
            .reply(MDTM)
            .epsv()
            .then(retr("b", b));
        let (server, mut client) = logged_in!(script);
        let dir = tempfile::tempdir().unwrap();
        let err = download_then!(client, dir, "a", "b").unwrap_err();
        assert_eq!(err.code().map(|c| c.0), Some(550), "{err}");
        assert!(!dir.path().join("a").exists());
        let report = w!(client.download("b", dir.path().join("b")).verify(Verify::SizeOnly).run()).unwrap();
        assert_eq!(report.verified.size, Some(b.len() as u64));
        assert_eq!(fs::read(dir.path().join("b")).unwrap(), b);
        let t = server.finish();
        assert!(t.dropped.is_empty(), "{:?}", t.dropped);
    }
}

dialogue! {
    fn a_server_that_wants_pret_gets_it_behind_the_retr_too() {
        // pure-ftpd lists PRET: a passive command must follow `PRET RETR
        // name`, so both go behind the RETR, and both replies serve the
        // next download's data setup.
        let (a, b) = (b"first".as_slice(), b"second".as_slice());
        let script = Script::new()
            .expect("FEAT")
            .reply_lines(&["211-Extensions", " PRET", " EPSV", " SIZE", " MDTM", "211 End"])
            .expect("TYPE I")
            .expect("SIZE a")
            .expect("MDTM a")
            .reply("200 binary")
            .reply(&size(a))
            .reply(MDTM)
            .expect("PRET RETR a")
            .reply("200 ready")
            .expect("EPSV")
            .epsv()
            .expect("RETR a")
            .expect("SIZE b")
            .expect("MDTM b")
            .expect("PRET RETR b")
            .expect("EPSV")
            .reply("150 go")
            .send_data(a)
            .reply("226 done")
            .reply(&size(b))
            .reply(MDTM)
            .reply("200 ready")
            .epsv()
            .then(retr("b", b));
        let (server, mut client) = logged_in!(script);
        assert!(w!(client.features()).unwrap().supports("PRET"));
        let dir = tempfile::tempdir().unwrap();
        let report = download_then!(client, dir, "a", "b").unwrap();
        assert!(report.overlapped);
        w!(client.download("b", dir.path().join("b")).verify(Verify::SizeOnly).run()).unwrap();
        assert_eq!(fs::read(dir.path().join("a")).unwrap(), a);
        assert_eq!(fs::read(dir.path().join("b")).unwrap(), b);
        let t = server.finish();
        assert!(t.dropped.is_empty(), "{:?}", t.dropped);
    }
}

/// Without pipelining nothing goes behind a transfer.
#[test]
fn without_pipelining_nothing_goes_behind_a_retr() {
    let data = b"data".as_slice();
    let mut script = Script::login_anonymous();
    script = alone(script, "TYPE I", "200 binary");
    script = alone(script, "SIZE f", &size(data));
    script = alone(script, "MDTM f", MDTM);
    script = script.expect("EPSV").drop_pending().epsv();
    // Anything sent behind RETR would meet the verifying SIZE's expect.
    script = script
        .expect("RETR f")
        .reply("150 go")
        .send_data(data)
        .reply("226 done");
    // One command at a time, the size is asked again to verify.
    script = alone(script, "SIZE f", &size(data));
    let server = FakeServer::start(vec![script]);
    let mut client =
        Client::connect_with(&server.addr().to_string(), quick().pipelining(false)).unwrap();
    client.login_anonymous().unwrap();
    let dir = tempfile::tempdir().unwrap();
    client
        .download("f", dir.path().join("f"))
        .verify(Verify::SizeOnly)
        .followed_by("g")
        .run()
        .unwrap();
    let t = server.finish();
    assert_eq!(fs::read(dir.path().join("f")).unwrap(), data);
    assert!(t.dropped.is_empty(), "{:?}", t.dropped);
}

/// `150` replies that state the file's size, as vsftpd's and proftpd's do.
fn stating(data: &[u8]) -> String {
    format!(
        "150 Opening BINARY mode data connection ({} bytes).",
        data.len()
    )
}

/// The first two files of a fresh run: a's batch (`TYPE I`, `SIZE`,
/// `EPSV`), then `RETR a` with b's `SIZE` and `EPSV` behind it, answered
/// with a `150` that states a's size: the session learns to trust it.
fn learning(a: &[u8], b: &[u8]) -> Script {
    Script::new()
        .expect("TYPE I")
        .expect("SIZE a")
        .expect("EPSV")
        .reply("200 binary")
        .reply(&size(a))
        .epsv()
        .expect("RETR a")
        .expect("SIZE b")
        .expect("EPSV")
        .reply(&stating(a))
        .send_data(a)
        .reply("226 done")
        .reply(&size(b))
        .epsv()
}

/// Downloads `$name` into `$dir` as the small-file bench does: no resume,
/// no kept time (so no `MDTM`), the size verified; `$next` follows.
macro_rules! fresh_download {
    ($client:ident, $dir:expr, $name:expr, $next:expr) => {{
        let mut download = $client
            .download($name, $dir.path().join($name))
            .verify(Verify::SizeOnly)
            .resume(false)
            .preserve_mtime(false);
        if let Some(next) = $next {
            download = download.followed_by(next);
        }
        w!(download.run())
    }};
}

dialogue! {
    fn a_server_whose_150_states_the_size_is_asked_no_more_size_and_each_file_is_verified_by_it() {
        let (a, b, c) = (b"first file".as_slice(), b"the second, longer".as_slice(), b"3rd".as_slice());
        // The first `150` states the size its `SIZE` gave: from then on
        // the next file's `EPSV` alone goes behind each `RETR`.
        let script = learning(a, b)
            .expect("RETR b")
            .expect("EPSV")
            .reply(&stating(b))
            .send_data(b)
            .reply("226 done")
            .epsv()
            .expect("RETR c")
            .reply(&stating(c))
            .send_data(c)
            .reply("226 done");
        let (server, mut client) = logged_in!(script);
        let dir = tempfile::tempdir().unwrap();
        let files = [("a", a), ("b", b), ("c", c)];
        for (n, (name, data)) in files.iter().enumerate() {
            let next = files.get(n + 1).map(|(next, _)| *next);
            let report = fresh_download!(client, dir, *name, next).unwrap();
            assert_eq!(fs::read(dir.path().join(name)).unwrap(), *data, "{name}");
            assert_eq!(report.verified.size, Some(data.len() as u64), "{name}");
        }
        let t = server.finish();
        assert_eq!(
            t.commands[2..],
            ["TYPE I", "SIZE a", "EPSV", "RETR a", "SIZE b", "EPSV", "RETR b", "EPSV", "RETR c"]
        );
        assert!(t.dropped.is_empty(), "{:?}", t.dropped);
    }
}

dialogue! {
    fn a_150_without_the_size_has_the_size_asked_after_the_transfer_and_before_the_next() {
        let (a, b) = (b"first file".as_slice(), b"second".as_slice());
        let (c, d) = (b"3rd".as_slice(), b"the fourth".as_slice());
        let script = learning(a, b)
            .expect("RETR b")
            .expect("EPSV")
            .reply(&stating(b))
            .send_data(b)
            .reply("226 done")
            .epsv()
            .expect("RETR c")
            .expect("EPSV")
            // No size this time: the download of c asks it to verify,
            // and the next file's size is asked again before its RETR
            // (the passive reply read ahead for it goes unused).
            .reply("150 here it comes")
            .send_data(c)
            .reply("226 done")
            .epsv();
        let script = alone(script, "SIZE c", &size(c))
            .expect("SIZE d")
            .expect("EPSV")
            .reply(&size(d))
            .epsv()
            .expect("RETR d")
            .reply("150 go")
            .send_data(d)
            .reply("226 done");
        let (server, mut client) = logged_in!(script);
        let dir = tempfile::tempdir().unwrap();
        let files = [("a", a), ("b", b), ("c", c), ("d", d)];
        for (n, (name, data)) in files.iter().enumerate() {
            let next = files.get(n + 1).map(|(next, _)| *next);
            let report = fresh_download!(client, dir, *name, next).unwrap();
            assert_eq!(fs::read(dir.path().join(name)).unwrap(), *data, "{name}");
            assert_eq!(report.verified.size, Some(data.len() as u64), "{name}");
        }
        let t = server.finish();
        assert!(t.dropped.is_empty(), "{:?}", t.dropped);
    }
}

dialogue! {
    fn a_150_whose_size_differs_from_size_is_not_trusted() {
        let (a, b) = (b"first file".as_slice(), b"second".as_slice());
        let script = Script::new()
            .expect("TYPE I")
            .expect("SIZE a")
            .expect("EPSV")
            .reply("200 binary")
            .reply(&size(a))
            .epsv()
            .expect("RETR a")
            .expect("SIZE b")
            .expect("EPSV")
            // A count that is not the file's: the `SIZE` stays asked.
            .reply("150 Opening BINARY mode data connection (4 bytes).")
            .send_data(a)
            .reply("226 done")
            .reply(&size(b))
            .epsv()
            .expect("RETR b")
            .expect("SIZE c")
            .expect("EPSV")
            .reply(&stating(b))
            .send_data(b)
            .reply("226 done")
            .reply("550 no such file")
            .epsv();
        let (server, mut client) = logged_in!(script);
        let dir = tempfile::tempdir().unwrap();
        fresh_download!(client, dir, "a", Some("b")).unwrap();
        let report = fresh_download!(client, dir, "b", Some("c")).unwrap();
        assert_eq!(report.verified.size, Some(b.len() as u64));
        assert_eq!(fs::read(dir.path().join("a")).unwrap(), a);
        let t = server.finish();
        assert!(t.dropped.is_empty(), "{:?}", t.dropped);
    }
}

dialogue! {
    fn a_file_that_grew_past_the_size_its_150_stated_is_fetched_again_from_its_start() {
        let (a, b, c) = (b"first file".as_slice(), b"second".as_slice(), b"3rd".as_slice());
        let grown = b"3rd, grown since".as_slice();
        let script = learning(a, b)
            .expect("RETR b")
            .expect("EPSV")
            .reply(&stating(b))
            .send_data(b)
            .reply("226 done")
            .epsv()
            // No `SIZE c` was asked; its 150 states the old size, the
            // data is the new file.
            .expect("RETR c")
            .reply(&stating(c))
            .send_data(grown)
            .reply("226 done");
        // More bytes than stated: the size is asked, the file changed
        // since its 150, and it is fetched again from byte 0.
        let script = alone(script, "SIZE c", &size(grown))
            .expect("SIZE c")
            .expect("EPSV")
            .reply(&size(grown))
            .epsv()
            .expect("RETR c")
            .reply(&stating(grown))
            .send_data(grown)
            .reply("226 done");
        let (server, mut client) = logged_in!(script);
        let dir = tempfile::tempdir().unwrap();
        fresh_download!(client, dir, "a", Some("b")).unwrap();
        fresh_download!(client, dir, "b", Some("c")).unwrap();
        let report = fresh_download!(client, dir, "c", None::<&str>).unwrap();
        assert_eq!(fs::read(dir.path().join("c")).unwrap(), grown);
        assert_eq!(report.verified.size, Some(grown.len() as u64));
        assert_eq!(report.restarts, 1);
        let t = server.finish();
        assert!(t.dropped.is_empty(), "{:?}", t.dropped);
    }
}

dialogue! {
    fn verification_asks_feat_in_the_first_batch_so_the_replies_read_ahead_stay_usable() {
        let (a, b) = (b"first file".as_slice(), b"second".as_slice());
        // No checksum command offered: the sizes verify. `FEAT` after the
        // transfer would drop the replies read ahead for b; it goes out in
        // a's batch instead, no round trip of its own.
        let script = Script::new()
            .expect("TYPE I")
            .expect("FEAT")
            .expect("SIZE a")
            .expect("MDTM a")
            .expect("EPSV")
            .reply("200 binary")
            .reply_lines(&["211-Features:", " EPSV", " SIZE", " MDTM", "211 End"])
            .reply(&size(a))
            .reply(MDTM)
            .epsv()
            .then(retr_with_next("a", a, "b", b))
            .then(retr("b", b));
        let (server, mut client) = logged_in!(script);
        let dir = tempfile::tempdir().unwrap();
        let report = w!(client.download("a", dir.path().join("a")).followed_by("b").run()).unwrap();
        assert!(report.overlapped);
        let report = w!(client.download("b", dir.path().join("b")).run()).unwrap();
        assert_eq!(report.verified.size, Some(b.len() as u64));
        assert_eq!(fs::read(dir.path().join("b")).unwrap(), b);
        let t = server.finish();
        assert_eq!(
            t.commands[2..],
            ["TYPE I", "FEAT", "SIZE a", "MDTM a", "EPSV", "RETR a", "SIZE b", "MDTM b", "EPSV", "RETR b"]
        );
        assert!(t.dropped.is_empty(), "{:?}", t.dropped);
    }
}
