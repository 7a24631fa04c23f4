//! Opening sockets: control and passive connections with a connect timeout
//! and optional source address, and active-mode listeners that accept only
//! the server.

use std::{
    io::{self, Read, Write},
    net::{IpAddr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs},
    thread,
    time::{Duration, Instant},
};

use socket2::{Domain, Protocol, SockRef, Socket, Type};

use crate::{
    error::{Error, Phase, Result},
    proto::rules,
    proxy::{Dest, Hop, Progress, ProxyError, Route},
};

/// Connects to the proxy of `hop` and, for a tunnel, runs its handshake to
/// the destination within `timeout`. Returns the stream, ready for the
/// server's bytes, and the destination it leads to (its address once
/// resolved locally).
pub(crate) fn connect_via(
    route: &Route,
    hop: Hop,
    timeout: Duration,
    source: Option<IpAddr>,
    phase: Phase,
) -> Result<(TcpStream, Option<Dest>)> {
    let deadline = Instant::now() + timeout;
    let mut tcp = connect_host(&hop.proxy_host, hop.proxy_port, timeout, source)?;
    let _ = tcp.set_nodelay(true);
    let Some(mut dest) = hop.dest else {
        return Ok((tcp, None));
    };
    if hop.resolve_locally
        && let Dest::Name(host, port) = &dest
    {
        let addrs = (host.as_str(), *port)
            .to_socket_addrs()
            .map_err(Error::io(phase))?;
        dest = Dest::resolved(host, addrs, phase)?;
    }
    let left = deadline.saturating_duration_since(Instant::now());
    set_idle_timeout(&tcp, left).map_err(Error::io(phase))?;
    let mut tunnel = route.tunnel(dest.clone());
    tcp.write_all(&tunnel.start()).map_err(Error::io(phase))?;
    let mut buf = [0u8; 512];
    loop {
        let want = tunnel.wanted().min(buf.len());
        let got = tcp
            .read(buf.get_mut(..want).unwrap_or_default())
            .map_err(Error::io(phase))?;
        if got == 0 {
            return Err(ProxyError::Protocol("the proxy closed the connection".into()).into());
        }
        match tunnel.feed(buf.get(..got).unwrap_or_default())? {
            Progress::More => {}
            Progress::Send(bytes) => tcp.write_all(&bytes).map_err(Error::io(phase))?,
            Progress::Done => return Ok((tcp, Some(dest))),
        }
    }
}

/// Resolves `host:port` and connects to the first address that answers.
pub(crate) fn connect_host(
    host: &str,
    port: u16,
    timeout: Duration,
    source: Option<IpAddr>,
) -> Result<TcpStream> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(Error::io(Phase::Connect))?
        .collect();
    let mut last = None;
    for addr in addrs {
        match connect_addr(addr, timeout, source) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    Err(crate::driver::unreachable_host(host, last))
}

/// Connects to `addr` within `timeout`, bound to `source` if given.
pub(crate) fn connect_addr(
    addr: SocketAddr,
    timeout: Duration,
    source: Option<IpAddr>,
) -> io::Result<TcpStream> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if let Some(ip) = source {
        socket.bind(&SocketAddr::new(ip, 0).into())?;
    }
    socket.connect_timeout(&addr.into(), timeout)?;
    Ok(socket.into())
}

/// Applies the idle timeout to both directions of a stream.
pub(crate) fn set_idle_timeout(stream: &TcpStream, timeout: Duration) -> io::Result<()> {
    let timeout = Some(timeout.max(Duration::from_millis(1)));
    stream.set_read_timeout(timeout)?;
    stream.set_write_timeout(timeout)
}

/// Turns TCP keepalive on for a control connection: probes after `every`
/// of silence, then every `every`, so that a NAT or firewall keeps the
/// connection while it sits idle during a long transfer, and a dead peer
/// is noticed. Shared by both drivers.
pub(crate) fn set_keepalive(socket: SockRef<'_>, every: Duration) -> io::Result<()> {
    let every = every.max(Duration::from_secs(1));
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(every)
        .with_interval(every);
    socket.set_tcp_keepalive(&keepalive)
}

/// Makes the next close of `stream` a reset (RST), so the server sees an
/// aborted upload instead of a clean end of file.
pub(crate) fn reset_on_close(stream: &TcpStream) {
    let _ = SockRef::from(stream).set_linger(Some(Duration::ZERO));
}

/// Waits up to `timeout` for a connection from `server_ip`; connections from
/// any other address are closed and ignored (a third party must not be able
/// to inject or steal data).
pub(crate) fn accept_from(
    listener: &TcpListener,
    server_ip: IpAddr,
    timeout: Duration,
) -> Result<TcpStream> {
    listener
        .set_nonblocking(true)
        .map_err(Error::io(Phase::DataAccept))?;
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        match listener.accept() {
            Ok((stream, from)) if rules::accepts_data_from(from.ip(), server_ip) => {
                stream
                    .set_nonblocking(false)
                    .map_err(Error::io(Phase::DataAccept))?;
                return Ok(stream);
            }
            Ok((_, from)) => {
                tracing::warn!(%from, expected = %server_ip, "refused a data connection from another host");
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    return Err(crate::driver::accept_timed_out());
                }
                thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(e) => return Err(Error::io(Phase::DataAccept)(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalive_is_set_with_the_configured_interval() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let tcp = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        set_keepalive(SockRef::from(&tcp), Duration::from_secs(7)).unwrap();
        let socket = SockRef::from(&tcp);
        assert!(socket.keepalive().unwrap());
        #[cfg(target_os = "linux")]
        {
            assert_eq!(socket.tcp_keepalive_time().unwrap(), Duration::from_secs(7));
            assert_eq!(
                socket.tcp_keepalive_interval().unwrap(),
                Duration::from_secs(7)
            );
        }
    }
}
