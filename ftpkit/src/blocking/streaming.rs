//! The streaming methods of [`Client`] (listings, `get`/`put`, readers
//! and writers, the `retrieve`/`store` builders): the list both drivers
//! expand (`crate::driver`'s `client_data_api!`), over this driver's
//! readers, writers and entries.

use super::{
    client::Client,
    listing::Entries,
    transfer::{DataReader, DataWriter, Download, Retrieve, Store, Upload},
};

client_data_api!(
    Client, DataReader, DataWriter, Entries, Retrieve, Store,
    write: [std::io::Write], read: [std::io::Read], lines: [std::io::BufRead], std::io::BufRead,
    [], []
);
