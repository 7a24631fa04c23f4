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

macro_rules! scenarios {
    ($($test:ident: $driver:expr;)*) => {$(
        mod $test {
            use super::*;
            use crate::scenarios::Driver;

            #[test]
            fn session_basics() {
                let server = UnftpServer::start();
                scenarios::session_basics(&target(&server), $driver);
            }

            #[test]
            fn transfers_passive() {
                let server = UnftpServer::start();
                scenarios::transfers(&target(&server), $driver, ftpkit::DataMode::Passive);
            }

            #[test]
            fn transfers_active() {
                let server = UnftpServer::start();
                scenarios::transfers(&target(&server), $driver, ftpkit::DataMode::Active);
            }

            #[test]
            fn resume() {
                let server = UnftpServer::start();
                scenarios::resume(&target(&server), $driver);
            }

            #[test]
            fn listings() {
                let server = UnftpServer::start();
                scenarios::listings(&target(&server), $driver);
            }

            #[test]
            fn typed_listing() {
                let server = UnftpServer::start();
                scenarios::typed_listing(&target(&server), $driver);
            }

            #[test]
            fn verified_files() {
                let server = UnftpServer::start();
                scenarios::verified_files(&target(&server), $driver);
            }

            #[test]
            fn big_64_mib_each_way() {
                let server = UnftpServer::start();
                scenarios::big_transfer(&target(&server), $driver);
            }
        }
    )*};
}

scenarios! {
    unftp_blocking: Driver::Blocking;
}

#[cfg(feature = "tokio")]
scenarios! {
    unftp_async: Driver::Async;
}
