//! Opening sockets: control and passive connections with a connect timeout
//! and optional source address, and active-mode listeners that accept only
//! the server.

use std::{
    io::{self, Read, Write},
    net::{IpAddr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs},
    thread,
    time::{Duration, Instant},
};

use crate::{
    error::{Error, Phase, Result},
    proto::rules,
    proxy::{Dest, Hop, Route},
};

connectors!(TcpStream, [], []);

/// Resolves `host:port` (the system resolver has its own timeout).
fn resolve(host: &str, port: u16, _wait: Duration, phase: Phase) -> Result<Vec<SocketAddr>> {
    Ok((host, port)
        .to_socket_addrs()
        .map_err(Error::io(phase))?
        .collect())
}

/// Connects to the proxy of `hop` and, for a tunnel, runs its handshake to
/// the destination within `timeout`. Returns the stream, ready for the
/// server's bytes, and the destination it leads to (its address once
/// resolved locally).
fn connect_via(
    route: &Route,
    hop: Hop,
    timeout: Duration,
    source: Option<IpAddr>,
    phase: Phase,
) -> Result<(TcpStream, Option<Dest>)> {
    let deadline = Instant::now() + timeout;
    let mut tcp = connect_host(&hop.proxy_host, hop.proxy_port, timeout, source)?;
    let _ = tcp.set_nodelay(true);
    let Some(dest) = hop.dest else {
        return Ok((tcp, None));
    };
    let left = deadline.saturating_duration_since(Instant::now());
    set_idle_timeout(&tcp, left).map_err(Error::io(phase))?;
    let dest = tunnel(route, &mut tcp, dest, hop.resolve_locally, left, phase)?;
    Ok((tcp, Some(dest)))
}

/// Connects to `addr` within `timeout`, bound to `source` if given.
fn connect_addr(
    addr: SocketAddr,
    timeout: Duration,
    source: Option<IpAddr>,
) -> io::Result<TcpStream> {
    let socket = crate::driver::socket_for(addr, source)?;
    socket.connect_timeout(&addr.into(), timeout)?;
    Ok(socket.into())
}

/// Applies the idle timeout to both directions of a stream.
pub(crate) fn set_idle_timeout(stream: &TcpStream, timeout: Duration) -> io::Result<()> {
    let timeout = Some(timeout.max(Duration::from_millis(1)));
    stream.set_read_timeout(timeout)?;
    stream.set_write_timeout(timeout)
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
    use socket2::SockRef;

    use super::*;
    use crate::driver::set_keepalive;

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
