//! The network and time zone options of the `ftpkit` binary against the
//! scripted fake server: exact dialogues.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::{
    net::TcpListener,
    process::{Command, Output},
};

use ftpkit_testkit::{FakeServer, Script};

fn ftpkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ftpkit"))
        .args(["--timeout", "5", "-q", "--no-netrc"])
        .args(args)
        .env_remove("FTPKIT_PASSWORD")
        .output()
        .expect("run ftpkit")
}

fn check(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// An IIS server whose clock reads UTC+02:00.
const IIS_LISTING: &[u8] = b"01-15-24  02:30PM                    5 f.txt\r\n";

fn feat() -> Script {
    Script::login_anonymous()
        .expect("FEAT")
        .reply("211-Features:\r\n MDTM\r\n EPSV\r\n211 End")
}

fn list(script: Script) -> Script {
    script
        .expect("EPSV")
        .epsv()
        .expect("LIST logs/")
        .reply("150 here")
        .send_data(IIS_LISTING)
        .reply("226 done")
}

#[test]
fn ls_json_with_list_tz_auto_shows_utc() {
    let probe = list(feat().expect("TYPE A").reply("200 ok"))
        .expect("MDTM logs/f.txt")
        .reply("213 20240115123012");
    let server = FakeServer::start(vec![list(probe).expect("QUIT").reply("221 bye")]);
    let url = format!("ftp://{}/logs/", server.addr());
    let json = check(&ftpkit(&["ls", "--json", "--list-tz", "auto", &url]));
    assert!(
        json.contains("\"modified\":\"2024-01-15T12:30:00Z\""),
        "{json}"
    );
    server.finish();
}

#[test]
fn ls_with_a_fixed_list_tz_and_no_epsv() {
    let server = FakeServer::start(vec![
        feat()
            .expect("TYPE A")
            .reply("200 ok")
            .expect("PASV")
            .pasv()
            .expect("LIST logs/")
            .reply("150 here")
            .send_data(IIS_LISTING)
            .reply("226 done")
            .expect("QUIT")
            .reply("221 bye"),
    ]);
    let url = format!("ftp://{}/logs/", server.addr());
    let json = check(&ftpkit(&[
        "ls",
        "--json",
        "--no-epsv",
        "--list-tz",
        "-05:00",
        &url,
    ]));
    assert!(
        json.contains("\"modified\":\"2024-01-15T19:30:00Z\""),
        "{json}"
    );
    server.finish();
}

#[test]
fn active_ports_and_address_reach_the_port_command() {
    let free = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let server = FakeServer::start(vec![
        feat()
            .expect("TYPE A")
            .reply("200 ok")
            .expect(&format!("PORT 203,0,113,9,{},{}", port >> 8, port & 0xff))
            .reply("500 no thanks"),
    ]);
    let url = format!("ftp://{}/logs/", server.addr());
    let range = format!("{port}-{port}");
    let out = ftpkit(&[
        "ls",
        "--json",
        "--active",
        "--active-ports",
        &range,
        "--active-address",
        "203.0.113.9",
        &url,
    ]);
    assert_ne!(out.status.code(), Some(0));
    server.finish();
}

#[test]
fn active_ports_without_active_is_a_usage_error() {
    let out = ftpkit(&["ls", "--active-ports", "50000-50010", "ftp://127.0.0.1:1/"]);
    assert_eq!(out.status.code(), Some(2));
}
