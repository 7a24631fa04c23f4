//! Uploads a text file in `TYPE A` (each line sent as CRLF), reads it back
//! as lines, then sets its permissions with `SITE CHMOD`, telling a server
//! without the command apart from one refusing this file.
//!
//! usage: cargo run --example text_and_modes -- HOST:PORT USER PASSWORD REMOTE_FILE MODE
//!
//! MODE is octal, such as 644.

use ftpkit::{Client, Error};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, user, pass, path, mode] = args.as_slice() else {
        return Err("usage: text_and_modes HOST:PORT USER PASSWORD REMOTE_FILE MODE".into());
    };
    let mode = u32::from_str_radix(mode, 8).map_err(|_| format!("{mode:?} is not octal"))?;
    let mut ftp = Client::connect(addr)?;
    ftp.login(user, pass)?;

    ftp.store_lines(path.as_str(), "first line\nsecond line\n".as_bytes())?;
    ftp.retr_lines(&format!("RETR {path}"), |line| {
        println!("< {}", String::from_utf8_lossy(line));
    })?;

    match ftp.chmod(mode, path.as_str()) {
        Ok(reply) => println!("SITE CHMOD {mode:o}: {}", reply.message()),
        Err(e @ Error::Reply { .. })
            if e.code().is_some_and(|c| matches!(c.0, 500 | 502 | 504)) =>
        {
            println!("this server has no SITE CHMOD: {e}");
        }
        Err(e) => return Err(e.into()),
    }
    ftp.quit()?;
    Ok(())
}
