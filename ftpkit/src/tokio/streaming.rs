//! The streaming methods of [`AsyncClient`] (listings, `get`/`put`,
//! readers and writers, the `retrieve`/`store` builders): the list both
//! drivers expand (`crate::driver`'s `client_data_api!`), over this
//! driver's readers, writers and entries.

client_data_api!(
    AsyncClient, AsyncDataReader, AsyncDataWriter, AsyncEntries, AsyncRetrieve, AsyncStore,
    write: [tokio::io::AsyncWrite + Unpin], read: [tokio::io::AsyncRead + Unpin],
    lines: [tokio::io::AsyncBufRead + Unpin], tokio::io::AsyncBufReadExt,
    [async], [.await]
);
