//! Opening tokio sockets: what the shared connectors (`connectors!`) need
//! of this driver. Connects with a timeout and an optional source address,
//! and active-mode accepts, each bounded by a timer.

use std::{
    io,
    net::{IpAddr, SocketAddr},
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpSocket, TcpStream},
    time::{timeout, timeout_at},
};

use crate::error::{Error, Phase, Result, timed_out};

connectors!(TcpStream, TcpListener, [async], [.await]);

/// Resolves `host:port` within `wait`.
async fn resolve(host: &str, port: u16, wait: Duration, phase: Phase) -> Result<Vec<SocketAddr>> {
    Ok(timeout(wait, tokio::net::lookup_host((host, port)))
        .await
        .map_err(|_| timed_out(phase))?
        .map_err(Error::io(phase))?
        .collect())
}

/// Connects to `addr` within `wait`, bound to `source` if given.
async fn connect_addr(
    addr: SocketAddr,
    wait: Duration,
    source: Option<IpAddr>,
) -> io::Result<TcpStream> {
    let socket = crate::driver::socket_for(addr, source)?;
    socket.set_nonblocking(true)?;
    let socket = TcpSocket::from_std_stream(socket.into());
    let stream = timeout(wait, socket.connect(addr))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
    Ok(stream)
}

/// The idle timeout of a socket: none on tokio's, whose every step is
/// bounded by a timer instead.
pub(crate) fn set_idle_timeout(_stream: &TcpStream, _timeout: Duration) -> io::Result<()> {
    Ok(())
}

/// The next connection to `listener` before `deadline`.
async fn accept_by(listener: &TcpListener, deadline: Instant) -> Result<(TcpStream, SocketAddr)> {
    timeout_at(deadline.into(), listener.accept())
        .await
        .map_err(|_| crate::driver::accept_timed_out())?
        .map_err(Error::io(Phase::DataAccept))
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
}
