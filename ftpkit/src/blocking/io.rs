//! What the blocking driver performs for the engine: the control and data
//! sockets, their TLS, and nothing else. Every deadline comes from the
//! core; a socket timeout is set from it before each blocking call.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    time::{Duration, Instant},
};

use super::{
    net,
    stream::{Socket, Stream},
};
use crate::{
    error::{Error, Phase, Result},
    proto::engine::{Event, Operation, Step, TlsParams},
    proxy::Route,
};

/// The sockets of one client.
#[derive(Debug, Default)]
pub(crate) struct Io {
    pub(crate) control: Option<Stream>,
    /// The data connection being set up, until a reader or writer takes it,
    /// and again when one leaves it to be closed.
    pub(crate) data: Option<Stream>,
    listener: Option<TcpListener>,
    /// The proxy connections go through, if any.
    pub(crate) route: Option<Route>,
    /// A control connection the caller supplied, until `Connect` takes it.
    pub(crate) supplied: Option<Socket>,
}

/// Runs an operation to its end, performing each action it asks for.
pub(crate) fn drive<T>(io: &mut Io, mut op: Operation<'_, T>) -> Result<T> {
    let mut event = Event::Start;
    loop {
        match op.resume(event, Instant::now()) {
            Step::Done(result) => return result,
            Step::Act(action) => event = io.perform(action),
        }
    }
}

/// The time left until `deadline`, at least a millisecond (a zero socket
/// timeout would mean none).
fn left(deadline: Instant) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1))
}

/// Runs `work`, already bounded by the socket timeouts it set from its
/// deadline, and reports its event.
fn within(_deadline: Instant, work: impl FnOnce() -> Result<Event>) -> Event {
    work().unwrap_or_else(Event::Failed)
}

macro_rules! within {
    ($deadline:expr, $body:block) => {
        within($deadline, || $body)
    };
}

fn pause(until: Instant) {
    std::thread::sleep(until.saturating_duration_since(Instant::now()));
}

impl Io {
    fn control(&mut self, deadline: Instant) -> Result<&mut Stream> {
        let stream = self.control.as_mut().ok_or(Error::Unusable)?;
        if let Some(tcp) = stream.tcp() {
            net::set_idle_timeout(tcp, left(deadline)).map_err(Error::io(Phase::Control))?;
        }
        Ok(stream)
    }

    /// Takes a new data connection, its idle timeout set and its TLS
    /// handshake begun.
    fn open_data(&mut self, tcp: TcpStream, idle: Duration, tls: Option<TlsParams>) -> Result<()> {
        net::set_idle_timeout(&tcp, idle).map_err(Error::io(Phase::DataConnect))?;
        self.data = Some(match tls {
            Some(tls) => Stream::begin_tls(Socket::Tcp(tcp), tls.config, tls.name)
                .map_err(Error::io(Phase::DataConnect))?,
            None => Stream::Plain(Socket::Tcp(tcp)),
        });
        Ok(())
    }

    /// Completes the data connection's TLS handshake.
    fn finish_data(&mut self) -> Result<()> {
        let data = self.data.as_mut().ok_or(Error::Unusable)?;
        data.finish_handshake()
            .map_err(Error::io(Phase::DataConnect))
    }
}

perform_actions!([], []);
