//! Connecting over a control connection opened by the caller: here a TCP
//! stream set up by hand (it could as well be an SSH channel or any other
//! `Read + Write + Send` stream). ftpkit reads the greeting, runs TLS and
//! the login over it as usual; data connections are opened as usual, to
//! the server named by the address given beside the stream.
//!
//! Run it with `cargo run --example connect_over`.

use std::{error::Error, net::TcpStream, time::Duration};

use ftpkit::{Client, Config};
use ftpkit_testkit::{UnftpServer, random_bytes, sha256_hex};

fn main() -> Result<(), Box<dyn Error>> {
    let server = UnftpServer::start();
    let addr = server.addr().to_string();

    // The caller opens (and tunes) the control connection itself.
    let stream = TcpStream::connect(&addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;

    let mut ftp = Client::connect_over(stream, &addr, Config::default())?;
    println!("greeting {}", ftp.welcome().message());
    ftp.login_anonymous()?;
    let data = random_bytes(1 << 20, 7);
    ftp.put("over.bin", &mut &data[..])?;
    let mut back = Vec::new();
    ftp.get("over.bin", &mut back)?;
    println!("sha256   {}", sha256_hex(&back));
    assert_eq!(sha256_hex(&back), sha256_hex(&data));
    // A client over a supplied stream cannot open it again.
    if let Err(e) = ftp.reconnect() {
        println!("reconnect: {e}");
    }
    ftp.quit()?;
    Ok(())
}
