//! The blocking driver: [`Client`] over `std::net`.
//!
//! It holds no protocol logic. Every operation (connect, TLS, login, every
//! simple command, the setup of a transfer, abort) is the core's
//! (`proto::engine`), and its public methods are the list both drivers
//! share; this module performs what an operation asks (`io`: sockets, TLS,
//! a socket timeout set from each deadline) and keeps what blocking I/O
//! makes its own: `transfer` (readers, writers, builders; `splice(2)` and
//! `sendfile(2)` on Linux), `listing` (typed entries), `files` (verified,
//! resumable `download` and `upload`, whose decisions are the core's
//! `proto::resume`), `pool` (the blocking half of
//! [`pool`](crate::pool)), `net` and `stream` (sockets, plain or TLS).

mod client;
mod files;
mod io;
mod listing;
pub(crate) mod net;
mod pool;
mod stream;
mod transfer;

pub use client::{Client, DEFAULT_PORT};
pub use files::{FileDownload, FileUpload};
pub use listing::{Entries, ListingFormat};
pub use pool::{Pool, PooledClient};
pub use transfer::{DataReader, DataWriter, Download, Retrieve, Store, Transfer, Upload};
