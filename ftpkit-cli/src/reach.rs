//! The options that reach servers behind NAT and firewalls and in other
//! time zones, and how they shape the library's `Config`.

use std::{net::IpAddr, ops::RangeInclusive};

use clap::Args;
use ftpkit::{Charset, Config, Entry, EntryKind, ListTimeOffset, Name};

use crate::failure::Failure;

/// Data connection, listing and charset options, shared by every command.
#[derive(Clone, Debug, Default, Args)]
#[command(next_help_heading = "Network options")]
pub struct ReachArgs {
    /// The charset of the server's names (default utf-8): latin1, cp1251,
    /// koi8-r, gbk, shift_jis... Paths in URLs and local names are
    /// written in it; names from the server are read in it for display
    /// and for local file names.
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        value_parser = parse_charset,
        help_heading = "Network options"
    )]
    pub encoding: Option<Charset>,
    /// Active mode: listen only on local ports LOW-HIGH (e.g.
    /// 50000-50100), for a firewall that opens only those; ports in use
    /// are skipped.
    #[arg(
        long = "active-ports",
        global = true,
        value_name = "LOW-HIGH",
        value_parser = parse_port_range,
        requires = "active",
        help_heading = "Network options"
    )]
    pub active_ports: Option<RangeInclusive<u16>>,
    /// Active mode: advertise this address in PORT/EPRT instead of the
    /// local one: a NAT router's public address, with --active-ports
    /// forwarded to this machine.
    #[arg(
        long = "active-address",
        global = true,
        value_name = "IP",
        requires = "active",
        help_heading = "Network options"
    )]
    pub active_address: Option<IpAddr>,
    /// Passive mode: use PASV only, never EPSV (on IPv4), for firewalls and
    /// servers that mishandle EPSV.
    #[arg(long = "no-epsv", global = true, help_heading = "Network options")]
    pub no_epsv: bool,
    /// Passive mode: connect to the address a 227 (PASV) reply names
    /// instead of the control connection's server. Only for servers behind
    /// a NAT that need it: a hostile server could make the client connect
    /// anywhere.
    #[arg(
        long = "trust-pasv-address",
        global = true,
        help_heading = "Network options"
    )]
    pub trust_pasv_address: bool,
    /// The time zone of LIST times (MLSD times are UTC and never moved):
    /// an offset such as +02:00 or -0530, UTC, or auto to learn it once
    /// per connection by comparing one file's LIST time with its MDTM.
    /// Used by ls -l, ls --json, stat and mirror's comparisons.
    #[arg(
        long = "list-tz",
        global = true,
        value_name = "OFFSET|auto",
        value_parser = parse_list_tz,
        allow_hyphen_values = true,
        help_heading = "Network options"
    )]
    pub list_tz: Option<ListTimeOffset>,
}

impl ReachArgs {
    /// `config` with these options applied.
    pub fn apply(&self, mut config: Config) -> Config {
        if let Some(ports) = &self.active_ports {
            config = config.active_ports(ports.clone());
        }
        if let Some(addr) = self.active_address {
            config = config.active_address(addr);
        }
        if let Some(charset) = self.encoding {
            config = config.encoding(charset);
        }
        if let Some(offset) = self.list_tz {
            config = config.list_time_offset(offset);
        }
        config
            .use_epsv(!self.no_epsv)
            .trust_pasv_address(self.trust_pasv_address)
    }

    /// The charset of the server's names.
    pub fn charset(&self) -> Charset {
        self.encoding.unwrap_or_default()
    }
}

/// `LOW-HIGH`, or one port.
fn parse_port_range(text: &str) -> Result<RangeInclusive<u16>, String> {
    let bad = || format!("{text:?} is not a port range: use LOW-HIGH, e.g. 50000-50100");
    let (low, high) = text
        .trim()
        .split_once('-')
        .unwrap_or((text.trim(), text.trim()));
    let low: u16 = low.trim().parse().map_err(|_| bad())?;
    let high: u16 = high.trim().parse().map_err(|_| bad())?;
    if low == 0 || low > high {
        return Err(bad());
    }
    Ok(low..=high)
}

/// A URL's path (decoded from percent escapes; UTF-8 when typed as text)
/// as the server's bytes: text is written in `charset`; bytes that are not
/// UTF-8 (`%E9` in the URL) are the server's already and stay as they are.
pub fn encode_url_path(path: Vec<u8>, charset: Charset) -> Result<Vec<u8>, Failure> {
    if charset.is_utf8() {
        return Ok(path);
    }
    match String::from_utf8(path) {
        Ok(text) => charset
            .encode(&text)
            .map_err(|e| Failure::Usage(format!("{text}: {e}"))),
        Err(raw) => Ok(raw.into_bytes()),
    }
}

/// An entry with its name (and link target) turned into UTF-8 text from
/// `charset`, for display; bytes it cannot read show as U+FFFD.
pub fn decoded(mut entry: Entry, charset: Charset) -> Entry {
    if charset.is_utf8() {
        return entry;
    }
    let text = |name: &Name| Name::from(name.decode(charset).into_owned());
    entry.name = text(&entry.name);
    if let EntryKind::Symlink {
        target: Some(target),
    } = &mut entry.kind
    {
        *target = text(target);
    }
    entry
}

fn parse_charset(text: &str) -> Result<Charset, String> {
    text.parse()
}

fn parse_list_tz(text: &str) -> Result<ListTimeOffset, String> {
    text.parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_ranges_parse() {
        assert_eq!(parse_port_range("50000-50100"), Ok(50_000..=50_100));
        assert_eq!(parse_port_range("2121"), Ok(2121..=2121));
        for bad in ["0-10", "10-5", "a-b", "70000", "-5", ""] {
            assert!(parse_port_range(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn url_paths_are_written_in_the_charset() {
        let cp1251 = Charset::for_label("cp1251").unwrap();
        assert_eq!(
            encode_url_path("папка/файл".as_bytes().to_vec(), cp1251).unwrap(),
            b"\xef\xe0\xef\xea\xe0/\xf4\xe0\xe9\xeb"
        );
        assert_eq!(
            encode_url_path(b"raw\xff".to_vec(), cp1251).unwrap(),
            b"raw\xff"
        );
        assert_eq!(
            encode_url_path("été".into(), Charset::UTF_8).unwrap(),
            "été".as_bytes()
        );
        let latin1 = Charset::for_label("latin1").unwrap();
        assert!(encode_url_path("файл".into(), latin1).is_err());
    }

    #[test]
    fn list_time_zones_parse() {
        assert_eq!(parse_list_tz("auto"), Ok(ListTimeOffset::Auto));
        assert_eq!(parse_list_tz("+02:00"), Ok(ListTimeOffset::Fixed(7200)));
        assert_eq!(parse_list_tz("-0530"), Ok(ListTimeOffset::Fixed(-19_800)));
        assert_eq!(parse_list_tz("+3"), Ok(ListTimeOffset::Fixed(10_800)));
        assert_eq!(parse_list_tz("UTC"), Ok(ListTimeOffset::Fixed(0)));
        for bad in ["2", "+25", "+02:75", "+2:0:0", "east"] {
            assert!(parse_list_tz(bad).is_err(), "{bad}");
        }
    }
}
