//! Downloads every file of a remote directory over one control connection.
//!
//! usage: cargo run --release --example get_many -- HOST:PORT USER PASSWORD REMOTE_DIR LOCAL_DIR
//!
//! Names come from the server, so each is checked before it becomes a local
//! path: one that is empty, `.`, `..` or contains a path separator is skipped.

use std::{fs::File, io::BufWriter, path::Path};

use ftpkit::Client;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, user, pass, dir, local] = args.as_slice() else {
        return Err("usage: get_many HOST:PORT USER PASSWORD REMOTE_DIR LOCAL_DIR".into());
    };
    let mut ftp = Client::connect(addr)?;
    ftp.login(user, pass)?;
    ftp.cwd(dir)?;
    let (mut files, mut bytes) = (0u64, 0u64);
    for name in ftp.nlst("")? {
        let Some(text) = name.as_str().map(|n| n.trim_start_matches("./")) else {
            eprintln!("skipping a name that is not UTF-8: {name}");
            continue;
        };
        if text.is_empty() || text == "." || text == ".." || text.contains(['/', '\\']) {
            eprintln!("skipping unsafe name {text:?}");
            continue;
        }
        let mut out =
            BufWriter::with_capacity(64 * 1024, File::create(Path::new(local).join(text))?);
        bytes += ftp.get(text, &mut out)?;
        files += 1;
    }
    ftp.quit()?;
    println!("{files} files, {bytes} bytes");
    Ok(())
}
