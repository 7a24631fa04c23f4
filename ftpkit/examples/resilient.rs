//! A download and an upload that survive a broken network: the embedded
//! test server resets the first data connection of each halfway, and
//! ftpkit reconnects, resumes from the last safe byte, and proves the
//! result with the server's SHA-256. Each call runs under an operation
//! deadline: retries, reconnects and waits included, it ends within it.
//!
//! usage: cargo run --example resilient
//!
//! Against a real server, the same two calls are all it takes:
//! `ftp.download("remote", "local").run()?` and
//! `ftp.upload("local", "remote").temp_name(true).run()?`.

use std::time::Duration;

use ftpkit::{Client, Config, RetryPolicy};
use ftpkit_testkit::{Content, Fault, MemoryServer, random_bytes, sha256_file, sha256_hex};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = MemoryServer::start();
    let data = random_bytes(8 << 20, 1);
    server.put_file("big.bin", data.clone());
    // The next transfer breaks after 4 MiB.
    server.push_fault(Fault::ResetDataAt(4 << 20));

    // Never longer than a minute per call, whatever the network does; a
    // 226 lost after the last byte is confirmed, not fetched again.
    let config = Config::default().deadline(Duration::from_secs(60));
    let mut ftp = Client::connect_with(&server.addr().to_string(), config)?;
    ftp.login("demo", "demo")?;
    let quick = RetryPolicy {
        retries: 3,
        initial_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(2),
    };

    let dir = tempfile::tempdir()?;
    let local = dir.path().join("big.bin");
    let report = ftp.download("big.bin", &local).retry(quick).run()?;
    println!(
        "download: {} bytes, {} retry, {} bytes moved, {}",
        report.size,
        report.retries,
        report.transferred,
        report.verified.describe()
    );
    assert_eq!(sha256_file(&local), sha256_hex(&data));

    server.push_fault(Fault::DropAllAt(3 << 20));
    let report = ftp
        .upload(&local, "copy.bin")
        .temp_name(true)
        .retry(quick)
        .run()?;
    println!(
        "upload:   {} bytes, {} retry (reconnected), {}",
        report.size,
        report.retries,
        report.verified.describe()
    );
    assert_eq!(server.file("copy.bin"), Some(Content::Bytes(data)));
    ftp.quit()?;
    Ok(())
}
