//! A connection that is plain TCP or TLS, for the control and the data
//! connections alike, written once for both drivers.
//!
//! TLS is rustls' sans-IO `ClientConnection` over the driver's socket
//! ([`Tls`]). Every TLS decision is made here, in `tls_steps!`, which each
//! driver expands over its own socket: the ClientHello sent before the
//! server has read the transfer command and the handshake completed later,
//! `AUTH TLS` in place, `CCC` back to plain, close_notify at the end of an
//! upload and the server's session tickets read after it. A driver adds
//! only how bytes move between a [`Tls`] and its socket (one `write_tls`
//! and one `read_tls`, and the `Read`/`Write` or `AsyncRead`/`AsyncWrite`
//! impls), dispatched over the variants by `on_stream!` and `on_socket!`.

use std::{
    fmt, io,
    net::SocketAddr,
    sync::{Mutex, PoisonError},
};

use rustls::{ClientConnection, ProtocolVersion};

/// Plain, or TLS over a socket `S`.
#[derive(Debug)]
pub(crate) enum Stream<S> {
    Plain(S),
    Tls(Box<Tls<S>>),
    /// The connection was handed to a TLS step that failed, and lost.
    Detached,
}

/// A TLS client session over a socket `S`.
#[derive(Debug)]
pub(crate) struct Tls<S> {
    pub(crate) conn: ClientConnection,
    pub(crate) sock: S,
    /// An error met after a read had data to return: the next read's.
    #[cfg(feature = "tokio")]
    pub(crate) error: Option<io::Error>,
}

/// The bytes under a [`Stream`]: TCP (`T`), or a control connection the
/// caller supplied (`D`, the driver's trait object for it).
pub(crate) enum Socket<T, D: ?Sized> {
    Tcp(T),
    /// Behind a mutex only so the client stays `Sync` over a stream that
    /// is merely `Send`; reached through `get_mut`, never locked.
    Supplied(Mutex<Box<D>>),
}

impl<T: fmt::Debug, D: ?Sized> fmt::Debug for Socket<T, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Socket::Tcp(tcp) => f.debug_tuple("Tcp").field(tcp).finish(),
            Socket::Supplied(_) => f.write_str("Supplied"),
        }
    }
}

/// The stream inside a supplied socket's mutex.
pub(crate) fn supplied<D: ?Sized>(cell: &mut Mutex<Box<D>>) -> &mut D {
    cell.get_mut()
        .unwrap_or_else(PoisonError::into_inner)
        .as_mut()
}

/// A TCP stream of either driver, as [`Stream`] needs it.
pub(crate) trait Tcp {
    /// The socket, for its options.
    fn sock_ref(&self) -> socket2::SockRef<'_>;
    /// The local address.
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

impl Tcp for std::net::TcpStream {
    fn sock_ref(&self) -> socket2::SockRef<'_> {
        socket2::SockRef::from(self)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        std::net::TcpStream::local_addr(self)
    }
}

#[cfg(feature = "tokio")]
impl Tcp for tokio::net::TcpStream {
    fn sock_ref(&self) -> socket2::SockRef<'_> {
        socket2::SockRef::from(self)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        tokio::net::TcpStream::local_addr(self)
    }
}

impl<T: Tcp, D: ?Sized> Stream<Socket<T, D>> {
    /// The TCP socket underneath.
    pub(crate) fn tcp(&self) -> Option<&T> {
        match self {
            Stream::Plain(Socket::Tcp(tcp)) => Some(tcp),
            Stream::Tls(tls) => match &tls.sock {
                Socket::Tcp(tcp) => Some(tcp),
                Socket::Supplied(_) => None,
            },
            _ => None,
        }
    }

    /// The socket, for its options.
    pub(crate) fn socket(&self) -> Option<socket2::SockRef<'_>> {
        self.tcp().map(Tcp::sock_ref)
    }

    /// The local address of the connection.
    pub(crate) fn local_addr(&self) -> io::Result<SocketAddr> {
        match self {
            Stream::Detached => Err(detached()),
            _ => self
                .tcp()
                .ok_or_else(|| io::Error::other("not a TCP connection"))?
                .local_addr(),
        }
    }

    /// Half-closes the TCP connection (a no-op on a supplied one).
    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        self.socket()
            .map_or(Ok(()), |socket| socket.shutdown(std::net::Shutdown::Write))
    }
}

impl<S> Stream<S> {
    /// The TLS version negotiated, if TLS is in use.
    pub(crate) fn tls_version(&self) -> Option<ProtocolVersion> {
        match self {
            Stream::Tls(tls) => tls.conn.protocol_version(),
            _ => None,
        }
    }

    /// Whether the stream is encrypted.
    pub(crate) fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }
}

impl<S> Tls<S> {
    /// A session over `sock`.
    pub(crate) fn new(conn: ClientConnection, sock: S) -> Tls<S> {
        Tls {
            conn,
            sock,
            #[cfg(feature = "tokio")]
            error: None,
        }
    }

    /// Processes the TLS records just read (`n` bytes, handed back). A
    /// record rustls refuses is an error, its alert first handed to `alert`
    /// to send if it can.
    pub(crate) fn processed(
        &mut self,
        n: usize,
        alert: impl FnOnce(&mut Self),
    ) -> io::Result<usize> {
        match self.conn.process_new_packets() {
            Ok(_) => Ok(n),
            Err(e) => {
                alert(self);
                Err(io::Error::new(io::ErrorKind::InvalidData, e))
            }
        }
    }
}

/// The error of I/O on a connection lost in a failed TLS step.
pub(crate) fn detached() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "the connection was lost in a failed TLS handshake",
    )
}

/// The error of a step that outlived its idle timeout.
#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
pub(crate) fn idle_expired() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "idle timeout expired")
}

/// The server closed the connection before the TLS handshake ended.
pub(crate) fn handshake_eof() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the server closed the connection during the TLS handshake",
    )
}

/// `$e` with `$s` bound to the stream's plain socket or TLS session,
/// whichever it is (`$gone` if it was lost).
macro_rules! on_stream {
    ($stream:expr, $s:ident => $e:expr, $gone:expr) => {
        match $stream {
            $crate::stream::Stream::Plain($s) => $e,
            $crate::stream::Stream::Tls($s) => {
                let $s = &mut **$s;
                $e
            }
            $crate::stream::Stream::Detached => $gone,
        }
    };
}

/// `$e` with `$s` bound to the socket's TCP stream or supplied stream,
/// whichever it is (`$gone` is for the likeness with `on_stream!`: a
/// socket is never lost).
macro_rules! on_socket {
    ($socket:expr, $s:ident => $e:expr $(, $gone:expr)?) => {
        match $socket {
            $crate::stream::Socket::Tcp($s) => $e,
            $crate::stream::Socket::Supplied($s) => {
                let $s = $crate::stream::supplied($s);
                $e
            }
        }
    };
}

/// A driver's `Stream` (plain, or TLS over a `Socket`) and `Socket` (its
/// TCP stream `$tcp`, or a control connection the caller supplied, of
/// the driver's trait `Supplied`: the byte traits `$bytes`).
macro_rules! streams {
    ($tcp:ty, [$($bytes:tt)+]) => {
        /// Plain, or TLS over a [`Socket`].
        pub(crate) type Stream = $crate::stream::Stream<Socket>;

        /// TCP, or a control connection the caller supplied.
        pub(crate) type Socket = $crate::stream::Socket<$tcp, dyn Supplied>;

        /// A control connection the caller supplied (the client's
        /// `connect_over`).
        pub(crate) trait Supplied: $($bytes)+ {}

        impl<T: $($bytes)+> Supplied for T {}
    };
}

/// The TLS steps of a driver's `Stream` (`$stream`, over its `$socket`),
/// written over the driver's `Tls::flush_tls` (writes every pending TLS
/// record), `Tls::read_tls` (one read of records, processed; 0 when the
/// server closed the TCP connection), the `read` and `flush` of its
/// streams, and `bounded!(wait, work)` (how a step is bounded by an idle
/// timeout: tokio with a timer, the blocking driver by its sockets' own).
macro_rules! tls_steps {
    ($stream:ty, $socket:ty, [$($async:ident)?], [$($aw:tt)*]) => {
        impl $stream {
            /// Starts a TLS client session on `socket` and sends the
            /// ClientHello without waiting for an answer;
            /// `finish_handshake` completes it. A data connection thus
            /// starts its handshake before the server has read the transfer
            /// command, whatever order the server expects.
            pub(crate) $($async)? fn begin_tls(
                sock: $socket,
                config: std::sync::Arc<rustls::ClientConfig>,
                name: rustls_pki_types::ServerName<'static>,
            ) -> std::io::Result<$stream> {
                let conn = rustls::ClientConnection::new(config, name).map_err(std::io::Error::other)?;
                let mut tls = $crate::stream::Tls::new(conn, sock);
                tls.flush_tls() $($aw)* ?;
                Ok($crate::stream::Stream::Tls(Box::new(tls)))
            }

            /// Completes a TLS handshake started by `begin_tls`; a no-op
            /// on plain streams.
            pub(crate) $($async)? fn finish_handshake(&mut self) -> std::io::Result<()> {
                if let $crate::stream::Stream::Tls(tls) = self {
                    while tls.conn.is_handshaking() {
                        tls.flush_tls() $($aw)* ?;
                        if tls.conn.is_handshaking() && tls.read_tls() $($aw)* ? == 0 {
                            return Err($crate::stream::handshake_eof());
                        }
                    }
                    tls.flush_tls() $($aw)* ?;
                }
                Ok(())
            }

            /// Upgrades a plain stream to TLS in place, completing the
            /// handshake.
            pub(crate) $($async)? fn upgrade(
                &mut self,
                config: std::sync::Arc<rustls::ClientConfig>,
                name: rustls_pki_types::ServerName<'static>,
            ) -> std::io::Result<Option<rustls::ProtocolVersion>> {
                if let $crate::stream::Stream::Plain(_) = self
                    && let $crate::stream::Stream::Plain(sock) =
                        std::mem::replace(self, $crate::stream::Stream::Detached)
                {
                    let mut tls = Self::begin_tls(sock, config, name) $($aw)* ?;
                    tls.finish_handshake() $($aw)* ?;
                    *self = tls;
                }
                Ok(self.tls_version())
            }

            /// Returns to plain TCP after `CCC`: sends close_notify and
            /// reads up to the server's, leaving the TCP connection open.
            pub(crate) $($async)? fn downgrade(&mut self) -> std::io::Result<()> {
                if let $crate::stream::Stream::Tls(tls) = self {
                    tls.conn.send_close_notify();
                    tls.flush_tls() $($aw)* ?;
                    let mut sink = [0u8; 512];
                    loop {
                        match tls.read(&mut sink) $($aw)* {
                            Ok(0) => break,
                            Ok(_) => continue,
                            // A server that closes TLS without close_notify
                            // still leaves the TCP connection in clear.
                            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                            Err(e) => return Err(e),
                        }
                    }
                    if let $crate::stream::Stream::Tls(tls) =
                        std::mem::replace(self, $crate::stream::Stream::Detached)
                    {
                        *self = $crate::stream::Stream::Plain(tls.sock);
                    }
                }
                Ok(())
            }

            /// Ends the sending side: close_notify under TLS, then a TCP
            /// half-close.
            $($async)? fn close_write(&mut self) -> std::io::Result<()> {
                self.flush() $($aw)* ?;
                if let $crate::stream::Stream::Tls(tls) = self {
                    tls.conn.send_close_notify();
                    tls.flush_tls() $($aw)* ?;
                }
                self.shutdown_write()
            }

            /// Ends an upload's data connection: a TLS upload ends with
            /// close_notify, so the server can tell a complete upload from
            /// a cut one; then reads until the server closes, each step
            /// within `idle`.
            pub(crate) $($async)? fn finish_upload(mut self, idle: std::time::Duration) -> $crate::Result<()> {
                let shutdown = bounded!(idle, self.close_write());
                if shutdown.is_ok() {
                    let _ = bounded!(idle, self.drain_until_closed());
                }
                drop(self);
                match shutdown {
                    Err(e) if e.kind() != std::io::ErrorKind::NotConnected => {
                        Err($crate::Error::io($crate::Phase::Data)(e))
                    }
                    _ => Ok(()),
                }
            }

            /// After our close_notify on an upload: reads what the server
            /// still sends (its session tickets and its close_notify) until
            /// it closes, so the tickets feed the next data connection's
            /// resumption and closing our socket does not reset the
            /// server's shutdown. Errors are ignored: the upload's fate is
            /// in the server's reply, not here.
            $($async)? fn drain_until_closed(&mut self) -> std::io::Result<()> {
                if let $crate::stream::Stream::Tls(tls) = self {
                    let mut sink = [0u8; 4096];
                    while matches!(tls.read(&mut sink) $($aw)*, Ok(n) if n > 0) {}
                }
                Ok(())
            }
        }
    };
}
