//! Listings as a stream of typed entries, parsed line by line as the data
//! arrives: memory stays flat whatever the size of the directory.

use std::time::SystemTime;

use super::{Client, transfer::DataReader};
use crate::{
    error::Result,
    list::Entry,
    proto::{Command, Expect, LineSplitter, TransferType, expect, rules},
};

pub use crate::proto::rules::ListingFormat;

/// An iterator over the entries of a directory listing; see
/// [`Client::list_entries`]. The transfer completes (the server's final
/// reply is read) when the iterator ends; dropping it early aborts the
/// transfer. A line no parser recognises is an entry of unknown kind with
/// its raw text, never an error. After an error the iterator ends.
pub struct Entries<'c> {
    reader: DataReader<'c>,
    splitter: LineSplitter,
    buf: Vec<u8>,
    format: ListingFormat,
    now: SystemTime,
    offset: i32,
    ended: bool,
    failed: bool,
}

impl Entries<'_> {
    /// The command the entries come from.
    pub fn format(&self) -> ListingFormat {
        self.format
    }
}

impl Iterator for Entries<'_> {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        if self.failed {
            return None;
        }
        let (format, now, offset) = (self.format, self.now, self.offset);
        loop {
            match self.splitter.next_line() {
                Ok(Some(line)) => match format.parse_with_offset(line, now, offset) {
                    Some(entry) => return Some(Ok(entry)),
                    None => continue,
                },
                Ok(None) => {}
                Err(e) => {
                    self.failed = true;
                    self.reader.abort_quietly();
                    return Some(Err(e.into()));
                }
            }
            if self.ended {
                return format
                    .parse_with_offset(self.splitter.finish()?, now, offset)
                    .map(Ok);
            }
            match self.reader.read_data(&mut self.buf) {
                Ok(0) => self.ended = true,
                Ok(n) => self.splitter.feed(self.buf.get(..n).unwrap_or_default()),
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

impl Client {
    /// The entries of a directory (an empty path: the working directory),
    /// typed and streamed. Uses `MLSD` when the server's FEAT lists `MLST`
    /// (RFC 3659), `LIST` otherwise, with every common `LIST` format
    /// recognised line by line. The listed directory itself and its parent
    /// are left out.
    ///
    /// ```no_run
    /// # let mut ftp = ftpkit::Client::connect("localhost")?;
    /// for entry in ftp.list_entries("pub")? {
    ///     let entry = entry?;
    ///     println!("{} {:?} {:?}", entry.name, entry.kind, entry.size);
    /// }
    /// # Ok::<(), ftpkit::Error>(())
    /// ```
    pub fn list_entries(&mut self, path: impl AsRef<[u8]>) -> Result<Entries<'_>> {
        let arg = rules::optional_path(path.as_ref())?;
        let (format, command) = rules::listing_command(self.features()?, arg);
        if format == ListingFormat::List && self.core.wants_offset_probe() {
            self.learn_list_time_offset(path.as_ref())?;
        }
        self.entries_from(command, format)
    }

    /// One entry, typed: from `MLST` (over the control connection) when the
    /// server's FEAT lists it, else the first entry of a `LIST` of the path.
    /// `None` when the listing names nothing.
    pub fn stat(&mut self, path: impl AsRef<[u8]>) -> Result<Option<Entry>> {
        let arg = rules::optional_path(path.as_ref())?;
        if rules::stat_uses_mlst(self.features()?) {
            let command = Command::Mlst(arg);
            let reply = expect(&command, self.exchange(&command)?, Expect::Completion)?;
            return Ok(rules::mlst_entry(&reply));
        }
        let mut entries = self.entries_from(Command::List(arg), ListingFormat::List)?;
        let first = entries.next().transpose()?;
        // Read the rest so the transfer completes instead of being aborted.
        for entry in entries {
            entry?;
        }
        Ok(first)
    }

    /// The typed entries of a `LIST`, whatever the server's features
    /// (useful when a server's MLSD is broken).
    pub fn list_entries_from_list(&mut self, path: impl AsRef<[u8]>) -> Result<Entries<'_>> {
        let arg = rules::optional_path(path.as_ref())?;
        if self.core.wants_offset_probe() {
            self.learn_list_time_offset(path.as_ref())?;
        }
        self.entries_from(Command::List(arg), ListingFormat::List)
    }

    fn entries_from(&mut self, command: Command, format: ListingFormat) -> Result<Entries<'_>> {
        let max_line = self.core.config.max_data_line;
        let offset = self.core.list_offset();
        let reader = self.open_reader(command, TransferType::Ascii, None)?;
        Ok(Entries {
            reader,
            splitter: LineSplitter::new(max_line),
            buf: vec![0u8; 64 * 1024],
            format,
            now: SystemTime::now(),
            offset,
            ended: false,
            failed: false,
        })
    }
}
