//! Directory listings.
//!
//! [`mlsd`] parses machine listings (RFC 3659) into a name and its facts.

pub mod mlsd;

pub use mlsd::{MlsdEntry, parse_mlsd_line};
