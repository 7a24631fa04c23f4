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
        connect_within(&socket, addr, timeout)?;
        Ok(socket.into())
    }
    /// The next connection to `listener` before `deadline`.
    accept_by(listener, deadline) {
        accept_waiting(listener, deadline)
    }
);

/// Connects `socket` to `addr` within `timeout`. Linux bounds a blocking
/// connect by the socket's send timeout: two system calls, where a
/// non-blocking connect and a `poll` take seven (it is made once a data
/// connection, so once a file). A signal ends the wait early; connecting
/// again waits on for what is left of the time.
#[cfg(target_os = "linux")]
fn connect_within(socket: &socket2::Socket, addr: SocketAddr, timeout: Duration) -> io::Result<()> {
    let deadline = Instant::now() + timeout;
    let addr = socket2::SockAddr::from(addr);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        socket.set_write_timeout(Some(left.max(Duration::from_millis(1))))?;
        match socket.connect(&addr) {
            Ok(()) => return Ok(()),
            Err(e) => match connect_outcome(&e) {
                ConnectOutcome::Connected => return Ok(()),
                ConnectOutcome::Again => continue,
                ConnectOutcome::TimedOut => return Err(io::ErrorKind::TimedOut.into()),
                ConnectOutcome::Failed => return Err(e),
            },
        }
    }
}

/// Elsewhere: a non-blocking connect and a wait for it (socket2's).
#[cfg(not(target_os = "linux"))]
fn connect_within(socket: &socket2::Socket, addr: SocketAddr, timeout: Duration) -> io::Result<()> {
    socket.connect_timeout(&addr.into(), timeout)
}

/// What a blocking connect's error means on Linux.
#[cfg(target_os = "linux")]
#[derive(Debug, PartialEq)]
enum ConnectOutcome {
    /// Connected after all: an earlier call, cut short by a signal, went
    /// on in the kernel (`EISCONN`).
    Connected,
    /// A signal cut the wait short (`EINTR`): connect again to wait on.
    Again,
    /// The send timeout ran out with the connection still under way
    /// (`EINPROGRESS` on the first call, `EALREADY` on a later one).
    TimedOut,
    /// A real failure (refused, unreachable, ...).
    Failed,
}

#[cfg(target_os = "linux")]
fn connect_outcome(error: &io::Error) -> ConnectOutcome {
    use rustix::io::Errno;
    match Errno::from_io_error(error) {
        Some(Errno::ISCONN) => ConnectOutcome::Connected,
        Some(Errno::INTR) => ConnectOutcome::Again,
        Some(Errno::INPROGRESS | Errno::ALREADY | Errno::AGAIN) => ConnectOutcome::TimedOut,
        _ => ConnectOutcome::Failed,
    }
}

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

    /// A connect answered at once succeeds; one to a closed port fails as
    /// refused; one whose SYN is never answered (a listener whose queue is
    /// full drops it) ends at its timeout, as a timeout.
    #[test]
    fn a_connect_succeeds_is_refused_or_ends_at_its_timeout() {
        use socket2::{Domain, Socket, Type};
        let socket = || Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap();
        connect_within(&socket(), open, Duration::from_secs(5)).unwrap();
        drop(listener);
        let refused = connect_within(&socket(), open, Duration::from_secs(5)).unwrap_err();
        assert_eq!(
            refused.kind(),
            io::ErrorKind::ConnectionRefused,
            "{refused}"
        );

        // Backlog 0: once its queue holds what it can, further SYNs are
        // dropped and their connects wait until they give up.
        let full = socket();
        full.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .unwrap();
        full.listen(0).unwrap();
        let addr = full.local_addr().unwrap().as_socket().unwrap();
        let mut held = Vec::new();
        let (started, timed_out) = loop {
            assert!(held.len() < 64, "the listener's queue never filled");
            let client = socket();
            let started = Instant::now();
            match connect_within(&client, addr, Duration::from_millis(300)) {
                Ok(()) => held.push(client),
                Err(e) => break (started, e),
            }
        };
        let waited = started.elapsed();
        assert_eq!(timed_out.kind(), io::ErrorKind::TimedOut, "{timed_out}");
        assert!(waited >= Duration::from_millis(290), "{waited:?}");
        assert!(waited < Duration::from_secs(5), "{waited:?}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_blocking_connect_error_says_what_happened() {
        let outcome = |errno: rustix::io::Errno| connect_outcome(&errno.into());
        use rustix::io::Errno;
        assert_eq!(outcome(Errno::ISCONN), ConnectOutcome::Connected);
        assert_eq!(outcome(Errno::INTR), ConnectOutcome::Again);
        assert_eq!(outcome(Errno::INPROGRESS), ConnectOutcome::TimedOut);
        assert_eq!(outcome(Errno::ALREADY), ConnectOutcome::TimedOut);
        assert_eq!(outcome(Errno::CONNREFUSED), ConnectOutcome::Failed);
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
