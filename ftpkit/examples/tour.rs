//! A tour of ftpkit against an embedded loopback server (no setup needed):
//! connect, log in, upload, download, list (names, raw lines, typed
//! entries with their mode and time precision), resume an interrupted download
//! with `rest`, and clean up. Every byte that moves is checked by hash.
//!
//! Run it with `cargo run --release --example tour`.

use std::{error::Error, io::Read, time::Instant};

use ftpkit::Client;
use ftpkit_testkit::{UnftpServer, random_bytes, sha256_hex};

fn main() -> Result<(), Box<dyn Error>> {
    let server = UnftpServer::start();
    let addr = server.addr().to_string();
    let data = random_bytes(8 << 20, 7);
    let want = sha256_hex(&data);

    step("connect", &addr);
    let mut ftp = Client::connect(&addr)?;
    println!("        welcome: {}", ftp.welcome());

    step("login", "anonymous");
    ftp.login_anonymous()?;
    println!("        working directory: {}", ftp.pwd()?);

    step("mkdir", "tour");
    ftp.mkd("tour")?;
    ftp.cwd("tour")?;

    step("upload", "tour/data.bin (8 MiB, STOR)");
    let started = Instant::now();
    let sent = ftp.put("data.bin", &mut data.as_slice())?;
    println!(
        "        {sent} bytes in {:.0?}; SIZE says {}",
        started.elapsed(),
        ftp.size("data.bin")?
    );

    step("download", "tour/data.bin (RETR)");
    let mut back = Vec::new();
    ftp.get("data.bin", &mut back)?;
    check("downloaded bytes", &sha256_hex(&back), &want)?;

    step("list", "NLST and LIST");
    for name in ftp.nlst("")? {
        println!("        name: {name}");
    }
    for line in ftp.list("")? {
        println!("        line: {line}");
    }
    step("typed listing", "MLSD or LIST, as ls -l shows it");
    for entry in ftp.list_entries("")? {
        let entry = entry?;
        // The name is the server's: check it before it names a local file.
        let local = entry.safe_name().unwrap_or("(unsafe as a local name)");
        println!(
            "        {} {:>10} {:?} time known to the {:?}: {local}",
            entry.mode_string().unwrap_or_else(|| "?".into()),
            entry.size.unwrap_or(0),
            entry.name,
            entry.time_precision,
        );
    }

    step(
        "interrupted download",
        "read 3 MiB, then abort the transfer (ABOR)",
    );
    let mut part = vec![0u8; 3 << 20];
    {
        let mut reader = ftp.retrieve("data.bin").reader()?;
        reader.read_exact(&mut part)?;
        reader.abort()?;
    }
    println!(
        "        kept {} bytes; the connection is still usable: {}",
        part.len(),
        ftp.noop()?
    );

    step("resume", "REST 3145728 + RETR, appended to what we kept");
    let resumed = ftp
        .retrieve("data.bin")
        .rest(part.len() as u64)
        .to_writer(&mut part)?;
    println!("        {resumed} more bytes");
    check("resumed file", &sha256_hex(&part), &want)?;

    step("rename and clean up", "RNFR/RNTO, DELE, CDUP, RMD");
    ftp.rename("data.bin", "renamed.bin")?;
    ftp.delete("renamed.bin")?;
    ftp.cwd("..")?;
    ftp.rmd("tour")?;

    step("quit", "");
    ftp.quit()?;
    println!(
        "\nall steps passed; every transfer matched sha256 {}",
        &want[..16]
    );
    Ok(())
}

fn step(name: &str, detail: &str) {
    println!("==> {name:<22} {detail}");
}

fn check(what: &str, got: &str, want: &str) -> Result<(), Box<dyn Error>> {
    if got == want {
        println!("        {what}: sha256 matches");
        Ok(())
    } else {
        Err(format!("{what}: sha256 {got} != {want}").into())
    }
}
