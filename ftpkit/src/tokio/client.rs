//! The async [`AsyncClient`]: the blocking [`Client`](crate::Client)'s
//! methods over tokio. Its methods are the shared list of `crate::api`,
//! run by [`drive`]; what is here is only what async I/O makes different
//! (readers, writers, callbacks, polling for a transfer's final reply).

use std::{
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, ReadBuf};

use super::{
    io::{Io, drive},
    stream::Stream,
    transfer::{AsyncDataReader, AsyncDataWriter, AsyncRetrieve, AsyncStore, Download, Upload},
};
use crate::{
    error::{Error, Phase, Result},
    list::MlsdEntry,
    name::Name,
    proto::{
        Arg, Command, DataRequest, LineSplitter, Reply, TransferType,
        engine::Pending,
        rules::{self, optional_path},
        to_crlf_line,
    },
};

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
/// - dropping an [`AsyncDataReader`], an [`AsyncDataWriter`], an
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
#[derive(Debug)]
pub struct AsyncClient {
    pub(crate) core: Core,
    pub(crate) io: Io,
}

client_api!(AsyncClient, drive, [async], [.await]);

impl AsyncClient {
    /// The idle timeout of one socket operation.
    pub(crate) fn idle(&self) -> Duration {
        self.core.config.timeout.max(Duration::from_millis(1))
    }

    /// Leaves a transfer's open data connection for the next call to abort.
    pub(crate) fn leave_abort(&mut self, stream: Stream, reset: bool) {
        self.io.data = Some(stream);
        self.core.pending = Some(Pending::Abort { reset });
    }

    pub(crate) fn set_in_flight(&mut self, on: bool) {
        self.core.in_flight = on;
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

    // ----- listings -----------------------------------------------------

    /// Names in a directory (`NLST`).
    pub async fn nlst(&mut self, path: impl AsRef<[u8]>) -> Result<Vec<Name>> {
        let mut names = Vec::new();
        self.lines_of(Command::Nlst(optional_path(path.as_ref())?), |line| {
            names.push(Name::from(line));
        })
        .await?;
        Ok(names)
    }

    /// The raw lines of a `LIST`.
    pub async fn list(&mut self, path: impl AsRef<[u8]>) -> Result<Vec<Name>> {
        let mut lines = Vec::new();
        self.lines_of(Command::List(optional_path(path.as_ref())?), |line| {
            lines.push(Name::from(line));
        })
        .await?;
        Ok(lines)
    }

    /// A machine listing (`MLSD`).
    pub async fn mlsd(&mut self, path: impl AsRef<[u8]>) -> Result<Vec<MlsdEntry>> {
        let mut entries = Vec::new();
        self.lines_of(Command::Mlsd(optional_path(path.as_ref())?), |line| {
            if let Some(entry) = crate::list::parse_mlsd_line(line) {
                entries.push(entry);
            }
        })
        .await?;
        Ok(entries)
    }

    /// Runs a raw transfer command in `TYPE A` and calls `callback` with
    /// each line, terminator removed.
    pub async fn retr_lines(
        &mut self,
        command: &str,
        callback: impl FnMut(&[u8]),
    ) -> Result<Reply> {
        self.lines_of(Command::raw(command)?, callback).await
    }

    async fn lines_of(
        &mut self,
        command: Command,
        mut callback: impl FnMut(&[u8]),
    ) -> Result<Reply> {
        let max_line = self.core.config.max_data_line;
        let mut reader = self.open_reader(command, TransferType::Ascii, None).await?;
        let mut splitter = LineSplitter::new(max_line);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read_data(&mut buf).await?;
            if n == 0 {
                break;
            }
            splitter.feed(buf.get(..n).unwrap_or_default());
            loop {
                match splitter.next_line() {
                    Ok(Some(line)) => callback(line),
                    Ok(None) => break,
                    Err(e) => {
                        let _ = reader.abort().await;
                        return Err(e.into());
                    }
                }
            }
        }
        if let Some(line) = splitter.finish() {
            callback(line);
        }
        reader.finish().await
    }

    /// Uploads lines in `TYPE A`, each line's end sent as CRLF.
    pub async fn store_lines<R: AsyncBufRead + Unpin>(
        &mut self,
        path: impl AsRef<[u8]>,
        mut lines: R,
    ) -> Result<Reply> {
        let command = Command::Stor(Arg::path(path)?);
        let mut writer = self.open_writer(command, TransferType::Ascii, None).await?;
        let mut line = Vec::new();
        let mut out = Vec::new();
        loop {
            line.clear();
            let n = match lines.read_until(b'\n', &mut line).await {
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(Error::io(Phase::Local)(e));
                }
            };
            if n == 0 {
                break;
            }
            out.clear();
            to_crlf_line(&line, &mut out);
            writer.write_data(&out).await?;
        }
        writer.finish().await
    }

    // ----- transfers ------------------------------------------------------

    /// Starts a download of `path` in binary mode; set options on the
    /// returned [`AsyncRetrieve`] and finish with `to_writer`,
    /// `for_each_chunk` or `reader`.
    pub fn retrieve(&mut self, path: impl AsRef<[u8]>) -> AsyncRetrieve<'_> {
        AsyncRetrieve::new(self, Arg::path(path), Download)
    }

    /// Starts an upload to `path` in binary mode; set options on the
    /// returned [`AsyncStore`] and finish with `from_reader` or `writer`.
    pub fn store(&mut self, path: impl AsRef<[u8]>) -> AsyncStore<'_> {
        AsyncStore::new(self, Arg::path(path), Upload::default())
    }

    /// Downloads `path` into `out` in binary mode; returns the byte count.
    pub async fn get<W: tokio::io::AsyncWrite + Unpin + ?Sized>(
        &mut self,
        path: impl AsRef<[u8]>,
        out: &mut W,
    ) -> Result<u64> {
        self.retrieve(path).to_writer(out).await
    }

    /// Uploads everything `input` yields to `path` (`STOR`); returns the
    /// byte count.
    pub async fn put<R: tokio::io::AsyncRead + Unpin + ?Sized>(
        &mut self,
        path: impl AsRef<[u8]>,
        input: &mut R,
    ) -> Result<u64> {
        self.store(path).from_reader(input).await
    }

    /// Appends everything `input` yields to `path` (`APPE`).
    pub async fn append<R: tokio::io::AsyncRead + Unpin + ?Sized>(
        &mut self,
        path: impl AsRef<[u8]>,
        input: &mut R,
    ) -> Result<u64> {
        self.store(path).append().from_reader(input).await
    }

    /// Opens a data connection for a raw transfer command that sends data
    /// to the client, and returns a reader over it.
    pub async fn transfer_reader(
        &mut self,
        command: &str,
        ty: TransferType,
        rest: Option<u64>,
    ) -> Result<AsyncDataReader<'_>> {
        self.open_reader(Command::raw(command)?, ty, rest).await
    }

    /// Opens a data connection for a raw transfer command that receives
    /// data from the client, and returns a writer.
    pub async fn transfer_writer(
        &mut self,
        command: &str,
        ty: TransferType,
        rest: Option<u64>,
    ) -> Result<AsyncDataWriter<'_>> {
        self.open_writer(Command::raw(command)?, ty, rest).await
    }

    pub(crate) async fn open_reader(
        &mut self,
        command: Command,
        ty: TransferType,
        rest: Option<u64>,
    ) -> Result<AsyncDataReader<'_>> {
        let (stream, announced) = self
            .open_data(DataRequest {
                command: command.clone(),
                transfer_type: ty,
                rest,
            })
            .await?;
        let expected = rules::expected_size(announced, ty, rest);
        Ok(AsyncDataReader::new(
            self, stream, command, announced, expected,
        ))
    }

    pub(crate) async fn open_writer(
        &mut self,
        command: Command,
        ty: TransferType,
        rest: Option<u64>,
    ) -> Result<AsyncDataWriter<'_>> {
        let (stream, _) = self
            .open_data(DataRequest {
                command: command.clone(),
                transfer_type: ty,
                rest,
            })
            .await?;
        Ok(AsyncDataWriter::new(self, stream, command))
    }
}
