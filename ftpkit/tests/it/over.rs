//! Connecting over a control connection the caller supplies
//! (`connect_over`), on both drivers: plain against the fake server, and
//! explicit TLS against libunftp; data connections are opened as usual.

use std::time::Duration;

use ftpkit::{Config, Error, TlsMode};
use ftpkit_testkit::{FakeServer, Script, TestCerts, UnftpServer};

use crate::{
    dialogue::{binary_epsv, quick},
    tls::trusting,
};

dialogue! {
    fn a_supplied_stream_carries_the_control_connection_and_data_goes_to_its_server() {
        let server = FakeServer::start(vec![
            Script::login_anonymous().then(
                binary_epsv()
                    .expect("RETR f")
                    .reply("150 go")
                    .send_data(b"over a stream of the caller's")
                    .reply("226 ok"),
            ),
        ]);
        // The server is named on a port nobody listens on: only the
        // supplied stream reaches it; the data connection goes to the
        // named host at the port EPSV gives.
        let to = server.addr().to_string();
        let mut client = connect_over!(&to, "127.0.0.1:1", quick()).unwrap();
        assert_eq!(client.welcome().message(), "fake server ready");
        w!(client.login_anonymous()).unwrap();
        let mut out = Vec::new();
        w!(client.get("f", &mut out)).unwrap();
        assert_eq!(out, b"over a stream of the caller's");
        // No way to open the caller's stream again.
        let err = w!(client.reconnect()).unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
        server.finish();
    }
}

dialogue! {
    fn explicit_tls_runs_over_a_supplied_stream() {
        let certs = TestCerts::generate();
        let server = UnftpServer::start_with_tls(&certs);
        let to = server.addr().to_string();
        let config = Config::default()
            .timeout(Duration::from_secs(10))
            .tls(TlsMode::Explicit, Some(trusting(&certs)));
        // Named `localhost` (the name TLS verifies) on a port nobody
        // listens on: only the supplied stream reaches the server.
        let mut client = connect_over!(&to, "localhost:1", config).unwrap();
        assert!(client.is_secure());
        w!(client.login("tls-user", "secret")).unwrap();
        w!(client.put("over.bin", &mut &b"sealed"[..])).unwrap();
        let mut back = Vec::new();
        w!(client.get("over.bin", &mut back)).unwrap();
        assert_eq!(back, b"sealed");
        w!(client.quit()).unwrap();
    }
}
