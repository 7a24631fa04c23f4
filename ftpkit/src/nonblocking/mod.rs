//! The async driver (feature `tokio`): [`AsyncClient`] over tokio and
//! tokio-rustls, the twin of the blocking [`Client`](crate::Client).
//!
//! It holds no protocol logic. Like the blocking driver it only moves
//! bytes and asks [`proto`](crate::proto) what to do: replies are read by
//! [`ReplyReader`](crate::proto::ReplyReader), commands are encoded by
//! [`Command`](crate::proto::Command), login, data setup (EPSV/PASV
//! fallback, the 227 address rule, `REST`) and abort are the core's
//! [`Login`](crate::proto::Login), [`DataSetup`](crate::proto::DataSetup)
//! and [`Abort`](crate::proto::Abort) machines, and every single-command
//! decision (greeting, anonymous defaults, `CDUP` fallback, size checks,
//! listing choice, which hosts may open an active-mode connection) is a
//! function of [`proto::rules`](crate::proto::rules). TLS settings come
//! from [`tls`](crate::tls), with the same per-client session cache, so
//! data connections resume the control connection's session.
//!
//! The modules mirror the blocking driver's: `client` (commands), `control`
//! (the control connection), `net` (sockets), `stream` (plain or TLS),
//! `transfer` (readers, writers, builders), `listing` (typed entries) and
//! `files` (verified, resumable `download` and `upload`, whose plan is the
//! core's [`proto::resume`](crate::proto::resume)).
//! Every socket operation runs under [`Config::timeout`](crate::Config::timeout)
//! through `tokio::time`. What a dropped future leaves behind is described
//! on [`AsyncClient`].

mod client;
mod files;
mod io;
mod listing;
mod net;
mod stream;
mod transfer;

pub use client::AsyncClient;
pub use files::{AsyncFileDownload, AsyncFileUpload};
pub use listing::AsyncEntries;
pub use transfer::{
    AsyncDataReader, AsyncDataWriter, AsyncRetrieve, AsyncStore, AsyncTransfer, Download, Upload,
};
