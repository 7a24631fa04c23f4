//! The async control connection: sends commands and reads replies through
//! the core's [`ReplyReader`]. Reading is cancellation-safe: bytes go into
//! the reader as they arrive, so a reply read that is dropped half-way
//! loses nothing and the next read picks up where it stopped.

use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, ready},
    time::Duration,
};

use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::{
    io::{AsyncRead, AsyncWriteExt, ReadBuf},
    time::timeout,
};

use super::{net::timed_out, stream::Stream};
use crate::{
    error::{Error, Phase, Result},
    proto::{Command, Reply, ReplyLimits, ReplyReader},
};

/// The control connection and its reply reader.
#[derive(Debug)]
pub(crate) struct Control {
    stream: Stream,
    reader: ReplyReader,
    out: Vec<u8>,
    buf: Box<[u8]>,
    idle: Duration,
}

impl Control {
    pub(crate) fn new(stream: Stream, limits: ReplyLimits, idle: Duration) -> Control {
        Control {
            stream,
            reader: ReplyReader::new(limits),
            out: Vec::with_capacity(256),
            buf: vec![0u8; 4096].into_boxed_slice(),
            idle: idle.max(Duration::from_millis(1)),
        }
    }

    pub(crate) fn stream(&self) -> &Stream {
        &self.stream
    }

    pub(crate) fn idle(&self) -> Duration {
        self.idle
    }

    /// Starts TLS on the control connection (after `234`, or at once for
    /// implicit FTPS). Bytes that arrived in clear after the last reply are
    /// discarded first: they cannot be trusted (CVE-2021-22947).
    pub(crate) async fn start_tls(
        &mut self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
    ) -> Result<()> {
        if !self.reader.buffered().is_empty() {
            tracing::warn!(target: "ftpkit::tls", bytes = self.reader.buffered().len(), "discarding bytes sent in clear before the TLS handshake");
        }
        self.reader.discard_buffered();
        timeout(self.idle, self.stream.upgrade(config, name))
            .await
            .map_err(|_| timed_out(Phase::Control))?
            .map_err(Error::io(Phase::Control))
    }

    /// Returns the control connection to clear text after `CCC`.
    pub(crate) async fn stop_tls(&mut self) -> Result<()> {
        timeout(self.idle, self.stream.downgrade())
            .await
            .map_err(|_| timed_out(Phase::Control))?
            .map_err(Error::io(Phase::Control))
    }

    /// Sends one command.
    pub(crate) async fn send(&mut self, command: &Command) -> Result<()> {
        tracing::debug!(target: "ftpkit::control", "> {command}");
        self.out.clear();
        command.encode(&mut self.out);
        let stream = &mut self.stream;
        let out = &self.out;
        timeout(self.idle, async move {
            stream.write_all(out).await?;
            stream.flush().await
        })
        .await
        .map_err(|_| timed_out(Phase::Control))?
        .map_err(Error::io(Phase::Control))
    }

    /// Polls for the next complete reply.
    pub(crate) fn poll_read_reply(&mut self, cx: &mut Context<'_>) -> Poll<Result<Reply>> {
        loop {
            if let Some(reply) = self.reader.next_reply()? {
                for line in reply.lines() {
                    tracing::debug!(target: "ftpkit::control", "< {}", String::from_utf8_lossy(line));
                }
                return Poll::Ready(Ok(reply));
            }
            let mut buf = ReadBuf::new(&mut self.buf);
            ready!(Pin::new(&mut self.stream).poll_read(cx, &mut buf))
                .map_err(Error::io(Phase::Control))?;
            if buf.filled().is_empty() {
                return Poll::Ready(Err(Error::ConnectionClosed(Phase::Control)));
            }
            self.reader.feed(buf.filled());
        }
    }

    /// Reads the next complete reply within the idle timeout.
    pub(crate) async fn read_reply(&mut self) -> Result<Reply> {
        timeout(
            self.idle,
            std::future::poll_fn(|cx| self.poll_read_reply(cx)),
        )
        .await
        .map_err(|_| timed_out(Phase::Control))?
    }

    /// Reads a reply if one begins within `wait`; `None` if none began.
    pub(crate) async fn read_reply_within(&mut self, wait: Duration) -> Result<Option<Reply>> {
        if self.reader.has_pending() {
            return self.read_reply().await.map(Some);
        }
        match timeout(wait, std::future::poll_fn(|cx| self.poll_read_reply(cx))).await {
            Ok(reply) => reply.map(Some),
            Err(_) if !self.reader.has_pending() => Ok(None),
            Err(_) => self.read_reply().await.map(Some),
        }
    }
}
