//! Opening sockets: control and passive connections with a connect timeout
//! and optional source address, and active-mode listeners that accept only
//! the server.

use std::{
    io,
    net::{IpAddr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs},
    thread,
    time::{Duration, Instant},
};

use socket2::{Domain, Protocol, SockRef, Socket, Type};

use crate::{
    error::{Error, Phase, Result},
    proto::rules,
};

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
