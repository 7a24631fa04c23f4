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

pub use detect::parse_list_line;
pub use dos::parse_dos;
pub use entry::{Entry, EntryKind, TimePrecision};
pub use eplf::parse_eplf;
pub use mlsd::{MlsdEntry, parse_mlsd_entry, parse_mlsd_line, parse_mlst_entry};
pub use unix::parse_unix;
pub use vms::parse_vms;
