//! The control connection: sends commands and reads replies through the
//! core's [`ReplyReader`], tracing both with passwords redacted.

use std::{
    io::{Read, Write},
    net::TcpStream,
};

use crate::{
    error::{Error, Phase, Result},
    proto::{Command, Reply, ReplyLimits, ReplyReader},
};

/// The control connection and its reply reader.
#[derive(Debug)]
pub(crate) struct Control {
    stream: TcpStream,
    reader: ReplyReader,
    out: Vec<u8>,
}

impl Control {
    pub(crate) fn new(stream: TcpStream, limits: ReplyLimits) -> Control {
        Control {
            stream,
            reader: ReplyReader::new(limits),
            out: Vec::with_capacity(256),
        }
    }

    pub(crate) fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Sends one command.
    pub(crate) fn send(&mut self, command: &Command) -> Result<()> {
        tracing::debug!(target: "ftpkit::control", "> {command}");
        self.out.clear();
        command.encode(&mut self.out);
        self.stream
            .write_all(&self.out)
            .map_err(Error::io(Phase::Control))
    }

    /// Reads the next complete reply.
    pub(crate) fn read_reply(&mut self) -> Result<Reply> {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(reply) = self.reader.next_reply()? {
                for line in reply.lines() {
                    tracing::debug!(target: "ftpkit::control", "< {}", String::from_utf8_lossy(line));
                }
                return Ok(reply);
            }
            let n = self
                .stream
                .read(&mut buf)
                .map_err(Error::io(Phase::Control))?;
            if n == 0 {
                return Err(Error::ConnectionClosed(Phase::Control));
            }
            self.reader.feed(buf.get(..n).unwrap_or_default());
        }
    }
}
