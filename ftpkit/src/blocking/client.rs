//! The blocking [`Client`]: ftplib's `FTP` over `std::net`. Its methods
//! are the shared list of `crate::api`, run by [`drive`]; what is here is
//! only what blocking I/O makes different (readers, writers, callbacks).

use std::io::BufRead;

use super::{
    io::{Io, drive},
    stream::Stream,
    transfer::{DataReader, DataWriter, Download, Retrieve, Store},
};
use crate::{
    error::{Error, Phase, Result},
    list::{MlsdEntry, parse_mlsd_line},
    name::Name,
    proto::{Arg, Command, DataRequest, LineSplitter, Reply, TransferType, rules, to_crlf_line},
};

pub use crate::proto::rules::DEFAULT_PORT;

/// A blocking FTP client: one control connection, one command at a time.
///
/// Each method's documentation names its ftplib counterpart. Dropping a
/// client closes its connection at once, without waiting on the server;
/// call [`Client::quit`] to say goodbye politely.
#[derive(Debug)]
pub struct Client {
    pub(crate) core: Core,
    pub(crate) io: Io,
}

client_api!(Client, drive, [], []);

impl Client {
    // ----- listings -----------------------------------------------------

    /// Names in a directory (`NLST`; an empty path lists the working
    /// directory). ftplib: `nlst()`.
    pub fn nlst(&mut self, path: impl AsRef<[u8]>) -> Result<Vec<Name>> {
        let mut names = Vec::new();
        self.lines_of(
            Command::Nlst(rules::optional_path(path.as_ref())?),
            |line| {
                names.push(Name::from(line));
            },
        )?;
        Ok(names)
    }

    /// The raw lines of a `LIST` (an empty path lists the working
    /// directory). ftplib: `dir()`.
    pub fn list(&mut self, path: impl AsRef<[u8]>) -> Result<Vec<Name>> {
        let mut lines = Vec::new();
        self.lines_of(
            Command::List(rules::optional_path(path.as_ref())?),
            |line| {
                lines.push(Name::from(line));
            },
        )?;
        Ok(lines)
    }

    /// A machine listing (`MLSD`, RFC 3659): each entry's name and facts.
    /// Lines that are not valid MLSD are skipped. ftplib: `mlsd(path)`.
    pub fn mlsd(&mut self, path: impl AsRef<[u8]>) -> Result<Vec<MlsdEntry>> {
        let mut entries = Vec::new();
        self.lines_of(
            Command::Mlsd(rules::optional_path(path.as_ref())?),
            |line| {
                if let Some(entry) = parse_mlsd_line(line) {
                    entries.push(entry);
                }
            },
        )?;
        Ok(entries)
    }

    /// Runs a raw transfer command in `TYPE A` and calls `callback` with
    /// each line, terminator removed (`"RETR notes.txt"`, `"LIST -a"`).
    /// ftplib: `retrlines(cmd, callback)`.
    pub fn retr_lines(&mut self, command: &str, callback: impl FnMut(&[u8])) -> Result<Reply> {
        self.lines_of(Command::raw(command)?, callback)
    }

    fn lines_of(&mut self, command: Command, mut callback: impl FnMut(&[u8])) -> Result<Reply> {
        let max_line = self.core.config.max_data_line;
        let mut reader = self.open_reader(command, TransferType::Ascii, None)?;
        let mut splitter = LineSplitter::new(max_line);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read_data(&mut buf)?;
            if n == 0 {
                break;
            }
            splitter.feed(buf.get(..n).unwrap_or_default());
            loop {
                match splitter.next_line() {
                    Ok(Some(line)) => callback(line),
                    Ok(None) => break,
                    Err(e) => {
                        reader.abort_quietly();
                        return Err(e.into());
                    }
                }
            }
        }
        if let Some(line) = splitter.finish() {
            callback(line);
        }
        reader.finish()
    }

    /// Uploads lines in `TYPE A`, each line's end sent as CRLF.
    /// ftplib: `storlines(cmd, fp)`.
    pub fn store_lines(
        &mut self,
        path: impl AsRef<[u8]>,
        mut lines: impl BufRead,
    ) -> Result<Reply> {
        let command = Command::Stor(Arg::path(path)?);
        let mut writer = self.open_writer(command, TransferType::Ascii, None)?;
        let mut line = Vec::new();
        let mut out = Vec::new();
        loop {
            line.clear();
            let n = match lines.read_until(b'\n', &mut line) {
                Ok(n) => n,
                Err(e) => {
                    writer.abort_quietly();
                    return Err(Error::io(Phase::Local)(e));
                }
            };
            if n == 0 {
                break;
            }
            out.clear();
            to_crlf_line(&line, &mut out);
            writer.write_data(&out)?;
        }
        writer.finish()
    }

    // ----- transfers ------------------------------------------------------

    /// Starts a download of `path` in binary mode; set options on the
    /// returned [`Retrieve`] and finish with `to_writer`, `for_each_chunk`
    /// or `reader`. ftplib: `retrbinary("RETR path", ...)`.
    pub fn retrieve(&mut self, path: impl AsRef<[u8]>) -> Retrieve<'_> {
        Retrieve::new(self, Arg::path(path), Download)
    }

    /// Starts an upload to `path` in binary mode; set options on the
    /// returned [`Store`] and finish with `from_reader` or `writer`.
    /// ftplib: `storbinary("STOR path", fp)`.
    pub fn store(&mut self, path: impl AsRef<[u8]>) -> Store<'_> {
        Store::upload(self, Arg::path(path))
    }

    /// Downloads `path` into `out` in binary mode and returns the byte count.
    /// ftplib: `retrbinary("RETR path", out.write)`.
    pub fn get<W: std::io::Write + ?Sized>(
        &mut self,
        path: impl AsRef<[u8]>,
        out: &mut W,
    ) -> Result<u64> {
        self.retrieve(path).to_writer(out)
    }

    /// Uploads everything `input` yields to `path` in binary mode (`STOR`)
    /// and returns the byte count. ftplib: `storbinary("STOR path", fp)`.
    pub fn put<R: std::io::Read + ?Sized>(
        &mut self,
        path: impl AsRef<[u8]>,
        input: &mut R,
    ) -> Result<u64> {
        self.store(path).from_reader(input)
    }

    /// Appends everything `input` yields to `path` (`APPE`).
    /// ftplib: `storbinary("APPE path", fp)`.
    pub fn append<R: std::io::Read + ?Sized>(
        &mut self,
        path: impl AsRef<[u8]>,
        input: &mut R,
    ) -> Result<u64> {
        self.store(path).append().from_reader(input)
    }

    /// Opens a data connection for a raw transfer command that sends data
    /// to the client, and returns a reader over it. ftplib:
    /// `transfercmd(cmd, rest)` / `ntransfercmd`.
    pub fn transfer_reader(
        &mut self,
        command: &str,
        ty: TransferType,
        rest: Option<u64>,
    ) -> Result<DataReader<'_>> {
        self.open_reader(Command::raw(command)?, ty, rest)
    }

    /// Opens a data connection for a raw transfer command that receives
    /// data from the client (`"STOU"`, `"APPE x"`), and returns a writer.
    pub fn transfer_writer(
        &mut self,
        command: &str,
        ty: TransferType,
        rest: Option<u64>,
    ) -> Result<DataWriter<'_>> {
        self.open_writer(Command::raw(command)?, ty, rest)
    }

    pub(crate) fn open_reader(
        &mut self,
        command: Command,
        ty: TransferType,
        rest: Option<u64>,
    ) -> Result<DataReader<'_>> {
        let (stream, announced) = self.open_data(DataRequest {
            command: command.clone(),
            transfer_type: ty,
            rest,
        })?;
        let expected = rules::expected_size(announced, ty, rest);
        Ok(DataReader::new(self, stream, command, announced, expected))
    }

    pub(crate) fn open_writer(
        &mut self,
        command: Command,
        ty: TransferType,
        rest: Option<u64>,
    ) -> Result<DataWriter<'_>> {
        let (stream, _) = self.open_data(DataRequest {
            command: command.clone(),
            transfer_type: ty,
            rest,
        })?;
        Ok(DataWriter::new(self, stream, command))
    }
}
