//! Whole-file transfers users can leave unattended, on tokio:
//! [`AsyncClient::download`] and [`AsyncClient::upload`], the async
//! counterparts of the blocking client's. Every decision (what to retry
//! and how long to wait, where to resume, whether the remote file changed,
//! how the overlap is compared, what counts as verified) is the core's
//! plans (`proto::engine::files`), the builders and the loop that runs a
//! plan are `crate::driver`'s, and the local file operations are
//! `crate::local`'s `std::fs` code, run under `spawn_blocking`; this
//! module only moves the data between the data connection and the file,
//! and runs each extra connection of a segmented download (written once
//! in `crate::driver`) in a task of its own.
//!
//! Cancellation: dropping a `run()` future leaves the local `.part` file
//! (a later call resumes from it) and the client in the state its own
//! rules give (a transfer left to abort, or unusable).

use std::{io, sync::Arc, time::Duration};

use std::io::Write as _;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    time::timeout,
};

#[cfg(target_os = "linux")]
use super::stream::{Socket, Stream};
use super::{AsyncClient, io::Io};
use crate::{
    block::Block,
    error::{Error, Phase, Result},
    proto::engine::{
        Event, LocalOp, PumpDirection,
        flow::{Moved, read_outcome},
        ops::timed_out,
        segments,
    },
};

file_builders!(
    AsyncClient,
    AsyncFileDownload,
    AsyncFileUpload,
    Io,
    [+ Send],
    [async],
    [.await]
);

/// An extra connection of a segmented download, in a task of its own;
/// aborted if dropped before it ends (the download's future dropped).
struct Worker(tokio::task::JoinHandle<Result<()>>);

impl Drop for Worker {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts worker `i` of `job` on `other`'s connection.
fn spawn(other: AsyncClient, job: Arc<segments::Job>, i: usize) -> Worker {
    Worker(tokio::spawn(run_worker(other, job, i)))
}

/// A connection the caller is still opening and logging in, in a task of
/// its own (the download builder's `opening_helpers`).
type Opening = tokio::task::JoinHandle<Result<AsyncClient>>;

/// The connection `pending` gives once it is logged in, if it was.
async fn opened(pending: Opening) -> Option<AsyncClient> {
    pending.await.ok().and_then(Result::ok)
}

/// Starts worker `i` of `job` on `pending`'s connection once it is open.
fn spawn_opening(
    pending: Opening,
    job: Arc<segments::Job>,
    i: usize,
    clock: segments::Clock,
) -> Worker {
    Worker(tokio::spawn(run_opening(pending, job, i, clock)))
}

/// Says goodbye on a connection not needed once it is open, in a task of
/// its own (nothing waits for it).
fn quit_when_open(pending: Opening) {
    tokio::spawn(quit_opened(pending));
}

/// What a worker's task gave.
async fn joined(mut worker: Worker) -> Result<()> {
    (&mut worker.0)
        .await
        .unwrap_or_else(|e| Err(Error::io(Phase::Local)(io::Error::other(e))))
}

impl Local<'_> {
    async fn local_op(&mut self, op: LocalOp) -> Event {
        // The shared std::fs code, off the runtime's threads.
        let mut file = std::mem::take(&mut self.file);
        match tokio::task::spawn_blocking(move || (file.perform(op), file)).await {
            Ok((event, file)) => {
                self.file = file;
                event
            }
            Err(e) => Event::Failed(Error::io(Phase::Local)(io::Error::other(e))),
        }
    }

    async fn pump(
        &mut self,
        direction: PumpDirection,
        offset: u64,
        max: Option<u64>,
        block: usize,
        idle: Duration,
    ) -> Result<(u64, bool)> {
        let idle = idle.max(Duration::from_millis(1));
        let Some(file) = self.file.take() else {
            return Err(Error::Unusable);
        };
        let mut side = FileSide {
            file: Some(file),
            job: None,
            spare: std::mem::take(&mut self.io.blocks),
        };
        let result = match direction {
            PumpDirection::Receive => self.receive(&mut side, block, offset, max, idle).await,
            PumpDirection::Send { .. } => self.send(&mut side, block, offset, max, idle).await,
        };
        let (file, spare) = side.finish().await;
        self.io.blocks = spare;
        match file {
            Some(file) => self.file.put(file),
            // The job that had the file was lost (the runtime is shutting
            // down): nothing more can be done with it.
            None => return Err(Error::Unusable),
        }
        result
    }

    /// Data connection to file. Each block is written on the blocking pool
    /// while the next one is read from the socket: no copy into
    /// `tokio::fs::File`'s own buffer, and both cores at work.
    async fn receive(
        &mut self,
        side: &mut FileSide,
        block: usize,
        mut offset: u64,
        max: Option<u64>,
        idle: Duration,
    ) -> Result<(u64, bool)> {
        #[cfg(target_os = "linux")]
        if max.is_none()
            && let Some(Stream::Plain(Socket::Tcp(tcp))) = self.io.data.as_ref()
        {
            // Made only for a plain connection: a TLS download needs none.
            // Put back only once drained (also not when this future is
            // dropped mid-move).
            if let Some(file) = side.file.as_ref()
                && let Some(pipe) = crate::splice::Pipe::take_or_new(&mut self.io.pipe)
            {
                let moved = splice_all(tcp, &pipe, file, offset, idle, &mut self.progress).await?;
                self.io.pipe = Some(pipe);
                // The data ended: its connection is done with.
                self.io.data = None;
                return Ok((moved, true));
            }
        }
        let stream = self.io.data()?;
        let mut buf = side.buf(block);
        let mut moved = 0u64;
        let mut eof = false;
        while max.is_none_or(|max| moved < max) {
            let read = timeout(idle, stream.read(buf.as_mut())).await;
            let n = match read.map(|read| read_outcome(read, stream.is_tls())) {
                Err(_) => return Err(timed_out(Phase::Data)),
                Ok(Moved::Bytes(n)) => n,
                Ok(Moved::End) => 0,
                Ok(Moved::Again) => continue,
                Ok(Moved::Failed(e)) => return Err(e),
            };
            if n == 0 {
                eof = true;
                break;
            }
            if let Some((done, written)) = side.wait().await? {
                side.keep(done);
                offset += written as u64;
                if let Some(progress) = self.progress.as_mut() {
                    progress(offset);
                }
            }
            side.write(buf, n);
            buf = side.buf(block);
            moved += n as u64;
        }
        side.keep(buf);
        if let Some((done, written)) = side.wait().await? {
            side.keep(done);
            if let Some(progress) = self.progress.as_mut() {
                progress(offset + written as u64);
            }
        }
        if eof {
            self.io.data = None;
        }
        Ok((moved, eof))
    }

    /// File to data connection. The next block is read from the file on
    /// the blocking pool while this one goes out; never past `max`.
    async fn send(
        &mut self,
        side: &mut FileSide,
        block: usize,
        mut offset: u64,
        max: Option<u64>,
        idle: Duration,
    ) -> Result<(u64, bool)> {
        let stream = self.io.data()?;
        // How much the next read may take, `read` bytes having been read.
        let limit = |read: u64| {
            max.map_or(block, |max| {
                usize::try_from(max.saturating_sub(read)).map_or(block, |left| left.min(block))
            })
        };
        let mut read = 0u64;
        let mut moved = 0u64;
        let first = side.buf(block);
        side.read(first, limit(read));
        loop {
            let Some((buf, n)) = side.wait().await? else {
                return Ok((moved, true));
            };
            if n == 0 {
                side.keep(buf);
                return Ok((moved, true));
            }
            read += n as u64;
            if max.is_none_or(|max| read < max) {
                let next = side.buf(block);
                side.read(next, limit(read));
            }
            let sent = timeout(idle, stream.write_all(buf.filled(n))).await;
            side.keep(buf);
            match sent {
                Err(_) => return Err(timed_out(Phase::Data)),
                Ok(Err(e)) => return Err(Error::io(Phase::Data)(e)),
                Ok(Ok(())) => {}
            }
            moved += n as u64;
            offset += n as u64;
            if let Some(progress) = self.progress.as_mut() {
                progress(offset);
            }
            if max.is_some_and(|max| moved >= max) {
                return Ok((moved, false));
            }
        }
    }
}

/// Moves the plain data connection `tcp` into `file` through `pipe` with
/// `splice(2)` until the data ends, no byte copied through user space:
/// socket to pipe once tokio reports the socket readable (each wait bounded
/// by `idle`), pipe to file at once (a regular file's write does not wait
/// on anything slow). Reports the offset reached after each move, from
/// `offset`; the bytes moved.
#[cfg(target_os = "linux")]
async fn splice_all(
    tcp: &tokio::net::TcpStream,
    pipe: &crate::splice::Pipe,
    file: &std::fs::File,
    mut offset: u64,
    idle: Duration,
    progress: &mut Option<impl FnMut(u64)>,
) -> Result<u64> {
    let mut moved = 0u64;
    loop {
        let n = loop {
            match timeout(idle, tcp.readable()).await {
                Err(_) => return Err(timed_out(Phase::Data)),
                Ok(Err(e)) => return Err(Error::io(Phase::Data)(e)),
                Ok(Ok(())) => {}
            }
            // `WouldBlock` clears tokio's readiness: wait again.
            match tcp.try_io(tokio::io::Interest::READABLE, || {
                pipe.fill(tcp, crate::splice::CHUNK, true)
            }) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(Error::io(Phase::Data)(e)),
            }
        };
        if n == 0 {
            return Ok(moved);
        }
        pipe.drain(file, n)?;
        moved += n as u64;
        offset += n as u64;
        if let Some(progress) = progress.as_mut() {
            progress(offset);
        }
    }
}

/// A file job on the blocking pool; it hands back the file, its buffer
/// and the bytes it moved.
type Job = tokio::task::JoinHandle<(std::fs::File, Block, io::Result<usize>)>;

/// The local file of a bulk move, lent to at most one job on the blocking
/// pool at a time, and the buffers kept between blocks.
struct FileSide {
    file: Option<std::fs::File>,
    job: Option<Job>,
    spare: Vec<Block>,
}

impl FileSide {
    /// A buffer of `block` bytes: a kept one if any.
    fn buf(&mut self, block: usize) -> Block {
        Block::take(&mut self.spare, block)
    }

    /// Keeps a buffer for the next block.
    fn keep(&mut self, buf: Block) {
        Block::keep(&mut self.spare, buf);
    }

    /// Starts writing `buf[..n]` to the file; the previous job must be
    /// done.
    fn write(&mut self, buf: Block, n: usize) {
        if let Some(mut file) = self.file.take() {
            self.job = Some(tokio::task::spawn_blocking(move || {
                let result = file.write_all(buf.filled(n));
                (file, buf, result.map(|()| n))
            }));
        }
    }

    /// Starts reading up to `len` bytes of the file into `buf`; the
    /// previous job must be done.
    fn read(&mut self, mut buf: Block, len: usize) {
        if let Some(mut file) = self.file.take() {
            self.job = Some(tokio::task::spawn_blocking(move || {
                let result = crate::local::read_some(
                    &mut file,
                    buf.as_mut().get_mut(..len).unwrap_or_default(),
                );
                (file, buf, result)
            }));
        }
    }

    /// Waits for the pending job, if any: its buffer and the bytes it
    /// moved. The file is back either way, unless the job was lost.
    async fn wait(&mut self) -> Result<Option<(Block, usize)>> {
        let Some(job) = self.job.take() else {
            return Ok(None);
        };
        let (file, buf, result) = job
            .await
            .map_err(|e| Error::io(Phase::Local)(io::Error::other(e)))?;
        self.file = Some(file);
        let n = result.map_err(Error::io(Phase::Local))?;
        Ok(Some((buf, n)))
    }

    /// Ends the move: waits for the pending job, and returns the file
    /// (`None` if it was lost) and the buffers to keep.
    async fn finish(mut self) -> (Option<std::fs::File>, Vec<Block>) {
        if let Ok(Some((buf, _))) = self.wait().await {
            self.keep(buf);
        }
        (self.file, self.spare)
    }
}
