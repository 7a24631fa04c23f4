//! The tokio side of [`crate::stream`]: its streams over tokio's TCP, and
//! how bytes move between them and a TLS session when polled
//! (`AsyncRead`/`AsyncWrite`; a step bounded by a timer).

use std::{
    io::{self, IoSlice, Read, Write},
    pin::Pin,
    task::{Context, Poll, ready},
};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::stream::{Tls, detached};

streams!(
    tokio::net::TcpStream,
    [AsyncRead + AsyncWrite + Send + Unpin]
);

/// A step bounded by the idle timeout `$wait`; its error when the time
/// is up is `$expired` (by default, an I/O error).
macro_rules! bounded {
    ($wait:expr, $work:expr) => {
        bounded!($wait, $work, $crate::stream::idle_expired())
    };
    ($wait:expr, $work:expr, $expired:expr) => {
        tokio::time::timeout($wait, $work)
            .await
            .unwrap_or_else(|_| Err($expired))
    };
}

tls_steps!(Stream, Socket, [async], [.await]);

/// The socket as rustls' `Read` and `Write` within one poll: not ready is
/// `WouldBlock`.
struct Polled<'a, 'b> {
    sock: &'a mut Socket,
    cx: &'a mut Context<'b>,
}

fn would_block<T>(polled: Poll<io::Result<T>>) -> io::Result<T> {
    match polled {
        Poll::Ready(result) => result,
        Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
    }
}

fn pending<T>(result: io::Result<T>) -> Poll<io::Result<T>> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Poll::Pending,
        result => Poll::Ready(result),
    }
}

impl Read for Polled<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut buf = ReadBuf::new(buf);
        would_block(Pin::new(&mut *self.sock).poll_read(self.cx, &mut buf))?;
        Ok(buf.filled().len())
    }
}

impl Write for Polled<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        would_block(Pin::new(&mut *self.sock).poll_write(self.cx, buf))
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        would_block(Pin::new(&mut *self.sock).poll_write_vectored(self.cx, bufs))
    }

    fn flush(&mut self) -> io::Result<()> {
        would_block(Pin::new(&mut *self.sock).poll_flush(self.cx))
    }
}

impl Tls<Socket> {
    fn poll_flush_tls(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.conn.wants_write() {
            let sock = &mut self.sock;
            if ready!(pending(self.conn.write_tls(&mut Polled { sock, cx })))? == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
        }
        Poll::Ready(Ok(()))
    }

    fn poll_read_tls(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let sock = &mut self.sock;
        let n = ready!(pending(self.conn.read_tls(&mut Polled { sock, cx })))?;
        Poll::Ready(self.processed(n, |tls| drop(tls.poll_flush_tls(cx))))
    }

    async fn flush_tls(&mut self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_flush_tls(cx)).await
    }

    async fn read_tls(&mut self) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_read_tls(cx)).await
    }
}

impl AsyncRead for Tls<Socket> {
    /// Fills `buf` with what the socket has ready (one record at a time
    /// would cost a wakeup each); an error met once some data is in is
    /// kept for the next call.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let tls = self.get_mut();
        if let Some(e) = tls.error.take() {
            return Poll::Ready(Err(e));
        }
        let start = buf.filled().len();
        loop {
            let polled = match tls.conn.reader().read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    if n == 0 || buf.remaining() == 0 {
                        return Poll::Ready(Ok(()));
                    }
                    continue;
                }
                // No plaintext yet: read records (after the end of the
                // connection, rustls answers 0 or UnexpectedEof instead).
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    tls.poll_read_tls(cx).map_ok(drop)
                }
                Err(e) => Poll::Ready(Err(e)),
            };
            match polled {
                Poll::Ready(Ok(())) => {}
                _ if buf.filled().len() == start => return polled,
                Poll::Ready(Err(e)) => {
                    tls.error = Some(e);
                    return Poll::Ready(Ok(()));
                }
                Poll::Pending => return Poll::Ready(Ok(())),
            }
        }
    }
}

impl AsyncWrite for Tls<Socket> {
    /// Takes as much of `buf` as the socket will send now.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let tls = self.get_mut();
        // Room for the new records first; what they do not send now goes
        // with the next write or flush.
        ready!(tls.poll_flush_tls(cx))?;
        let mut n = 0;
        while let Some(rest) = buf.get(n..).filter(|rest| !rest.is_empty()) {
            let taken = tls.conn.writer().write(rest)?;
            n += taken;
            match tls.poll_flush_tls(cx) {
                Poll::Ready(Ok(())) if taken > 0 => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                _ => break,
            }
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let tls = self.get_mut();
        ready!(tls.poll_flush_tls(cx))?;
        Pin::new(&mut tls.sock).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let tls = self.get_mut();
        tls.conn.send_close_notify();
        ready!(tls.poll_flush_tls(cx))?;
        Pin::new(&mut tls.sock).poll_shutdown(cx)
    }
}

/// `AsyncRead` and `AsyncWrite` for `$ty`, each call passed on to the
/// stream that `$on!` (`on_socket!` or `on_stream!`) finds in it.
macro_rules! poll_through {
    ($ty:ty, $on:ident) => {
        impl AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                $on!(self.get_mut(), s => Pin::new(s).poll_read(cx, buf), Poll::Ready(Err(detached())))
            }
        }

        impl AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                $on!(self.get_mut(), s => Pin::new(s).poll_write(cx, buf), Poll::Ready(Err(detached())))
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                $on!(self.get_mut(), s => Pin::new(s).poll_write_vectored(cx, bufs), Poll::Ready(Err(detached())))
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                $on!(self.get_mut(), s => Pin::new(s).poll_flush(cx), Poll::Ready(Err(detached())))
            }

            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                $on!(self.get_mut(), s => Pin::new(s).poll_shutdown(cx), Poll::Ready(Err(detached())))
            }
        }
    };
}

poll_through!(Socket, on_socket);
poll_through!(Stream, on_stream);
