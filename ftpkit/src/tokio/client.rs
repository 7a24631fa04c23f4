//! The async [`AsyncClient`]: the blocking [`Client`](crate::Client)'s
//! methods over tokio. Its methods are the shared list of `crate::api`,
//! run by [`drive`]; what is here is only what async I/O makes different
//! (readers, writers, callbacks, polling for a transfer's final reply).

use std::{
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use tokio::io::{AsyncRead, ReadBuf};

use crate::{
    error::{Error, Phase, Result},
    proto::Reply,
};

client_api!(
    /// An async FTP client on tokio: one control connection, one command at a
    /// time. Every method of the blocking [`Client`](crate::Client) has its
    /// counterpart here, with the same protocol decisions (they come from
    /// [`proto`](crate::proto)), the same TLS rules, and the idle timeout
    /// ([`Config::timeout`](crate::Config::timeout)) on every socket operation.
    ///
    /// # Cancellation
    ///
    /// Any future of this client may be dropped before it completes:
    ///
    /// - dropping an [`AsyncDataReader`](super::AsyncDataReader), an
    ///   [`AsyncDataWriter`](super::AsyncDataWriter), an
    ///   [`AsyncEntries`](super::AsyncEntries) or a transfer future
    ///   (`get`, `put`, `to_writer`, `from_reader`, `nlst`, ...) while its data
    ///   connection is open leaves the transfer to be aborted: the next call on
    ///   the client first sends `ABOR` and resynchronises, as the blocking
    ///   client does on drop, and the client stays usable. A writer's data
    ///   connection is reset, so the server never takes a partial upload for a
    ///   complete one;
    /// - dropping one after its data connection closed but before the final
    ///   reply arrived leaves that reply to be read (and discarded) by the next
    ///   call;
    /// - dropping any other future while a command is sent or its reply is
    ///   awaited (a plain command, login, the setup of a transfer before the
    ///   server's 1xx, `AUTH`, `CCC`, an abort in progress) leaves the control
    ///   connection out of step: the client is unusable and every later call
    ///   returns [`Error::Unusable`].
    AsyncClient,
    over: [tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static],
    [async], [.await]
);

impl AsyncClient {
    /// The idle timeout of one socket operation.
    pub(crate) fn idle(&self) -> Duration {
        self.core.config.timeout.max(Duration::from_millis(1))
    }

    /// Polls for the next complete reply on the control connection (a
    /// transfer's final reply, read while a reader is polled).
    pub(crate) fn poll_read_reply(&mut self, cx: &mut Context<'_>) -> Poll<Result<Reply>> {
        loop {
            if let Some(reply) = self.core.next_reply()? {
                return Poll::Ready(Ok(reply));
            }
            let Some(control) = self.io.control.as_mut() else {
                return Poll::Ready(Err(Error::Unusable));
            };
            let mut buf = [0u8; 4096];
            let mut buf = ReadBuf::new(&mut buf);
            match Pin::new(control).poll_read(cx, &mut buf) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(Error::io(Phase::Control)(e))),
                Poll::Ready(Ok(())) if buf.filled().is_empty() => {
                    return Poll::Ready(Err(Error::ConnectionClosed(Phase::Control)));
                }
                Poll::Ready(Ok(())) => self.core.feed(buf.filled()),
            }
        }
    }
}
