//! Listings as a [`Stream`] of typed entries, parsed line by line as the
//! data arrives; the format and its parser come from
//! [`rules::ListingFormat`].

use std::{
    pin::Pin,
    task::{Context, Poll},
    time::SystemTime,
};

use futures_core::Stream;

use super::{client::AsyncClient, transfer::AsyncDataReader};
use crate::{
    error::Result,
    list::Entry,
    proto::{
        Command, Expect, LineSplitter, TransferType, expect,
        rules::{self, ListingFormat},
    },
};

/// A stream of the entries of a directory listing; see
/// [`AsyncClient::list_entries`]. The transfer completes (the server's
/// final reply is read) when the stream ends. Dropped early, the client's
/// next call aborts the transfer. A line no parser recognises is an entry
/// of unknown kind with its raw text; after an error the stream ends.
#[derive(Debug)]
pub struct AsyncEntries<'c> {
    reader: AsyncDataReader<'c>,
    splitter: LineSplitter,
    buf: Vec<u8>,
    format: ListingFormat,
    now: SystemTime,
    offset: i32,
    ended: bool,
    failed: bool,
}

impl AsyncEntries<'_> {
    /// The command the entries come from.
    pub fn format(&self) -> ListingFormat {
        self.format
    }

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
        if this.failed {
            return Poll::Ready(None);
        }
        let (format, now, offset) = (this.format, this.now, this.offset);
        loop {
            match this.splitter.next_line() {
                Ok(Some(line)) => match format.parse_with_offset(line, now, offset) {
                    Some(entry) => return Poll::Ready(Some(Ok(entry))),
                    None => continue,
                },
                Ok(None) => {}
                Err(e) => {
                    // The open transfer is aborted by the client's next call.
                    this.failed = true;
                    return Poll::Ready(Some(Err(e.into())));
                }
            }
            if this.ended {
                return Poll::Ready(
                    this.splitter
                        .finish()
                        .and_then(|l| format.parse_with_offset(l, now, offset))
                        .map(Ok),
                );
            }
            match this.reader.poll_read_data(cx, &mut this.buf) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(0)) => this.ended = true,
                Poll::Ready(Ok(n)) => this.splitter.feed(this.buf.get(..n).unwrap_or_default()),
                Poll::Ready(Err(e)) => {
                    this.failed = true;
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
    }
}

impl AsyncClient {
    /// The entries of a directory (an empty path: the working directory),
    /// typed and streamed: `MLSD` when FEAT lists it, `LIST` otherwise, as
    /// the core's `rules::listing_command` decides.
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
    pub async fn list_entries(&mut self, path: impl AsRef<[u8]>) -> Result<AsyncEntries<'_>> {
        let arg = rules::optional_path(path.as_ref())?;
        let (format, command) = rules::listing_command(self.features().await?, arg);
        if format == ListingFormat::List && self.core.wants_offset_probe() {
            self.learn_list_time_offset(path.as_ref()).await?;
        }
        self.entries_from(command, format).await
    }

    /// One entry, typed: from `MLST` when FEAT lists it, else the first
    /// entry of a `LIST` of the path.
    pub async fn stat(&mut self, path: impl AsRef<[u8]>) -> Result<Option<Entry>> {
        let arg = rules::optional_path(path.as_ref())?;
        if rules::stat_uses_mlst(self.features().await?) {
            let command = Command::Mlst(arg);
            let reply = expect(&command, self.exchange(&command).await?, Expect::Completion)?;
            return Ok(rules::mlst_entry(&reply));
        }
        let entries = self
            .entries_from(Command::List(arg), ListingFormat::List)
            .await?;
        Ok(entries.collect_all().await?.into_iter().next())
    }

    /// The typed entries of a `LIST`, whatever the server's features.
    pub async fn list_entries_from_list(
        &mut self,
        path: impl AsRef<[u8]>,
    ) -> Result<AsyncEntries<'_>> {
        let arg = rules::optional_path(path.as_ref())?;
        if self.core.wants_offset_probe() {
            self.learn_list_time_offset(path.as_ref()).await?;
        }
        self.entries_from(Command::List(arg), ListingFormat::List)
            .await
    }

    async fn entries_from(
        &mut self,
        command: Command,
        format: ListingFormat,
    ) -> Result<AsyncEntries<'_>> {
        let max_line = self.core.config.max_data_line;
        let offset = self.core.list_offset();
        let reader = self.open_reader(command, TransferType::Ascii, None).await?;
        Ok(AsyncEntries {
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
