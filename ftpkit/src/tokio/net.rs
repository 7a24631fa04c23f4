//! Opening tokio sockets: control and passive connections with a connect
//! timeout and optional source address, and active-mode listeners that
//! accept only the server (the rule is [`rules::accepts_data_from`]).

use std::{
    io,
    net::{IpAddr, SocketAddr},
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpSocket, TcpStream},
    time::{Instant, timeout, timeout_at},
};

use crate::{
    error::{Error, Phase, Result, timed_out},
    proto::rules,
    proxy::{Dest, Hop, Route},
};

connectors!(TcpStream, [async], [.await]);

/// Resolves `host:port` within `wait`.
async fn resolve(host: &str, port: u16, wait: Duration, phase: Phase) -> Result<Vec<SocketAddr>> {
    Ok(timeout(wait, tokio::net::lookup_host((host, port)))
        .await
        .map_err(|_| timed_out(phase))?
        .map_err(Error::io(phase))?
        .collect())
}

/// Connects to the proxy of `hop` and, for a tunnel, runs its handshake to
/// the destination, all within `wait`. Returns the stream, ready for the
/// server's bytes, and the destination it leads to (its address once
/// resolved locally).
async fn connect_via(
    route: &Route,
    hop: Hop,
    wait: Duration,
    source: Option<IpAddr>,
    phase: Phase,
) -> Result<(TcpStream, Option<Dest>)> {
    timeout(wait, async {
        let mut tcp = connect_host(&hop.proxy_host, hop.proxy_port, wait, source).await?;
        let Some(dest) = hop.dest else {
            return Ok((tcp, None));
        };
        let dest = tunnel(route, &mut tcp, dest, hop.resolve_locally, wait, phase).await?;
        Ok((tcp, Some(dest)))
    })
    .await
    .map_err(|_| timed_out(phase))?
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
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// The idle timeout of a socket: none on tokio's, whose every step is
/// bounded by a timer instead.
pub(crate) fn set_idle_timeout(_stream: &TcpStream, _timeout: Duration) -> io::Result<()> {
    Ok(())
}

/// Waits up to `wait` for a connection from `server_ip`; connections from
/// any other address are closed and ignored.
pub(crate) async fn accept_from(
    listener: &TcpListener,
    server_ip: IpAddr,
    wait: Duration,
) -> Result<TcpStream> {
    let deadline = Instant::now() + wait;
    loop {
        match timeout_at(deadline, listener.accept()).await {
            Err(_) => {
                return Err(crate::driver::accept_timed_out());
            }
            Ok(Ok((stream, from))) if rules::accepts_data_from(from.ip(), server_ip) => {
                return Ok(stream);
            }
            Ok(Ok((_, from))) => {
                tracing::warn!(%from, expected = %server_ip, "refused a data connection from another host");
            }
            Ok(Err(e)) => return Err(Error::io(Phase::DataAccept)(e)),
        }
    }
}
