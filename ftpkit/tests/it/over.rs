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

/// libunftp with explicit TLS on a certificate of its own, and a client
/// configuration that trusts that certificate.
fn libunftp_with_tls() -> (UnftpServer, Config) {
    let certs = TestCerts::generate();
    let server = UnftpServer::start_with_tls(&certs);
    let config = Config::default()
        .timeout(Duration::from_secs(10))
        .tls(TlsMode::Explicit, Some(trusting(&certs)));
    (server, config)
}

dialogue! {
    fn explicit_tls_runs_over_a_supplied_stream() {
        let (server, config) = libunftp_with_tls();
        let to = server.addr().to_string();
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

/// A stream that moves at most three bytes per call and answers every other
/// poll with `Pending` (waking itself at once): TLS records reach the async
/// client's TLS glue in pieces, and its writes are taken in pieces.
#[cfg(feature = "tokio")]
struct Trickle {
    inner: tokio::net::TcpStream,
    stall: bool,
}

#[cfg(feature = "tokio")]
impl Trickle {
    /// `Pending` on every other call, after waking the task.
    fn stalls(&mut self, cx: &mut std::task::Context<'_>) -> bool {
        self.stall = !self.stall;
        if self.stall {
            cx.waker().wake_by_ref();
        }
        self.stall
    }
}

#[cfg(feature = "tokio")]
impl tokio::io::AsyncRead for Trickle {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if self.stalls(cx) {
            return std::task::Poll::Pending;
        }
        let mut small = [0u8; 3];
        let take = buf.remaining().min(small.len());
        let mut part = tokio::io::ReadBuf::new(&mut small[..take]);
        let polled = std::pin::Pin::new(&mut self.inner).poll_read(cx, &mut part);
        if let std::task::Poll::Ready(Ok(())) = polled {
            buf.put_slice(part.filled());
        }
        polled
    }
}

#[cfg(feature = "tokio")]
impl tokio::io::AsyncWrite for Trickle {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if self.stalls(cx) {
            return std::task::Poll::Pending;
        }
        let take = buf.len().min(3);
        std::pin::Pin::new(&mut self.inner).poll_write(cx, &buf[..take])
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The async client's own TLS glue (records over rustls'
/// `ClientConnection`) given its TLS records a few bytes at a time, with a
/// `Pending` between every two pieces: the handshake, the login, a
/// listing and a transfer all finish, and every byte arrives.
#[cfg(feature = "tokio")]
#[test]
fn the_async_tls_glue_reassembles_records_that_arrive_in_pieces() {
    let (server, config) = libunftp_with_tls();
    let to = server.addr().to_string();
    let rt = crate::driver::asynchronous::runtime();
    rt.block_on(async {
        let inner = tokio::net::TcpStream::connect(&to).await.unwrap();
        let stream = Trickle {
            inner,
            stall: false,
        };
        let mut client = ftpkit::AsyncClient::connect_over(stream, "localhost:1", config)
            .await
            .unwrap();
        assert!(client.is_secure());
        client.login("tls-user", "secret").await.unwrap();
        let data = ftpkit_testkit::random_bytes(20_000, 7);
        client.put("pieces.bin", &mut &data[..]).await.unwrap();
        let names = client.nlst("").await.unwrap();
        assert!(
            names.iter().any(|n| n.as_str() == Some("pieces.bin")),
            "{names:?}"
        );
        let mut back = Vec::new();
        client.get("pieces.bin", &mut back).await.unwrap();
        assert_eq!(back, data);
        client.quit().await.unwrap();
    });
}
