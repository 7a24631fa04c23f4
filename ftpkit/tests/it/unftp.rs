//! The scenarios against an in-process real server: libunftp with its
//! filesystem back end, started on loopback by each test.

use std::time::Duration;

use ftpkit::Config;
use ftpkit_testkit::UnftpServer;

use crate::scenarios::{self, Target};

fn target(server: &UnftpServer) -> Target {
    Target {
        name: "libunftp".into(),
        addr: server.addr().to_string(),
        user: String::new(),
        pass: String::new(),
        config: Config::default().timeout(Duration::from_secs(10)),
        mlsd: true,
        mdtm: true,
        big: 64 << 20,
    }
}

#[test]
fn unftp_session_basics() {
    let server = UnftpServer::start();
    scenarios::session_basics(&target(&server));
}

#[test]
fn unftp_transfers_passive() {
    let server = UnftpServer::start();
    scenarios::transfers(&target(&server), ftpkit::DataMode::Passive);
}

#[test]
fn unftp_transfers_active() {
    let server = UnftpServer::start();
    scenarios::transfers(&target(&server), ftpkit::DataMode::Active);
}

#[test]
fn unftp_resume() {
    let server = UnftpServer::start();
    scenarios::resume(&target(&server));
}

#[test]
fn unftp_listings() {
    let server = UnftpServer::start();
    scenarios::listings(&target(&server));
}

#[test]
fn unftp_typed_listing() {
    let server = UnftpServer::start();
    scenarios::typed_listing(&target(&server));
}

#[test]
fn unftp_64_mib_each_way() {
    let server = UnftpServer::start();
    scenarios::big_transfer(&target(&server));
}

#[test]
fn unftp_verified_files() {
    let server = UnftpServer::start();
    scenarios::verified_files(&target(&server));
}
