//! The streaming methods of [`Client`] (listings, `get`/`put`, readers
//! and writers, the `retrieve`/`store` builders): the list both drivers
//! expand (`crate::driver`'s `client_data_api!`), over this driver's
//! readers, writers and entries.

client_data_api!(
    Client, DataReader, DataWriter, Entries, Retrieve, Store,
    write: [std::io::Write], read: [std::io::Read], lines: [std::io::BufRead], std::io::BufRead,
    [], []
);
