//! The blocking driver: [`Client`] over `std::net`.
//!
//! It holds no protocol logic. Every operation (connect, TLS, login, every
//! simple command, the setup of a transfer, abort, the `download` and
//! `upload` plans) is the core's (`proto::engine`); its public methods and
//! builders are the lists both drivers expand (`crate::api`,
//! `crate::driver`; `streaming` expands the streaming methods over this
//! driver's types, `io` the one `perform` over its sockets). What is here
//! is what blocking I/O makes its own: `io` (a socket timeout set from
//! each deadline), `transfer` (the `Read`/`Write`
//! glue of the data reader and writer, whose decisions are the core's
//! `flow`; `sendfile(2)` from a file), `files` (the bulk data path of a
//! plan: `splice(2)` and `sendfile(2)` on Linux; a thread per extra
//! connection of a segmented download), `listing` (the entries
//! iterator), `pool` (waiting on a condition variable), `net` and `stream`
//! (sockets, plain or TLS).
//!
//! `net` resolves, connects and accepts; `stream` moves bytes between the
//! sockets and a TLS session, every TLS step being `crate::stream`'s.

// First: its `bounded!` serves `io` and `net`.
#[macro_use]
mod stream;
mod client;
mod files;
mod io;
mod listing;
pub(crate) mod net;
mod pool;
mod streaming;
mod transfer;

pub use client::{Client, DEFAULT_PORT};
pub use files::{FileDownload, FileUpload};
pub use listing::{Entries, ListingFormat};
pub use pool::{Pool, PooledClient};
pub use transfer::{DataReader, DataWriter, Download, Retrieve, Store, Transfer, Upload};
