//! Whole-file transfers users can leave unattended: [`Client::download`]
//! and [`Client::upload`] retry, reconnect, resume, detect a remote file
//! that changed, verify sizes and hashes, keep modification times, and
//! never leave a partial file under the final name.
//!
//! The plans are the core's (`proto::engine::files`, `segments`), the
//! builders, the loop that runs a plan and the segmented download are
//! `crate::driver`'s and the local file operations `crate::local`'s; this
//! module only moves the data in bulk (`splice(2)` and `sendfile(2)` on
//! Linux) and runs each extra connection of a segmented download on a
//! thread of its own.

use std::{
    io::{Read, Write},
    sync::Arc,
    time::Duration,
};

use super::{
    Client,
    io::Io,
    stream::{Socket, Stream},
};
use crate::{
    error::{Error, Phase, Result},
    proto::engine::{
        Event, LocalOp, PumpDirection,
        flow::{Moved, read_outcome},
        segments,
    },
};

file_builders!(Client, FileDownload, FileUpload, Io, [], [], []);

/// An extra connection of a segmented download, on a thread of its own.
type Worker = std::thread::JoinHandle<Result<()>>;

/// Starts worker `i` of `job` on `other`'s connection.
fn spawn(other: Client, job: Arc<segments::Job>, i: usize) -> Worker {
    std::thread::spawn(move || run_worker(other, job, i))
}

/// A connection the caller is still opening and logging in, on a thread
/// of its own (the download builder's `opening_helpers`).
type Opening = std::thread::JoinHandle<Result<Client>>;

/// The connection `pending` gives once it is logged in, if it was.
fn opened(pending: Opening) -> Option<Client> {
    pending.join().ok().and_then(Result::ok)
}

/// Starts worker `i` of `job` on `pending`'s connection once it is open.
fn spawn_opening(
    pending: Opening,
    job: Arc<segments::Job>,
    i: usize,
    clock: segments::Clock,
) -> Worker {
    std::thread::spawn(move || run_opening(pending, job, i, clock))
}

/// Says goodbye on a connection not needed once it is open, on a thread
/// of its own (nothing waits for it).
fn quit_when_open(pending: Opening) {
    std::thread::spawn(move || quit_opened(pending));
}

/// What a worker's thread gave (a panic: the client is unusable).
fn joined(worker: Worker) -> Result<()> {
    worker.join().unwrap_or(Err(Error::Unusable))
}

impl Local<'_> {
    fn local_op(&mut self, op: LocalOp) -> Event {
        self.file.perform(op)
    }

    /// Moves data chunk by chunk until the data or the file ends, or
    /// `max` bytes moved, reporting the offset reached after each chunk.
    fn pump(
        &mut self,
        direction: PumpDirection,
        mut offset: u64,
        max: Option<u64>,
        block: usize,
        _idle: Duration,
    ) -> Result<(u64, bool)> {
        // The data socket's idle timeout bounds each chunk.
        let mut moved = 0u64;
        while max.is_none_or(|max| moved < max) {
            let n = match direction {
                PumpDirection::Receive => self.receive_chunk(max.is_none(), block)?,
                PumpDirection::Send { sendfile } => self.send_chunk(block, sendfile)?,
            };
            if n == 0 {
                if matches!(direction, PumpDirection::Receive) {
                    // The data ended: its connection is done with.
                    self.io.data = None;
                }
                return Ok((moved, true));
            }
            moved += n;
            offset += n;
            self.report(offset);
        }
        Ok((moved, false))
    }

    /// Data connection to file: `splice(2)` on a plain connection under
    /// Linux when unpaced (no copy through user space), else through a
    /// block-sized buffer.
    fn receive_chunk(&mut self, bulk: bool, block: usize) -> Result<u64> {
        // The field, not `Io::data`: the block and pipe beside it are used too.
        let stream = self.io.data.as_mut().ok_or(Error::Unusable)?;
        let file = self.file.get().ok_or(Error::Unusable)?;
        #[cfg(target_os = "linux")]
        if bulk && let Stream::Plain(Socket::Tcp(tcp)) = stream {
            if let Some(pipe) = crate::splice::Pipe::take_or_new(&mut self.io.pipe) {
                let moved = pipe.splice(&*tcp, file)?;
                self.io.pipe = Some(pipe);
                return Ok(moved);
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = bulk;
        let mut buf = crate::block::Block::take(&mut self.io.blocks, block);
        let n = loop {
            match read_outcome(stream.read(buf.as_mut()), stream.is_tls()) {
                Moved::Bytes(n) => break n,
                Moved::End => break 0,
                Moved::Again => {}
                Moved::Failed(e) => return Err(e),
            }
        };
        file.write_all(buf.filled(n))
            .map_err(Error::io(Phase::Local))?;
        self.io.keep_block(buf);
        Ok(n as u64)
    }

    /// File to data connection: `sendfile(2)` on a plain connection under
    /// Linux where allowed, else through a block-sized buffer.
    fn send_chunk(&mut self, block: usize, sendfile: bool) -> Result<u64> {
        // The field, not `Io::data`: the block and pipe beside it are used too.
        let stream = self.io.data.as_mut().ok_or(Error::Unusable)?;
        let file = self.file.get().ok_or(Error::Unusable)?;
        #[cfg(target_os = "linux")]
        if sendfile && let Stream::Plain(Socket::Tcp(tcp)) = stream {
            loop {
                // `None`: from the file's own offset, which advances.
                match rustix::fs::sendfile(&*tcp, &*file, None, block) {
                    Ok(n) => return Ok(n as u64),
                    Err(rustix::io::Errno::INTR) => continue,
                    // Not a file sendfile can read: copy.
                    Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => break,
                    Err(e) => return Err(Error::io(Phase::Data)(e.into())),
                }
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = sendfile;
        let mut buf = crate::block::Block::take(&mut self.io.blocks, block);
        let n = crate::local::read_some(&*file, buf.as_mut()).map_err(Error::io(Phase::Local))?;
        stream
            .write_all(buf.filled(n))
            .map_err(Error::io(Phase::Data))?;
        self.io.keep_block(buf);
        Ok(n as u64)
    }
}
