//! The local file of a `download` or `upload`, for both drivers: every
//! [`LocalOp`] the core's plans ask for, performed once with `std::fs`.
//! The blocking driver calls [`LocalFile::perform`] directly; the tokio
//! driver runs it under `spawn_blocking`. Only the bulk data path (the
//! `Pump` action) stays in each driver.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Read, Seek, SeekFrom, Write},
};

use crate::{
    block::Block,
    error::{Error, Phase},
    proto::{
        engine::{Event, LocalOp},
        hash::Hasher,
    },
};

/// The one local file of a plan, once opened.
#[derive(Debug, Default)]
pub(crate) struct LocalFile {
    file: Option<File>,
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

/// The file's digest, read from its start in page-aligned blocks (see
/// [`Block`]: into a buffer from the allocator, 16 bytes past a page,
/// reading ran at a third of the speed).
fn hash(file: &mut File, mut hasher: Hasher) -> io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(0))?;
    let mut buf = Block::new(256 * 1024);
    loop {
        match read_some(&mut *file, buf.as_mut())? {
            0 => return Ok(hasher.finish()),
            n => hasher.update(buf.filled(n)),
        }
    }
}

/// One read from `source` into `buf` (0 at its end), read again when a
/// signal interrupted it: how both drivers read a local file.
pub(crate) fn read_some(mut source: impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match source.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            read => return read,
        }
    }
}

/// Opens (creating it if need be) a `.part` file for reading and writing,
/// emptied if `empty`.
fn open_part(path: &std::path::Path, empty: bool) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(empty)
        .open(path)
}

/// Writes all of `bytes` at `offset` of `file`, leaving its position alone
/// where the system allows (`pwrite(2)`).
#[cfg(unix)]
fn write_at(file: &File, offset: u64, bytes: &[u8]) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, offset)
}

/// Writes all of `bytes` at `offset` of `file`.
#[cfg(not(unix))]
fn write_at(mut file: &File, offset: u64, bytes: &[u8]) -> io::Result<()> {
    file.seek(SeekFrom::Start(offset))?;
    file.write_all(bytes)
}

impl LocalFile {
    /// The open file, for the driver's bulk data path.
    pub(crate) fn get(&mut self) -> Option<&mut File> {
        self.file.as_mut()
    }

    /// Takes the open file out (the tokio driver wraps it while data moves).
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn take(&mut self) -> Option<File> {
        self.file.take()
    }

    /// Puts back the file [`LocalFile::take`] took.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn put(&mut self, file: File) {
        self.file = Some(file);
    }

    fn file(&mut self) -> io::Result<&mut File> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("no local file open"))
    }

    fn opened(&mut self, opened: io::Result<File>) -> Event {
        on_local(
            opened.and_then(|file| Ok((stat(&file)?, file))),
            |(event, file)| {
                self.file = Some(file);
                event
            },
        )
    }

    /// Performs one local file operation and reports what happened.
    pub(crate) fn perform(&mut self, op: LocalOp) -> Event {
        match op {
            LocalOp::OpenPart(path) => self.opened(open_part(&path, false)),
            LocalOp::CreatePart(path) => on_local(open_part(&path, true), |file| {
                self.file = Some(file);
                Event::Done
            }),
            LocalOp::OpenRead(path) => self.opened(File::open(path)),
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
            LocalOp::WriteAt { offset, bytes } => on_local(
                self.file().and_then(|f| write_at(f, offset, &bytes)),
                |()| Event::Done,
            ),
            LocalOp::ReadWhole(path) => match fs::read(path) {
                Ok(bytes) => Event::Bytes(bytes),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Event::Done,
                Err(e) => Event::Failed(Error::io(Phase::Local)(e)),
            },
            LocalOp::Replace { path, temp, bytes } => on_local(
                fs::write(&temp, bytes).and_then(|()| fs::rename(&temp, path)),
                |()| Event::Done,
            ),
            LocalOp::Remove(path) => match fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    Event::Failed(Error::io(Phase::Local)(e))
                }
                _ => Event::Done,
            },
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
                self.file().and_then(|f| hash(f, Hasher::new(algorithm))),
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
}
