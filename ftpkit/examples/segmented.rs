//! Downloads one big file over several connections at once
//! (`download(..).segments(n)`), from an FTP server embedded in the
//! example (libunftp on loopback, the one ftpkit's tests use): the file is
//! split into ranges, each fetched on its own connection and written in
//! place into `big.bin.part`, then verified whole and renamed. The extra
//! connections are opened and logged in on threads while the first one
//! logs in, and handed to the download still logging in
//! (`opening_helpers`): the download starts on the first connection at
//! once, and each other one splits off its part as soon as it is logged
//! in. Prints the report and checks the file's SHA-256.
//!
//! usage: cargo run --release --example segmented [-- SEGMENTS FILE_MIB]

use std::time::Instant;

use ftpkit::{Client, Config};
use ftpkit_testkit::{UnftpServer, random_bytes, sha256_file, sha256_hex};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let segments = u16::try_from(args.first().copied().unwrap_or(4))?;
    let size = usize::try_from(args.get(1).copied().unwrap_or(64) << 20)?;

    let server = UnftpServer::start();
    let data = random_bytes(size, 7);
    std::fs::write(server.root().join("big.bin"), &data)?;
    let dir = tempfile::tempdir()?;
    let local = dir.path().join("big.bin");

    let addr = server.addr().to_string();
    let open = move || -> ftpkit::Result<Client> {
        let mut ftp = Client::connect_with(&addr, Config::default())?;
        ftp.login_anonymous()?;
        Ok(ftp)
    };
    let started = Instant::now();
    // All at once; the download does not wait for the extra ones.
    let opening: Vec<_> = (1..segments)
        .map(|_| std::thread::spawn(open.clone()))
        .collect();
    let mut ftp = open()?;
    let mut shown = 0;
    let report = ftp
        .download("big.bin", &local)
        .segments(segments)
        .opening_helpers(opening)
        .progress(|done| {
            // Bytes written so far, every range together.
            if done >= shown + (16 << 20) || done == size as u64 {
                println!("{done} of {size} bytes");
                shown = done;
            }
        })
        .run()?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} bytes over up to {segments} connections in {secs:.2} s ({:.1} MB/s), {} retries; {}",
        report.size,
        report.size as f64 / secs / 1e6,
        report.retries,
        report.verified.describe()
    );
    if sha256_file(&local) != sha256_hex(&data) {
        return Err("the downloaded file differs from the source".into());
    }
    // QUIT without waiting for the 221: the program ends here, and the
    // download read its final replies already.
    ftp.hang_up();
    Ok(())
}
