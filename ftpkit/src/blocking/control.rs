//! The control connection: sends commands and reads replies through the
//! core's [`ReplyReader`], tracing both with passwords redacted.

use std::{
    io::{Read, Write},
    sync::Arc,
};

use rustls::ClientConfig;
use rustls_pki_types::ServerName;

use super::stream::Stream;
use crate::{
    error::{Error, Phase, Result},
    proto::{Command, Reply, ReplyLimits, ReplyReader},
};

/// The control connection and its reply reader.
#[derive(Debug)]
pub(crate) struct Control {
    stream: Stream,
    reader: ReplyReader,
    out: Vec<u8>,
}

impl Control {
    pub(crate) fn new(stream: Stream, limits: ReplyLimits) -> Control {
        Control {
            stream,
            reader: ReplyReader::new(limits),
            out: Vec::with_capacity(256),
        }
    }

    pub(crate) fn stream(&self) -> &Stream {
        &self.stream
    }

    /// Starts TLS on the control connection (after `234`, or at once for
    /// implicit FTPS). Bytes that arrived in clear after the last reply are
    /// discarded first: they cannot be trusted (CVE-2021-22947).
    pub(crate) fn start_tls(
        &mut self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
    ) -> Result<()> {
        if !self.reader.buffered().is_empty() {
            tracing::warn!(target: "ftpkit::tls", bytes = self.reader.buffered().len(), "discarding bytes sent in clear before the TLS handshake");
        }
        self.reader.discard_buffered();
        self.stream
            .upgrade(config, name)
            .map_err(Error::io(Phase::Control))
    }

    /// Returns the control connection to clear text after `CCC`.
    pub(crate) fn stop_tls(&mut self) -> Result<()> {
        self.stream.downgrade().map_err(Error::io(Phase::Control))
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

    /// Reads a reply if one arrives within `wait`; `None` if none began.
    pub(crate) fn read_reply_within(&mut self, wait: std::time::Duration) -> Result<Option<Reply>> {
        if self.reader.has_pending() {
            return self.read_reply().map(Some);
        }
        let tcp = self.stream.tcp();
        let idle = tcp.read_timeout().map_err(Error::io(Phase::Control))?;
        tcp.set_read_timeout(Some(wait))
            .map_err(Error::io(Phase::Control))?;
        let result = self.read_reply();
        self.stream
            .tcp()
            .set_read_timeout(idle)
            .map_err(Error::io(Phase::Control))?;
        match result {
            Ok(reply) => Ok(Some(reply)),
            Err(e) if e.is_timeout() && !self.reader.has_pending() => Ok(None),
            Err(e) => Err(e),
        }
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
