//! What the blocking driver performs for the engine: the control and data
//! sockets, their TLS, and nothing else. Every deadline comes from the
//! core; a socket timeout is set from it before each blocking call.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    time::{Duration, Instant},
};

use super::{net, stream::Stream};
use crate::{
    driver::{reset_on_close, set_keepalive},
    error::{Error, Phase, Result},
    proto::engine::{Action, Event, Operation, Step, TlsParams, flow::read_outcome},
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

fn event(result: Result<()>) -> Event {
    match result {
        Ok(()) => Event::Done,
        Err(e) => Event::Failed(e),
    }
}

fn wrap(tcp: TcpStream, idle: Duration, tls: Option<TlsParams>) -> Result<Stream> {
    net::set_idle_timeout(&tcp, idle).map_err(Error::io(Phase::DataConnect))?;
    match tls {
        Some(tls) => {
            Stream::begin_tls(tcp, tls.config, tls.name).map_err(Error::io(Phase::DataConnect))
        }
        None => Ok(Stream::Plain(tcp)),
    }
}

impl Io {
    fn control(&mut self, deadline: Instant) -> Result<&mut Stream> {
        let stream = self.control.as_mut().ok_or(Error::Unusable)?;
        net::set_idle_timeout(stream.tcp(), left(deadline)).map_err(Error::io(Phase::Control))?;
        Ok(stream)
    }

    /// Performs one action.
    pub(crate) fn perform(&mut self, action: Action) -> Event {
        match action {
            Action::Connect {
                target,
                source,
                deadline,
                keepalive,
            } => match net::connect_control(self.route.as_ref(), target, left(deadline), source) {
                Ok((tcp, peer)) => {
                    if let Some(every) = keepalive
                        && let Err(e) = set_keepalive(socket2::SockRef::from(&tcp), every)
                    {
                        tracing::debug!(target: "ftpkit::control", %e, "TCP keepalive refused");
                    }
                    self.control = Some(Stream::Plain(tcp));
                    Event::Connected(peer)
                }
                Err(e) => Event::Failed(e),
            },
            Action::Send { bytes, deadline } => event(
                self.control(deadline)
                    .and_then(|s| s.write_all(&bytes).map_err(Error::io(Phase::Control))),
            ),
            Action::Read { deadline } => {
                let mut buf = [0u8; 4096];
                match self
                    .control(deadline)
                    .and_then(|s| s.read(&mut buf).map_err(Error::io(Phase::Control)))
                {
                    Ok(0) => Event::Eof,
                    Ok(n) => Event::Bytes(buf.get(..n).unwrap_or_default().to_vec()),
                    Err(e) if e.is_timeout() => Event::TimedOut,
                    Err(e) => Event::Failed(e),
                }
            }
            Action::StartTls { tls, deadline } => match self.control(deadline).and_then(|s| {
                s.upgrade(tls.config, tls.name)
                    .map_err(Error::io(Phase::Control))
            }) {
                Ok(version) => Event::Secured(version),
                Err(e) => Event::Failed(e),
            },
            Action::StopTls { deadline } => event(
                self.control(deadline)
                    .and_then(|s| s.downgrade().map_err(Error::io(Phase::Control))),
            ),
            Action::OpenData {
                addr,
                source,
                deadline,
                idle,
                tls,
            } => event(
                net::connect_data(self.route.as_ref(), addr, left(deadline), source)
                    .and_then(|tcp| wrap(tcp, idle, tls))
                    .map(|stream| self.data = Some(stream)),
            ),
            Action::Listen { port } => {
                let bound = self
                    .route
                    .as_ref()
                    .map_or(Ok(()), Route::refuse_active)
                    .and_then(|()| self.control.as_ref().ok_or(Error::Unusable))
                    .and_then(|s| s.tcp().local_addr().map_err(Error::io(Phase::DataAccept)))
                    .and_then(|local| {
                        TcpListener::bind(SocketAddr::new(local.ip(), port))
                            .map_err(Error::io(Phase::DataAccept))
                    })
                    .and_then(|l| {
                        l.local_addr()
                            .map(|a| (l, a))
                            .map_err(Error::io(Phase::DataAccept))
                    });
                match bound {
                    Ok((listener, addr)) => {
                        self.listener = Some(listener);
                        Event::Listening(addr)
                    }
                    Err(e) => Event::Failed(e),
                }
            }
            Action::Accept {
                from,
                deadline,
                idle,
                tls,
            } => {
                let Some(listener) = self.listener.take() else {
                    return Event::Failed(Error::Unusable);
                };
                event(
                    net::accept_from(&listener, from, left(deadline))
                        .and_then(|tcp| wrap(tcp, idle, tls))
                        .map(|stream| self.data = Some(stream)),
                )
            }
            Action::FinishData { deadline: _ } => match self.data.as_mut() {
                Some(stream) => event(
                    stream
                        .finish_handshake()
                        .map_err(Error::io(Phase::DataConnect)),
                ),
                None => Event::Failed(Error::Unusable),
            },
            Action::ReadData { deadline: _ } => {
                // The data socket's idle timeout bounds the read.
                let Some(stream) = self.data.as_mut() else {
                    return Event::Failed(Error::Unusable);
                };
                let mut buf = vec![0u8; 64 * 1024];
                let event = loop {
                    let read = read_outcome(stream.read(&mut buf), stream.is_tls());
                    if let Some(event) = Event::of_data_read(read, &mut buf) {
                        break event;
                    }
                };
                if matches!(event, Event::Eof) {
                    self.data = None;
                }
                event
            }
            Action::FinishUpload { deadline: _ } => event(
                self.data
                    .take()
                    .ok_or(Error::Unusable)
                    .and_then(Stream::finish_upload),
            ),
            Action::Sleep { until } => {
                std::thread::sleep(until.saturating_duration_since(Instant::now()));
                Event::Done
            }
            // Nobody here asked for the size.
            Action::RemoteSize(_) => Event::Done,
            Action::Pump { .. } | Action::Progress(_) | Action::Local(_) => {
                Event::Failed(Error::Unusable)
            }
            Action::CloseData { reset } => {
                if let Some(data) = self.data.take()
                    && reset
                {
                    reset_on_close(socket2::SockRef::from(data.tcp()));
                }
                Event::Done
            }
        }
    }
}
