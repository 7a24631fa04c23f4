//! The blocking [`Client`]: ftplib's `FTP` over `std::net`. Its methods
//! are the shared lists of `crate::api` and `crate::driver`, run by
//! [`drive`]; the driver adds only its readers, writers and sockets.

use super::{
    io::{Io, drive},
    stream::{Socket, Stream},
};

pub use crate::proto::rules::DEFAULT_PORT;

/// A blocking FTP client: one control connection, one command at a time.
///
/// Each method's documentation names its ftplib counterpart. Dropping a
/// client closes its connection at once, without waiting on the server;
/// call [`Client::quit`] to say goodbye politely.
#[derive(Debug)]
pub struct Client {
    pub(crate) core: Core,
    pub(crate) io: Io,
}

client_api!(Client, drive, over: [std::io::Read + std::io::Write + Send + 'static], [], []);
