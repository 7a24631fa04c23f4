//! A connection that is plain TCP or TLS over TCP, for the control and the
//! data connections alike.

use std::{
    io::{self, Read, Write},
    net::TcpStream,
    sync::Arc,
};

use rustls::{ClientConfig, ClientConnection, StreamOwned};
use rustls_pki_types::ServerName;

/// Plain, or TLS over a [`Socket`].
#[derive(Debug)]
pub(crate) enum Stream {
    Plain(Socket),
    Tls(Box<StreamOwned<ClientConnection, Socket>>),
}

/// A control connection the caller supplied
/// ([`Client::connect_over`](crate::Client::connect_over)).
pub(crate) trait Supplied: Read + Write + Send {}

impl<T: Read + Write + Send> Supplied for T {}

/// The bytes under a [`Stream`]: TCP, or a control connection the caller
/// supplied.
pub(crate) enum Socket {
    Tcp(TcpStream),
    /// Behind a mutex only so the client stays `Sync` over a stream that
    /// is merely `Send`; reached through `get_mut`, never locked.
    Supplied(std::sync::Mutex<Box<dyn Supplied>>),
    /// Handed to a TLS session (or back) and lost with it.
    Gone,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Socket::Tcp(tcp) => f.debug_tuple("Tcp").field(tcp).finish(),
            Socket::Supplied(_) => f.write_str("Supplied"),
            Socket::Gone => f.write_str("Gone"),
        }
    }
}

impl Socket {
    /// A control connection the caller supplied.
    pub(crate) fn supplied(stream: impl Supplied + 'static) -> Socket {
        Socket::Supplied(std::sync::Mutex::new(Box::new(stream)))
    }
}

fn supplied(cell: &mut std::sync::Mutex<Box<dyn Supplied>>) -> &mut dyn Supplied {
    cell.get_mut()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .as_mut()
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the connection was lost")
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(tcp) => tcp.read(buf),
            Socket::Supplied(s) => supplied(s).read(buf),
            Socket::Gone => Err(gone()),
        }
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(tcp) => tcp.write(buf),
            Socket::Supplied(s) => supplied(s).write(buf),
            Socket::Gone => Err(gone()),
        }
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Socket::Tcp(tcp) => tcp.write_vectored(bufs),
            Socket::Supplied(s) => supplied(s).write_vectored(bufs),
            Socket::Gone => Err(gone()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Socket::Tcp(tcp) => tcp.flush(),
            Socket::Supplied(s) => supplied(s).flush(),
            Socket::Gone => Err(gone()),
        }
    }
}

impl Stream {
    /// The TCP socket underneath.
    pub(crate) fn tcp(&self) -> Option<&TcpStream> {
        match self {
            Stream::Plain(Socket::Tcp(tcp)) => Some(tcp),
            Stream::Tls(tls) => match &tls.sock {
                Socket::Tcp(tcp) => Some(tcp),
                _ => None,
            },
            Stream::Plain(_) => None,
        }
    }

    /// The socket, for its options.
    pub(crate) fn socket(&self) -> Option<socket2::SockRef<'_>> {
        self.tcp().map(socket2::SockRef::from)
    }

    /// The local address of the connection.
    pub(crate) fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.tcp()
            .ok_or_else(|| io::Error::other("not a TCP connection"))?
            .local_addr()
    }

    /// The TLS version negotiated, if TLS is in use.
    pub(crate) fn tls_version(&self) -> Option<rustls::ProtocolVersion> {
        match self {
            Stream::Plain(_) => None,
            Stream::Tls(tls) => tls.conn.protocol_version(),
        }
    }

    /// Whether the stream is encrypted.
    pub(crate) fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }

    /// Starts a TLS client session on `tcp` and sends the ClientHello without
    /// waiting for an answer; [`Stream::finish_handshake`] completes it. This
    /// lets a data connection start its handshake before the server has read
    /// the transfer command, whatever order the server expects.
    pub(crate) fn begin_tls(
        mut tcp: Socket,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
    ) -> io::Result<Stream> {
        let mut conn = ClientConnection::new(config, name).map_err(io::Error::other)?;
        while conn.wants_write() {
            conn.write_tls(&mut tcp)?;
        }
        Ok(Stream::Tls(Box::new(StreamOwned::new(conn, tcp))))
    }

    /// Completes a TLS handshake started by [`Stream::begin_tls`]; a no-op on
    /// plain streams.
    pub(crate) fn finish_handshake(&mut self) -> io::Result<()> {
        if let Stream::Tls(tls) = self {
            while tls.conn.is_handshaking() {
                tls.conn.complete_io(&mut tls.sock)?;
            }
            while tls.conn.wants_write() {
                tls.conn.write_tls(&mut tls.sock)?;
            }
        }
        Ok(())
    }

    /// Upgrades a plain stream to TLS in place, completing the handshake.
    pub(crate) fn upgrade(
        &mut self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
    ) -> io::Result<Option<rustls::ProtocolVersion>> {
        if let Stream::Plain(socket) = self {
            let socket = std::mem::replace(socket, Socket::Gone);
            let mut tls = Stream::begin_tls(socket, config, name)?;
            tls.finish_handshake()?;
            *self = tls;
        }
        Ok(self.tls_version())
    }

    /// Returns to plain TCP after `CCC`: sends close_notify and reads up to
    /// the server's, leaving the TCP connection open.
    pub(crate) fn downgrade(&mut self) -> io::Result<()> {
        if let Stream::Tls(tls) = self {
            tls.conn.send_close_notify();
            while tls.conn.wants_write() {
                tls.conn.write_tls(&mut tls.sock)?;
            }
            let mut sink = [0u8; 512];
            loop {
                match tls.read(&mut sink) {
                    Ok(0) => break,
                    Ok(_) => continue,
                    // A server that closes TLS without close_notify still
                    // leaves the TCP connection in clear.
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                    Err(e) => return Err(e),
                }
            }
            *self = Stream::Plain(std::mem::replace(&mut tls.sock, Socket::Gone));
        }
        Ok(())
    }

    /// Ends a TLS stream properly (close_notify) before the TCP close;
    /// a no-op on plain streams.
    pub(crate) fn close_notify(&mut self) -> io::Result<()> {
        if let Stream::Tls(tls) = self {
            tls.conn.send_close_notify();
            while tls.conn.wants_write() {
                tls.conn.write_tls(&mut tls.sock)?;
            }
        }
        Ok(())
    }

    /// Ends an upload's data connection: a TLS upload ends with
    /// close_notify, so the server can tell a complete upload from a cut
    /// one; then reads until the server closes.
    /// (Each step is bounded by the socket's idle timeout.)
    pub(crate) fn finish_upload(mut self, _idle: std::time::Duration) -> crate::Result<()> {
        let shutdown = self
            .flush()
            .and_then(|()| self.close_notify())
            .and_then(|()| {
                self.tcp()
                    .map_or(Ok(()), |tcp| tcp.shutdown(std::net::Shutdown::Write))
            });
        if shutdown.is_ok() {
            self.drain_until_closed();
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
    pub(crate) fn drain_until_closed(&mut self) {
        if let Stream::Tls(tls) = self {
            let mut sink = [0u8; 4096];
            while matches!(tls.read(&mut sink), Ok(n) if n > 0) {}
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(socket) => socket.read(buf),
            Stream::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(socket) => socket.write(buf),
            Stream::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(socket) => socket.flush(),
            Stream::Tls(tls) => tls.flush(),
        }
    }
}
