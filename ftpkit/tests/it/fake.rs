//! The public methods of a client against exact dialogues of the scripted
//! fake server, each written once with [`dialogue!`] and run on the
//! blocking and (feature `tokio`) the async client: directory and simple
//! commands, listings, transfers with resume and progress, streaming
//! readers and writers finished, aborted and dropped, active mode, and
//! data-connection faults. The dialogues of the connection itself
//! (greeting, login, timeouts, reconnect) are in `dialogue`; what only one
//! driver can do is in `blocking_only` and `async_only`.

#[allow(unused_imports)]
use std::io::{Read, Write};

use ftpkit::{Client, DataMode, Error, Phase, ReplyCode};
use ftpkit_testkit::{DataFault, FakeServer, Script};
#[cfg(feature = "tokio")]
#[allow(unused_imports)]
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::dialogue::{binary_epsv, quick};

dialogue! {
    fn hang_up_says_quit_and_does_not_wait_for_the_reply() {
        // The server reads QUIT and never answers: a client waiting for
        // the 221 would take the reply timeout (2 s).
        let (server, mut client) = logged_in!(Script::new().expect("QUIT").never_reply());
        let started = std::time::Instant::now();
        w!(client.hang_up());
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "{:?}", started.elapsed());
        assert!(client.is_unusable());
        drop(client);
        let t = server.finish();
        assert_eq!(t.commands.last().map(String::as_str), Some("QUIT"));
    }
}

dialogue! {
    fn directory_commands() {
        let (server, mut client) = logged_in!(
            Script::new()
                .expect("CWD pub/files")
                .reply("250 ok")
                .expect("CDUP")
                .reply("500 unknown")
                .expect("CWD ..")
                .reply("250 ok")
                .expect("CWD .")
                .reply("250 ok")
                .expect("PWD")
                .reply("257 \"/a \"\"q\"\" dir\" is current")
                .expect("MKD new")
                .reply("257 \"/new\" created")
                .expect("MKD other")
                .reply("250 ok, no path given")
                .expect("RMD old")
                .reply("250 removed")
                .expect("DELE f.txt")
                .reply("250 deleted")
                .expect("RNFR a")
                .reply("350 ready")
                .expect("RNTO b")
                .reply("250 renamed")
                .expect("RNFR missing")
                .reply("550 no such file")
        );
        w!(client.cwd("pub/files")).unwrap();
        w!(client.cwd("..")).unwrap();
        w!(client.cwd("")).unwrap();
        assert_eq!(w!(client.pwd()).unwrap(), "/a \"q\" dir");
        assert_eq!(w!(client.mkd("new")).unwrap(), "/new");
        assert_eq!(w!(client.mkd("other")).unwrap(), "other");
        w!(client.rmd("old")).unwrap();
        w!(client.delete("f.txt")).unwrap();
        w!(client.rename("a", "b")).unwrap();
        let err = w!(client.rename("missing", "x")).unwrap_err();
        assert_eq!(err.code(), Some(ReplyCode(550)));
        assert_eq!(err.to_string(), "RNFR missing: 550 no such file");
        let t = server.finish();
        assert!(
            !t.commands.iter().any(|c| c == "RNTO x"),
            "RNTO sent after a refused RNFR"
        );
    }
}

dialogue! {
    fn size_switches_to_binary_and_mdtm_parses_utc() {
        let (server, mut client) = logged_in!(
            Script::new()
                .expect("TYPE I")
                .reply("200 ok")
                .expect("SIZE big.iso")
                .reply("213 5000000000")
                .expect("SIZE small")
                .reply("213 7")
                .expect("MDTM big.iso")
                .reply("213 20240229123456")
        );
        assert_eq!(w!(client.size("big.iso")).unwrap(), 5_000_000_000);
        assert_eq!(w!(client.size("small")).unwrap(), 7);
        let t = w!(client.mdtm("big.iso")).unwrap();
        let secs = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(secs, 1_709_210_096);
        server.finish();
    }
}

dialogue! {
    fn site_noop_feat_and_raw_commands() {
        let (server, mut client) = logged_in!(
            Script::new()
                .expect("SITE CHMOD 644 f")
                .reply("200 ok")
                .expect("NOOP")
                .reply("200 ok")
                .expect("FEAT")
                .reply("211-Features:\r\n MDTM\r\n UTF8\r\n MLST type*;size*;\r\n211 End")
                .expect("OPTS UTF8 ON")
                .reply("200 ok")
                .expect("STAT")
                .reply("211-status\r\n211 end")
                .expect("HELP x")
                .reply("502 no help")
                .expect("MODE S")
                .reply("331 odd")
        );
        w!(client.site("CHMOD 644 f")).unwrap();
        w!(client.noop()).unwrap();
        let features = w!(client.features()).unwrap();
        assert!(features.supports("utf8") && features.supports("MLST"));
        // Asked once per session.
        assert!(w!(client.features()).unwrap().supports("MDTM"));
        assert_eq!(w!(client.sendcmd("STAT")).unwrap().lines().len(), 2);
        assert_eq!(
            w!(client.sendcmd("HELP x")).unwrap_err().code(),
            Some(ReplyCode(502))
        );
        assert_eq!(
            w!(client.voidcmd("MODE S")).unwrap_err().code(),
            Some(ReplyCode(331))
        );
        server.finish();
    }
}

dialogue! {
    fn line_breaks_and_nul_are_refused_before_anything_is_sent() {
        let (server, mut client) =
            logged_in!(Script::new().expect("NOOP").reply("200 still in sync"));
        for bad in ["a\r\nDELE b", "a\nb", "a\rb", "a\0b"] {
            assert!(
                matches!(w!(client.sendcmd(bad)), Err(Error::InvalidInput(_))),
                "{bad:?}"
            );
            assert!(matches!(w!(client.cwd(bad)), Err(Error::InvalidInput(_))));
            assert!(matches!(w!(client.delete(bad)), Err(Error::InvalidInput(_))));
            assert!(matches!(
                w!(client.rename("ok", bad)),
                Err(Error::InvalidInput(_))
            ));
            assert!(matches!(
                w!(client.get(bad, &mut Vec::new())),
                Err(Error::InvalidInput(_))
            ));
            assert!(matches!(
                w!(client.put(bad, &mut &b"x"[..])),
                Err(Error::InvalidInput(_))
            ));
        }
        assert!(matches!(
            w!(client.login("u\r\nDELE x", "p")),
            Err(Error::InvalidInput(_))
        ));
        assert!(matches!(
            w!(client.cwd(vec![b'a'; 5000])),
            Err(Error::InvalidInput(_))
        ));
        w!(client.noop()).unwrap();
        let t = server.finish();
        assert_eq!(
            t.commands.len(),
            3,
            "only USER, PASS and NOOP reached the server: {:?}",
            t.commands
        );
    }
}

dialogue! {
    fn listings_nlst_list_mlsd_mlst_and_retr_lines() {
        let (server, mut client) = logged_in!(
            Script::new()
                .expect("TYPE A")
                .reply("200 ascii")
                .expect("EPSV")
                .epsv()
                .expect("NLST")
                .reply("150 here")
                .send_data(b"a.txt\r\nb \xff.bin\r\nno-newline")
                .reply("226 done")
                .expect("EPSV")
                .epsv()
                .expect("LIST pub")
                .reply("150 here")
                .send_data(b"-rw-r--r-- 1 u g 5 Jan 1 2024 a.txt\r\n")
                .reply("226 done")
                .expect("EPSV")
                .epsv()
                .expect("MLSD")
                .reply("150 here")
                .send_data(b"type=cdir; .\r\ntype=file;size=5;modify=20240101000000; a b;c\r\nnot an mlsd line\r\n")
                .reply("226 done")
                .expect("MLST a.txt")
                .reply("250-facts\r\n type=file;size=5; a.txt\r\n250 end")
                .expect("EPSV")
                .epsv()
                .expect("RETR notes.txt")
                .reply("150 here")
                .send_data(b"line 1\r\nline 2\n")
                .reply("226 done")
        );
        let names = w!(client.nlst("")).unwrap();
        assert_eq!(names.len(), 3);
        assert_eq!(names[1].as_bytes(), b"b \xff.bin");
        assert_eq!(names[2], "no-newline");
        assert_eq!(
            w!(client.list("pub")).unwrap()[0],
            "-rw-r--r-- 1 u g 5 Jan 1 2024 a.txt"
        );
        let entries = w!(client.mlsd("")).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].name, "a b;c");
        assert_eq!(entries[1].fact("size"), Some("5"));
        let facts = w!(client.mlst("a.txt")).unwrap();
        assert_eq!(facts.fact("type"), Some("file"));
        let mut lines = Vec::new();
        w!(client.retr_lines("RETR notes.txt", |l| lines.push(l.to_vec()))).unwrap();
        assert_eq!(lines, [b"line 1".to_vec(), b"line 2".to_vec()]);
        server.finish();
    }
}

dialogue! {
    fn typed_entries_nlst_and_store_lines() {
        let (server, mut client) = logged_in!(
            Script::new()
                .expect("FEAT")
                .reply("211-Features:\r\n EPSV\r\n MLST type*;size*;\r\n211 End")
                .expect("TYPE A")
                .reply("200 ascii")
                .expect("EPSV")
                .epsv()
                .expect("MLSD")
                .reply("150 go")
                .send_data(b"type=cdir; .\r\ntype=file;size=5; a.txt\r\ntype=dir; sub\r\n")
                .reply("226 ok")
                .expect("EPSV")
                .epsv()
                .expect("NLST")
                .reply("150 go")
                .send_data(b"a.txt\r\nsub\r\n")
                .reply("226 ok")
                .expect("EPSV")
                .epsv()
                .expect("STOR notes.txt")
                .reply("150 go")
                .recv_data()
                .reply("226 ok")
        );
        let listing = w!(client.list_entries("")).unwrap();
        let entries = entries!(listing).unwrap();
        let summary: Vec<_> = entries
            .iter()
            .map(|e| (e.name.to_string_lossy().into_owned(), e.is_dir(), e.size))
            .collect();
        assert_eq!(
            summary,
            [("a.txt".into(), false, Some(5)), ("sub".into(), true, None)]
        );
        let names = w!(client.nlst("")).unwrap();
        assert_eq!(names, ["a.txt", "sub"]);
        w!(client.store_lines("notes.txt", &b"one\ntwo\r\nthree"[..])).unwrap();
        assert_eq!(server.finish().uploads[0], b"one\r\ntwo\r\nthree\r\n");
    }
}

dialogue! {
    fn get_with_progress_and_block_size() {
        let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        let (server, mut client) = logged_in!(
            binary_epsv()
                .expect("RETR f")
                .reply("150 Opening (100000 bytes)")
                .send_data(&data)
                .reply("226 done")
        );
        let mut chunks = 0;
        let mut got = Vec::new();
        let n = w!(client.retrieve("f").block_size(1000).for_each_chunk(|c| {
            assert!(c.len() <= 1000);
            chunks += 1;
            got.extend_from_slice(c);
            Ok(())
        }))
        .unwrap();
        assert_eq!(n, 100_000);
        assert_eq!(got, data);
        assert!(chunks >= 100);
        server.finish();
    }
}

dialogue! {
    fn get_and_put_resume_with_rest_beyond_4_gib_and_report_progress() {
        let (server, mut client) = logged_in!(
            binary_epsv()
                .expect("REST 5000000000")
                .reply("350 restarting")
                .expect("RETR big")
                .reply("150 Opening (5000000007 bytes)")
                .send_data(b"tail!!!")
                .reply("226 done")
                .expect("EPSV")
                .epsv()
                .expect("REST 3")
                .reply("350 ok")
                .expect("STOR part")
                .reply("150 go")
                .recv_data()
                .reply("226 ok")
        );
        let mut seen = Vec::new();
        let mut out = Vec::new();
        let n = w!(client
            .retrieve("big")
            .rest(5_000_000_000)
            .progress(|offset| seen.push(offset))
            .to_writer(&mut out))
        .unwrap();
        assert_eq!((n, out.as_slice()), (7, &b"tail!!!"[..]));
        assert_eq!(seen.last(), Some(&5_000_000_007));
        let sent = w!(client.store("part").rest(3).from_reader(&mut &b"defg"[..])).unwrap();
        assert_eq!(sent, 4);
        assert_eq!(server.finish().uploads[0], b"defg");
    }
}

dialogue! {
    fn streaming_reader_reads_the_final_reply_and_abort_resynchronises() {
        let data = vec![7u8; 1 << 20];
        let (server, mut client) = logged_in!(
            binary_epsv()
                .expect("RETR f")
                .reply("150 go")
                .send_data(b"hello")
                .reply("226 done")
                .expect("EPSV")
                .epsv()
                .expect("RETR big")
                .reply("150 go")
                .send_data_then(&data, DataFault::StallAt(64 * 1024))
                .expect("ABOR")
                .reply("426 aborted")
                .reply("226 abort ok")
                .expect("NOOP")
                .reply("200 in sync")
                .expect("NOOP")
                .reply("200 next")
        );
        let mut reader = w!(client.retrieve("f").reader()).unwrap();
        let mut s = String::new();
        w!(reader.read_to_string(&mut s)).unwrap();
        assert_eq!(s, "hello");
        assert_eq!(w!(reader.finish()).unwrap().code(), ReplyCode(226));

        let mut reader = w!(client.retrieve("big").reader()).unwrap();
        let mut first = [0u8; 1000];
        w!(reader.read_exact(&mut first)).unwrap();
        w!(reader.abort()).unwrap();
        assert_eq!(w!(client.noop()).unwrap().message(), "next");
        server.finish();
    }
}

dialogue! {
    fn a_dropped_reader_is_aborted_and_the_client_stays_usable() {
        let (server, mut client) = logged_in!(
            binary_epsv()
                .expect("RETR f")
                .reply("150 go")
                .send_data_then(&[1u8; 300_000], DataFault::StallAt(100_000))
                .expect("ABOR")
                .reply("225 no transfer")
                .expect("NOOP")
                .reply("200 ok")
                .expect("PWD")
                .reply("257 \"/\"")
        );
        {
            let mut reader = w!(client.retrieve("f").reader()).unwrap();
            let mut buf = [0u8; 10];
            w!(reader.read_exact(&mut buf)).unwrap();
        }
        assert!(!client.is_unusable());
        assert_eq!(w!(client.pwd()).unwrap(), "/");
        server.finish();
    }
}

dialogue! {
    fn put_append_rest_and_store_lines() {
        let (server, mut client) = logged_in!(
            binary_epsv()
                .expect("STOR up.bin")
                .reply("150 go")
                .recv_data()
                .reply("226 stored")
                .expect("EPSV")
                .epsv()
                .expect("APPE log")
                .reply("150 go")
                .recv_data()
                .reply("226 appended")
                .expect("EPSV")
                .epsv()
                .expect("REST 3")
                .reply("350 ok")
                .expect("STOR part")
                .reply("150 go")
                .recv_data()
                .reply("226 ok")
                .expect("TYPE A")
                .reply("200 ascii")
                .expect("EPSV")
                .epsv()
                .expect("STOR notes.txt")
                .reply("150 go")
                .recv_data()
                .reply("226 ok")
        );
        let data = vec![42u8; 300_000];
        let mut progress = Vec::new();
        let sent = w!(client
            .store("up.bin")
            .block_size(65_536)
            .progress(|n| progress.push(n))
            .from_reader(&mut data.as_slice()))
        .unwrap();
        assert_eq!(sent, 300_000);
        assert_eq!(progress.last(), Some(&300_000));
        assert_eq!(w!(client.append("log", &mut &b"more"[..])).unwrap(), 4);
        w!(client.store("part").rest(3).from_reader(&mut &b"defg"[..])).unwrap();
        w!(client.store_lines("notes.txt", &b"one\ntwo\r\nthree"[..])).unwrap();
        let t = server.finish();
        assert_eq!(t.uploads[0], data);
        assert_eq!(t.uploads[1], b"more");
        assert_eq!(t.uploads[2], b"defg");
        assert_eq!(t.uploads[3], b"one\r\ntwo\r\nthree\r\n");
    }
}

dialogue! {
    fn streaming_writer_finish() {
        let (server, mut client) = logged_in!(
            binary_epsv()
                .expect("STOR w")
                .reply("150 go")
                .recv_data()
                .reply("226 ok")
                .expect("NOOP")
                .reply("200 next")
        );
        let mut w = w!(client.store("w").writer()).unwrap();
        w!(w.write_all(b"abc")).unwrap();
        w!(w.write_all(b"def")).unwrap();
        assert_eq!(w.bytes_written(), 6);
        assert_eq!(w!(w.finish()).unwrap().code(), ReplyCode(226));
        assert_eq!(w!(client.noop()).unwrap().message(), "next");
        assert_eq!(server.finish().uploads[0], b"abcdef");
    }
}

dialogue! {
    fn a_dropped_writer_resets_the_upload_and_the_next_call_aborts_it() {
        let (server, mut client) = logged_in!(
            binary_epsv()
                .expect("STOR w")
                .reply("150 go")
                .recv_data()
                .expect("ABOR")
                .reply("426 aborted")
                .reply("226 abort ok")
                .expect("NOOP")
                .reply("200 ok")
                .expect("NOOP")
                .reply("200 again")
        );
        {
            let mut w = w!(client.store("w").writer()).unwrap();
            w!(w.write_all(b"partial")).unwrap();
        }
        assert_eq!(w!(client.noop()).unwrap().message(), "again");
        let t = server.finish();
        assert_eq!(t.upload_resets, [true]);
    }
}

dialogue! {
    fn active_mode_port_and_retr() {
        let server = FakeServer::start(vec![
            Script::login_anonymous()
                .expect("TYPE I")
                .reply("200 ok")
                .expect_prefix("PORT 127,0,0,1,")
                .active()
                .expect("RETR f")
                .reply("150 connecting")
                .send_data(b"active bytes")
                .reply("226 ok")
                .expect_prefix("PORT ")
                .active()
                .expect("STOR g")
                .reply("150 connecting")
                .recv_data()
                .reply("226 ok"),
        ]);
        let mut client =
            connect!(&server.addr().to_string(), quick().mode(DataMode::Active)).unwrap();
        w!(client.login_anonymous()).unwrap();
        let mut out = Vec::new();
        w!(client.get("f", &mut out)).unwrap();
        assert_eq!(out, b"active bytes");
        w!(client.put("g", &mut &b"up"[..])).unwrap();
        assert_eq!(server.finish().uploads[0], b"up");
    }
}

dialogue! {
    fn active_mode_refuses_a_data_connection_from_another_host() {
        let server = FakeServer::start(vec![
            Script::login_anonymous()
                .expect("TYPE I")
                .reply("200 ok")
                .expect_prefix("PORT ")
                .active()
                .expect("RETR f")
                .intrude_from_other_host(b"injected by a third party")
                .reply("150 connecting")
                .send_data(b"the real bytes")
                .reply("226 ok")
                .expect_prefix("PORT ")
                .active()
                .expect("STOR g")
                .reply("150 connecting")
                .recv_data()
                .reply("226 ok"),
        ]);
        let config = quick().mode(DataMode::Active);
        let mut client = connect!(&server.addr().to_string(), config).unwrap();
        w!(client.login_anonymous()).unwrap();
        let mut out = Vec::new();
        w!(client.get("f", &mut out)).unwrap();
        assert_eq!(out, b"the real bytes");
        w!(client.put("g", &mut &b"up"[..])).unwrap();
        assert_eq!(server.finish().uploads[0], b"up");
    }
}

dialogue! {
    fn raw_transfers_client_abort_and_the_remaining_accessors() {
        let (server, mut client) = logged_in!(
            Script::new()
                .expect("TYPE I")
                .reply("200 ok")
                .expect("EPSV")
                .epsv()
                .expect("REST 2")
                .reply("350 ok")
                .expect("RETR raw")
                .reply("150 Opening (5 bytes)")
                .send_data(b"cde")
                .reply("226 done")
                .expect("EPSV")
                .epsv()
                .expect("STOU")
                .reply("150 FILE: unique.1")
                .recv_data()
                .reply("226 stored as unique.1")
                .expect("EPSV")
                .epsv()
                .expect("STOR gone")
                .reply("150 go")
                .recv_data()
                .expect("ABOR")
                .reply("426 aborted")
                .reply("226 abort done")
                .expect("NOOP")
                .reply("200 ok")
                .expect("ABOR")
                .reply("225 no transfer to abort")
        );
        assert_eq!(client.host(), "127.0.0.1");
        assert_eq!(client.peer_addr(), server.addr());
        assert_eq!(client.mode(), DataMode::Passive);
        assert!(!client.is_secure());

        let mut reader =
            w!(client.transfer_reader("RETR raw", ftpkit::TransferType::Binary, Some(2))).unwrap();
        assert_eq!(reader.announced_size(), Some(5));
        let mut got = Vec::new();
        w!(reader.read_to_end(&mut got)).unwrap();
        assert_eq!((got.as_slice(), reader.bytes_read()), (&b"cde"[..], 3));
        drop(reader);

        let mut writer =
            w!(client.transfer_writer("STOU", ftpkit::TransferType::Binary, None)).unwrap();
        w!(writer.write_all(b"unique")).unwrap();
        assert_eq!(w!(writer.finish()).unwrap().message(), "stored as unique.1");

        let mut writer = w!(client.store("gone").writer()).unwrap();
        w!(writer.write_all(b"partial")).unwrap();
        w!(writer.abort()).unwrap();

        assert_eq!(w!(client.abort()).unwrap().code(), ReplyCode(225));
        client.set_mode(DataMode::Active);
        assert_eq!(client.mode(), DataMode::Active);
        client.close();
        let t = server.finish();
        assert_eq!(t.uploads[0], b"unique");
        assert_eq!(t.uploads[1], b"partial");
        assert_eq!(
            t.upload_resets,
            [false, true],
            "the aborted upload ends with a reset"
        );
    }
}

dialogue! {
    fn stat_uses_mlst_when_offered_and_list_otherwise() {
        let (server, mut client) = logged_in!(
            Script::new()
                .expect("FEAT")
                .reply("211-Features:\r\n MLST type*;size*;modify*;\r\n211 End")
                .expect("MLST docs/a b.txt")
                .reply("250-Listing docs/a b.txt\r\n type=file;size=42;modify=20240101120000; docs/a b.txt\r\n250 End")
        );
        let entry = w!(client.stat("docs/a b.txt")).unwrap().unwrap();
        assert_eq!(
            (entry.name.to_string(), entry.size),
            ("docs/a b.txt".into(), Some(42))
        );
        server.finish();

        let (server, mut client) = logged_in!(
            Script::new()
                .expect("FEAT")
                .reply("500 FEAT not understood")
                .expect("TYPE A")
                .reply("200 ok")
                .expect("EPSV")
                .epsv()
                .expect("LIST f")
                .reply("150 here")
                .send_data(b"total 1\r\n-rw-r--r-- 1 u g 7 Jan 02 2024 f\r\n")
                .reply("226 done")
                .expect("EPSV")
                .epsv()
                .expect("LIST missing")
                .reply("150 here")
                .send_data(b"")
                .reply("226 done")
        );
        let entry = w!(client.stat("f")).unwrap().unwrap();
        assert_eq!((entry.kind, entry.size), (ftpkit::EntryKind::File, Some(7)));
        assert!(w!(client.stat("missing")).unwrap().is_none());
        server.finish();
    }
}

dialogue! {
    fn the_mlst_facts_a_server_offers_but_does_not_send_are_asked_for() {
        // pyftpdlib's defaults: perm and unix.mode offered, not sent.
        let (server, mut client) = logged_in!(
            Script::new()
                .expect("FEAT")
                .reply("211-Features:\r\n EPSV\r\n MLST type*;perm;size*;modify*;unique;unix.mode;unix.uid;unix.gid;\r\n211 End")
                .expect("OPTS MLST type;size;modify;perm;unix.mode;unix.uid;unix.gid;")
                .reply("200 MLST OPTS type;size;modify;perm;unix.mode;unix.uid;unix.gid;")
                .expect("TYPE A")
                .reply("200 ok")
                .expect("EPSV")
                .epsv()
                .expect("MLSD d")
                .reply("150 here")
                .send_data(b"type=file;perm=r;size=3;modify=20240101120000;unix.mode=0o4755;unix.uid=0;unix.gid=0; su\r\n")
                .reply("226 done")
        );
        let entries = match w!(client.list_entries("d")) {
            Ok(listing) => entries!(listing),
            Err(e) => Err(e),
        };
        let entries = match entries {
            Ok(entries) => entries,
            Err(e) => {
                server.finish();
                panic!("{e}")
            }
        };
        let [entry] = entries.as_slice() else {
            panic!("{entries:?}")
        };
        assert_eq!(entry.mode_string().as_deref(), Some("-rwsr-xr-x"));
        assert_eq!(entry.time_precision, ftpkit::TimePrecision::Second);
        server.finish();
    }
}

dialogue! {
    fn list_entries_yields_entries_while_the_listing_is_still_arriving() {
        // Half the listing, then the server goes silent without ending it:
        // the entries of every complete line must come out all the same,
        // so that a long listing is never held whole in memory.
        let listing: Vec<u8> = (0..4000)
            .flat_map(|i| format!("type=file;size={i}; f{i:05}\r\n").into_bytes())
            .collect();
        let half = listing.len() / 2;
        let complete = listing[..half].iter().filter(|&&b| b == b'\n').count();
        let (server, mut client) = logged_in!(
            crate::dialogue::mlsd_opened("MLSD d", "150 here")
                .send_data_then(&listing, DataFault::StallAt(half))
                .expect("ABOR")
                .reply("225 no transfer")
                .expect("NOOP")
                .reply("200 ok")
                .expect("NOOP")
                .reply("200 next")
        );
        {
            let mut entries = w!(client.list_entries("d")).unwrap();
            for i in 0..complete {
                let entry = next_entry!(entries).unwrap().unwrap();
                assert_eq!(entry.name.as_bytes(), format!("f{i:05}").as_bytes());
                assert_eq!(entry.size, Some(i as u64));
            }
            // Dropped before the end: the transfer is aborted.
        }
        assert_eq!(w!(client.noop()).unwrap().message(), "next");
        server.finish();
    }
}

// ----- faults ---------------------------------------------------------------

dialogue! {
    fn a_reset_data_connection_is_a_data_error() {
        let (server, mut client) = logged_in!(
            binary_epsv()
                .expect("RETR f")
                .reply("150 go")
                .send_data_then(&[9u8; 200_000], DataFault::ResetAt(50_000))
                .reply("426 aborted")
        );
        let err = w!(client.get("f", &mut Vec::new())).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Io {
                    phase: Phase::Data,
                    ..
                } | Error::Reply { .. }
            ),
            "{err:?}"
        );
        server.finish_allow_unplayed();
    }
}

dialogue! {
    fn an_upload_refused_mid_way_reports_the_servers_reply() {
        let (server, mut client) = logged_in!(
            binary_epsv()
                .expect("STOR full")
                .reply("150 go")
                .recv_data_then(DataFault::ResetAt(10_000))
                .reply("552 disk full")
        );
        let data = vec![0u8; 4 << 20];
        let err = w!(client.put("full", &mut data.as_slice())).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Io {
                    phase: Phase::Data,
                    ..
                } | Error::Reply { .. }
            ),
            "{err:?}"
        );
        server.finish_allow_unplayed();
    }
}
