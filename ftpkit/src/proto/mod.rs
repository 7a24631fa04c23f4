//! The sans-IO protocol core: everything ftpkit knows about FTP, with no
//! sockets, no files and no clock.
//!
//! Drivers (the blocking [`Client`](crate::Client)) feed it bytes and
//! replies and do what it asks. It publishes the wire types:
//!
//! - [`reply`]: reply codes, replies, the incremental [`ReplyReader`] and
//!   the [`ProtocolError`] of a reply that breaks the protocol;
//! - [`command`]: commands whose arguments cannot carry CR, LF or NUL;
//! - [`parse`]: parsers for 227, 229, 257, 150, 213 and FEAT replies;
//! - [`lines`]: line splitting for `TYPE A` data;
//! - [`hash`]: checksum commands and local hashing;
//! - [`reach`]: active-mode ports and advertised address, `LIST` time zones.
//!
//! Its machinery is crate-private: the session state machines (login,
//! data setup, abort), `resume` (retries, resume points, change detection
//! and verification for `download` and `upload`; its user-facing types are
//! exported at the crate root), `rules` (the decisions of single commands)
//! and the engine that runs whole operations.

pub mod command;
pub(crate) mod engine;
pub mod hash;
pub mod lines;
pub mod parse;
pub mod reach;
pub mod reply;
pub(crate) mod resume;
pub(crate) mod rules;
pub(crate) mod session;

pub use command::{
    Arg, Command, MAX_ARG_LEN, Protection, Secret, TransferType, format_eprt, format_port,
};
pub use lines::{LineSplitter, to_crlf_line};
pub use parse::{
    Features, parse_150, parse_227, parse_229, parse_257, parse_mdtm, parse_size, parse_timeval,
};
pub use reply::{ProtocolError, Reply, ReplyClass, ReplyCode, ReplyLimits, ReplyReader};
pub use session::DataMode;
pub(crate) use session::{
    Abort, AbortStep, DataRequest, DataSetup, DataStep, Expect, Login, Session, Step, expect,
    finish_transfer,
};
