//! What the tokio driver performs for the engine: the control and data
//! sockets, their TLS, and nothing else. Every deadline comes from the
//! core and is awaited with `tokio::time::timeout_at`.

use std::{
    future::Future,
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    time::{timeout, timeout_at},
};

use super::{
    net,
    stream::{Socket, Stream},
};
use crate::{
    error::{Error, Phase, Result, timed_out},
    proto::engine::{Event, Operation, Step, TlsParams},
    proxy::Route,
};

/// The sockets of one client.
#[derive(Debug, Default)]
pub(crate) struct Io {
    pub(crate) control: Option<Stream>,
    /// The data connection, until a reader or writer takes it, and again
    /// when one leaves it to be closed.
    pub(crate) data: Option<Stream>,
    listener: Option<TcpListener>,
    /// The proxy connections go through, if any.
    pub(crate) route: Option<Route>,
    /// A control connection the caller supplied, until `Connect` takes it.
    pub(crate) supplied: Option<Socket>,
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

macro_rules! within {
    ($deadline:expr, $body:block) => {
        within($deadline, async $body).await
    };
}

/// The time left until `deadline`, at least a millisecond.
fn left(deadline: Instant) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1))
}

async fn pause(until: Instant) {
    tokio::time::sleep_until(until.into()).await;
}

impl Io {
    /// The control connection (`within!` bounds each action on it).
    fn control(&mut self, _deadline: Instant) -> Result<&mut Stream> {
        self.control.as_mut().ok_or(Error::Unusable)
    }

    /// Takes a new data connection, its TLS handshake begun within `idle`.
    async fn open_data(
        &mut self,
        tcp: TcpStream,
        idle: Duration,
        tls: Option<TlsParams>,
    ) -> Result<()> {
        self.data = Some(match tls {
            Some(tls) => timeout(
                idle.max(Duration::from_millis(1)),
                Stream::begin_tls(Socket::Tcp(tcp), tls.config, tls.name),
            )
            .await
            .map_err(|_| timed_out(Phase::DataConnect))?
            .map_err(Error::io(Phase::DataConnect))?,
            None => Stream::Plain(Socket::Tcp(tcp)),
        });
        Ok(())
    }

    /// Completes the data connection's TLS handshake.
    async fn finish_data(&mut self) -> Result<()> {
        let data = self.data.as_mut().ok_or(Error::Unusable)?;
        data.finish_handshake()
            .await
            .map_err(Error::io(Phase::DataConnect))
    }
}

perform_actions!([async], [.await]);
