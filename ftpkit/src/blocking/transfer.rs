//! Data transfers: the streaming [`DataReader`] and [`DataWriter`], and the
//! [`Retrieve`] and [`Store`] builders that set block size, restart offset
//! and progress.

use std::{
    io::{self, Read, Write},
    net::Shutdown,
};

use super::{Client, stream::Stream};
use crate::{
    error::{Error, Phase, Result},
    proto::{Command, Reply, finish_transfer, rules},
};

/// The open data connection of a transfer, and the client it belongs to.
#[derive(Debug)]
struct Open<'c> {
    client: &'c mut Client,
    /// `None` once the transfer ended or was aborted.
    stream: Option<Stream>,
    /// Reset, rather than close, the data connection on abort (uploads: so
    /// the server cannot take a partial file for a complete one).
    reset_on_abort: bool,
}

impl Open<'_> {
    /// `ABOR` and resynchronise the control connection; nothing if the
    /// data connection is already closed.
    fn abort(&mut self) -> Result<()> {
        match self.stream.take() {
            Some(stream) => self.client.abort_transfer(stream, self.reset_on_abort),
            None => Ok(()),
        }
    }
}

/// Reads a transfer's data as it arrives (ftplib's `transfercmd` socket).
///
/// When the server closes the data connection, the reader reads the
/// server's final reply: a 4xx or 5xx, or fewer bytes than a binary `RETR`
/// announced, is an error from `read`. Dropping the reader before the end
/// aborts the transfer (`ABOR`); the client stays usable.
///
/// Errors from [`Read::read`] are `io::Error`s that wrap an [`Error`]
/// (`into_inner()` and downcast to get it back).
#[derive(Debug)]
pub struct DataReader<'c> {
    open: Open<'c>,
    command: Command,
    announced: Option<u64>,
    expected: Option<u64>,
    received: u64,
    done: Option<Reply>,
}

impl<'c> DataReader<'c> {
    pub(crate) fn new(
        client: &'c mut Client,
        stream: Stream,
        command: Command,
        announced: Option<u64>,
        expected: Option<u64>,
    ) -> DataReader<'c> {
        DataReader {
            open: Open {
                client,
                stream: Some(stream),
                reset_on_abort: false,
            },
            command,
            announced,
            expected,
            received: 0,
            done: None,
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

    /// Reads data; 0 means the transfer is complete and the server confirmed it.
    pub(crate) fn read_data(&mut self, buf: &mut [u8]) -> Result<usize> {
        loop {
            let Some(stream) = self.open.stream.as_mut() else {
                return Ok(0);
            };
            match stream.read(buf) {
                Ok(0) => return self.end_of_data(),
                Ok(n) => {
                    self.received += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && stream.is_tls() => {
                    // TLS ended without close_notify: the data may be cut
                    // short, so only the server's final reply and the size
                    // check can vouch for it.
                    tracing::warn!(target: "ftpkit::tls", "data connection closed without TLS close_notify");
                    return self.end_of_data();
                }
                Err(e) => {
                    let err = Error::io(Phase::Data)(e);
                    let _ = self.open.abort();
                    return Err(err);
                }
            }
        }
    }

    fn end_of_data(&mut self) -> Result<usize> {
        self.open.stream = None;
        self.complete()?;
        Ok(0)
    }

    fn complete(&mut self) -> Result<()> {
        let reply = self.open.client.read_reply()?;
        let reply = rules::finish_download(&self.command, reply, self.expected, self.received)?;
        self.done = Some(reply);
        Ok(())
    }

    /// Reads whatever is left, then returns the server's final reply.
    /// To stop early, use [`DataReader::abort`] instead.
    pub fn finish(mut self) -> Result<Reply> {
        let mut sink = [0u8; 16 * 1024];
        while self.open.stream.is_some() {
            self.read_data(&mut sink)?;
        }
        match self.done.take() {
            Some(reply) => Ok(reply),
            None => Err(Error::Unusable),
        }
    }

    /// Stops the transfer: `ABOR`, close the data connection, and consume
    /// the server's replies. The client stays usable.
    pub fn abort(mut self) -> Result<()> {
        self.open.abort()
    }

    pub(crate) fn abort_quietly(&mut self) {
        let _ = self.open.abort();
    }
}

impl Read for DataReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_data(buf).map_err(io::Error::other)
    }
}

impl Drop for DataReader<'_> {
    fn drop(&mut self) {
        self.abort_quietly();
    }
}

/// A pipe for `splice(2)`, sized for large moves.
#[cfg(target_os = "linux")]
#[derive(Debug)]
pub(crate) struct Pipe {
    read: std::os::fd::OwnedFd,
    write: std::os::fd::OwnedFd,
}

#[cfg(target_os = "linux")]
impl Pipe {
    /// A pipe of up to `size` bytes (the kernel may give less).
    pub(crate) fn new(size: usize) -> io::Result<Pipe> {
        let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
        // Larger pipes move more per call; unprivileged limits may refuse.
        let _ = rustix::pipe::fcntl_setpipe_size(&write, size);
        Ok(Pipe { read, write })
    }

    /// Moves up to `max` bytes from `tcp` into `file` at its position
    /// through this pipe, without copying them through user space; 0 at
    /// the end of the data.
    pub(crate) fn splice(
        &self,
        tcp: &std::net::TcpStream,
        file: &std::fs::File,
        max: usize,
    ) -> Result<u64> {
        use rustix::pipe::{SpliceFlags, splice};
        let moved = loop {
            match splice(tcp, None, &self.write, None, max, SpliceFlags::MOVE) {
                Ok(n) => break n,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(Error::io(Phase::Data)(e.into())),
            }
        };
        let mut left = moved;
        while left > 0 {
            match splice(&self.read, None, file, None, left, SpliceFlags::MOVE) {
                Ok(0) => {
                    return Err(Error::io(Phase::Local)(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "the file accepted no more bytes",
                    )));
                }
                Ok(n) => left -= n,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(Error::io(Phase::Local)(e.into())),
            }
        }
        Ok(moved as u64)
    }
}

/// Writes a transfer's data (ftplib's `transfercmd` socket for uploads).
///
/// Call [`DataWriter::finish`] to end the upload: it closes the data
/// connection and checks the server's final reply. Dropping the writer
/// without `finish` resets the data connection and aborts the transfer, so
/// the server never mistakes a partial upload for a complete one.
#[derive(Debug)]
pub struct DataWriter<'c> {
    open: Open<'c>,
    command: Command,
    sent: u64,
}

impl<'c> DataWriter<'c> {
    pub(crate) fn new(client: &'c mut Client, stream: Stream, command: Command) -> DataWriter<'c> {
        DataWriter {
            open: Open {
                client,
                stream: Some(stream),
                reset_on_abort: true,
            },
            command,
            sent: 0,
        }
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.sent
    }

    /// Sends up to `max` bytes of `file` from its current position; 0 at
    /// its end. With [`Config::sendfile`](crate::Config::sendfile), on a
    /// plain connection under Linux, the kernel moves the bytes
    /// (`sendfile(2)`: no copy through user space; `std::io::copy` will
    /// not use it from a file to a socket); otherwise they go through `buf`
    /// (the block size), to be encrypted if need be.
    pub(crate) fn send_file(
        &mut self,
        file: &std::fs::File,
        max: u64,
        buf: &mut [u8],
    ) -> Result<u64> {
        let Some(stream) = self.open.stream.as_mut() else {
            return Err(Error::Unusable);
        };
        #[cfg(target_os = "linux")]
        if let Stream::Plain(tcp) = stream
            && self.open.client.core.config.sendfile
        {
            let count = usize::try_from(max).unwrap_or(usize::MAX);
            loop {
                // `None`: from the file's own offset, which advances.
                match rustix::fs::sendfile(&*tcp, file, None, count) {
                    Ok(n) => {
                        self.sent += n as u64;
                        return Ok(n as u64);
                    }
                    Err(rustix::io::Errno::INTR) => continue,
                    // Not a file sendfile can read (a pipe, say): copy.
                    Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => break,
                    Err(e) => {
                        let err = Error::io(Phase::Data)(e.into());
                        self.abort_quietly();
                        return Err(err);
                    }
                }
            }
        }
        let limit = buf.len().min(usize::try_from(max).unwrap_or(usize::MAX));
        let n = loop {
            match (&mut &*file).read(buf.get_mut(..limit).unwrap_or_default()) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.abort_quietly();
                    return Err(Error::io(Phase::Local)(e));
                }
            }
        };
        self.write_data(buf.get(..n).unwrap_or_default())
            .map(|()| n as u64)
    }

    pub(crate) fn write_data(&mut self, data: &[u8]) -> Result<()> {
        let Some(stream) = self.open.stream.as_mut() else {
            return Err(Error::Unusable);
        };
        match stream.write_all(data) {
            Ok(()) => {
                self.sent += data.len() as u64;
                Ok(())
            }
            Err(e) => {
                let err = Error::io(Phase::Data)(e);
                self.abort_quietly();
                // The server's own reply (426, 451, 552...) says more than
                // the broken pipe: prefer it when the abort consumed one.
                Err(err)
            }
        }
    }

    /// Ends the upload: closes the data connection and returns the server's
    /// final reply (2xx), or the error it sent.
    pub fn finish(mut self) -> Result<Reply> {
        let Some(mut stream) = self.open.stream.take() else {
            return Err(Error::Unusable);
        };
        // A TLS upload ends with close_notify, so the server can tell a
        // complete upload from a cut one.
        let shutdown = stream
            .flush()
            .and_then(|()| stream.close_notify())
            .and_then(|()| stream.tcp().shutdown(Shutdown::Write));
        if shutdown.is_ok() {
            stream.drain_until_closed();
        }
        drop(stream);
        if let Err(e) = shutdown
            && e.kind() != io::ErrorKind::NotConnected
        {
            self.open.client.mark_unusable();
            return Err(Error::io(Phase::Data)(e));
        }
        let reply = self.open.client.read_reply()?;
        finish_transfer(&self.command, reply)
    }

    /// Stops the upload: resets the data connection, sends `ABOR` and
    /// consumes the server's replies. The client stays usable.
    pub fn abort(mut self) -> Result<()> {
        self.open.abort()
    }

    pub(crate) fn abort_quietly(&mut self) {
        let _ = self.open.abort();
    }
}

impl Write for DataWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_data(buf).map_err(io::Error::other)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.open.stream.as_mut() {
            Some(stream) => stream.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for DataWriter<'_> {
    fn drop(&mut self) {
        self.abort_quietly();
    }
}

transfer_builder!(
    Transfer, Client, DataReader, DataWriter,
    read: [std::io::Read], std::io::Read, [],
    [], []
);

/// A download being set up: see [`Client::retrieve`].
///
/// ```no_run
/// # let mut ftp = ftpkit::Client::connect("localhost")?;
/// let mut out = std::fs::OpenOptions::new().append(true).open("big.iso")?;
/// let offset = out.metadata()?.len();
/// ftp.retrieve("big.iso")
///     .rest(offset) // resume where the local file ends
///     .block_size(1 << 20)
///     .progress(|done| eprintln!("{done} bytes"))
///     .to_writer(&mut out)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Retrieve<'c> = Transfer<'c, Download>;

/// An upload being set up: see [`Client::store`].
///
/// ```no_run
/// # let mut ftp = ftpkit::Client::connect("localhost")?;
/// let mut file = std::fs::File::open("backup.tar")?;
/// ftp.store("backup.tar")
///     .progress(|done| eprintln!("{done} bytes"))
///     .from_reader(&mut file)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Store<'c> = Transfer<'c, Upload>;

impl Transfer<'_, Download> {
    /// Downloads into `out`; returns the bytes received (not counting the
    /// restart offset). A failure writing `out` aborts the transfer.
    pub fn to_writer<W: Write + ?Sized>(self, out: &mut W) -> Result<u64> {
        self.for_each_chunk(|chunk| out.write_all(chunk))
    }
}

impl Transfer<'_, Upload> {
    /// Uploads the rest of `file`, from its current position; returns the
    /// bytes sent, in block-sized writes, or with `sendfile(2)` where
    /// [`Config::sendfile`](crate::Config::sendfile) asks for it.
    pub fn from_file(self, file: &mut std::fs::File) -> Result<u64> {
        let Transfer {
            client,
            path,
            rest,
            ty,
            block_size,
            mut progress,
            direction,
        } = self;
        let offset = rest.unwrap_or(0);
        let block = u64::try_from(block_size).unwrap_or(u64::MAX);
        let mut buf = crate::block::Block::new(block_size);
        let command = Store::command(path?, direction.append);
        let mut writer = client.open_writer(command, ty, rest)?;
        while writer.send_file(file, block, buf.as_mut())? > 0 {
            if let Some(progress) = progress.as_mut() {
                progress(offset + writer.bytes_written());
            }
        }
        let sent = writer.bytes_written();
        writer.finish()?;
        Ok(sent)
    }
}
