//! The blocking driver: [`Client`] over `std::net`, with idle timeouts on
//! every socket operation. All protocol decisions come from
//! [`proto`](crate::proto); this module only moves bytes.

mod client;
mod files;
mod io;
mod listing;
mod net;
mod stream;
mod transfer;

pub use client::{Client, DEFAULT_PORT};
pub use files::{FileDownload, FileUpload};
pub use listing::{Entries, ListingFormat};
pub use transfer::{DataReader, DataWriter, Download, Retrieve, Store, Transfer, Upload};
