//! Reaching servers behind NAT and firewalls, distributed servers that
//! need `PRET`, and servers in other time zones: exact dialogues with the
//! scripted fake server, each written once and run on the blocking and
//! the async client.

use std::{net::TcpListener, time::Duration};

use ftpkit::{Client, Config, DataMode, Error, ListTimeOffset, proto::parse_timeval};
use ftpkit_testkit::{FakeServer, Script};

fn quick() -> Config {
    Config::default()
        .timeout(Duration::from_secs(2))
        .connect_timeout(Duration::from_secs(2))
}

/// `PORT` argument for `ip` and `port`.
fn port_arg(ip: [u8; 4], port: u16) -> String {
    let [a, b, c, d] = ip;
    format!("PORT {a},{b},{c},{d},{},{}", port >> 8, port & 0xff)
}

/// Two consecutive loopback ports: the first held by a listener (taken),
/// the second free.
fn taken_then_free() -> (TcpListener, u16) {
    for _ in 0..50 {
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return (held, port);
        }
    }
    panic!("no two consecutive free ports");
}

/// The dialogue of one active-mode download through `port` of the range.
fn active_download(port: u16) -> Script {
    Script::login_anonymous()
        .expect("TYPE I")
        .reply("200 ok")
        .expect(&port_arg([127, 0, 0, 1], port))
        .active()
        .expect("RETR f")
        .reply("150 connecting")
        .send_data(b"through the firewall")
        .reply("226 ok")
}

dialogue! {
    fn active_ports_skip_a_taken_port_and_stay_in_the_range() {
        let (_held, taken) = taken_then_free();
        let server = FakeServer::start(vec![active_download(taken + 1)]);
        let config = quick()
            .mode(DataMode::Active)
            .active_ports(taken..=taken + 1);
        let mut client = connect!(&server.addr().to_string(), config).unwrap();
        w!(client.login_anonymous()).unwrap();
        let mut out = Vec::new();
        w!(client.get("f", &mut out)).unwrap();
        assert_eq!(out, b"through the firewall");
        server.finish();
    }
}

dialogue! {
    fn active_ports_all_taken_fail_with_addr_in_use() {
        let (held, taken) = taken_then_free();
        let server = FakeServer::start(vec![
            Script::login_anonymous().expect("TYPE I").reply("200 ok"),
        ]);
        let config = quick().mode(DataMode::Active).active_ports(taken..=taken);
        let mut client = connect!(&server.addr().to_string(), config).unwrap();
        w!(client.login_anonymous()).unwrap();
        let err = w!(client.get("f", &mut Vec::new())).unwrap_err();
        assert!(
            matches!(&err, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::AddrInUse),
            "{err:?}"
        );
        drop(held);
        server.finish();
    }
}

dialogue! {
    fn active_address_is_advertised_in_port() {
        let (_held, taken) = taken_then_free();
        let server = FakeServer::start(vec![
            Script::login_anonymous()
                .expect("TYPE I")
                .reply("200 ok")
                .expect(&port_arg([198, 51, 100, 7], taken + 1))
                .reply("200 PORT ok")
                .expect("RETR f")
                .reply("425 Can't open data connection"),
        ]);
        let config = quick()
            .mode(DataMode::Active)
            .active_ports(taken + 1..=taken + 1)
            .active_address([198, 51, 100, 7].into());
        let mut client = connect!(&server.addr().to_string(), config).unwrap();
        w!(client.login_anonymous()).unwrap();
        let err = w!(client.get("f", &mut Vec::new())).unwrap_err();
        assert!(
            matches!(&err, Error::Reply { reply, .. } if reply.code().0 == 425),
            "{err:?}"
        );
        server.finish();
    }
}

/// A drftpd-like server: FEAT lists PRET; EPSV and PASV are refused
/// without it.
fn pret_after_feat() -> Script {
    Script::login_anonymous()
        .expect("FEAT")
        .reply("211-Features:\r\n PRET\r\n EPSV\r\n SIZE\r\n211 End")
        .expect("TYPE I")
        .reply("200 ok")
        .expect("PRET RETR dist/file")
        .reply("200 OK, will use slave 'node3' for upcoming transfer")
        .expect("EPSV")
        .epsv()
        .expect("RETR dist/file")
        .reply("150 Opening")
        .send_data(b"from node3")
        .reply("226 ok")
}

/// The same server with no FEAT asked: the refusals lead to FEAT, then
/// PRET.
fn pret_after_refusal() -> Script {
    Script::login_anonymous()
        .expect("TYPE I")
        .reply("200 ok")
        .expect("EPSV")
        .reply("500 You need to use a client supporting PRET (PRE Transfer) to use EPSV")
        .expect("PASV")
        .reply("500 You need to use a client supporting PRET (PRE Transfer) to use PASV")
        .expect("FEAT")
        .reply("211-Features:\r\n PRET\r\n211 End")
        .expect("PRET STOR up")
        .reply("200 OK")
        .expect("PASV")
        .pasv()
        .expect("STOR up")
        .reply("150 go")
        .recv_data()
        .reply("226 ok")
}

dialogue! {
    fn pret_precedes_epsv_when_feat_lists_it() {
        let server = FakeServer::start(vec![pret_after_feat()]);
        let mut client = connect!(&server.addr().to_string(), quick()).unwrap();
        w!(client.login_anonymous()).unwrap();
        assert!(w!(client.features()).unwrap().supports("PRET"));
        let mut out = Vec::new();
        w!(client.get("dist/file", &mut out)).unwrap();
        assert_eq!(out, b"from node3");
        server.finish();
    }
}

dialogue! {
    fn a_refused_passive_mode_asks_feat_and_retries_with_pret() {
        let server = FakeServer::start(vec![pret_after_refusal()]);
        let mut client = connect!(&server.addr().to_string(), quick()).unwrap();
        w!(client.login_anonymous()).unwrap();
        w!(client.put("up", &mut &b"payload"[..])).unwrap();
        assert_eq!(server.finish().uploads[0], b"payload");
    }
}

dialogue! {
    fn a_verified_download_learns_pret_from_the_feat_in_its_batch() {
        // FEAT goes out in the download's batch, before the server's
        // features are known: its EPSV there is refused for want of PRET,
        // and the data setup sends PRET and EPSV anew instead of taking
        // that refusal as its reply.
        let server = FakeServer::start(vec![Script::login_anonymous()
            .expect("TYPE I")
            .expect("FEAT")
            .expect("SIZE f")
            .expect("MDTM f")
            .expect("EPSV")
            .reply("200 ok")
            .reply("211-Features:\r\n PRET\r\n EPSV\r\n SIZE\r\n211 End")
            .reply("213 10")
            .reply("550 no MDTM here")
            .reply("500 You need to use a client supporting PRET (PRE Transfer) to use EPSV")
            .expect("PRET RETR f")
            .reply("200 OK, will use slave 'node3' for upcoming transfer")
            .expect("EPSV")
            .epsv()
            .expect("RETR f")
            .reply("150 Opening")
            .send_data(b"from node3")
            .reply("226 ok")]);
        let mut client = connect!(&server.addr().to_string(), quick()).unwrap();
        w!(client.login_anonymous()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let report = w!(client.download("f", dir.path().join("f")).run()).unwrap();
        assert_eq!(report.verified.size, Some(10));
        assert_eq!(std::fs::read(dir.path().join("f")).unwrap(), b"from node3");
        server.finish();
    }
}

dialogue! {
    fn a_refused_passive_mode_without_pret_stays_an_error() {
        let server = FakeServer::start(vec![
            Script::login_anonymous()
                .expect("TYPE I")
                .reply("200 ok")
                .expect("EPSV")
                .reply("500 no")
                .expect("PASV")
                .reply("500 no")
                .expect("FEAT")
                .reply("211-Features:\r\n SIZE\r\n211 End"),
        ]);
        let mut client = connect!(&server.addr().to_string(), quick()).unwrap();
        w!(client.login_anonymous()).unwrap();
        let err = w!(client.get("f", &mut Vec::new())).unwrap_err();
        assert!(
            matches!(&err, Error::Reply { command, .. } if command == "PASV"),
            "{err:?}"
        );
        server.finish();
    }
}

// ----- a server in another time zone ---------------------------------------

/// The listing of an IIS server whose clock reads UTC+02:00: `f.txt`
/// changed at 12:30:41 UTC, shown as 14:30 local time.
const IIS_LISTING: &[u8] =
    b"01-15-24  09:00AM       <DIR>          sub\r\n01-15-24  02:30PM                    5 f.txt\r\n";

fn listing(script: Script, data: &[u8]) -> Script {
    script
        .expect("EPSV")
        .epsv()
        .expect("LIST logs")
        .reply("150 Opening ASCII mode data connection")
        .send_data(data)
        .reply("226 Transfer complete")
}

fn feat_without_mlst() -> Script {
    Script::login_anonymous()
        .expect("FEAT")
        .reply("211-Features:\r\n MDTM\r\n SIZE\r\n EPSV\r\n211 End")
}

/// Auto mode: one LIST and MDTM teach the offset, then the real LIST.
fn learning_dialogue() -> Script {
    let probe = listing(
        feat_without_mlst().expect("TYPE A").reply("200 ok"),
        IIS_LISTING,
    )
    .expect("MDTM logs/f.txt")
    .reply("213 20240115123041");
    listing(listing(probe, IIS_LISTING), IIS_LISTING)
}

fn utc(timeval: &str) -> std::time::SystemTime {
    parse_timeval(timeval).unwrap()
}

fn check_shifted(entries: &[ftpkit::Entry]) {
    let f = entries.iter().find(|e| e.name == "f.txt").unwrap();
    assert_eq!(f.modified, Some(utc("20240115123000")));
    let sub = entries.iter().find(|e| e.name == "sub").unwrap();
    assert_eq!(sub.modified, Some(utc("20240115070000")));
}

dialogue! {
    fn a_fixed_offset_moves_list_times_to_utc() {
        let server = FakeServer::start(vec![listing(
            feat_without_mlst().expect("TYPE A").reply("200 ok"),
            IIS_LISTING,
        )]);
        let config = quick().list_time_offset(ListTimeOffset::Fixed(2 * 3600));
        let mut client = connect!(&server.addr().to_string(), config).unwrap();
        w!(client.login_anonymous()).unwrap();
        assert_eq!(client.list_time_offset(), Some(7200));
        let entries = entries!(w!(client.list_entries("logs")).unwrap()).unwrap();
        check_shifted(&entries);
        server.finish();
    }
}

dialogue! {
    fn auto_offset_is_learned_once_from_mdtm() {
        let server = FakeServer::start(vec![learning_dialogue()]);
        let config = quick().list_time_offset(ListTimeOffset::Auto);
        let mut client = connect!(&server.addr().to_string(), config).unwrap();
        w!(client.login_anonymous()).unwrap();
        assert_eq!(client.list_time_offset(), None);
        let entries = entries!(w!(client.list_entries("logs")).unwrap()).unwrap();
        check_shifted(&entries);
        assert_eq!(client.list_time_offset(), Some(7200));
        // Learned: the next listing is one LIST.
        let again = entries!(w!(client.list_entries("logs")).unwrap()).unwrap();
        check_shifted(&again);
        server.finish();
    }
}

dialogue! {
    fn auto_offset_stays_utc_when_mdtm_is_refused() {
        let script = listing(
            feat_without_mlst().expect("TYPE A").reply("200 ok"),
            IIS_LISTING,
        )
        .expect("MDTM logs/f.txt")
        .reply("550 not allowed");
        let server = FakeServer::start(vec![listing(script, IIS_LISTING)]);
        let config = quick().list_time_offset(ListTimeOffset::Auto);
        let mut client = connect!(&server.addr().to_string(), config).unwrap();
        w!(client.login_anonymous()).unwrap();
        let entries = entries!(w!(client.list_entries("logs")).unwrap()).unwrap();
        let f = entries.iter().find(|e| e.name == "f.txt").unwrap();
        assert_eq!(f.modified, Some(utc("20240115143000")));
        assert_eq!(client.list_time_offset(), None);
        server.finish();
    }
}

dialogue! {
    fn auto_offset_gives_up_after_three_listings_that_teach_nothing() {
        // Files older than six months: dates without a time of day.
        const OLD: &[u8] = b"-rw-r--r-- 1 u g 5 Jan 15  2019 old.txt\r\n";
        let mut script = feat_without_mlst().expect("TYPE A").reply("200 ok");
        for _ in 0..3 {
            script = listing(listing(script, OLD), OLD); // the probe, then the listing
        }
        let server = FakeServer::start(vec![listing(script, OLD)]);
        let mut client = connect!(&server.addr().to_string(), quick().list_time_offset(ListTimeOffset::Auto)).unwrap();
        w!(client.login_anonymous()).unwrap();
        for _ in 0..4 {
            let entries = entries!(w!(client.list_entries("logs")).unwrap()).unwrap();
            assert_eq!(entries[0].modified, Some(utc("20190115000000")));
        }
        assert_eq!(client.list_time_offset(), None);
        server.finish();
    }
}

dialogue! {
    fn mlsd_times_are_never_shifted() {
        let server = FakeServer::start(vec![
            Script::login_anonymous()
                .expect("FEAT")
                .reply("211-Features:\r\n MLST type*;size*;modify*;\r\n EPSV\r\n211 End")
                .expect("TYPE A")
                .reply("200 ok")
                .expect("EPSV")
                .epsv()
                .expect("MLSD logs")
                .reply("150 go")
                .send_data(b"type=file;size=5;modify=20240115123041; f.txt\r\n")
                .reply("226 ok"),
        ]);
        let config = quick().list_time_offset(ListTimeOffset::Fixed(-5 * 3600));
        let mut client = connect!(&server.addr().to_string(), config).unwrap();
        w!(client.login_anonymous()).unwrap();
        let entries = entries!(w!(client.list_entries("logs")).unwrap()).unwrap();
        assert_eq!(entries[0].modified, Some(utc("20240115123041")));
        server.finish();
    }
}
