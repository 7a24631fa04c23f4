//! Downloads every file of a remote directory over one control connection.
//!
//! usage: cargo run --release --example get_many -- HOST:PORT USER PASSWORD REMOTE_DIR LOCAL_DIR [--stream] [--no-pipelining] [--no-overlap]
//!
//! By default each file goes through the `download` plan: a `.part` file,
//! the size (and a hash where the server offers one) verified; like its
//! peers it does not copy file times (no `MDTM`) and does not resume.
//! Each download names the file that comes next (`followed_by`), so the
//! next file's `SIZE` and `EPSV` go out in the same write as this file's
//! `RETR`: after the first file, each takes one round trip (its `RETR`),
//! checks included. A server that answers
//! those commands during the transfer has that file fetched again and is
//! sent one file's commands at a time from then on.
//!
//! With `--stream` each file is streamed with `get` instead (`EPSV`,
//! `RETR`: two round trips a file, no checks). `--no-pipelining` sends one
//! command at a time (`Config::pipelining(false)`); `--no-overlap` keeps
//! the verified downloads but names no next file.
//!
//! Names come from the server, so each is checked before it becomes a local
//! path: one that is empty, `.`, `..` or contains a path separator is skipped.

use std::{fs::File, io::BufWriter, path::Path};

use ftpkit::{Client, Config, TransferOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |args: &mut Vec<String>, name: &str| {
        let before = args.len();
        args.retain(|a| a != name);
        args.len() != before
    };
    let stream = flag(&mut args, "--stream");
    let pipelining = !flag(&mut args, "--no-pipelining");
    let overlap = !flag(&mut args, "--no-overlap");
    let [addr, user, pass, dir, local] = args.as_slice() else {
        return Err("usage: get_many HOST:PORT USER PASSWORD REMOTE_DIR LOCAL_DIR [--stream] [--no-pipelining] [--no-overlap]".into());
    };
    let mut ftp = Client::connect_with(addr, Config::default().pipelining(pipelining))?;
    ftp.login(user, pass)?;
    ftp.cwd(dir)?;
    let mut names = Vec::new();
    for name in ftp.nlst("")? {
        let Some(text) = name.as_str().map(|n| n.trim_start_matches("./")) else {
            eprintln!("skipping a name that is not UTF-8: {name}");
            continue;
        };
        if text.is_empty() || text == "." || text == ".." || text.contains(['/', '\\']) {
            eprintln!("skipping unsafe name {text:?}");
            continue;
        }
        names.push(text.to_owned());
    }
    let (mut files, mut bytes) = (0u64, 0u64);
    for (n, name) in names.iter().enumerate() {
        let path = Path::new(local).join(name);
        bytes += if stream {
            let mut out = BufWriter::with_capacity(64 * 1024, File::create(&path)?);
            ftp.get(name, &mut out)?
        } else {
            // Like its peers, no file times (no MDTM): the size is still
            // verified, and a download is not resumed from a `.part`.
            let mut download = ftp.download(name, &path).options(TransferOptions {
                preserve_mtime: false,
                resume: false,
                ..TransferOptions::default()
            });
            if let Some(next) = names.get(n + 1).filter(|_| overlap) {
                download = download.followed_by(next);
            }
            download.run()?.size
        };
        files += 1;
    }
    ftp.quit()?;
    println!("{files} files, {bytes} bytes");
    Ok(())
}
