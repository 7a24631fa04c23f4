//! Whole-file transfers users can leave unattended, on tokio:
//! [`AsyncClient::download`] and [`AsyncClient::upload`], the async
//! counterparts of the blocking client's. Every decision (what to retry
//! and how long to wait, where to resume, whether the remote file changed,
//! how the overlap is compared, what counts as verified) is the core's
//! [`TransferRun`], [`ResumePlan`], [`Overlap`] and check functions in
//! [`crate::proto::resume`]; this module carries them out with tokio
//! sockets and files.
//!
//! Cancellation: dropping a `run()` future leaves the local `.part` file
//! (a later call resumes from it) and the client in the state its own
//! rules give (a transfer left to abort, or unusable).

use std::{
    io,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use tokio::{
    fs::{self, File, OpenOptions},
    io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufWriter},
    time::timeout,
};

use super::{AsyncClient, io::Io, stream::Stream};
use crate::{
    error::{Error, Phase, Result},
    proto::{
        Arg,
        engine::{Action, Event, LocalOp, Operation, PumpDirection, Step, files},
        hash::Hasher,
        resume::{RemoteStat, TransferOptions, TransferReport},
    },
};

/// A progress callback: the file offset reached so far.
type Progress<'c> = Box<dyn FnMut(u64) + Send + 'c>;

/// A download being set up: see [`AsyncClient::download`].
pub struct AsyncFileDownload<'c> {
    client: &'c mut AsyncClient,
    remote: Vec<u8>,
    local: PathBuf,
    options: TransferOptions,
    progress: Option<Progress<'c>>,
    known: Option<RemoteStat>,
}

/// An upload being set up: see [`AsyncClient::upload`].
pub struct AsyncFileUpload<'c> {
    client: &'c mut AsyncClient,
    local: PathBuf,
    remote: Vec<u8>,
    options: TransferOptions,
    progress: Option<Progress<'c>>,
}

impl<'c> AsyncFileDownload<'c> {
    transfer_setters!(common + Send);
    transfer_setters!(download);

    /// Downloads, retrying and resuming as set, and returns what happened.
    /// The data goes to `LOCAL.part`, renamed to `LOCAL` only once complete
    /// and verified.
    pub async fn run(self) -> Result<TransferReport> {
        let AsyncFileDownload {
            client,
            remote,
            local,
            options,
            progress,
            known,
        } = self;
        let remote = Arg::path(remote)?;
        let op = client
            .core
            .op(|core| files::download(core, remote, local, options, known, false));
        drive_files(&mut client.io, op, progress).await
    }
}

impl<'c> AsyncFileUpload<'c> {
    transfer_setters!(common + Send);
    transfer_setters!(upload);

    /// Uploads, retrying and resuming as set, and returns what happened.
    pub async fn run(self) -> Result<TransferReport> {
        let AsyncFileUpload {
            client,
            local,
            remote,
            options,
            progress,
        } = self;
        let op = client
            .core
            .op(|core| files::upload(core, local, remote, options));
        drive_files(&mut client.io, op, progress).await
    }
}

impl AsyncClient {
    /// Downloads `remote` to the local file `local` as the blocking
    /// [`Client::download`](crate::Client::download) does: resumes from
    /// `LOCAL.part`, retries transient failures (reconnecting when the
    /// connection was lost), starts over if the remote file changed,
    /// verifies the size and a content hash where offered, sets the local
    /// modification time, and renames only when all that succeeded.
    ///
    /// ```no_run
    /// # async fn run(ftp: &mut ftpkit::AsyncClient) -> ftpkit::Result<()> {
    /// let report = ftp.download("pub/big.iso", "big.iso").retries(5).run().await?;
    /// println!("{} bytes, {}", report.size, report.verified.describe());
    /// # Ok(()) }
    /// ```
    pub fn download(
        &mut self,
        remote: impl AsRef<[u8]>,
        local: impl AsRef<Path>,
    ) -> AsyncFileDownload<'_> {
        AsyncFileDownload {
            client: self,
            remote: remote.as_ref().to_vec(),
            local: local.as_ref().to_path_buf(),
            options: TransferOptions::default(),
            progress: None,
            known: None,
        }
    }

    /// Uploads the local file `local` to `remote`, retrying and resuming
    /// within the call and verifying, as the blocking
    /// [`Client::upload`](crate::Client::upload) does.
    pub fn upload(
        &mut self,
        local: impl AsRef<Path>,
        remote: impl AsRef<[u8]>,
    ) -> AsyncFileUpload<'_> {
        AsyncFileUpload {
            client: self,
            local: local.as_ref().to_path_buf(),
            remote: remote.as_ref().to_vec(),
            options: TransferOptions::default(),
            progress: None,
        }
    }
}

/// The local side of a `download` or `upload`: its file and progress
/// callback, next to the client's sockets.
struct Local<'p> {
    io: &'p mut Io,
    file: Option<File>,
    progress: Option<Progress<'p>>,
}

/// Runs a file plan, performing its local actions here and the others on
/// the client's sockets.
async fn drive_files<T>(
    io: &mut Io,
    mut op: Operation<'_, T>,
    progress: Option<Progress<'_>>,
) -> Result<T> {
    let mut local = Local {
        io,
        file: None,
        progress,
    };
    let mut event = Event::Start;
    loop {
        match op.resume(event, Instant::now()) {
            Step::Done(result) => return result,
            Step::Act(action) => event = local.perform(action).await,
        }
    }
}

fn on_local<T>(result: io::Result<T>, done: impl FnOnce(T) -> Event) -> Event {
    match result {
        Ok(value) => done(value),
        Err(e) => Event::Failed(Error::io(Phase::Local)(e)),
    }
}

async fn stat(file: &File) -> io::Result<Event> {
    let meta = file.metadata().await?;
    Ok(Event::File {
        len: meta.len(),
        modified: meta.modified()?,
    })
}

fn no_file() -> io::Error {
    io::Error::other("no local file open")
}

impl Local<'_> {
    async fn perform(&mut self, action: Action) -> Event {
        match action {
            Action::Local(op) => self.local(op).await,
            Action::Progress(offset) => {
                self.report(offset);
                Event::Done
            }
            // The async download takes no size callback.
            Action::RemoteSize(_) => Event::Done,
            Action::Pump {
                direction,
                offset,
                max,
                block,
                idle,
            } => {
                let idle = idle.max(Duration::from_millis(1));
                let result = match direction {
                    PumpDirection::Receive => self.receive(offset, max, block, idle).await,
                    PumpDirection::Send { .. } => self.send(offset, max, block, idle).await,
                };
                match result {
                    Ok((bytes, eof)) => Event::Pumped { bytes, eof },
                    Err(e) => Event::Failed(e),
                }
            }
            other => self.io.perform(other).await,
        }
    }

    fn report(&mut self, offset: u64) {
        if let Some(progress) = self.progress.as_mut() {
            progress(offset);
        }
    }

    async fn local(&mut self, op: LocalOp) -> Event {
        match op {
            LocalOp::OpenPart(path) => {
                let opened = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(path)
                    .await;
                return self.opened(opened).await;
            }
            LocalOp::OpenRead(path) => {
                let opened = File::open(path).await;
                return self.opened(opened).await;
            }
            LocalOp::Rename { from, to } => {
                return on_local(fs::rename(from, to).await, |()| Event::Done);
            }
            LocalOp::Adopt { from, to } => {
                let adopt = !fs::try_exists(&to).await.unwrap_or(true)
                    && fs::try_exists(&from).await.unwrap_or(false);
                let result = if adopt {
                    fs::rename(from, to).await
                } else {
                    Ok(())
                };
                return on_local(result, |()| Event::Done);
            }
            LocalOp::RemoveIfEmpty(path) => {
                self.file = None;
                if fs::metadata(&path).await.is_ok_and(|m| m.len() == 0) {
                    let _ = fs::remove_file(&path).await;
                }
                return Event::Done;
            }
            LocalOp::Close => {
                let flushed = match self.file.as_mut() {
                    Some(file) => file.flush().await,
                    None => Ok(()),
                };
                self.file = None;
                return on_local(flushed, |()| Event::Done);
            }
            _ => {}
        }
        let Some(file) = self.file.as_mut() else {
            return Event::Failed(Error::io(Phase::Local)(no_file()));
        };
        match op {
            LocalOp::OpenPart(_)
            | LocalOp::OpenRead(_)
            | LocalOp::Rename { .. }
            | LocalOp::Adopt { .. }
            | LocalOp::RemoveIfEmpty(_)
            | LocalOp::Close => Event::Done,
            LocalOp::Stat => on_local(stat(file).await, |e| e),
            LocalOp::ReadAt { offset, len } => {
                let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
                let read = match file.seek(io::SeekFrom::Start(offset)).await {
                    Ok(_) => (&mut *file).take(len).read_to_end(&mut buf).await,
                    Err(e) => Err(e),
                };
                on_local(read, |_| Event::Bytes(buf))
            }
            LocalOp::Write(bytes) => on_local(file.write_all(&bytes).await, |()| Event::Done),
            LocalOp::Truncate(len) => {
                let result = match file.set_len(len).await {
                    Ok(()) => file.seek(io::SeekFrom::Start(len)).await,
                    Err(e) => Err(e),
                };
                on_local(result, |_| Event::Done)
            }
            LocalOp::Seek(offset) => on_local(file.seek(io::SeekFrom::Start(offset)).await, |_| {
                Event::Done
            }),
            LocalOp::Hash(algorithm) => {
                let mut hasher = Hasher::new(algorithm);
                let mut buf = vec![0u8; 256 * 1024];
                let mut result = file.seek(io::SeekFrom::Start(0)).await.map(drop);
                while result.is_ok() {
                    match file.read(&mut buf).await {
                        Ok(0) => break,
                        Ok(n) => hasher.update(buf.get(..n).unwrap_or_default()),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => result = Err(e),
                    }
                }
                on_local(result, |()| Event::Bytes(hasher.finish()))
            }
            LocalOp::SetModified(time) => {
                let result = match file.try_clone().await {
                    Ok(clone) => {
                        let std_file = clone.into_std().await;
                        tokio::task::spawn_blocking(move || std_file.set_modified(time))
                            .await
                            .unwrap_or_else(|e| Err(io::Error::other(e)))
                    }
                    Err(e) => Err(e),
                };
                on_local(result, |()| Event::Done)
            }
            LocalOp::Sync => on_local(file.sync_all().await, |()| Event::Done),
        }
    }

    async fn opened(&mut self, opened: io::Result<File>) -> Event {
        match opened {
            Ok(file) => {
                let event = on_local(stat(&file).await, |e| e);
                self.file = Some(file);
                event
            }
            Err(e) => Event::Failed(Error::io(Phase::Local)(e)),
        }
    }

    /// Data connection to file, through a buffered writer.
    async fn receive(
        &mut self,
        mut offset: u64,
        max: Option<u64>,
        block: usize,
        idle: Duration,
    ) -> Result<(u64, bool)> {
        let (Some(stream), Some(file)) = (self.io.data.as_mut(), self.file.as_mut()) else {
            return Err(Error::Unusable);
        };
        let mut out = BufWriter::with_capacity(block.max(64 * 1024), file);
        let mut buf = vec![0u8; block];
        let mut moved = 0u64;
        let mut eof = false;
        while max.is_none_or(|max| moved < max) {
            let n = match timeout(idle, stream.read(&mut buf)).await {
                Err(_) => return Err(crate::proto::engine::ops::timed_out(Phase::Data)),
                Ok(Ok(n)) => n,
                Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof && stream.is_tls() => {
                    tracing::warn!(target: "ftpkit::tls", "data connection closed without TLS close_notify");
                    0
                }
                Ok(Err(e)) => return Err(Error::io(Phase::Data)(e)),
            };
            if n == 0 {
                eof = true;
                break;
            }
            out.write_all(buf.get(..n).unwrap_or_default())
                .await
                .map_err(Error::io(Phase::Local))?;
            moved += n as u64;
            offset += n as u64;
            if let Some(progress) = self.progress.as_mut() {
                progress(offset);
            }
        }
        out.flush().await.map_err(Error::io(Phase::Local))?;
        if eof {
            self.io.data = None;
        }
        Ok((moved, eof))
    }

    /// File to data connection, block by block.
    async fn send(
        &mut self,
        mut offset: u64,
        max: Option<u64>,
        block: usize,
        idle: Duration,
    ) -> Result<(u64, bool)> {
        let (Some(stream), Some(file)) = (self.io.data.as_mut(), self.file.as_mut()) else {
            return Err(Error::Unusable);
        };
        let mut buf = vec![0u8; block];
        let mut moved = 0u64;
        while max.is_none_or(|max| moved < max) {
            let n = match file.read(&mut buf).await {
                Ok(0) => return Ok((moved, true)),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(Phase::Local)(e)),
            };
            match timeout(idle, stream.write_all(buf.get(..n).unwrap_or_default())).await {
                Err(_) => return Err(crate::proto::engine::ops::timed_out(Phase::Data)),
                Ok(Err(e)) => return Err(Error::io(Phase::Data)(e)),
                Ok(Ok(())) => {}
            }
            moved += n as u64;
            offset += n as u64;
            if let Some(progress) = self.progress.as_mut() {
                progress(offset);
            }
        }
        Ok((moved, false))
    }
}

/// Ends an upload's data connection: flush and close (TLS close_notify),
/// then read until the server closes, each step within `idle`.
pub(crate) async fn finish_upload(data: Option<Stream>, idle: Duration) -> Result<()> {
    let Some(mut stream) = data else {
        return Err(Error::Unusable);
    };
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
    drop(stream);
    match shutdown {
        Err(e) if e.kind() != io::ErrorKind::NotConnected => Err(Error::io(Phase::Data)(e)),
        _ => Ok(()),
    }
}
