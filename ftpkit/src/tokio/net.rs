//! Opening tokio sockets: control and passive connections with a connect
//! timeout and optional source address, and active-mode listeners that
//! accept only the server (the rule is [`rules::accepts_data_from`]).

use std::{
    io,
    net::{IpAddr, SocketAddr},
    time::Duration,
};

use socket2::SockRef;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpSocket, TcpStream},
    time::{Instant, timeout, timeout_at},
};

use crate::{
    error::{Error, Phase, Result, timed_out},
    proto::rules,
    proxy::{Dest, Hop, Progress, ProxyError, Route},
};

/// Connects to the proxy of `hop` and, for a tunnel, runs its handshake to
/// the destination, all within `wait`. Returns the stream, ready for the
/// server's bytes, and the destination it leads to (its address once
/// resolved locally).
pub(crate) async fn connect_via(
    route: &Route,
    hop: Hop,
    wait: Duration,
    source: Option<IpAddr>,
    phase: Phase,
) -> Result<(TcpStream, Option<Dest>)> {
    timeout(wait, async {
        let mut tcp = connect_host(&hop.proxy_host, hop.proxy_port, wait, source).await?;
        let Some(mut dest) = hop.dest else {
            return Ok((tcp, None));
        };
        if hop.resolve_locally
            && let Dest::Name(host, port) = &dest
        {
            let addrs = tokio::net::lookup_host((host.as_str(), *port))
                .await
                .map_err(Error::io(phase))?;
            dest = Dest::resolved(host, addrs, phase)?;
        }
        let mut tunnel = route.tunnel(dest.clone());
        tcp.write_all(&tunnel.start())
            .await
            .map_err(Error::io(phase))?;
        let mut buf = [0u8; 512];
        loop {
            let want = tunnel.wanted().min(buf.len());
            let got = tcp
                .read(buf.get_mut(..want).unwrap_or_default())
                .await
                .map_err(Error::io(phase))?;
            if got == 0 {
                return Err(ProxyError::Protocol("the proxy closed the connection".into()).into());
            }
            match tunnel.feed(buf.get(..got).unwrap_or_default())? {
                Progress::More => {}
                Progress::Send(bytes) => tcp.write_all(&bytes).await.map_err(Error::io(phase))?,
                Progress::Done => return Ok((tcp, Some(dest))),
            }
        }
    })
    .await
    .map_err(|_| timed_out(phase))?
}

/// Resolves `host:port` and connects to the first address that answers.
pub(crate) async fn connect_host(
    host: &str,
    port: u16,
    wait: Duration,
    source: Option<IpAddr>,
) -> Result<TcpStream> {
    let addrs: Vec<SocketAddr> = timeout(wait, tokio::net::lookup_host((host, port)))
        .await
        .map_err(|_| timed_out(Phase::Connect))?
        .map_err(Error::io(Phase::Connect))?
        .collect();
    let mut last = None;
    for addr in addrs {
        match connect_addr(addr, wait, source).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    Err(crate::driver::unreachable_host(host, last))
}

/// Connects to `addr` within `wait`, bound to `source` if given.
pub(crate) async fn connect_addr(
    addr: SocketAddr,
    wait: Duration,
    source: Option<IpAddr>,
) -> io::Result<TcpStream> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(ip) = source {
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    let stream = timeout(wait, socket.connect(addr))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Makes the next close of `stream` a reset (RST), so the server sees an
/// aborted upload instead of a clean end of file.
pub(crate) fn reset_on_close(stream: &TcpStream) {
    let _ = SockRef::from(stream).set_linger(Some(Duration::ZERO));
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
