//! Opening tokio sockets: what the shared connectors (`connectors!`) need
//! of this driver. Connects with a timeout and an optional source address,
//! and active-mode accepts, each bounded by a timer.

use std::{io, time::Duration};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpSocket, TcpStream},
    time::{timeout, timeout_at},
};

use crate::error::{Error, Phase, timed_out};

connectors!(
    TcpStream, TcpListener, [async], [.await],
    /// Resolves `host:port` within `wait`.
    resolve(host, port, wait, phase) {
        Ok(timeout(wait, tokio::net::lookup_host((host, port)))
            .await
            .map_err(|_| timed_out(phase))?
            .map_err(Error::io(phase))?
            .collect())
    }
    /// Connects `socket` to `addr` within `wait`.
    connect_socket(socket, addr, wait) {
        socket.set_nonblocking(true)?;
        let socket = TcpSocket::from_std_stream(socket.into());
        let stream = timeout(wait, socket.connect(addr))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
        Ok(stream)
    }
    /// The next connection to `listener` before `deadline`.
    accept_by(listener, deadline) {
        timeout_at(deadline.into(), listener.accept())
            .await
            .map_err(|_| crate::driver::accept_timed_out())?
            .map_err(Error::io(Phase::DataAccept))
    }
);

/// The idle timeout of a socket: none on tokio's, whose every step is
/// bounded by a timer instead.
pub(crate) fn set_idle_timeout(_stream: &TcpStream, _timeout: Duration) -> io::Result<()> {
    Ok(())
}

/// The timeout of one direction of a socket: none on tokio's either.
pub(crate) fn set_timeout(
    _stream: &TcpStream,
    _direction: crate::driver::Direction,
    _timeout: Duration,
) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{
        super::{
            io::Io,
            stream::{Socket, Stream},
        },
        *,
    };

    /// Passive and active data connections alike: `TCP_NODELAY`, as on
    /// the blocking driver.
    #[test]
    fn data_connections_are_taken_with_nodelay() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async { data_connections_take_nodelay!([.await]) });
    }

    /// Reads of a data connection reuse one kept block, as on the
    /// blocking driver.
    #[test]
    fn data_reads_reuse_one_block() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            data_reads_reuse_one_block!([.await], tokio::io::AsyncWriteExt::write_all)
        });
    }
}
