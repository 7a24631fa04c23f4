//! What the tokio driver performs for the engine: the control and data
//! sockets, their TLS, and nothing else. Every deadline comes from the
//! core and is awaited with `tokio::time::timeout_at`.

use std::{
    future::Future,
    net::SocketAddr,
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    time::timeout_at,
};

use super::{
    net,
    stream::{Handshake, Stream, begin_tls},
};
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
    /// The data connection, until a reader or writer takes it, and again
    /// when one leaves it to be closed.
    pub(crate) data: Option<Stream>,
    /// A data connection whose TLS handshake is under way.
    handshake: Option<Handshake>,
    listener: Option<TcpListener>,
    /// The proxy connections go through, if any.
    pub(crate) route: Option<Route>,
}

/// Runs an operation to its end, performing each action it asks for.
/// Dropping this future leaves the core's in-flight mark set: the next
/// operation sees the connection is out of step.
pub(crate) async fn drive<T>(io: &mut Io, mut op: Operation<'_, T>) -> Result<T> {
    let mut event = Event::Start;
    loop {
        match op.resume(event, Instant::now()) {
            Step::Done(result) => return result,
            Step::Act(action) => event = io.perform(action).await,
        }
    }
}

/// Runs `work` until `deadline`: its result, or [`Event::TimedOut`].
async fn within<F>(deadline: Instant, work: F) -> Event
where
    F: Future<Output = Result<Event>>,
{
    match timeout_at(deadline.into(), work).await {
        Ok(Ok(event)) => event,
        Ok(Err(e)) => Event::Failed(e),
        Err(_) => Event::TimedOut,
    }
}

async fn wrap(tcp: TcpStream, tls: Option<TlsParams>) -> Result<Handshake> {
    match tls {
        Some(tls) => begin_tls(tcp, tls.config, tls.name)
            .await
            .map_err(Error::io(Phase::DataConnect)),
        None => Ok(Handshake::plain(tcp)),
    }
}

impl Io {
    fn control(&mut self) -> Result<&mut Stream> {
        self.control.as_mut().ok_or(Error::Unusable)
    }

    /// Performs one action.
    pub(crate) async fn perform(&mut self, action: Action) -> Event {
        match action {
            Action::Connect {
                target,
                source,
                deadline,
                keepalive,
            } => {
                let wait = deadline.saturating_duration_since(Instant::now());
                match net::connect_control(self.route.as_ref(), target, wait, source).await {
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
                }
            }
            Action::Send { bytes, deadline } => {
                within(deadline, async {
                    let stream = self.control()?;
                    stream
                        .write_all(&bytes)
                        .await
                        .map_err(Error::io(Phase::Control))?;
                    stream.flush().await.map_err(Error::io(Phase::Control))?;
                    Ok(Event::Done)
                })
                .await
            }
            Action::Read { deadline } => {
                within(deadline, async {
                    let mut buf = [0u8; 4096];
                    let n = self
                        .control()?
                        .read(&mut buf)
                        .await
                        .map_err(Error::io(Phase::Control))?;
                    Ok(match buf.get(..n) {
                        Some([]) | None => Event::Eof,
                        Some(bytes) => Event::Bytes(bytes.to_vec()),
                    })
                })
                .await
            }
            Action::StartTls { tls, deadline } => {
                within(deadline, async {
                    self.control()?
                        .upgrade(tls.config, tls.name)
                        .await
                        .map_err(Error::io(Phase::Control))
                        .map(Event::Secured)
                })
                .await
            }
            Action::StopTls { deadline } => {
                within(deadline, async {
                    self.control()?
                        .downgrade()
                        .await
                        .map_err(Error::io(Phase::Control))?;
                    Ok(Event::Done)
                })
                .await
            }
            Action::OpenData {
                addr,
                source,
                deadline,
                idle,
                tls,
            } => {
                let wait = deadline.saturating_duration_since(Instant::now());
                let connected = net::connect_data(self.route.as_ref(), addr, wait, source).await;
                within(Instant::now() + idle.max(Duration::from_millis(1)), async {
                    self.handshake = Some(wrap(connected?, tls).await?);
                    Ok(Event::Done)
                })
                .await
            }
            Action::Listen { port } => {
                let bound = async {
                    if let Some(route) = &self.route {
                        route.refuse_active()?;
                    }
                    let local = self
                        .control()?
                        .tcp()
                        .and_then(|tcp| tcp.local_addr())
                        .map_err(Error::io(Phase::DataAccept))?;
                    let listener = TcpListener::bind(SocketAddr::new(local.ip(), port))
                        .await
                        .map_err(Error::io(Phase::DataAccept))?;
                    let addr = listener
                        .local_addr()
                        .map_err(Error::io(Phase::DataAccept))?;
                    self.listener = Some(listener);
                    Ok::<_, Error>(addr)
                };
                match bound.await {
                    Ok(addr) => Event::Listening(addr),
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
                let wait = deadline.saturating_duration_since(Instant::now());
                let accepted = net::accept_from(&listener, from, wait).await;
                within(Instant::now() + idle.max(Duration::from_millis(1)), async {
                    self.handshake = Some(wrap(accepted?, tls).await?);
                    Ok(Event::Done)
                })
                .await
            }
            Action::FinishData { deadline } => {
                let Some(handshake) = self.handshake.take() else {
                    return Event::Failed(Error::Unusable);
                };
                within(deadline, async {
                    let stream = handshake
                        .finish()
                        .await
                        .map_err(Error::io(Phase::DataConnect))?;
                    self.data = Some(stream);
                    Ok(Event::Done)
                })
                .await
            }
            Action::ReadData { deadline } => {
                let read = within(deadline, async {
                    let stream = self.data.as_mut().ok_or(Error::Unusable)?;
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let read = read_outcome(stream.read(&mut buf).await, stream.is_tls());
                        if let Some(event) = Event::of_data_read(read, &mut buf) {
                            return Ok(event);
                        }
                    }
                })
                .await;
                if matches!(read, Event::Eof) {
                    self.data = None;
                }
                read
            }
            Action::FinishUpload { deadline } => {
                let idle = deadline
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(1));
                match self.data.take() {
                    Some(stream) => match stream.finish_upload(idle).await {
                        Ok(()) => Event::Done,
                        Err(e) => Event::Failed(e),
                    },
                    None => Event::Failed(Error::Unusable),
                }
            }
            Action::Sleep { until } => {
                tokio::time::sleep_until(until.into()).await;
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
                    && let Ok(tcp) = data.tcp()
                {
                    reset_on_close(socket2::SockRef::from(tcp));
                }
                Event::Done
            }
        }
    }
}
