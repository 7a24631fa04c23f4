//! Directory listings, typed: [`Entry`] from MLSD/MLST facts (RFC 3659) or
//! from any common `LIST` format, chosen line by line with no configuration.
//!
//! Every parser works on one line of bytes, does no I/O and never panics;
//! [`Client::list_entries`](crate::Client::list_entries) streams them over
//! the data connection.

mod detect;
mod dos;
mod entry;
mod eplf;
pub mod mlsd;
mod unix;
mod vms;

use std::time::SystemTime;

pub use detect::parse_list_line;
pub use dos::parse_dos;
pub use entry::{Entry, EntryKind, TimePrecision};
pub use eplf::parse_eplf;
pub use mlsd::{MlsdEntry, parse_mlsd_entry, parse_mlsd_line, parse_mlst_entry};
pub use unix::parse_unix;
pub use vms::parse_vms;

/// Which listing command produced the lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListingFormat {
    /// `MLSD` (RFC 3659): machine-readable facts.
    Mlsd,
    /// `LIST`: whatever the server's `ls` prints, parsed per line.
    List,
}

impl ListingFormat {
    /// Parses one line of a listing in this format; `None` for lines that
    /// name no entry (the listed directory itself and its parent, blanks).
    pub fn parse(self, line: &[u8], now: SystemTime) -> Option<Entry> {
        match self {
            ListingFormat::Mlsd => parse_mlsd_entry(line),
            ListingFormat::List => parse_list_line(line, now),
        }
    }
}
