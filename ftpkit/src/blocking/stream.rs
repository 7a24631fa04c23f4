//! The blocking side of [`crate::stream`]: its streams over `std::net`,
//! and how bytes move between them and a TLS session (`Read`/`Write`,
//! bounded by the sockets' own timeouts).

use std::io::{self, Read, Write};

use crate::stream::{Tls, detached};

streams!(std::net::TcpStream, [Read + Write + Send]);

/// A step bounded by the idle timeout already set on its socket (`$wait`
/// and the error of a timeout, `$expired`, are tokio's).
macro_rules! bounded {
    ($wait:expr, $work:expr $(, $expired:expr)?) => {{
        let _ = $wait;
        $work
    }};
}

tls_steps!(Stream, Socket, [], []);

impl Tls<Socket> {
    fn flush_tls(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            self.conn.write_tls(&mut self.sock)?;
        }
        Ok(())
    }

    fn read_tls(&mut self) -> io::Result<usize> {
        let n = self.conn.read_tls(&mut self.sock)?;
        self.processed(n, |tls| drop(tls.flush_tls()))
    }
}

/// `$e` with `$s` bound to rustls' blocking `Stream` over the session and
/// its socket (`$gone` is for the likeness with `on_stream!`: a session
/// always has its socket).
macro_rules! on_tls {
    ($tls:expr, $s:ident => $e:expr, $gone:expr) => {{
        let $s = &mut rustls::Stream::new(&mut $tls.conn, &mut $tls.sock);
        $e
    }};
}

/// `Read` and `Write` for `$ty`, each call passed on to the stream that
/// `$on!` (`on_socket!`, `on_tls!` or `on_stream!`) finds in it.
macro_rules! read_write_through {
    ($ty:ty, $on:ident) => {
        impl Read for $ty {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                $on!(self, s => s.read(buf), Err(detached()))
            }
        }

        impl Write for $ty {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                $on!(self, s => s.write(buf), Err(detached()))
            }

            fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
                $on!(self, s => s.write_vectored(bufs), Err(detached()))
            }

            fn flush(&mut self) -> io::Result<()> {
                $on!(self, s => s.flush(), Err(detached()))
            }
        }
    };
}

read_write_through!(Socket, on_socket);
read_write_through!(Tls<Socket>, on_tls);
read_write_through!(Stream, on_stream);
