//! Downloads every file of a remote directory over one control connection.
//!
//! usage: cargo run --release --example get_many -- HOST:PORT USER PASSWORD REMOTE_DIR LOCAL_DIR [--download] [--no-pipelining]
//!
//! By default each file is streamed with `get` (`EPSV`, `RETR`: two round
//! trips a file, no checks). With `--download` each goes through the
//! `download` plan instead: a `.part` file, the size (and a hash where the
//! server offers one) verified, the file time kept; pipelined, its `TYPE`,
//! `SIZE`, `MDTM` and `EPSV` go out in one batch, so it too takes two
//! round trips a file. `--no-pipelining` sends one command at a time
//! (`Config::pipelining(false)`).
//!
//! Names come from the server, so each is checked before it becomes a local
//! path: one that is empty, `.`, `..` or contains a path separator is skipped.

use std::{fs::File, io::BufWriter, path::Path};

use ftpkit::{Client, Config};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |args: &mut Vec<String>, name: &str| {
        let before = args.len();
        args.retain(|a| a != name);
        args.len() != before
    };
    let plan = flag(&mut args, "--download");
    let pipelining = !flag(&mut args, "--no-pipelining");
    let [addr, user, pass, dir, local] = args.as_slice() else {
        return Err("usage: get_many HOST:PORT USER PASSWORD REMOTE_DIR LOCAL_DIR [--download] [--no-pipelining]".into());
    };
    let mut ftp = Client::connect_with(addr, Config::default().pipelining(pipelining))?;
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
        let path = Path::new(local).join(text);
        bytes += if plan {
            ftp.download(text, &path).run()?.size
        } else {
            let mut out = BufWriter::with_capacity(64 * 1024, File::create(&path)?);
            ftp.get(text, &mut out)?
        };
        files += 1;
    }
    ftp.quit()?;
    println!("{files} files, {bytes} bytes");
    Ok(())
}
