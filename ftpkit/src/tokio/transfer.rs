//! Async data transfers: the streaming [`AsyncDataReader`]
//! ([`AsyncRead`]) and [`AsyncDataWriter`] ([`AsyncWrite`]), and the
//! [`AsyncRetrieve`] and [`AsyncStore`] builders that set block size,
//! restart offset and progress. What each read or write means, the final
//! reply and what an unfinished transfer leaves behind are the core's
//! (`proto::engine::flow`); the methods both drivers share are
//! `crate::driver`'s (`data_ends!`). Here: the polling glue, with the idle
//! timeout on every read and write; what a dropped reader or writer leaves
//! behind is settled by the client's next call (see [`AsyncClient`]'s
//! cancellation rules).

use std::{
    future::Future,
    io,
    pin::Pin,
    task::{Context, Poll},
};

use tokio::{
    io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf},
    time::{Instant, Sleep},
};

use super::{client::AsyncClient, stream::Stream};
use crate::{
    error::{Error, Result},
    proto::engine::flow::{Flow, Moved, ReadFrom, Stage},
};

data_ends!(
    AsyncClient,
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
    reader: AsyncDataReader,
    /// Writes a transfer's data.
    ///
    /// Call [`AsyncDataWriter::finish`] to end the upload: it ends the data
    /// connection (TLS close_notify, then reading the server's) and checks the
    /// server's final reply; `shutdown` from [`AsyncWriteExt`] only flushes.
    /// Dropped without `finish`, the data connection is reset and the client's
    /// next call aborts the transfer, so the server never mistakes a partial
    /// upload for a complete one; dropped during `finish`, the next call reads
    /// the final reply.
    writer: AsyncDataWriter,
    [async], [.await], []
);

/// Restarts an idle timer.
fn rearm(idle: &mut Pin<Box<Sleep>>, client: &AsyncClient) {
    idle.as_mut().reset(Instant::now() + client.idle());
}

/// A transfer whose idle timer ran out: what the core says, and the data
/// connection handed over or dropped as it says.
fn expired(client: &mut AsyncClient, stream: &mut Option<Stream>, flow: &mut Flow) -> Error {
    let (hand_over, error) = flow.idle_expired(&mut client.core);
    let stream = stream.take();
    if hand_over {
        client.io.data = stream;
    }
    error
}

impl AsyncDataReader<'_> {
    /// Polls for data; 0 means the transfer is complete and the server
    /// confirmed it.
    pub(crate) fn poll_read_data(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<Result<usize>> {
        loop {
            let polled = match self.flow.read_from(&mut self.stream) {
                ReadFrom::Data(stream) => {
                    let mut buf = ReadBuf::new(out);
                    let tls = stream.is_tls();
                    Pin::new(stream)
                        .poll_read(cx, &mut buf)
                        .map(|read| self.flow.on_read(read.map(|()| buf.filled().len()), tls))
                }
                ReadFrom::Reply => match self.client.poll_read_reply(cx) {
                    Poll::Ready(reply) => {
                        let reply = self.flow.conclude(&mut self.client.core, reply);
                        return Poll::Ready(reply.map(|_| 0));
                    }
                    Poll::Pending => Poll::Pending,
                },
                ReadFrom::Ended => return Poll::Ready(Ok(0)),
            };
            match polled {
                Poll::Pending => {
                    if self.idle.as_mut().poll(cx).is_ready() {
                        let error = expired(self.client, &mut self.stream, &mut self.flow);
                        return Poll::Ready(Err(error));
                    }
                    return Poll::Pending;
                }
                Poll::Ready(Moved::Bytes(n)) => {
                    rearm(&mut self.idle, self.client);
                    return Poll::Ready(Ok(n));
                }
                Poll::Ready(Moved::End) => {
                    rearm(&mut self.idle, self.client);
                    self.stream = None;
                }
                Poll::Ready(Moved::Again) => {}
                Poll::Ready(Moved::Failed(e)) => {
                    self.abandon();
                    return Poll::Ready(Err(e));
                }
            }
        }
    }

    /// Reads data; 0 at the confirmed end. A failure aborts the transfer
    /// before it is returned, as the blocking reader does.
    pub(crate) async fn read_data(&mut self, out: &mut [u8]) -> Result<usize> {
        let result = std::future::poll_fn(|cx| self.poll_read_data(cx, out)).await;
        if result.is_err() && self.client.core.pending.is_some() {
            let _ = self.client.settle().await;
        }
        result
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

impl AsyncDataWriter<'_> {
    fn poll_write_some(&mut self, cx: &mut Context<'_>, data: &[u8]) -> Poll<Moved> {
        let Some(stream) = self
            .stream
            .as_mut()
            .filter(|_| self.flow.stage() == Stage::Data)
        else {
            return Poll::Ready(Moved::Failed(Error::Unusable));
        };
        match Pin::new(stream).poll_write(cx, data) {
            Poll::Pending => {
                if self.idle.as_mut().poll(cx).is_ready() {
                    let error = expired(self.client, &mut self.stream, &mut self.flow);
                    return Poll::Ready(Moved::Failed(error));
                }
                Poll::Pending
            }
            Poll::Ready(written) => {
                rearm(&mut self.idle, self.client);
                Poll::Ready(self.flow.on_write(written))
            }
        }
    }

    async fn write_some(&mut self, data: &[u8]) -> Moved {
        std::future::poll_fn(|cx| self.poll_write_some(cx, data)).await
    }
}

impl AsyncWrite for AsyncDataWriter<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            return match this.poll_write_some(cx, buf) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Moved::Bytes(n)) => Poll::Ready(Ok(n)),
                Poll::Ready(Moved::Again | Moved::End) => continue,
                Poll::Ready(Moved::Failed(e)) => {
                    this.abandon();
                    Poll::Ready(Err(io::Error::other(e)))
                }
            };
        }
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

transfer_builder!(
    AsyncTransfer, AsyncClient, AsyncDataReader, AsyncDataWriter,
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
    retrieve: AsyncRetrieve,
    /// An upload being set up: see [`AsyncClient::store`].
    store: AsyncStore,
    read: [AsyncRead + Unpin], tokio::io::AsyncReadExt,
    write: [AsyncWrite + Unpin], AsyncWriteExt, AsyncWriteExt::flush, [+ Send],
    [async], [.await]
);
