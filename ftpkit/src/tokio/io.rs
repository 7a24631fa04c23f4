//! What the tokio driver performs for the engine: the control and data
//! sockets, their TLS, and nothing else. Every deadline comes from the
//! core and is awaited with `tokio::time::timeout_at`.

use std::{future::Future, time::Instant};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    time::timeout_at,
};

use crate::{error::Result, proto::engine::Event};

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

async fn pause(until: Instant) {
    tokio::time::sleep_until(until.into()).await;
}

perform_actions!([async], [.await]);
