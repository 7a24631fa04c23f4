//! The async driver (feature `tokio`): [`AsyncClient`] over tokio, the
//! twin of the blocking [`Client`](crate::Client), with the same rustls
//! sessions (`crate::stream`).
//!
//! It holds no protocol logic. Every operation (connect, TLS, login, every
//! simple command, the setup of a transfer, abort, the `download` and
//! `upload` plans) is the core's (`proto::engine`); its public methods and
//! builders are the lists both drivers expand (`crate::api`,
//! `crate::driver`; `streaming` expands the streaming methods over this
//! driver's types, `io` the one `perform` over its sockets). What is here
//! is what async I/O makes its own: `io` (deadlines through
//! `tokio::time`), `transfer` (the `AsyncRead`/`AsyncWrite` polling glue
//! of the data reader and writer, whose decisions are the core's `flow`),
//! `files` (the bulk data path of a plan; its local file operations run
//! the shared `std::fs` code under `spawn_blocking`; a task per extra
//! connection of a segmented download), `listing` (the
//! entries stream), `pool` (waiting on a notifier), `net` and `stream`
//! (sockets, plain or TLS). What a dropped future leaves behind is
//! described on [`AsyncClient`].
//!
//! `net` resolves, connects and accepts; `stream` polls bytes between the
//! sockets and a TLS session, every TLS step being `crate::stream`'s.

// First: its `bounded!` serves `io` and `net`.
#[macro_use]
mod stream;
mod client;
mod files;
mod io;
mod listing;
mod net;
mod pool;
mod streaming;
mod transfer;

pub use client::AsyncClient;
pub use files::{AsyncFileDownload, AsyncFileUpload};
pub use listing::AsyncEntries;
pub use pool::{AsyncPool, PooledAsyncClient};
pub use transfer::{
    AsyncDataReader, AsyncDataWriter, AsyncRetrieve, AsyncStore, AsyncTransfer, Download, Upload,
};
