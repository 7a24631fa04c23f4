//! The ceiling for ftpkit's benchmark: the same bytes over one loopback TCP
//! connection, with no protocol at all.
//!
//! usage: rawtcp send FILE   (listens on 127.0.0.1:0, prints the port, sends FILE to the first client)
//!        rawtcp recv PORT OUT   (connects, writes everything to OUT through a 1 MiB buffer)
use std::{
    fs::File,
    io::{self, Read, Write},
    net::{TcpListener, TcpStream},
};

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [op, file] if op == "send" => {
            let listener = TcpListener::bind("127.0.0.1:0")?;
            println!("{}", listener.local_addr()?.port());
            io::stdout().flush()?;
            let (mut conn, _) = listener.accept()?;
            io::copy(&mut File::open(file)?, &mut conn)?;
        }
        [op, port, out] if op == "recv" => {
            let mut conn =
                TcpStream::connect(("127.0.0.1", port.parse::<u16>().map_err(io::Error::other)?))?;
            // io::copy from a socket to a file has no kernel fast path and
            // would move 8 KiB per read: a receiver that slow is no ceiling.
            let mut file = File::create(out)?;
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = conn.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                file.write_all(&buf[..n])?;
            }
        }
        _ => {
            return Err(io::Error::other(
                "usage: rawtcp send FILE | rawtcp recv PORT OUT",
            ));
        }
    }
    Ok(())
}
