//! The async driver (feature `tokio`): [`AsyncClient`] over tokio and
//! tokio-rustls, the twin of the blocking [`Client`](crate::Client).
//!
//! It holds no protocol logic. Every operation (connect, TLS, login, every
//! simple command, the setup of a transfer, abort) is the core's
//! (`proto::engine`), and its public methods are the list both drivers
//! share; this module performs what an operation asks (`io`: sockets, TLS,
//! deadlines through `tokio::time`) and keeps what async I/O makes its own:
//! `transfer` (readers, writers, builders), `listing` (typed entries),
//! `files` (verified, resumable `download` and `upload`, whose decisions
//! are the core's `proto::resume`), `pool` (the
//! async half of [`pool`](crate::pool)), `net` and `stream` (sockets, plain
//! or TLS). What a dropped future leaves behind is described on
//! [`AsyncClient`].

mod client;
mod files;
mod io;
mod listing;
mod net;
mod pool;
mod stream;
mod transfer;

pub use client::AsyncClient;
pub use files::{AsyncFileDownload, AsyncFileUpload};
pub use listing::AsyncEntries;
pub use pool::{AsyncPool, PooledAsyncClient};
pub use transfer::{
    AsyncDataReader, AsyncDataWriter, AsyncRetrieve, AsyncStore, AsyncTransfer, Download, Upload,
};
