//! Listings as a [`Stream`] of typed entries, parsed line by line as the
//! data arrives by the shared `EntryLines` (`crate::driver`, where the
//! struct and its `format` are written once).

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use futures_core::Stream;

use crate::{driver::Parsed, error::Result, list::Entry};

entries!(
    /// A stream of the entries of a directory listing; see
    /// [`AsyncClient::list_entries`](super::AsyncClient::list_entries). The
    /// transfer completes (the server's final reply is read) when the stream
    /// ends. Dropped early, the client's next call aborts the transfer. A line
    /// no parser recognises is an entry of unknown kind with its raw text;
    /// after an error the stream ends.
    ///
    /// ```no_run
    /// # async fn run(ftp: &mut ftpkit::AsyncClient) -> ftpkit::Result<()> {
    /// let mut entries = ftp.list_entries("pub").await?;
    /// while let Some(entry) = entries.next_entry().await {
    ///     let entry = entry?;
    ///     println!("{} {:?} {:?}", entry.name, entry.kind, entry.size);
    /// }
    /// # Ok(()) }
    /// ```
    AsyncEntries,
    AsyncDataReader
);

impl AsyncEntries<'_> {
    /// The next entry, or `None` at the end (without a `StreamExt` import).
    pub async fn next_entry(&mut self) -> Option<Result<Entry>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// Every remaining entry, or the first error.
    pub async fn collect_all(mut self) -> Result<Vec<Entry>> {
        let mut all = Vec::new();
        while let Some(entry) = self.next_entry().await {
            all.push(entry?);
        }
        Ok(all)
    }
}

impl Stream for AsyncEntries<'_> {
    type Item = Result<Entry>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Entry>>> {
        let this = self.get_mut();
        loop {
            // After a bad line, the open transfer is aborted by the
            // client's next call.
            match this.lines.next() {
                Parsed::Item(item) => return Poll::Ready(item),
                Parsed::NeedData => match this.reader.poll_read_data(cx, this.lines.buf()) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(read) => {
                        if let Some(e) = this.lines.fed(read) {
                            return Poll::Ready(Some(Err(e)));
                        }
                    }
                },
            }
        }
    }
}
