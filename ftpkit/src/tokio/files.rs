//! Whole-file transfers users can leave unattended, on tokio:
//! [`AsyncClient::download`] and [`AsyncClient::upload`], the async
//! counterparts of the blocking client's. Every decision (what to retry
//! and how long to wait, where to resume, whether the remote file changed,
//! how the overlap is compared, what counts as verified) is the core's
//! plans (`proto::engine::files`), the builders and the loop that runs a
//! plan are `crate::driver`'s, and the local file operations are
//! `crate::local`'s `std::fs` code, run under `spawn_blocking`; this
//! module only moves the data between the data connection and the file.
//!
//! Cancellation: dropping a `run()` future leaves the local `.part` file
//! (a later call resumes from it) and the client in the state its own
//! rules give (a transfer left to abort, or unusable).

use std::{io, time::Duration};

use tokio::{
    fs::File,
    io::{AsyncReadExt, AsyncWriteExt, BufWriter},
    time::timeout,
};

use super::{AsyncClient, io::Io};
use crate::{
    error::{Error, Phase, Result},
    proto::engine::{Event, LocalOp, PumpDirection, ops::timed_out},
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

/// The async data path's own state: a block buffer, kept between moves.
#[derive(Default)]
struct Buffers {
    buf: Vec<u8>,
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
        let Some(std_file) = self.file.take() else {
            return Err(Error::Unusable);
        };
        let mut file = File::from_std(std_file);
        let mut buf = std::mem::take(&mut self.buffers.buf);
        buf.resize(block, 0);
        let result = match direction {
            PumpDirection::Receive => self.receive(&mut file, &mut buf, offset, max, idle).await,
            PumpDirection::Send { .. } => self.send(&mut file, &mut buf, offset, max, idle).await,
        };
        self.buffers.buf = buf;
        self.file.put(file.into_std().await);
        result
    }

    /// Data connection to file, through a buffered writer.
    async fn receive(
        &mut self,
        file: &mut File,
        buf: &mut [u8],
        mut offset: u64,
        max: Option<u64>,
        idle: Duration,
    ) -> Result<(u64, bool)> {
        let Some(stream) = self.io.data.as_mut() else {
            return Err(Error::Unusable);
        };
        let mut out = BufWriter::with_capacity(buf.len().max(64 * 1024), file);
        let mut moved = 0u64;
        let mut eof = false;
        while max.is_none_or(|max| moved < max) {
            let n = match timeout(idle, stream.read(buf)).await {
                Err(_) => return Err(timed_out(Phase::Data)),
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
        file: &mut File,
        buf: &mut [u8],
        mut offset: u64,
        max: Option<u64>,
        idle: Duration,
    ) -> Result<(u64, bool)> {
        let Some(stream) = self.io.data.as_mut() else {
            return Err(Error::Unusable);
        };
        let mut moved = 0u64;
        while max.is_none_or(|max| moved < max) {
            let n = match file.read(buf).await {
                Ok(0) => return Ok((moved, true)),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(Phase::Local)(e)),
            };
            match timeout(idle, stream.write_all(buf.get(..n).unwrap_or_default())).await {
                Err(_) => return Err(timed_out(Phase::Data)),
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
