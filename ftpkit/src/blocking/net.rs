//! Opening sockets over `std::net`: what the shared connectors
//! (`connectors!`) need of this driver. Connects with a timeout and an
//! optional source address, socket timeouts, and active-mode accepts.

use std::{
    io::{self, Read, Write},
    net::{TcpListener, TcpStream, ToSocketAddrs},
    thread,
    time::{Duration, Instant},
};

use crate::error::{Error, Phase};

connectors!(
    TcpStream, TcpListener, [], [],
    /// Resolves `host:port` (the system resolver has its own timeout).
    resolve(host, port, _wait, phase) {
        Ok((host, port)
            .to_socket_addrs()
            .map_err(Error::io(phase))?
            .collect())
    }
    /// Connects `socket` to `addr` within `timeout`.
    connect_socket(socket, addr, timeout) {
        socket.connect_timeout(&addr.into(), timeout)?;
        Ok(socket.into())
    }
    /// The next connection to `listener` before `deadline` (polled: std has
    /// no accept timeout), back in blocking mode.
    accept_by(listener, deadline) {
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
                    thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
                Err(e) => return Err(Error::io(Phase::DataAccept)(e)),
            }
        }
    }
);

/// Applies the idle timeout to both directions of a stream.
pub(crate) fn set_idle_timeout(stream: &TcpStream, timeout: Duration) -> io::Result<()> {
    let timeout = Some(timeout.max(Duration::from_millis(1)));
    stream.set_read_timeout(timeout)?;
    stream.set_write_timeout(timeout)
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
