//! Listings as an iterator of typed entries, parsed line by line as the
//! data arrives by the shared `EntryLines` (`crate::driver`, where the
//! struct and its `format` are written once).

use crate::{driver::Parsed, error::Result, list::Entry};

pub use crate::proto::rules::ListingFormat;

entries!(
    /// An iterator over the entries of a directory listing; see
    /// [`Client::list_entries`](super::Client::list_entries). The transfer
    /// completes (the server's final reply is read) when the iterator ends;
    /// dropping it early aborts the transfer. A line no parser recognises is
    /// an entry of unknown kind with its raw text, never an error. After an
    /// error the iterator ends.
    ///
    /// ```no_run
    /// # let mut ftp = ftpkit::Client::connect("localhost")?;
    /// for entry in ftp.list_entries("pub")? {
    ///     let entry = entry?;
    ///     println!("{} {:?} {:?}", entry.name, entry.kind, entry.size);
    /// }
    /// # Ok::<(), ftpkit::Error>(())
    /// ```
    Entries,
    DataReader
);

impl Entries<'_> {
    pub(crate) fn next_entry(&mut self) -> Option<Result<Entry>> {
        self.next()
    }
}

impl Iterator for Entries<'_> {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        loop {
            match self.lines.next() {
                Parsed::Item(item) => {
                    if matches!(item, Some(Err(_))) {
                        self.reader.abort_quietly();
                    }
                    return item;
                }
                Parsed::NeedData => {
                    let read = self.reader.read_data(self.lines.buf());
                    if let Some(e) = self.lines.fed(read) {
                        return Some(Err(e));
                    }
                }
            }
        }
    }
}
