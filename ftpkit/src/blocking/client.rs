//! The blocking [`Client`]: ftplib's `FTP` over `std::net`. Its methods
//! are the shared lists of `crate::api` and `crate::driver`, run by
//! [`drive`]; the driver adds only its readers, writers and sockets.

pub use crate::proto::rules::DEFAULT_PORT;

client_api!(
    /// A blocking FTP client: one control connection, one command at a time.
    ///
    /// Each method's documentation names its ftplib counterpart. Dropping a
    /// client closes its connection at once, without waiting on the server;
    /// call [`Client::quit`] to say goodbye politely.
    Client,
    over: [std::io::Read + std::io::Write + Send + 'static], [], []
);
