//! Drives suppaftp (from crates.io) for ftpkit's benchmark.
//!
//! usage: suppaftp-bench HOST:PORT USER PASS get REMOTE LOCAL
//!        suppaftp-bench HOST:PORT USER PASS put LOCAL REMOTE
//!        suppaftp-bench HOST:PORT USER PASS getdir REMOTE_DIR LOCAL_DIR
//!        suppaftp-bench HOST:PORT USER PASS nlst REMOTE_DIR
//!        suppaftp-bench HOST:PORT USER PASS list|mlsd REMOTE_DIR
//!
//! `list` and `mlsd` parse every line with suppaftp's parser and print each
//! entry's name and size, the typed listing `ftpkit ls --json` is compared with.
use std::{
    fs::File,
    io::{self, BufWriter, Write},
    path::Path,
};

use std::str::FromStr;

use suppaftp::{FtpStream, types::FileType};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, user, pass, op, rest @ ..] = args.as_slice() else {
        return Err("usage: suppaftp-bench HOST:PORT USER PASS OP ARGS...".into());
    };
    let mut ftp = FtpStream::connect(addr.as_str())?;
    ftp.login(user.as_str(), pass.as_str())?;
    ftp.transfer_type(FileType::Binary)?;
    match (op.as_str(), rest) {
        ("get", [remote, local]) => get(&mut ftp, remote, Path::new(local))?,
        ("put", [local, remote]) => {
            ftp.put_file(remote.as_str(), &mut File::open(local)?)?;
        }
        ("getdir", [dir, local]) => {
            for name in ftp.nlst(Some(dir.as_str()))? {
                let base = name.rsplit('/').next().unwrap_or(&name).to_owned();
                // pure-ftpd's NLST names `.` and `..` too.
                if base == "." || base == ".." {
                    continue;
                }
                get(
                    &mut ftp,
                    &format!("{dir}/{base}"),
                    &Path::new(local).join(&base),
                )?;
            }
        }
        ("nlst", [dir]) => {
            let names = ftp.nlst(Some(dir.as_str()))?;
            println!("{}", names.len());
        }
        ("list", [dir]) => {
            let lines = ftp.list(Some(dir.as_str()))?;
            print_entries(lines.iter().map(|l| suppaftp::list::File::from_str(l)))?;
        }
        ("mlsd", [dir]) => {
            let lines = ftp.mlsd(Some(dir.as_str()))?;
            print_entries(lines.iter().map(|l| suppaftp::list::ListParser::parse_mlsd(l)))?;
        }
        _ => return Err(format!("unknown operation {op}").into()),
    }
    ftp.quit()?;
    Ok(())
}

fn print_entries<E>(
    entries: impl Iterator<Item = Result<suppaftp::list::File, E>>,
) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    for file in entries.flatten() {
        writeln!(out, "{}\t{}", file.name(), file.size())?;
    }
    out.flush()
}

fn get(ftp: &mut FtpStream, remote: &str, local: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(local)?);
    ftp.retr(remote, |reader| {
        io::copy(reader, &mut out).map_err(suppaftp::FtpError::ConnectionError)
    })?;
    out.flush()?;
    Ok(())
}
