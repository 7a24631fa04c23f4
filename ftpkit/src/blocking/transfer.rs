//! Data transfers: the streaming [`DataReader`] and [`DataWriter`], and the
//! [`Retrieve`] and [`Store`] builders that set block size, restart offset
//! and progress. What each read or write means, the final reply and what
//! an unfinished transfer leaves behind are the core's
//! (`proto::engine::flow`); the methods both drivers share are
//! `crate::driver`'s (`data_ends!`). Here: the `Read`/`Write` glue, and
//! `sendfile(2)` from a file.

use std::io::{self, Read, Write};

use super::{
    Client,
    stream::{Socket, Stream},
};
use crate::{
    error::{Error, Phase, Result},
    proto::engine::flow::{Moved, ReadFrom},
};

data_ends!(
    Client,
    /// Reads a transfer's data as it arrives (ftplib's `transfercmd` socket).
    ///
    /// When the server closes the data connection, the reader reads the
    /// server's final reply: a 4xx or 5xx, or fewer bytes than a binary `RETR`
    /// announced, is an error from `read`. Dropping the reader before the end
    /// aborts the transfer (`ABOR`); the client stays usable.
    ///
    /// Errors from [`Read::read`] are `io::Error`s that wrap an [`Error`]
    /// (`into_inner()` and downcast to get it back).
    reader: DataReader,
    /// Writes a transfer's data (ftplib's `transfercmd` socket for uploads).
    ///
    /// Call [`DataWriter::finish`] to end the upload: it closes the data
    /// connection and checks the server's final reply. Dropping the writer
    /// without `finish` resets the data connection and aborts the transfer, so
    /// the server never mistakes a partial upload for a complete one.
    writer: DataWriter,
    [], [], [settle]
);

impl DataReader<'_> {
    /// Reads data; 0 means the transfer is complete and the server
    /// confirmed it. A failure aborts the transfer before it is returned.
    pub(crate) fn read_data(&mut self, buf: &mut [u8]) -> Result<usize> {
        loop {
            let stream = match self.flow.read_from(&mut self.stream) {
                ReadFrom::Data(stream) => stream,
                ReadFrom::Reply => return self.client.conclude(&mut self.flow).map(|_| 0),
                ReadFrom::Ended => return Ok(0),
            };
            let tls = stream.is_tls();
            match self.flow.on_read(stream.read(buf), tls) {
                Moved::Bytes(n) => return Ok(n),
                Moved::End => self.stream = None,
                Moved::Again => {}
                Moved::Failed(e) => {
                    self.abort_quietly();
                    return Err(e);
                }
            }
        }
    }
}

impl Read for DataReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_data(buf).map_err(io::Error::other)
    }
}

impl DataWriter<'_> {
    fn write_some(&mut self, data: &[u8]) -> Moved {
        match self.stream.as_mut() {
            Some(stream) => self.flow.on_write(stream.write(data)),
            None => Moved::Failed(Error::Unusable),
        }
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
        #[cfg(target_os = "linux")]
        if let Some(Stream::Plain(Socket::Tcp(tcp))) = self.stream.as_ref()
            && self.client.core.config.sendfile
        {
            let count = usize::try_from(max).unwrap_or(usize::MAX);
            loop {
                // `None`: from the file's own offset, which advances.
                let sent = match rustix::fs::sendfile(tcp, file, None, count) {
                    // The file's end.
                    Ok(0) => return Ok(0),
                    // Not a file sendfile can read (a pipe, say): copy.
                    Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => break,
                    sent => sent.map_err(io::Error::from),
                };
                match self.flow.on_write(sent) {
                    Moved::Bytes(n) => return Ok(n as u64),
                    Moved::Again | Moved::End => {}
                    Moved::Failed(e) => {
                        self.abort_quietly();
                        return Err(e);
                    }
                }
            }
        }
        let limit = buf.len().min(usize::try_from(max).unwrap_or(usize::MAX));
        let n = match crate::local::read_some(file, buf.get_mut(..limit).unwrap_or_default()) {
            Ok(n) => n,
            Err(e) => {
                self.abort_quietly();
                return Err(Error::io(Phase::Local)(e));
            }
        };
        self.write_data(buf.get(..n).unwrap_or_default())
            .map(|()| n as u64)
    }
}

impl Write for DataWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_data(buf).map_err(io::Error::other)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.stream.as_mut() {
            Some(stream) => stream.flush(),
            None => Ok(()),
        }
    }
}

transfer_builder!(
    Transfer, Client, DataReader, DataWriter,
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
    retrieve: Retrieve,
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
    store: Store,
    read: [std::io::Read], std::io::Read,
    write: [std::io::Write], std::io::Write, unflushed, [],
    [], []
);

/// What `to_writer` does with its sink at the end: nothing (flushing it is
/// the caller's).
fn unflushed<W: Write + ?Sized>(_: &mut W) -> io::Result<()> {
    Ok(())
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
        // The connection's block, back in it once the data is out.
        let mut buf = client.io.take_block(block_size);
        let command = Store::command(path?, direction.append);
        let mut writer = client.open_writer(command, ty, rest)?;
        while writer.send_file(file, block, buf.as_mut())? > 0 {
            if let Some(progress) = progress.as_mut() {
                progress(offset + writer.bytes_written());
            }
        }
        let sent = writer.bytes_written();
        writer.client.io.keep_block(buf);
        writer.finish()?;
        Ok(sent)
    }
}
