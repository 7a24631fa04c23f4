//! A tokio connection that is plain TCP or TLS over TCP, for the control
//! and the data connections alike: the async twin of the blocking driver's
//! stream, with the same TLS rules (one rustls configuration per client, so
//! data connections resume the control connection's session).

use std::{
    future::Future,
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf},
    net::TcpStream,
};
use tokio_rustls::{Connect, TlsConnector, client::TlsStream};

/// Plain TCP, or TLS over TCP.
#[derive(Debug)]
pub(crate) enum Stream {
    Plain(Socket),
    Tls(Box<TlsStream<Socket>>),
    /// The connection was handed to a TLS handshake that failed.
    Detached,
}

/// A control connection the caller supplied
/// ([`AsyncClient::connect_over`](crate::AsyncClient::connect_over)).
pub(crate) trait Supplied: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> Supplied for T {}

/// The bytes under a [`Stream`]: TCP, or a control connection the caller
/// supplied.
pub(crate) enum Socket {
    Tcp(TcpStream),
    /// Behind a mutex only so the client stays `Sync` over a stream that
    /// is merely `Send`; reached through `get_mut`, never locked.
    Supplied(std::sync::Mutex<Box<dyn Supplied>>),
}

impl Socket {
    /// A control connection the caller supplied.
    pub(crate) fn supplied(stream: impl Supplied + 'static) -> Socket {
        Socket::Supplied(std::sync::Mutex::new(Box::new(stream)))
    }
}

fn supplied(cell: &mut std::sync::Mutex<Box<dyn Supplied>>) -> Pin<&mut dyn Supplied> {
    Pin::new(
        cell.get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_mut(),
    )
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Socket::Tcp(tcp) => f.debug_tuple("Tcp").field(tcp).finish(),
            Socket::Supplied(_) => f.write_str("Supplied"),
        }
    }
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Socket::Tcp(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Socket::Supplied(s) => supplied(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Socket::Tcp(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Socket::Supplied(s) => supplied(s).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Socket::Tcp(tcp) => Pin::new(tcp).poll_write_vectored(cx, bufs),
            Socket::Supplied(s) => supplied(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Socket::Tcp(tcp) => tcp.is_write_vectored(),
            Socket::Supplied(_) => false,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Socket::Tcp(tcp) => Pin::new(tcp).poll_flush(cx),
            Socket::Supplied(s) => supplied(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Socket::Tcp(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Socket::Supplied(s) => supplied(s).poll_shutdown(cx),
        }
    }
}

/// A TLS handshake whose ClientHello is sent and whose end is awaited later
/// (see [`begin_tls`]).
pub(crate) enum Handshake {
    Done(Stream),
    Pending(Pin<Box<Connect<Socket>>>),
}

impl std::fmt::Debug for Handshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Handshake::Done(s) => f.debug_tuple("Done").field(s).finish(),
            Handshake::Pending(_) => f.write_str("Pending"),
        }
    }
}

/// Starts a TLS client session on `tcp` and sends the ClientHello without
/// waiting for the answer; [`Handshake::finish`] completes it. A data
/// connection thus starts its handshake before the server has read the
/// transfer command, whatever order the server expects.
pub(crate) async fn begin_tls(
    tcp: Socket,
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
) -> io::Result<Handshake> {
    let mut connect = Box::pin(TlsConnector::from(config).connect(name, tcp));
    // One poll writes the ClientHello, then waits on the server's answer.
    let first = std::future::poll_fn(|cx| Poll::Ready(connect.as_mut().poll(cx))).await;
    match first {
        Poll::Ready(Ok(tls)) => Ok(Handshake::Done(Stream::Tls(Box::new(tls)))),
        Poll::Ready(Err(e)) => Err(e),
        Poll::Pending => Ok(Handshake::Pending(connect)),
    }
}

impl Handshake {
    /// A plain connection: nothing to finish.
    pub(crate) fn plain(tcp: TcpStream) -> Handshake {
        Handshake::Done(Stream::Plain(Socket::Tcp(tcp)))
    }

    /// Completes the handshake.
    pub(crate) async fn finish(self) -> io::Result<Stream> {
        match self {
            Handshake::Done(stream) => Ok(stream),
            Handshake::Pending(connect) => Ok(Stream::Tls(Box::new(connect.await?))),
        }
    }
}

impl Stream {
    /// The TCP socket underneath.
    pub(crate) fn tcp(&self) -> io::Result<&TcpStream> {
        match self {
            Stream::Plain(Socket::Tcp(tcp)) => Ok(tcp),
            Stream::Tls(tls) => match tls.get_ref().0 {
                Socket::Tcp(tcp) => Ok(tcp),
                Socket::Supplied(_) => Err(io::Error::other("not a TCP connection")),
            },
            Stream::Plain(Socket::Supplied(_)) => Err(io::Error::other("not a TCP connection")),
            Stream::Detached => Err(detached()),
        }
    }

    /// The socket, for its options.
    pub(crate) fn socket(&self) -> Option<socket2::SockRef<'_>> {
        self.tcp().ok().map(socket2::SockRef::from)
    }

    /// The local address of the connection.
    pub(crate) fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.tcp()?.local_addr()
    }

    /// The TLS version negotiated, if TLS is in use.
    pub(crate) fn tls_version(&self) -> Option<rustls::ProtocolVersion> {
        match self {
            Stream::Tls(tls) => tls.get_ref().1.protocol_version(),
            _ => None,
        }
    }

    /// Whether the stream is encrypted.
    pub(crate) fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }

    /// Upgrades a plain stream to TLS in place, completing the handshake.
    pub(crate) async fn upgrade(
        &mut self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
    ) -> io::Result<Option<rustls::ProtocolVersion>> {
        if let Stream::Plain(_) = self
            && let Stream::Plain(tcp) = std::mem::replace(self, Stream::Detached)
        {
            let tls = TlsConnector::from(config).connect(name, tcp).await?;
            *self = Stream::Tls(Box::new(tls));
        }
        Ok(self.tls_version())
    }

    /// Returns to plain TCP after `CCC`: sends close_notify and reads up to
    /// the server's, leaving the TCP connection open.
    pub(crate) async fn downgrade(&mut self) -> io::Result<()> {
        if let Stream::Tls(tls) = self {
            tls.get_mut().1.send_close_notify();
            tls.flush().await?;
            let mut sink = [0u8; 512];
            loop {
                match tls.read(&mut sink).await {
                    Ok(0) => break,
                    Ok(_) => continue,
                    // A server that closes TLS without close_notify still
                    // leaves the TCP connection in clear.
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                    Err(e) => return Err(e),
                }
            }
            if let Stream::Tls(tls) = std::mem::replace(self, Stream::Detached) {
                *self = Stream::Plain(tls.into_inner().0);
            }
        }
        Ok(())
    }

    /// Ends the sending side: close_notify under TLS, then a TCP half-close.
    pub(crate) async fn close_write(&mut self) -> io::Result<()> {
        self.flush().await?;
        self.shutdown().await
    }

    /// Ends an upload's data connection: flush and close (TLS
    /// close_notify), then read until the server closes, each step within
    /// `idle`.
    pub(crate) async fn finish_upload(mut self, idle: std::time::Duration) -> crate::Result<()> {
        use tokio::time::timeout;
        let shutdown = match timeout(idle, self.close_write()).await {
            Ok(result) => result,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "idle timeout expired",
            )),
        };
        if shutdown.is_ok() {
            let _ = timeout(idle, self.drain_until_closed()).await;
        }
        drop(self);
        match shutdown {
            Err(e) if e.kind() != io::ErrorKind::NotConnected => {
                Err(crate::Error::io(crate::Phase::Data)(e))
            }
            _ => Ok(()),
        }
    }

    /// After our close_notify on an upload: reads what the server still
    /// sends (its session tickets and its close_notify) until it closes, so
    /// the tickets feed the next data connection's resumption and closing
    /// our socket does not reset the server's shutdown. Errors are ignored:
    /// the upload's fate is in the server's reply, not here.
    pub(crate) async fn drain_until_closed(&mut self) {
        if let Stream::Tls(tls) = self {
            let mut sink = [0u8; 4096];
            while matches!(tls.read(&mut sink).await, Ok(n) if n > 0) {}
        }
    }
}

fn detached() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "the connection was lost in a failed TLS handshake",
    )
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(socket) => Pin::new(socket).poll_read(cx, buf),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
            Stream::Detached => Poll::Ready(Err(detached())),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(socket) => Pin::new(socket).poll_write(cx, buf),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
            Stream::Detached => Poll::Ready(Err(detached())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(socket) => Pin::new(socket).poll_flush(cx),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
            Stream::Detached => Poll::Ready(Err(detached())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(socket) => Pin::new(socket).poll_shutdown(cx),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
            Stream::Detached => Poll::Ready(Err(detached())),
        }
    }
}
