//! Opening sockets over `std::net`: what the shared connectors
//! (`connectors!`) need of this driver. Connects with a timeout and an
//! optional source address, socket timeouts, and active-mode accepts.

use std::{
    io::{self, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs},
    time::{Duration, Instant},
};

use crate::{
    driver::Direction,
    error::{Error, Phase, Result},
};

connectors!(
    TcpStream, TcpListener, [], [],
    /// Resolves `host:port` (the system resolver has its own timeout).
    resolve(host, port, _wait, phase) {
        Ok((host, port)
            .to_socket_addrs()
            .map_err(Error::io(phase))?
            .collect())
    }
    /// Connects `socket` to `addr` within `timeout` (`TCP_NODELAY` is set
    /// on the socket by `socket_for`, which both drivers share).
    connect_socket(socket, addr, timeout) {
        socket.connect_timeout(&addr.into(), timeout)?;
        Ok(socket.into())
    }
    /// The next connection to `listener` before `deadline`.
    accept_by(listener, deadline) {
        accept_waiting(listener, deadline)
    }
);

/// Applies the idle timeout to both directions of a stream.
pub(crate) fn set_idle_timeout(stream: &TcpStream, timeout: Duration) -> io::Result<()> {
    set_timeout(stream, Direction::Read, timeout)?;
    set_timeout(stream, Direction::Write, timeout)
}

/// Applies `timeout` to one direction of a stream.
pub(crate) fn set_timeout(
    stream: &TcpStream,
    direction: Direction,
    timeout: Duration,
) -> io::Result<()> {
    let timeout = Some(timeout.max(Duration::from_millis(1)));
    match direction {
        Direction::Read => stream.set_read_timeout(timeout),
        Direction::Write => stream.set_write_timeout(timeout),
    }
}

/// The next connection to `listener` before `deadline`. On Linux the
/// accept waits in the kernel, bounded by the listener's receive timeout
/// (which `accept(2)` honours there): the connection is taken the moment
/// it comes, where polling with sleeps took a millisecond or more a file.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn accept_waiting(listener: &TcpListener, deadline: Instant) -> Result<(TcpStream, SocketAddr)> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(crate::driver::accept_timed_out());
        }
        socket2::SockRef::from(listener)
            .set_read_timeout(Some(left))
            .map_err(Error::io(Phase::DataAccept))?;
        match listener.accept() {
            Ok(accepted) => return Ok(accepted),
            // The timeout (`EAGAIN`), or a signal: the loop sees which.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(e) => return Err(Error::io(Phase::DataAccept)(e)),
        }
    }
}

/// The next connection to `listener` before `deadline` (polled: std has
/// no accept timeout, and here `accept(2)` may not honour the socket's),
/// back in blocking mode.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn accept_waiting(listener: &TcpListener, deadline: Instant) -> Result<(TcpStream, SocketAddr)> {
    listener
        .set_nonblocking(true)
        .map_err(Error::io(Phase::DataAccept))?;
    let mut pause = Duration::from_millis(1);
    loop {
        match listener.accept() {
            Ok((stream, from)) => {
                stream
                    .set_nonblocking(false)
                    .map_err(Error::io(Phase::DataAccept))?;
                return Ok((stream, from));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    return Err(crate::driver::accept_timed_out());
                }
                std::thread::sleep(pause);
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

    /// Passive and active data connections alike: `TCP_NODELAY`, as on
    /// the tokio driver.
    #[test]
    fn data_connections_are_taken_with_nodelay() {
        use super::super::{
            io::Io,
            stream::{Socket, Stream},
        };
        data_connections_take_nodelay!([]);
    }

    /// Reads of a data connection reuse one kept block, as on the tokio
    /// driver.
    #[test]
    fn data_reads_reuse_one_block() {
        use super::super::io::Io;
        data_reads_reuse_one_block!([], std::io::Write::write_all);
    }

    #[test]
    fn an_accept_ends_at_its_deadline_or_with_the_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let start = Instant::now();
            let nobody = accept_by(&listener, start + Duration::from_millis(200));
            let waited = start.elapsed();
            let client = std::thread::spawn(move || TcpStream::connect(addr).unwrap());
            let accepted = accept_by(&listener, Instant::now() + Duration::from_secs(20));
            let _ = tx.send((nobody.map(|_| ()), waited, accepted.map(|_| ())));
            client.join().unwrap();
        });
        // A hung accept fails here rather than hanging the test.
        let (nobody, waited, accepted) = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        assert!(nobody.unwrap_err().is_timeout());
        assert!(waited >= Duration::from_millis(200), "{waited:?}");
        accepted.unwrap();
    }

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
