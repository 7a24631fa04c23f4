//! What the tokio driver performs for the engine: the control and data
//! sockets, their TLS, and nothing else. Every deadline comes from the
//! core and is awaited with `tokio::time::timeout_at`.

use std::{future::Future, time::Instant};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    time::timeout_at,
};

use super::{
    net,
    stream::{Socket, Stream},
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Every data connection, passive or active, upload or download,
    /// passes through `open_data`: its unsent bytes are capped there.
    #[tokio::test]
    async fn a_data_connection_caps_its_unsent_bytes() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tcp = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let mut io = Io::default();
        io.open_data(tcp, Duration::from_secs(5), None)
            .await
            .unwrap();
        crate::driver::assert_unsent_limited(io.data().unwrap().socket().unwrap());
    }
}
