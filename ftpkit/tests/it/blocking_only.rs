//! Scenarios that only the blocking client has, each with the reason it
//! runs on one driver.

use std::{fs, time::Duration};

use ftpkit::{Client, Config};
use ftpkit_testkit::{Content, Fault, MemoryServer, random_bytes};

use crate::{
    dialogue::{binary_epsv, logged_in},
    resume::quick_retries,
};

const SIZE: usize = 1_000_000;

/// Blocking only: `from_file` is the blocking store's way to send a file
/// it may hand to the kernel (sendfile); the async store reads files
/// through `from_reader` and `upload`, tested on both drivers.
#[test]
fn from_file_sends_the_rest_of_a_file_with_rest() {
    let (server, mut client) = logged_in(
        binary_epsv()
            .expect("REST 100000")
            .reply("350 ok")
            .expect("STOR big")
            .reply("150 go")
            .recv_data()
            .reply("226 ok"),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    let data = ftpkit_testkit::random_bytes(1_000_000, 4);
    std::fs::write(&path, &data).unwrap();
    let mut file = std::fs::File::open(&path).unwrap();
    std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(100_000)).unwrap();
    let mut seen = 0;
    let sent = client
        .store("big")
        .rest(100_000)
        .block_size(64 * 1024)
        .progress(|offset| seen = offset)
        .from_file(&mut file)
        .unwrap();
    assert_eq!((sent, seen), (900_000, 1_000_000));
    assert_eq!(server.finish().uploads[0], &data[100_000..]);
}

/// Blocking only: `sendfile(2)` ([`Config::sendfile`]) is the blocking
/// driver's upload path; the tokio driver always writes blocks.
#[test]
fn uploads_with_sendfile_move_every_byte_and_resume() {
    let server = MemoryServer::start();
    let data = random_bytes(SIZE, 77);
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("up.bin");
    fs::write(&local, &data).unwrap();
    server.push_fault(Fault::ResetDataAt(400_000));
    let config = Config::default()
        .timeout(Duration::from_secs(3))
        .sendfile(true);
    let mut c = Client::connect_with(&server.addr().to_string(), config).unwrap();
    c.login("tester", "pw").unwrap();
    let report = c
        .upload(&local, "up.bin")
        .retry(quick_retries())
        .run()
        .unwrap();
    assert_eq!(server.file("up.bin"), Some(Content::Bytes(data)));
    assert_eq!(report.retries, 1);
}
