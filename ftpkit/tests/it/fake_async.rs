//! The async client against the scripted fake server where its code path
//! is its own (active mode, resume, abort, listings, `store_lines`), and
//! what only an async client can do: futures and readers dropped half-way;
//! and the async `download` and `upload` against the in-memory server with
//! injected faults. Dialogues that read the same on both drivers are in
//! `dialogue` and `hostile`, written once.

use std::time::Duration;

use ftpkit::{AsyncClient, Config, DataMode, Error, ReplyCode};
use ftpkit_testkit::{DataFault, FakeServer, Script};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    runtime::Runtime,
};

use crate::{
    dialogue::{binary_epsv, quick},
    driver::asynchronous::runtime,
};

fn logged_in(script: Script) -> (FakeServer, Runtime, AsyncClient) {
    logged_in_with(script, quick())
}

fn logged_in_with(script: Script, config: Config) -> (FakeServer, Runtime, AsyncClient) {
    let rt = runtime();
    let (server, client) = rt.block_on(crate::dialogue::logged_in_async_with(script, config));
    (server, rt, client)
}

#[test]
fn the_client_and_its_futures_are_send() {
    fn send<T: Send>(_: &T) {}
    let (server, rt, mut client) = logged_in(Script::new().expect("NOOP").reply("200 ok"));
    send(&client);
    let fut = client.noop();
    send(&fut);
    assert_eq!(rt.block_on(fut).unwrap().code(), ReplyCode(200));
    server.finish();
}

#[test]
fn active_mode_accepts_only_the_server() {
    let server = FakeServer::start(vec![
        Script::login_anonymous()
            .expect("TYPE I")
            .reply("200 ok")
            .expect_prefix("PORT 127,0,0,1,")
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
    let rt = runtime();
    let mut out = Vec::new();
    rt.block_on(async {
        let config = quick().mode(DataMode::Active);
        let mut client = AsyncClient::connect_with(&server.addr().to_string(), config)
            .await
            .unwrap();
        client.login_anonymous().await.unwrap();
        client.get("f", &mut out).await.unwrap();
        client.put("g", &mut &b"up"[..]).await.unwrap();
    });
    assert_eq!(out, b"the real bytes");
    assert_eq!(server.finish().uploads[0], b"up");
}

#[test]
fn get_and_put_resume_with_rest_and_report_progress() {
    let (server, rt, mut client) = logged_in(
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
            .reply("226 ok"),
    );
    let mut seen = Vec::new();
    let mut out = Vec::new();
    rt.block_on(async {
        let n = client
            .retrieve("big")
            .rest(5_000_000_000)
            .progress(|offset| seen.push(offset))
            .to_writer(&mut out)
            .await
            .unwrap();
        assert_eq!(n, 7);
        let sent = client
            .store("part")
            .rest(3)
            .from_reader(&mut &b"defg"[..])
            .await
            .unwrap();
        assert_eq!(sent, 4);
    });
    assert_eq!(out, b"tail!!!");
    assert_eq!(seen.last(), Some(&5_000_000_007));
    assert_eq!(server.finish().uploads[0], b"defg");
}

#[test]
fn streaming_reader_and_writer_finish_and_abort_resynchronises() {
    let data = vec![7u8; 1 << 20];
    let (server, rt, mut client) = logged_in(
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
            .expect("EPSV")
            .epsv()
            .expect("STOR w")
            .reply("150 go")
            .recv_data()
            .reply("226 stored")
            .expect("NOOP")
            .reply("200 next"),
    );
    rt.block_on(async {
        let mut reader = client.retrieve("f").reader().await.unwrap();
        let mut s = String::new();
        reader.read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "hello");
        assert_eq!(reader.finish().await.unwrap().code(), ReplyCode(226));

        let mut reader = client.retrieve("big").reader().await.unwrap();
        let mut first = [0u8; 1000];
        reader.read_exact(&mut first).await.unwrap();
        reader.abort().await.unwrap();

        let mut w = client.store("w").writer().await.unwrap();
        w.write_all(b"abc").await.unwrap();
        w.write_all(b"def").await.unwrap();
        assert_eq!(w.bytes_written(), 6);
        assert_eq!(w.finish().await.unwrap().code(), ReplyCode(226));
        assert_eq!(client.noop().await.unwrap().message(), "next");
    });
    assert_eq!(server.finish().uploads[0], b"abcdef");
}

#[test]
fn a_dropped_reader_is_aborted_by_the_next_call() {
    let (server, rt, mut client) = logged_in(
        binary_epsv()
            .expect("RETR f")
            .reply("150 go")
            .send_data_then(&[1u8; 300_000], DataFault::StallAt(100_000))
            .expect("ABOR")
            .reply("225 no transfer")
            .expect("NOOP")
            .reply("200 ok")
            .expect("PWD")
            .reply("257 \"/\""),
    );
    rt.block_on(async {
        {
            let mut reader = client.retrieve("f").reader().await.unwrap();
            let mut buf = [0u8; 10];
            reader.read_exact(&mut buf).await.unwrap();
        }
        assert!(!client.is_unusable());
        assert_eq!(client.pwd().await.unwrap(), "/");
    });
    server.finish();
}

#[test]
fn a_download_future_dropped_mid_way_is_aborted_by_the_next_call() {
    let (server, rt, mut client) = logged_in(
        binary_epsv()
            .expect("RETR f")
            .reply("150 go")
            .send_data_then(&[1u8; 300_000], DataFault::StallAt(100_000))
            .expect("ABOR")
            .reply("426 aborted")
            .reply("226 abort ok")
            .expect("NOOP")
            .reply("200 ok")
            .expect("PWD")
            .reply("257 \"/\""),
    );
    let mut out = Vec::new();
    rt.block_on(async {
        let cut = tokio::time::timeout(Duration::from_millis(500), client.get("f", &mut out)).await;
        assert!(cut.is_err(), "the stalled download finished: {cut:?}");
        assert_eq!(client.pwd().await.unwrap(), "/");
    });
    assert_eq!(out.len(), 100_000);
    server.finish();
}

#[test]
fn a_dropped_writer_resets_the_upload_and_the_next_call_aborts_it() {
    let (server, rt, mut client) = logged_in(
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
            .reply("200 again"),
    );
    rt.block_on(async {
        {
            let mut w = client.store("w").writer().await.unwrap();
            w.write_all(b"partial").await.unwrap();
        }
        assert_eq!(client.noop().await.unwrap().message(), "again");
    });
    let t = server.finish();
    assert_eq!(t.upload_resets, [true]);
}

#[test]
fn a_command_future_dropped_mid_exchange_leaves_the_client_unusable() {
    let (server, rt, mut client) = logged_in(Script::new().expect("PWD").never_reply());
    rt.block_on(async {
        let cut = tokio::time::timeout(Duration::from_millis(200), client.pwd()).await;
        assert!(cut.is_err());
        assert!(client.is_unusable());
        assert!(matches!(client.noop().await, Err(Error::Unusable)));
    });
    server.finish_allow_unplayed();
}

#[test]
fn listings_typed_entries_and_store_lines() {
    let (server, rt, mut client) = logged_in(
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
            .reply("226 ok"),
    );
    rt.block_on(async {
        let entries = client
            .list_entries("")
            .await
            .unwrap()
            .collect_all()
            .await
            .unwrap();
        let summary: Vec<_> = entries
            .iter()
            .map(|e| (e.name.to_string_lossy().into_owned(), e.is_dir(), e.size))
            .collect();
        assert_eq!(
            summary,
            [("a.txt".into(), false, Some(5)), ("sub".into(), true, None)]
        );
        let names = client.nlst("").await.unwrap();
        assert_eq!(names, ["a.txt", "sub"]);
        client
            .store_lines("notes.txt", &b"one\ntwo\r\nthree"[..])
            .await
            .unwrap();
    });
    assert_eq!(server.finish().uploads[0], b"one\r\ntwo\r\nthree\r\n");
}

// ----- download and upload over the core's resume plan ----------------------

mod files {
    use std::time::Duration;

    use ftpkit::{AsyncClient, Config, HashAlgorithm, RetryPolicy, TransferOptions};
    use ftpkit_testkit::{Content, Fault, MemoryServer, random_bytes, sha256_file, sha256_hex};

    use crate::driver::asynchronous::runtime;

    const SIZE: usize = 1_000_000;

    fn quick_retries() -> RetryPolicy {
        RetryPolicy {
            retries: 3,
            initial_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
        }
    }

    async fn client(server: &MemoryServer) -> AsyncClient {
        let config = Config::default()
            .timeout(Duration::from_secs(3))
            .connect_timeout(Duration::from_secs(3));
        let mut c = AsyncClient::connect_with(&server.addr().to_string(), config)
            .await
            .unwrap();
        c.login("tester", "pw").await.unwrap();
        c
    }

    fn rest_offsets(server: &MemoryServer) -> Vec<u64> {
        server
            .commands()
            .iter()
            .filter_map(|c| c.strip_prefix("REST ").and_then(|n| n.parse().ok()))
            .collect()
    }

    #[test]
    fn download_resumes_after_a_reset_and_after_a_dropped_connection() {
        for fault in [Fault::ResetDataAt(500_000), Fault::DropAllAt(400_000)] {
            let server = MemoryServer::start();
            let data = random_bytes(SIZE, 41);
            server.put_file("f.bin", data.clone());
            let drop_all = matches!(fault, Fault::DropAllAt(_));
            server.push_fault(fault);
            let dir = tempfile::tempdir().unwrap();
            let report = runtime().block_on(async {
                let mut c = client(&server).await;
                c.cwd("/").await.unwrap();
                c.download("f.bin", dir.path().join("f.bin"))
                    .retry(quick_retries())
                    .run()
                    .await
                    .unwrap()
            });
            assert_eq!(sha256_file(dir.path().join("f.bin")), sha256_hex(&data));
            assert!(!dir.path().join("f.bin.part").exists());
            assert_eq!(report.retries, 1);
            assert_eq!(report.size, SIZE as u64);
            assert_eq!(report.verified.size, Some(SIZE as u64));
            assert_eq!(report.verified.hash, Some(HashAlgorithm::Sha256));
            let rests = rest_offsets(&server);
            assert_eq!(rests.len(), 1, "{rests:?}");
            assert!(rests[0] > 0, "resumed, not restarted: {rests:?}");
            if drop_all {
                assert_eq!(server.logins(), 2, "logged in again after the drop");
                let commands = server.commands();
                let relogin = commands.iter().rposition(|c| c == "PASS pw").unwrap();
                assert!(
                    commands[relogin..].iter().any(|c| c == "CWD /"),
                    "{commands:?}"
                );
            }
        }
    }

    #[test]
    fn small_blocks_and_a_rate_limit_move_every_byte_in_order() {
        // Hundreds of blocks: the file's side (on the blocking pool) and the
        // socket's overlap; under a rate limit the data moves a block at a
        // time, and no read of the file may run ahead of what was sent.
        for limit in [None, Some(40_000_000)] {
            let server = MemoryServer::start();
            let data = random_bytes(SIZE, 43);
            server.put_file("f.bin", data.clone());
            let dir = tempfile::tempdir().unwrap();
            let local = dir.path().join("f.bin");
            let (mut down, mut up) = (Vec::new(), Vec::new());
            runtime().block_on(async {
                let config = Config::default()
                    .timeout(Duration::from_secs(3))
                    .connect_timeout(Duration::from_secs(3))
                    .block_size(4096);
                let mut c = AsyncClient::connect_with(&server.addr().to_string(), config)
                    .await
                    .unwrap();
                c.login("tester", "pw").await.unwrap();
                let options = TransferOptions {
                    limit_rate: limit,
                    ..TransferOptions::default()
                };
                c.download("f.bin", &local)
                    .options(options.clone())
                    .progress(|n| down.push(n))
                    .run()
                    .await
                    .unwrap();
                c.upload(&local, "g.bin")
                    .options(options)
                    .progress(|n| up.push(n))
                    .run()
                    .await
                    .unwrap();
            });
            assert_eq!(sha256_file(&local), sha256_hex(&data), "{limit:?}");
            assert_eq!(
                server.file("g.bin"),
                Some(Content::Bytes(data)),
                "{limit:?}"
            );
            // On Linux an unpaced download of a plain connection moves the
            // data with splice(2), as much as the socket has per move, not a
            // block at a time.
            let blockwise = limit.is_some() || !cfg!(target_os = "linux");
            for (offsets, by_block) in [(&down, blockwise), (&up, true)] {
                assert!(offsets.windows(2).all(|w| w[0] <= w[1]), "{offsets:?}");
                assert_eq!(offsets.last(), Some(&(SIZE as u64)), "{limit:?}");
                if by_block {
                    assert!(offsets.len() >= SIZE / 4096, "{} reports", offsets.len());
                }
            }
        }
    }

    #[test]
    fn a_plain_download_resumes_from_its_part_file_byte_exact_with_progress() {
        // Several MiB over a plain connection, unpaced: on Linux the bulk
        // after the overlap check goes through splice(2).
        const BIG: usize = (5 << 20) + 4321;
        const HAVE: usize = (1 << 20) + 777;
        let server = MemoryServer::start();
        let data = random_bytes(BIG, 44);
        server.put_file("big.bin", data.clone());
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("big.bin");
        std::fs::write(dir.path().join("big.bin.part"), &data[..HAVE]).unwrap();
        let mut offsets = Vec::new();
        let report = runtime().block_on(async {
            let mut c = client(&server).await;
            c.download("big.bin", &local)
                .progress(|n| offsets.push(n))
                .run()
                .await
                .unwrap()
        });
        assert_eq!(std::fs::read(&local).unwrap(), data);
        assert!(!dir.path().join("big.bin.part").exists());
        assert_eq!(report.size, BIG as u64);
        assert_eq!(report.verified.size, Some(BIG as u64));
        let rests = rest_offsets(&server);
        assert_eq!(rests.len(), 1, "{rests:?}");
        assert!(
            rests[0] > 0 && rests[0] <= HAVE as u64,
            "resumed inside the part file: {rests:?}"
        );
        // REST goes back into the part file to compare the overlap.
        assert_eq!(report.resumed_from, HAVE as u64);
        assert_eq!(report.transferred, BIG as u64 - rests[0]);
        assert!(offsets.windows(2).all(|w| w[0] < w[1]), "{offsets:?}");
        assert!(offsets.len() >= 2, "{offsets:?}");
        assert!(offsets[0] > rests[0], "{offsets:?}");
        assert_eq!(offsets.last(), Some(&(BIG as u64)));
    }

    #[test]
    fn upload_resumes_after_a_reset_through_a_temporary_name() {
        let server = MemoryServer::start();
        let data = random_bytes(SIZE, 42);
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("up.bin");
        std::fs::write(&local, &data).unwrap();
        server.push_fault(Fault::ResetDataAt(SIZE as u64 / 2));
        let mut offsets = Vec::new();
        let report = runtime().block_on(async {
            let mut c = client(&server).await;
            c.upload(&local, "up.bin")
                .temp_name(true)
                .retry(quick_retries())
                .progress(|n| offsets.push(n))
                .run()
                .await
                .unwrap()
        });
        assert_eq!(server.file("up.bin"), Some(Content::Bytes(data)));
        assert_eq!(server.file("up.bin.part"), None);
        assert_eq!(report.retries, 1);
        assert_eq!(report.verified.hash, Some(HashAlgorithm::Sha256));
        assert_eq!(offsets.last(), Some(&(SIZE as u64)));
        let commands = server.commands();
        assert!(
            commands.iter().any(|c| c == "APPE up.bin.part"),
            "resumed with APPE: {commands:?}"
        );
        assert!(commands.iter().any(|c| c == "RNTO up.bin"), "{commands:?}");
    }
}
