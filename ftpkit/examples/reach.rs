//! Lists a directory of a server that is hard to reach: active mode
//! through a firewall port range and a NAT address, LIST times in the
//! server's time zone (learned from MDTM), names in a legacy charset.
//!
//! usage: cargo run --example reach -- HOST:PORT REMOTE_DIR CHARSET [PUBLIC_IP LOW-HIGH]
//!
//! e.g. `reach ftp.example.com:21 pub cp1251`, or with active mode
//! `reach ftp.example.com:21 pub latin1 203.0.113.7 50000-50100`.

use ftpkit::{Charset, Client, Config, DataMode, ListTimeOffset};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (addr, dir, charset, active) = match args.as_slice() {
        [addr, dir, charset] => (addr, dir, charset, None),
        [addr, dir, charset, ip, ports] => (addr, dir, charset, Some((ip, ports))),
        _ => {
            return Err("usage: reach HOST:PORT REMOTE_DIR CHARSET [PUBLIC_IP LOW-HIGH]".into());
        }
    };
    let charset: Charset = charset.parse()?;
    let mut config = Config::default()
        .encoding(charset)
        .list_time_offset(ListTimeOffset::Auto);
    if let Some((ip, ports)) = active {
        let (low, high) = ports.split_once('-').ok_or("ports: LOW-HIGH")?;
        config = config
            .mode(DataMode::Active)
            .active_address(ip.parse()?)
            .active_ports(low.parse()?..=high.parse()?);
    }
    let mut ftp = Client::connect_with(addr, config)?;
    ftp.login_anonymous()?;
    // A directory typed as text, written in the server's charset.
    let dir = ftp.encode_path(dir)?;
    let entries: Vec<ftpkit::Entry> = ftp.list_entries(&dir)?.collect::<Result<_, _>>()?;
    match ftp.list_time_offset() {
        Some(offset) => println!("LIST times are UTC{:+}s", offset),
        None => println!("LIST times read as UTC (no offset learned)"),
    }
    for entry in &entries {
        let name = entry.name.decode(charset);
        println!(
            "{:?} {:>10} {name}",
            entry.modified,
            entry.size.unwrap_or(0)
        );
    }
    ftp.quit()?;
    Ok(())
}
