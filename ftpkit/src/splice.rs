//! Moving a plain data connection's bytes into the local file with
//! `splice(2)` (Linux): socket to pipe, pipe to file, without copying them
//! through user space. Both drivers use it, the blocking one on a blocking
//! socket and the tokio one on a non-blocking socket once tokio reports it
//! readable.

use std::{
    fs::File,
    io,
    os::fd::{AsFd, OwnedFd},
};

use rustix::pipe::{SpliceFlags, splice};

use crate::error::{Error, Phase, Result};

/// How much one move takes from the socket, at most: the pipe's size.
pub(crate) const CHUNK: usize = 1 << 20;

/// A pipe for `splice(2)`, sized for large moves.
#[derive(Debug)]
pub(crate) struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
}

impl Pipe {
    /// A pipe of up to [`CHUNK`] bytes (the kernel may give less).
    pub(crate) fn new() -> io::Result<Pipe> {
        let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
        // Larger pipes move more per call; unprivileged limits may refuse.
        let _ = rustix::pipe::fcntl_setpipe_size(&write, CHUNK);
        Ok(Pipe { read, write })
    }

    /// The pipe kept in `slot`, taken out for a move, or a new one; `None`
    /// if the system refuses one (the data then goes through a buffer).
    /// The caller puts it back only after a move that emptied it: a move
    /// that failed may leave bytes in it, and it is dropped with them.
    pub(crate) fn take_or_new(slot: &mut Option<Pipe>) -> Option<Pipe> {
        slot.take().or_else(|| Pipe::new().ok())
    }

    /// The pipe's inode: the same for as long as this pipe lives, another
    /// for any other pipe (file descriptor numbers are reused).
    #[cfg(test)]
    pub(crate) fn id(&self) -> u64 {
        rustix::fs::fstat(&self.read).map_or(0, |stat| stat.st_ino)
    }

    /// Moves up to `max` bytes from `socket` into the pipe, which must be
    /// empty; 0 at the end of the data. With `nonblocking`, the pipe never
    /// waits; a non-blocking socket with nothing to read gives
    /// `WouldBlock`.
    pub(crate) fn fill(
        &self,
        socket: impl AsFd,
        max: usize,
        nonblocking: bool,
    ) -> io::Result<usize> {
        let flags = if nonblocking {
            SpliceFlags::MOVE | SpliceFlags::NONBLOCK
        } else {
            SpliceFlags::MOVE
        };
        loop {
            match splice(&socket, None, &self.write, None, max, flags) {
                Ok(n) => return Ok(n),
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Moves the `n` bytes in the pipe into `file` at its position,
    /// emptying the pipe.
    pub(crate) fn drain(&self, file: &File, n: usize) -> Result<()> {
        let mut left = n;
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
        Ok(())
    }

    /// Moves up to [`CHUNK`] bytes from the blocking `socket` into `file`
    /// at its position, waiting for them; 0 at the end of the data.
    pub(crate) fn splice(&self, socket: impl AsFd, file: &File) -> Result<u64> {
        let moved = self
            .fill(socket, CHUNK, false)
            .map_err(Error::io(Phase::Data))?;
        self.drain(file, moved)?;
        Ok(moved as u64)
    }
}

#[cfg(test)]
mod tests {
    use std::{
        io::{Read, Seek, Write},
        net::{TcpListener, TcpStream},
    };

    use super::*;

    #[test]
    fn splices_a_socket_into_a_file_and_sees_the_end() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut sender = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (receiver, _) = listener.accept().unwrap();
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let writer = {
            let data = data.clone();
            std::thread::spawn(move || {
                sender.write_all(&data).unwrap();
            })
        };
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"head").unwrap();
        let pipe = Pipe::new().unwrap();
        let mut moved = 0u64;
        loop {
            let n = pipe.splice(&receiver, &file).unwrap();
            if n == 0 {
                break;
            }
            moved += n;
        }
        writer.join().unwrap();
        assert_eq!(moved, data.len() as u64);
        let mut written = Vec::new();
        file.rewind().unwrap();
        file.read_to_end(&mut written).unwrap();
        assert_eq!(&written[..4], b"head");
        assert_eq!(&written[4..], &data[..]);
    }

    #[test]
    fn a_nonblocking_fill_of_an_idle_socket_would_block() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let _sender = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (receiver, _) = listener.accept().unwrap();
        receiver.set_nonblocking(true).unwrap();
        let pipe = Pipe::new().unwrap();
        let err = pipe.fill(&receiver, CHUNK, true).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    }
}
