//! ftpkit: an FTP client with a sans-IO protocol core.
//!
//! ```no_run
//! use std::fs::File;
//!
//! let mut ftp = ftpkit::Client::connect("ftp.example.com:21")?;
//! ftp.login("user", "password")?;
//! ftp.put("remote_file.txt", &mut File::open("local_file.txt")?)?; // STOR
//! ftp.get("remote_file.txt", &mut File::create("downloaded_file.txt")?)?; // RETR
//! ftp.quit()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The crate is in layers:
//!
//! - [`proto`]: the protocol core. It parses replies, encodes commands and
//!   decides what to send next, and it does no I/O. Whole operations
//!   (connect, login, commands, transfer setup, abort, the `download` and
//!   `upload` plans) run there as resumable state machines that ask a
//!   driver for actions (send, read, connect, move data, sleep until) and
//!   take back what happened, with the time.
//! - [`blocking`]: the driver over `std::net`, re-exported at the root as
//!   [`Client`]; it only performs what the core asks.
//! - `tokio` (feature `tokio`): the async driver over tokio,
//!   re-exported at the root as `AsyncClient`; it runs the same operations.
//! - [`pool`]: connection pools (blocking, and async with `tokio`) with
//!   one shared policy.
//! - [`list`]: listing parsers.
//! - [`url`]: `ftp://`, `ftpes://` and `ftps://` URLs ([`url::FtpUrl`]).
//! - [`tls`]: FTPS settings, trust, pinning and known hosts.
//! - [`date`]: UTC calendar dates, with no clock.
//!
//! [`proto`] publishes the wire types: replies and reply codes, commands
//! and their checked arguments, FEAT features, reply parsers, checksum
//! commands and line splitting for `TYPE A`. The machinery that decides
//! whole operations stays inside the crate; its results (a
//! [`TransferReport`], a [`RetryPolicy`], ...) are exported here.
//!
//! # Downloading: which call
//!
//! Each word means one thing, on [`Client`] and `AsyncClient` alike (and
//! the upload words mirror them: `put`, `store`, `upload`,
//! `transfer_writer`, `store_lines`):
//!
//! | call | what it does |
//! | --- | --- |
//! | [`get(path, &mut writer)`](Client::get) | streams one file to a writer (`RETR`, binary), returns the byte count |
//! | [`retrieve(path)`](Client::retrieve) | the same `RETR` with options (`rest`, block size, progress), ending in `to_writer`, `for_each_chunk` or `reader` |
//! | [`download(remote, local)`](Client::download) | a file plan: local `.part` file, retries, reconnects, resume, size and hash verification, file time, rename when verified |
//! | [`transfer_reader(command, type, rest)`](Client::transfer_reader) | a raw reader over the data connection of any command (ftplib's `transfercmd`) |
//! | [`retr_lines(command, callback)`](Client::retr_lines) | any command's data in `TYPE A`, one line at a time (ftplib's `retrlines`; `LIST` as well as `RETR`) |
//!
//! `get`, `retrieve` and `transfer_reader` write nothing to disk and never
//! retry: a failure is returned as it happened. Only `download` touches
//! local files, and it is the one to use for a file that must arrive whole.
//!
//! Safe defaults: passive mode, the 227 address ignored in favour of the
//! control peer (CVE-2021-4189), every argument checked for CR, LF and NUL
//! before anything is sent, passwords never in `Debug`, `Display` or traces,
//! bounded reply sizes, and an idle timeout on every socket operation.

#![deny(missing_docs)]

#[macro_use]
mod setters;
#[macro_use]
mod api;
#[macro_use]
mod driver;
#[macro_use]
mod stream;

pub mod block;
pub mod blocking;
mod charset;
mod config;
pub mod date;
mod error;
pub mod list;
mod local;
mod name;
pub mod pool;
pub mod proto;
pub mod proxy;
mod redact;
#[cfg(target_os = "linux")]
mod splice;
pub mod tls;
#[cfg(feature = "tokio")]
pub mod tokio;
pub mod url;

#[cfg(feature = "tokio")]
pub use self::tokio::{AsyncClient, AsyncDataReader, AsyncDataWriter, AsyncEntries};
pub use blocking::{
    Client, DataReader, DataWriter, Entries, FileDownload, FileUpload, Retrieve, Store,
};
pub use charset::{Charset, Unwritable};
pub use config::{Config, ListTimeOffset};
pub use error::{Deadline, Error, InvalidInput, Phase, ProtocolError, Result};
pub use list::{Entry, EntryKind, MlsdEntry, TimePrecision};
pub use name::Name;
pub use proto::{
    DataMode, Features, Protection, Reply, ReplyCode, TransferType,
    hash::HashAlgorithm,
    resume::{
        RemoteStat, RetryPolicy, TransferOptions, TransferReport, Verified, Verify, VerifyError,
        part_path,
    },
};
pub use tls::{
    CertificateInfo, CertificateProblem, CertificateRejected, KnownHosts, TlsConfig, TlsMode,
    TlsVersion,
};
