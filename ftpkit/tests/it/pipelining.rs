//! Pipelining, on both drivers: the commands of a download whose replies
//! do not change what is sent next arrive at the server as one batch,
//! before any reply; verification reuses the size given before; a server
//! that drops the rest of a batch gets a new connection and one command
//! at a time for good, and the file is still byte-exact; one that only
//! reorders the replies keeps its connection.

use std::fs;

use ftpkit::{Client, Config, Verify};
use ftpkit_testkit::{FakeServer, Script};

use crate::dialogue::quick;

const MDTM: &str = "213 20240102030405";

/// `command`, then `reply`, after dropping anything the client sent
/// ahead: a client that pipelined would lose commands and time out.
fn one(script: Script, command: &str, reply: &str) -> Script {
    script.expect(command).drop_pending().reply(reply)
}

/// A download of `f` as a server that takes one command at a time sees
/// it: `TYPE I` (if `ty`), `SIZE`, `MDTM`, `EPSV`, `RETR`, and the
/// verifying `SIZE`.
fn one_at_a_time(script: Script, name: &str, data: &[u8], ty: bool) -> Script {
    let size = format!("213 {}", data.len());
    let mut script = script;
    if ty {
        script = one(script, "TYPE I", "200 binary");
    }
    script = one(script, &format!("SIZE {name}"), &size);
    script = one(script, &format!("MDTM {name}"), MDTM);
    script = script
        .expect("EPSV")
        .drop_pending()
        .epsv()
        .expect(&format!("RETR {name}"))
        .reply("150 go")
        .send_data(data)
        .reply("226 done");
    one(script, &format!("SIZE {name}"), &size)
}

/// Downloads `f` and `g` with `$client` into a new directory: each
/// byte-exact, verified by the size, without a retry (a fallback is not
/// one). A macro, for the dialogue's `w!`, which awaits on the async
/// driver.
macro_rules! download_f_and_g {
    ($client:ident, $data:expr) => {{
        let dir = tempfile::tempdir().unwrap();
        for name in ["f", "g"] {
            let dest = dir.path().join(name);
            let report = w!($client.download(name, &dest).verify(Verify::SizeOnly).run()).unwrap();
            assert_eq!(fs::read(&dest).unwrap(), $data, "{name}");
            assert_eq!(report.retries, 0, "{name}");
            assert_eq!(report.verified.size, Some($data.len() as u64), "{name}");
        }
    }};
}

/// The file's commands, then its replies: a server that waits for the
/// whole batch before answering (a client that waited for each reply
/// would time the script out).
fn batched_download(name: &str, data: &[u8]) -> Script {
    Script::new()
        .expect(&format!("SIZE {name}"))
        .expect(&format!("MDTM {name}"))
        .expect("EPSV")
        .reply(&format!("213 {}", data.len()))
        .reply(MDTM)
        .epsv()
        .expect(&format!("RETR {name}"))
        .reply("150 here it comes")
        .send_data(data)
        .reply("226 done")
}

dialogue! {
    fn a_download_sends_type_size_mdtm_and_epsv_in_one_batch_and_asks_no_second_size() {
        let (a, b) = (b"first file".as_slice(), b"the second, longer file".as_slice());
        let script = Script::new()
            .expect("TYPE I")
            .expect("SIZE a")
            .expect("MDTM a")
            .expect("EPSV")
            .reply("200 binary")
            .reply(&format!("213 {}", a.len()))
            .reply(MDTM)
            .epsv()
            .expect("RETR a")
            .reply("150 here it comes")
            .send_data(a)
            .reply("226 done")
            .then(batched_download("b", b));
        let (server, mut client) = logged_in!(script);
        let dir = tempfile::tempdir().unwrap();
        for (name, data) in [("a", a), ("b", b)] {
            let report = w!(client
                .download(name, dir.path().join(name))
                .verify(Verify::SizeOnly)
                .run())
            .unwrap();
            assert_eq!(report.verified.size, Some(data.len() as u64));
            assert_eq!(fs::read(dir.path().join(name)).unwrap(), data);
        }
        let t = server.finish();
        // Two round trips a file: the batch, then RETR.
        assert_eq!(
            t.commands[2..],
            ["TYPE I", "SIZE a", "MDTM a", "EPSV", "RETR a", "SIZE b", "MDTM b", "EPSV", "RETR b"]
        );
        assert!(t.dropped.is_empty());
    }
}

dialogue! {
    fn without_pipelining_every_command_waits_for_its_reply() {
        // Each expect is followed by a drop of anything else received.
        let script = one_at_a_time(Script::login_anonymous(), "f", b"data", true);
        let server = FakeServer::start(vec![script]);
        let config = quick().pipelining(false);
        let mut client = connect!(&server.addr().to_string(), config).unwrap();
        w!(client.login_anonymous()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f");
        w!(client.download("f", &dest).verify(Verify::SizeOnly).run()).unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"data");
        let t = server.finish();
        assert!(t.dropped.is_empty(), "sent ahead: {:?}", t.dropped);
    }
}

dialogue! {
    fn a_server_that_drops_the_rest_of_a_batch_gets_one_command_at_a_time() {
        let data = b"byte-exact after the fallback".as_slice();
        // The first connection answers the first command of the batch and
        // loses the rest.
        let dropping = Script::login_anonymous()
            .expect("TYPE I")
            .drop_pending()
            .reply("200 binary")
            .never_reply();
        // The second, after the reconnect: one command at a time.
        let mut sequential = Script::login_anonymous();
        for name in ["f", "g"] {
            sequential = one_at_a_time(sequential, name, data, name == "f");
        }
        let server = FakeServer::start(vec![dropping, sequential]);
        let mut client = connect!(&server.addr().to_string(), quick()).unwrap();
        w!(client.login_anonymous()).unwrap();
        download_f_and_g!(client, data);
        let t = server.finish();
        assert_eq!(t.dropped, ["SIZE f", "MDTM f", "EPSV"], "only the first batch");
    }
}

dialogue! {
    fn a_server_that_reorders_a_batch_keeps_its_connection_and_gets_no_other_batch() {
        // libunftp answers SIZE and MDTM from tasks of their own: the
        // pipelined EPSV's 229 comes before them, or the two 213s swap.
        // A new connection in its place would leave libunftp listening on
        // the 229's port for 15 s: 64 sessions at once filled its passive
        // range, and every EPSV after them got 425.
        let data = b"byte-exact after the reorder".as_slice();
        let size = format!("213 {}", data.len());
        for swapped in [false, true] {
            let mut script = Script::login_anonymous()
                .expect("TYPE I")
                .expect("SIZE f")
                .expect("MDTM f")
                .expect("EPSV")
                .reply("200 binary");
            script = if swapped {
                script.reply(MDTM).reply(&size).epsv()
            } else {
                script.epsv().reply(&size).reply(MDTM)
            };
            script = script
                .expect("RETR f")
                .reply("150 go")
                .send_data(data)
                .reply("226 done");
            // The next file: one command at a time, on the same connection.
            let server = FakeServer::start(vec![one_at_a_time(script, "g", data, false)]);
            let mut client = connect!(&server.addr().to_string(), quick()).unwrap();
            w!(client.login_anonymous()).unwrap();
            download_f_and_g!(client, data);
            let t = server.finish();
            assert!(t.dropped.is_empty(), "sent ahead: {:?}", t.dropped);
        }
    }
}

/// A server that answers a batch out of order (the `EPSV` reply first):
/// the client notices the reply that cannot answer `TYPE`, reconnects and
/// goes on one command at a time.
#[test]
fn a_server_that_answers_a_batch_out_of_order_is_not_trusted_with_another() {
    let out_of_order = Script::login_anonymous()
        .expect("TYPE I")
        .expect("SIZE f")
        .expect("MDTM f")
        .expect("EPSV")
        .epsv()
        .never_reply();
    let sequential = Script::login_anonymous()
        .expect("TYPE I")
        .reply("200 binary")
        .expect("SIZE f")
        .reply("213 2")
        .expect("MDTM f")
        .reply(MDTM)
        .expect("EPSV")
        .epsv()
        .expect("RETR f")
        .reply("150 go")
        .send_data(b"ok")
        .reply("226 done")
        .expect("SIZE f")
        .reply("213 2");
    let server = FakeServer::start(vec![out_of_order, sequential]);
    let mut client = Client::connect_with(&server.addr().to_string(), quick()).unwrap();
    client.login_anonymous().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("f");
    client
        .download("f", &dest)
        .verify(Verify::SizeOnly)
        .run()
        .unwrap();
    assert_eq!(fs::read(&dest).unwrap(), b"ok");
    server.finish();
}

/// The switch is on by default.
#[test]
fn pipelining_is_on_by_default() {
    assert!(Config::default().pipelining);
    assert!(!Config::default().pipelining(false).pipelining);
}

dialogue! {
    fn a_segmented_download_asks_size_and_mdtm_in_the_batch_of_its_first_data_setup() {
        // Too small to split: the size the batch gave sends it over one
        // connection, which uses the batch's EPSV reply instead of asking
        // again (a second EPSV, or a SIZE that waited for TYPE's reply,
        // would not match the script).
        let data = b"a file too small to split".as_slice();
        let script = Script::new()
            .expect("TYPE I")
            .expect("SIZE f")
            .expect("MDTM f")
            .expect("EPSV")
            .reply("200 binary")
            .reply(&format!("213 {}", data.len()))
            .reply(MDTM)
            .epsv()
            .expect("RETR f")
            .reply("150 here it comes")
            .send_data(data)
            .reply("226 done");
        let (server, mut client) = logged_in!(script);
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f");
        let report = w!(client
            .download("f", &dest)
            .segments(4)
            .verify(Verify::SizeOnly)
            .run())
        .unwrap();
        assert_eq!(fs::read(&dest).unwrap(), data);
        assert_eq!(report.verified.size, Some(data.len() as u64));
        let t = server.finish();
        assert_eq!(t.commands[2..], ["TYPE I", "SIZE f", "MDTM f", "EPSV", "RETR f"]);
        assert!(t.dropped.is_empty(), "{:?}", t.dropped);
    }
}

dialogue! {
    fn a_verified_download_asks_feat_in_its_batch_and_nothing_after_the_transfer() {
        // FEAT goes out with the file's batch: which checksum to verify
        // with is known before the transfer, not asked in a round trip of
        // its own after it. What FEAT calls for (OPTS UTF8 ON, OPTS MLST)
        // is owed: the name is ASCII, and nothing here lists. The server
        // does not list EPSV, but the batch's EPSV worked: its reply is
        // used (a PASV would not match the script).
        let data = b"verified by its size".as_slice();
        let (server, mut client) = logged_in!(first_verified_download(data));
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f");
        let report = w!(client.download("f", &dest).run()).unwrap();
        assert_eq!(fs::read(&dest).unwrap(), data);
        assert_eq!(report.verified.size, Some(data.len() as u64));
        assert_eq!(report.verified.hash, None);
        let t = server.finish();
        // Two round trips: the batch, RETR.
        assert_eq!(t.commands[2..7], ["TYPE I", "FEAT", "SIZE f", "MDTM f", "EPSV"]);
        assert_eq!(t.commands[7..], ["RETR f"]);
        assert!(t.dropped.is_empty(), "{:?}", t.dropped);
    }
}

/// A verified download of `f` (`data`) on a session that has not asked
/// `FEAT`: `FEAT` rides in its batch, and its reply calls for `OPTS UTF8 ON`
/// and `OPTS MLST` ([`FEATURES`]); then `RETR` and the data.
fn first_verified_download(data: &[u8]) -> Script {
    Script::new()
        .expect("TYPE I")
        .expect("FEAT")
        .expect("SIZE f")
        .expect("MDTM f")
        .expect("EPSV")
        .reply("200 binary")
        .reply(FEATURES)
        .reply(&format!("213 {}", data.len()))
        .reply(MDTM)
        .epsv()
        .expect("RETR f")
        .reply("150 here it comes")
        .send_data(data)
        .reply("226 done")
}

/// A `FEAT` reply that calls for `OPTS UTF8 ON` and `OPTS MLST`.
const FEATURES: &str =
    "211-Features:\r\n SIZE\r\n MDTM\r\n UTF8\r\n MLST type*;size*;modify;UNIX.mode;\r\n211 End";

dialogue! {
    fn what_feat_calls_for_goes_out_only_before_a_command_it_matters_to() {
        // After a download of an ASCII name that waited for neither OPTS:
        // the next name is not ASCII, so OPTS UTF8 ON goes out before its
        // batch (until then the server reads names in its own charset);
        // OPTS MLST waits for the first MLST.
        let data = b"twelve bytes".as_slice();
        let size = format!("213 {}", data.len());
        let script = first_verified_download(data)
            .expect("OPTS UTF8 ON")
            .reply("200 UTF8 on")
            .expect("SIZE é")
            .expect("MDTM é")
            .expect("EPSV")
            .reply(&size)
            .reply(MDTM)
            .epsv()
            .expect("RETR é")
            .reply("150 here it comes")
            .send_data(data)
            .reply("226 done")
            .expect_prefix("OPTS MLST ")
            .reply("200 MLST OPTS")
            .expect("MLST f")
            .reply("250-Listing f\r\n type=file;size=12; f\r\n250 End");
        let (server, mut client) = logged_in!(script);
        let dir = tempfile::tempdir().unwrap();
        w!(client.download("f", dir.path().join("f")).run()).unwrap();
        w!(client.download("é", dir.path().join("é")).run()).unwrap();
        assert_eq!(fs::read(dir.path().join("é")).unwrap(), data);
        let entry = w!(client.stat("f")).unwrap().unwrap();
        assert_eq!(entry.size, Some(12));
        let t = server.finish();
        assert_eq!(t.commands[7..13], ["RETR f", "OPTS UTF8 ON", "SIZE é", "MDTM é", "EPSV", "RETR é"]);
        assert!(t.commands[13].starts_with("OPTS MLST "), "{:?}", t.commands);
        assert_eq!(t.commands[14..], ["MLST f"]);
        assert!(t.dropped.is_empty(), "{:?}", t.dropped);
    }
}

dialogue! {
    fn a_verified_upload_asks_size_and_feat_in_one_batch_after_the_transfer() {
        // SIZE and FEAT go out together after the 226 (a client that
        // waited for SIZE's reply would time the script out); what FEAT
        // calls for is owed (nothing here needs it); no checksum is
        // offered, and no MFMT (the time is not kept): nothing more.
        let script = crate::dialogue::binary_epsv()
            .expect("STOR up")
            .reply("150 go")
            .recv_data()
            .reply("226 stored")
            .expect("SIZE up")
            .expect("FEAT")
            .reply("213 10")
            .reply("211-Features:\r\n SIZE\r\n UTF8\r\n211 End");
        let (server, mut client) = logged_in!(script);
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("up");
        fs::write(&local, b"ten bytes!").unwrap();
        let report = w!(client.upload(&local, "up").run()).unwrap();
        assert_eq!(report.verified.size, Some(10));
        assert_eq!(report.verified.hash, None);
        let t = server.finish();
        assert_eq!(t.uploads[0], b"ten bytes!");
        assert_eq!(t.commands[5..], ["SIZE up", "FEAT"]);
        assert!(t.dropped.is_empty(), "{:?}", t.dropped);
    }
}

dialogue! {
    fn an_unverified_upload_sends_mfmt_without_asking_feat_first() {
        // After the transfer, only MFMT: no FEAT, no OPTS UTF8 ON (a FEAT
        // would not match the script). The server lacks MFMT: refused,
        // the time is not kept, the upload still succeeds.
        let script = crate::dialogue::binary_epsv()
            .expect("STOR up")
            .reply("150 go")
            .recv_data()
            .reply("226 stored")
            .expect_prefix("MFMT ")
            .reply("500 Unknown command.");
        let (server, mut client) = logged_in!(script);
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("up");
        fs::write(&local, b"some bytes").unwrap();
        let report = w!(client.upload(&local, "up").verify(Verify::Off).run()).unwrap();
        assert!(!report.mtime_preserved);
        let t = server.finish();
        assert_eq!(t.uploads[0], b"some bytes");
        assert!(!t.commands.iter().any(|c| c == "FEAT" || c.starts_with("OPTS")), "{:?}", t.commands);
    }
}
