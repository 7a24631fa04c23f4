//! Whole-file transfers users can leave unattended: [`Client::download`]
//! and [`Client::upload`] retry, reconnect, resume, detect a remote file
//! that changed, verify sizes and hashes, keep modification times, and
//! never leave a partial file under the final name.
//!
//! The plans are the core's (`proto::engine::files`); this module only
//! performs their local file operations and moves the data in bulk
//! (`splice(2)` and `sendfile(2)` on Linux).

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Read, Seek, SeekFrom, Write},
    net::Shutdown,
    path::{Path, PathBuf},
    time::Instant,
};

use super::{Client, io::Io, stream::Stream};
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
type Progress<'c> = Box<dyn FnMut(u64) + 'c>;

/// A callback told the remote size before the data flows.
type SizeCallback<'c> = Box<dyn FnMut(Option<u64>) + 'c>;

/// A download being set up: see [`Client::download`].
pub struct FileDownload<'c> {
    client: &'c mut Client,
    remote: Vec<u8>,
    local: PathBuf,
    options: TransferOptions,
    progress: Option<Progress<'c>>,
    known: Option<RemoteStat>,
    on_size: Option<SizeCallback<'c>>,
    adopt_local: bool,
}

/// An upload being set up: see [`Client::upload`].
pub struct FileUpload<'c> {
    client: &'c mut Client,
    local: PathBuf,
    remote: Vec<u8>,
    options: TransferOptions,
    progress: Option<Progress<'c>>,
}

impl<'c> FileDownload<'c> {
    transfer_setters!(common);
    transfer_setters!(download);

    /// Calls `f` with the remote file's size (`None` when the server will
    /// not tell) before each attempt's data flows, from the `SIZE` the
    /// download asks anyway (or the size given to
    /// [`known_stat`](FileDownload::known_stat)): what a progress bar needs
    /// for its total, without asking the server again.
    pub fn on_size(mut self, f: impl FnMut(Option<u64>) + 'c) -> Self {
        self.on_size = Some(Box::new(f));
        self
    }

    /// Also resume from `LOCAL` itself when there is no `LOCAL.part`: a
    /// partial file another tool left under the final name is moved to
    /// `LOCAL.part` first, and its bytes are checked like those of a
    /// `.part` (default: off; `LOCAL` is then replaced, never read).
    pub fn adopt_local(mut self, on: bool) -> Self {
        self.adopt_local = on;
        self
    }

    /// The path of the file the data goes to before it is verified and
    /// renamed: `LOCAL.part`.
    pub fn part_path(&self) -> PathBuf {
        crate::proto::resume::part_path(&self.local)
    }

    /// Downloads, retrying and resuming as set, and returns what happened.
    ///
    /// The data goes to `LOCAL.part`, renamed to `LOCAL` only once complete
    /// and verified; on failure the `.part` file stays if it holds bytes
    /// (a later call resumes from it), an empty one is removed, and
    /// `LOCAL` is untouched.
    pub fn run(self) -> Result<TransferReport> {
        let FileDownload {
            client,
            remote,
            local,
            options,
            progress,
            known,
            on_size,
            adopt_local,
        } = self;
        let remote = Arg::path(remote)?;
        let op = client
            .core
            .op(|core| files::download(core, remote, local, options, known, adopt_local));
        drive_files(&mut client.io, op, progress, on_size)
    }
}

impl<'c> FileUpload<'c> {
    transfer_setters!(common);
    transfer_setters!(upload);

    /// Uploads, retrying and resuming as set, and returns what happened.
    ///
    /// Within one call, a failed upload resumes from the size the server
    /// reports (after comparing an overlap). A file already on the server
    /// under the final name is replaced, never appended to.
    pub fn run(self) -> Result<TransferReport> {
        let FileUpload {
            client,
            local,
            remote,
            options,
            progress,
        } = self;
        let op = client
            .core
            .op(|core| files::upload(core, local, remote, options));
        drive_files(&mut client.io, op, progress, None)
    }
}

impl Client {
    /// Downloads `remote` to the local file `local`: resumes from
    /// `LOCAL.part` if one is there, retries transient failures
    /// (reconnecting and logging in again when the connection was lost),
    /// starts over if the remote file changed, verifies the size and,
    /// where the server offers `HASH`/`XSHA256`/`XSHA1`/`XMD5`/`XCRC`, a
    /// content hash, sets the local modification time from `MDTM`, and
    /// renames `LOCAL.part` to `LOCAL` only when all that succeeded.
    ///
    /// ```no_run
    /// # let mut ftp = ftpkit::Client::connect("localhost")?;
    /// # ftp.login_anonymous()?;
    /// let report = ftp.download("pub/big.iso", "big.iso").retries(5).run()?;
    /// println!("{} bytes, {}", report.size, report.verified.describe());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn download(
        &mut self,
        remote: impl AsRef<[u8]>,
        local: impl AsRef<Path>,
    ) -> FileDownload<'_> {
        FileDownload {
            client: self,
            remote: remote.as_ref().to_vec(),
            local: local.as_ref().to_path_buf(),
            options: TransferOptions::default(),
            progress: None,
            known: None,
            on_size: None,
            adopt_local: false,
        }
    }

    /// Uploads the local file `local` to `remote`, retrying and resuming
    /// within the call, verifying the size and (where offered) a content
    /// hash, and setting the remote modification time with `MFMT` where
    /// offered. See [`FileUpload::temp_name`] for an upload that appears
    /// under its final name only when complete.
    pub fn upload(&mut self, local: impl AsRef<Path>, remote: impl AsRef<[u8]>) -> FileUpload<'_> {
        FileUpload {
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
    on_size: Option<SizeCallback<'p>>,
    buf: Vec<u8>,
    #[cfg(target_os = "linux")]
    pipe: Option<super::transfer::Pipe>,
}

/// Runs a file plan, performing its local actions here and the others on
/// the client's sockets.
fn drive_files<T>(
    io: &mut Io,
    mut op: Operation<'_, T>,
    progress: Option<Progress<'_>>,
    on_size: Option<SizeCallback<'_>>,
) -> Result<T> {
    let mut local = Local {
        io,
        file: None,
        progress,
        on_size,
        buf: Vec::new(),
        #[cfg(target_os = "linux")]
        pipe: None,
    };
    let mut event = Event::Start;
    loop {
        match op.resume(event, Instant::now()) {
            Step::Done(result) => return result,
            Step::Act(action) => event = local.perform(action),
        }
    }
}

fn on_local<T>(result: io::Result<T>, done: impl FnOnce(T) -> Event) -> Event {
    match result {
        Ok(value) => done(value),
        Err(e) => Event::Failed(Error::io(Phase::Local)(e)),
    }
}

fn stat(file: &File) -> io::Result<Event> {
    let meta = file.metadata()?;
    Ok(Event::File {
        len: meta.len(),
        modified: meta.modified()?,
    })
}

impl Local<'_> {
    fn perform(&mut self, action: Action) -> Event {
        match action {
            Action::Local(op) => self.local(op),
            Action::Progress(offset) => {
                self.report(offset);
                Event::Done
            }
            Action::RemoteSize(size) => {
                if let Some(f) = self.on_size.as_mut() {
                    f(size);
                }
                Event::Done
            }
            Action::Pump {
                direction,
                offset,
                max,
                block,
                ..
            } => {
                let result = match direction {
                    PumpDirection::Receive => self.receive(offset, max, block),
                    PumpDirection::Send { sendfile } => self.send(offset, max, block, sendfile),
                };
                match result {
                    Ok((bytes, eof)) => Event::Pumped { bytes, eof },
                    Err(e) => Event::Failed(e),
                }
            }
            other => self.io.perform(other),
        }
    }

    fn report(&mut self, offset: u64) {
        if let Some(progress) = self.progress.as_mut() {
            progress(offset);
        }
    }

    fn file(&mut self) -> io::Result<&mut File> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("no local file open"))
    }

    fn local(&mut self, op: LocalOp) -> Event {
        match op {
            LocalOp::OpenPart(path) => on_local(
                OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(path)
                    .and_then(|file| Ok((stat(&file)?, file))),
                |(event, file)| {
                    self.file = Some(file);
                    event
                },
            ),
            LocalOp::OpenRead(path) => on_local(
                File::open(path).and_then(|file| Ok((stat(&file)?, file))),
                |(event, file)| {
                    self.file = Some(file);
                    event
                },
            ),
            LocalOp::Stat => on_local(self.file().and_then(|f| stat(f)), |e| e),
            LocalOp::ReadAt { offset, len } => on_local(
                self.file().and_then(|file| {
                    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
                    file.seek(SeekFrom::Start(offset))?;
                    file.take(len).read_to_end(&mut buf)?;
                    Ok(buf)
                }),
                Event::Bytes,
            ),
            LocalOp::Write(bytes) => {
                on_local(self.file().and_then(|f| f.write_all(&bytes)), |()| {
                    Event::Done
                })
            }
            LocalOp::Truncate(len) => on_local(
                self.file()
                    .and_then(|f| f.set_len(len).and_then(|()| f.seek(SeekFrom::Start(len)))),
                |_| Event::Done,
            ),
            LocalOp::Seek(offset) => on_local(
                self.file().and_then(|f| f.seek(SeekFrom::Start(offset))),
                |_| Event::Done,
            ),
            LocalOp::Hash(algorithm) => on_local(
                self.file().and_then(|file| {
                    let mut hasher = Hasher::new(algorithm);
                    file.seek(SeekFrom::Start(0))?;
                    let mut buf = vec![0u8; 256 * 1024];
                    loop {
                        match file.read(&mut buf) {
                            Ok(0) => return Ok(hasher.finish()),
                            Ok(n) => hasher.update(buf.get(..n).unwrap_or_default()),
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                            Err(e) => return Err(e),
                        }
                    }
                }),
                Event::Bytes,
            ),
            LocalOp::SetModified(time) => {
                on_local(self.file().and_then(|f| f.set_modified(time)), |()| {
                    Event::Done
                })
            }
            LocalOp::Sync => on_local(self.file().and_then(|f| f.sync_all()), |()| Event::Done),
            LocalOp::Close => {
                self.file = None;
                Event::Done
            }
            LocalOp::Rename { from, to } => on_local(fs::rename(from, to), |()| Event::Done),
            LocalOp::Adopt { from, to } => on_local(
                if !to.exists() && from.exists() {
                    fs::rename(from, to)
                } else {
                    Ok(())
                },
                |()| Event::Done,
            ),
            LocalOp::RemoveIfEmpty(path) => {
                self.file = None;
                if fs::metadata(&path).is_ok_and(|m| m.len() == 0) {
                    let _ = fs::remove_file(&path);
                }
                Event::Done
            }
        }
    }

    /// Data connection to file: `splice(2)` on a plain connection under
    /// Linux when unpaced (no copy through user space), else through a
    /// block-sized buffer.
    fn receive(&mut self, mut offset: u64, max: Option<u64>, block: usize) -> Result<(u64, bool)> {
        let mut moved = 0u64;
        loop {
            if max.is_some_and(|max| moved >= max) {
                return Ok((moved, false));
            }
            let n = self.receive_chunk(max.is_none(), block)?;
            if n == 0 {
                self.io.data = None;
                return Ok((moved, true));
            }
            moved += n;
            offset += n;
            self.report(offset);
        }
    }

    fn receive_chunk(&mut self, bulk: bool, block: usize) -> Result<u64> {
        let Some(stream) = self.io.data.as_mut() else {
            return Err(Error::Unusable);
        };
        let file = self.file.as_mut().ok_or(Error::Unusable)?;
        #[cfg(target_os = "linux")]
        if bulk && let Stream::Plain(tcp) = stream {
            if self.pipe.is_none() {
                self.pipe = super::transfer::Pipe::new(1 << 20).ok();
            }
            if let Some(pipe) = self.pipe.as_ref() {
                return pipe.splice(tcp, file, 1 << 20);
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = bulk;
        if self.buf.len() != block {
            self.buf.resize(block, 0);
        }
        let n = loop {
            match stream.read(&mut self.buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && stream.is_tls() => {
                    tracing::warn!(target: "ftpkit::tls", "data connection closed without TLS close_notify");
                    break 0;
                }
                Err(e) => return Err(Error::io(Phase::Data)(e)),
            }
        };
        file.write_all(self.buf.get(..n).unwrap_or_default())
            .map_err(Error::io(Phase::Local))?;
        Ok(n as u64)
    }

    /// File to data connection: `sendfile(2)` on a plain connection under
    /// Linux where allowed, else through a block-sized buffer.
    fn send(
        &mut self,
        mut offset: u64,
        max: Option<u64>,
        block: usize,
        sendfile: bool,
    ) -> Result<(u64, bool)> {
        let mut moved = 0u64;
        loop {
            if max.is_some_and(|max| moved >= max) {
                return Ok((moved, false));
            }
            let n = self.send_chunk(block, sendfile)?;
            if n == 0 {
                return Ok((moved, true));
            }
            moved += n;
            offset += n;
            self.report(offset);
        }
    }

    fn send_chunk(&mut self, block: usize, sendfile: bool) -> Result<u64> {
        let Some(stream) = self.io.data.as_mut() else {
            return Err(Error::Unusable);
        };
        let file = self.file.as_mut().ok_or(Error::Unusable)?;
        #[cfg(target_os = "linux")]
        if sendfile && let Stream::Plain(tcp) = stream {
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
        if self.buf.len() != block {
            self.buf.resize(block, 0);
        }
        let n = loop {
            match file.read(&mut self.buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(Phase::Local)(e)),
            }
        };
        stream
            .write_all(self.buf.get(..n).unwrap_or_default())
            .map_err(Error::io(Phase::Data))?;
        Ok(n as u64)
    }
}

/// Ends an upload's data connection: a TLS upload ends with close_notify,
/// so the server can tell a complete upload from a cut one.
pub(crate) fn finish_upload(data: Option<Stream>) -> Result<()> {
    let Some(mut stream) = data else {
        return Err(Error::Unusable);
    };
    let shutdown = stream
        .flush()
        .and_then(|()| stream.close_notify())
        .and_then(|()| stream.tcp().shutdown(Shutdown::Write));
    if shutdown.is_ok() {
        stream.drain_until_closed();
    }
    drop(stream);
    match shutdown {
        Err(e) if e.kind() != io::ErrorKind::NotConnected => Err(Error::io(Phase::Data)(e)),
        _ => Ok(()),
    }
}
