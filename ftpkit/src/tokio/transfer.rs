//! Async data transfers: the streaming [`AsyncDataReader`]
//! ([`AsyncRead`]) and [`AsyncDataWriter`] ([`AsyncWrite`]), and the
//! [`AsyncRetrieve`] and [`AsyncStore`] builders that set block size,
//! restart offset and progress. The idle timeout runs on every read and
//! write; what a dropped reader or writer leaves behind is settled by the
//! client's next call (see [`AsyncClient`]'s cancellation rules).

use std::{
    future::Future,
    io,
    pin::Pin,
    task::{Context, Poll},
};

use tokio::{
    io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf},
    time::{Instant, Sleep, sleep, timeout},
};

use super::{client::AsyncClient, stream::Stream};
use crate::{
    error::{Error, Phase, Result},
    proto::{Command, Reply, engine::ops::timed_out, finish_transfer, rules},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadState {
    /// Data is flowing.
    Data,
    /// The data connection closed; the final reply is awaited.
    FinalReply,
    /// The server confirmed the transfer (or refused it).
    Done,
    /// An error ended the transfer; an abort is left to the client.
    Failed,
}

/// Reads a transfer's data as it arrives.
///
/// When the server closes the data connection the reader reads the
/// server's final reply: a 4xx or 5xx, or fewer bytes than a binary `RETR`
/// announced, is an error from the read. Call [`AsyncDataReader::finish`]
/// to get the final reply, or [`AsyncDataReader::abort`] to stop early.
///
/// Dropped before the end, the transfer is aborted by the client's next
/// call (`ABOR`, as the blocking reader does on drop) and the client stays
/// usable. Errors from [`AsyncRead::poll_read`] are `io::Error`s that wrap
/// an [`Error`].
#[derive(Debug)]
pub struct AsyncDataReader<'c> {
    client: &'c mut AsyncClient,
    stream: Option<Stream>,
    command: Command,
    announced: Option<u64>,
    expected: Option<u64>,
    received: u64,
    state: ReadState,
    done: Option<Reply>,
    idle: Pin<Box<Sleep>>,
}

impl<'c> AsyncDataReader<'c> {
    pub(crate) fn new(
        client: &'c mut AsyncClient,
        stream: Stream,
        command: Command,
        announced: Option<u64>,
        expected: Option<u64>,
    ) -> AsyncDataReader<'c> {
        let idle = Box::pin(sleep(client.idle()));
        AsyncDataReader {
            client,
            stream: Some(stream),
            command,
            announced,
            expected,
            received: 0,
            state: ReadState::Data,
            done: None,
            idle,
        }
    }

    /// The size the server announced in its 150 reply, if it did.
    pub fn announced_size(&self) -> Option<u64> {
        self.announced
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.received
    }

    fn rearm(&mut self) {
        let deadline = Instant::now() + self.client.idle();
        self.idle.as_mut().reset(deadline);
    }

    /// Leaves the open data connection to the client, which aborts the
    /// transfer on its next call.
    fn abandon(&mut self) {
        if let Some(stream) = self.stream.take() {
            self.client.leave_abort(stream, false);
        }
        self.client.set_in_flight(false);
        self.state = ReadState::Failed;
    }

    /// Polls for data; 0 means the transfer is complete and the server
    /// confirmed it.
    pub(crate) fn poll_read_data(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<Result<usize>> {
        loop {
            match self.state {
                ReadState::Done | ReadState::Failed => return Poll::Ready(Ok(0)),
                ReadState::Data => {
                    let Some(stream) = self.stream.as_mut() else {
                        self.state = ReadState::FinalReply;
                        continue;
                    };
                    let mut buf = ReadBuf::new(out);
                    match Pin::new(&mut *stream).poll_read(cx, &mut buf) {
                        Poll::Pending => {
                            if self.idle.as_mut().poll(cx).is_ready() {
                                self.abandon();
                                return Poll::Ready(Err(timed_out(Phase::Data)));
                            }
                            return Poll::Pending;
                        }
                        Poll::Ready(Ok(())) => {
                            let n = buf.filled().len();
                            self.rearm();
                            if n > 0 {
                                self.received += n as u64;
                                return Poll::Ready(Ok(n));
                            }
                            self.stream = None;
                            self.state = ReadState::FinalReply;
                        }
                        Poll::Ready(Err(e))
                            if e.kind() == io::ErrorKind::UnexpectedEof && stream.is_tls() =>
                        {
                            // TLS ended without close_notify: only the final
                            // reply and the size check can vouch for the data.
                            tracing::warn!(target: "ftpkit::tls", "data connection closed without TLS close_notify");
                            self.rearm();
                            self.stream = None;
                            self.state = ReadState::FinalReply;
                        }
                        Poll::Ready(Err(e)) => {
                            self.abandon();
                            return Poll::Ready(Err(Error::io(Phase::Data)(e)));
                        }
                    }
                }
                ReadState::FinalReply => match self.client.poll_read_reply(cx) {
                    Poll::Pending => {
                        if self.idle.as_mut().poll(cx).is_ready() {
                            self.client.mark_unusable();
                            self.state = ReadState::Failed;
                            return Poll::Ready(Err(timed_out(Phase::Control)));
                        }
                        return Poll::Pending;
                    }
                    Poll::Ready(Err(e)) => {
                        self.client.mark_unusable();
                        self.state = ReadState::Failed;
                        return Poll::Ready(Err(e));
                    }
                    Poll::Ready(Ok(reply)) => {
                        if rules::closes_connection(&reply) {
                            self.client.mark_unusable();
                        }
                        self.client.set_in_flight(false);
                        self.state = ReadState::Done;
                        let reply = rules::finish_download(
                            &self.command,
                            reply,
                            self.expected,
                            self.received,
                        )?;
                        self.done = Some(reply);
                        return Poll::Ready(Ok(0));
                    }
                },
            }
        }
    }

    /// Reads data; 0 at the confirmed end. A failure aborts the transfer
    /// before it is returned, as the blocking reader does.
    pub async fn read_data(&mut self, out: &mut [u8]) -> Result<usize> {
        let result = std::future::poll_fn(|cx| self.poll_read_data(cx, out)).await;
        if result.is_err() && self.client.core.pending.is_some() {
            let _ = self.client.settle().await;
        }
        result
    }

    /// Reads whatever is left, then returns the server's final reply.
    pub async fn finish(mut self) -> Result<Reply> {
        let mut sink = vec![0u8; 16 * 1024];
        while self.state == ReadState::Data || self.state == ReadState::FinalReply {
            self.read_data(&mut sink).await?;
        }
        match self.done.take() {
            Some(reply) => Ok(reply),
            None => Err(Error::Unusable),
        }
    }

    /// Stops the transfer: `ABOR`, close the data connection, and consume
    /// the server's replies. The client stays usable. Dropped mid-way: the
    /// client is unusable.
    pub async fn abort(mut self) -> Result<()> {
        match self.state {
            ReadState::Data => {
                self.abandon();
                self.client.settle().await
            }
            ReadState::FinalReply => self.finish().await.map(drop),
            ReadState::Done | ReadState::Failed => Ok(()),
        }
    }
}

impl AsyncRead for AsyncDataReader<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_read_data(cx, buf.initialize_unfilled()) {
            Poll::Ready(Ok(n)) => {
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(io::Error::other(e))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for AsyncDataReader<'_> {
    fn drop(&mut self) {
        match self.state {
            ReadState::Data => self.abandon(),
            ReadState::FinalReply => {
                self.client.core.pending = Some(crate::proto::engine::Pending::FinalReply);
                self.client.set_in_flight(false);
            }
            ReadState::Done | ReadState::Failed => {}
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriteState {
    Data,
    Finishing,
    Done,
}

/// Writes a transfer's data.
///
/// Call [`AsyncDataWriter::finish`] to end the upload: it ends the data
/// connection (TLS close_notify, then reading the server's) and checks the
/// server's final reply; `shutdown` from [`AsyncWriteExt`] only flushes.
/// Dropped without `finish`, the data connection is reset and the client's
/// next call aborts the transfer, so the server never mistakes a partial
/// upload for a complete one; dropped during `finish`, the next call reads
/// the final reply.
#[derive(Debug)]
pub struct AsyncDataWriter<'c> {
    client: &'c mut AsyncClient,
    stream: Option<Stream>,
    command: Command,
    sent: u64,
    state: WriteState,
    idle: Pin<Box<Sleep>>,
}

impl<'c> AsyncDataWriter<'c> {
    pub(crate) fn new(
        client: &'c mut AsyncClient,
        stream: Stream,
        command: Command,
    ) -> AsyncDataWriter<'c> {
        let idle = Box::pin(sleep(client.idle()));
        AsyncDataWriter {
            client,
            stream: Some(stream),
            command,
            sent: 0,
            state: WriteState::Data,
            idle,
        }
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.sent
    }

    fn rearm(&mut self) {
        let deadline = Instant::now() + self.client.idle();
        self.idle.as_mut().reset(deadline);
    }

    fn abandon(&mut self) {
        if let Some(stream) = self.stream.take() {
            self.client.leave_abort(stream, true);
        }
        self.client.set_in_flight(false);
        self.state = WriteState::Done;
    }

    fn poll_write_data(&mut self, cx: &mut Context<'_>, data: &[u8]) -> Poll<Result<usize>> {
        let Some(stream) = self
            .stream
            .as_mut()
            .filter(|_| self.state == WriteState::Data)
        else {
            return Poll::Ready(Err(Error::Unusable));
        };
        match Pin::new(stream).poll_write(cx, data) {
            Poll::Pending => {
                if self.idle.as_mut().poll(cx).is_ready() {
                    self.abandon();
                    return Poll::Ready(Err(timed_out(Phase::Data)));
                }
                Poll::Pending
            }
            Poll::Ready(Ok(n)) => {
                self.rearm();
                self.sent += n as u64;
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => {
                self.abandon();
                Poll::Ready(Err(Error::io(Phase::Data)(e)))
            }
        }
    }

    /// Writes all of `data`. A failure aborts the transfer before it is
    /// returned, as the blocking writer does.
    pub async fn write_data(&mut self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            let result = std::future::poll_fn(|cx| self.poll_write_data(cx, data)).await;
            match result {
                Ok(0) => {
                    self.abandon();
                    let _ = self.client.settle().await;
                    return Err(Error::io(Phase::Data)(io::ErrorKind::WriteZero.into()));
                }
                Ok(n) => data = data.get(n..).unwrap_or_default(),
                Err(e) => {
                    if self.client.core.pending.is_some() {
                        let _ = self.client.settle().await;
                    }
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Ends the upload: flushes, ends TLS with close_notify and reads the
    /// server's, closes the data connection, and returns the server's final
    /// reply (2xx), or the error it sent.
    pub async fn finish(mut self) -> Result<Reply> {
        if self.state != WriteState::Data {
            return Err(Error::Unusable);
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(Error::Unusable);
        };
        self.state = WriteState::Finishing;
        let idle = self.client.idle();
        let shutdown = match timeout(idle, stream.close_write()).await {
            Ok(result) => result,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "idle timeout expired",
            )),
        };
        if shutdown.is_ok() {
            let _ = timeout(idle, stream.drain_until_closed()).await;
        }
        self.stream = None;
        if let Err(e) = shutdown
            && e.kind() != io::ErrorKind::NotConnected
        {
            self.client.mark_unusable();
            self.state = WriteState::Done;
            return Err(Error::io(Phase::Data)(e));
        }
        let reply = self.client.read_reply().await;
        self.state = WriteState::Done;
        finish_transfer(&self.command, reply?)
    }

    /// Stops the upload: resets the data connection, sends `ABOR` and
    /// consumes the server's replies. The client stays usable. Dropped
    /// mid-way: the client is unusable.
    pub async fn abort(mut self) -> Result<()> {
        self.abandon();
        self.client.settle().await
    }
}

impl AsyncWrite for AsyncDataWriter<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_write_data(cx, buf)
            .map_err(io::Error::other)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.stream.as_mut() {
            Some(stream) => Pin::new(stream).poll_flush(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl Drop for AsyncDataWriter<'_> {
    fn drop(&mut self) {
        match self.state {
            WriteState::Data => self.abandon(),
            WriteState::Finishing => {
                self.stream = None;
                self.client.core.pending = Some(crate::proto::engine::Pending::FinalReply);
                self.client.set_in_flight(false);
            }
            WriteState::Done => {}
        }
    }
}

transfer_builder!(
    AsyncTransfer, AsyncClient, AsyncDataReader, AsyncDataWriter,
    read: [AsyncRead + Unpin], tokio::io::AsyncReadExt, [+ Send],
    [async], [.await]
);

/// A download being set up: see [`AsyncClient::retrieve`].
///
/// ```no_run
/// # async fn run(ftp: &mut ftpkit::AsyncClient) -> Result<(), Box<dyn std::error::Error>> {
/// let mut out = tokio::fs::OpenOptions::new().append(true).open("big.iso").await?;
/// let offset = out.metadata().await?.len();
/// ftp.retrieve("big.iso")
///     .rest(offset) // resume where the local file ends
///     .progress(|done| eprintln!("{done} bytes"))
///     .to_writer(&mut out)
///     .await?;
/// # Ok(()) }
/// ```
pub type AsyncRetrieve<'c> = AsyncTransfer<'c, Download>;

/// An upload being set up: see [`AsyncClient::store`].
pub type AsyncStore<'c> = AsyncTransfer<'c, Upload>;

impl AsyncTransfer<'_, Download> {
    /// Downloads into `out` (flushed at the end); returns the bytes
    /// received, not counting the restart offset. A failure writing `out`
    /// aborts the transfer. Dropped mid-way: the next call aborts it.
    pub async fn to_writer<W: AsyncWrite + Unpin + ?Sized>(self, out: &mut W) -> Result<u64> {
        let AsyncTransfer {
            client,
            path,
            rest,
            ty,
            block_size,
            mut progress,
            ..
        } = self;
        let offset = rest.unwrap_or(0);
        let mut block = crate::block::Block::new(block_size);
        let buf = block.as_mut();
        let mut reader = client.open_reader(Command::Retr(path?), ty, rest).await?;
        loop {
            let n = reader.read_data(buf).await?;
            if n == 0 {
                break;
            }
            if let Err(e) = out.write_all(buf.get(..n).unwrap_or_default()).await {
                let _ = reader.abort().await;
                return Err(Error::io(Phase::Local)(e));
            }
            if let Some(progress) = progress.as_mut() {
                progress(offset + reader.bytes_read());
            }
        }
        out.flush().await.map_err(Error::io(Phase::Local))?;
        Ok(reader.bytes_read())
    }
}
