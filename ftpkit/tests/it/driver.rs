//! The drivers the shared scenarios run on: what a scenario needs of a
//! client, as a trait implemented by the blocking [`Client`] and, with the
//! `tokio` feature, by the async client run on a tokio runtime. A scenario
//! written against [`Ftp`] runs unchanged on both.

use std::{io::Read, path::Path, time::SystemTime};

use ftpkit::{
    Client, Config, Entry, MlsdEntry, Name, Reply, Result, TransferReport, proto::hash::HashCommand,
};

/// Which client runs a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    /// `ftpkit::Client`.
    Blocking,
    /// `ftpkit::AsyncClient` on a tokio runtime.
    #[cfg(feature = "tokio")]
    Async,
}

impl Driver {
    /// Connects with this driver.
    pub fn connect(self, addr: &str, config: Config) -> Result<Box<dyn Ftp>> {
        match self {
            Driver::Blocking => Ok(Box::new(Client::connect_with(addr, config)?)),
            #[cfg(feature = "tokio")]
            Driver::Async => Ok(Box::new(asynchronous::AsyncFtp::connect(addr, config)?)),
        }
    }
}

/// What the scenarios do with a client.
pub trait Ftp {
    fn login(&mut self, user: &str, pass: &str) -> Result<Reply>;
    fn pwd(&mut self) -> Result<Name>;
    fn mkd(&mut self, path: &str) -> Result<Name>;
    fn cwd(&mut self, path: &str) -> Result<Reply>;
    fn rmd(&mut self, path: &str) -> Result<Reply>;
    fn delete(&mut self, path: &str) -> Result<Reply>;
    fn rename(&mut self, from: &str, to: &str) -> Result<Reply>;
    fn size(&mut self, path: &str) -> Result<u64>;
    fn mdtm(&mut self, path: &str) -> Result<SystemTime>;
    fn noop(&mut self) -> Result<Reply>;
    fn quit(self: Box<Self>) -> Result<Reply>;
    /// `STOR` of `data`.
    fn put(&mut self, path: &str, data: &[u8]) -> Result<u64>;
    /// `APPE` of `data`.
    fn append(&mut self, path: &str, data: &[u8]) -> Result<u64>;
    /// `REST` + `STOR` of `data` at `offset`.
    fn put_rest(&mut self, path: &str, offset: u64, data: &[u8]) -> Result<u64>;
    /// `RETR` into memory.
    fn get(&mut self, path: &str) -> Result<Vec<u8>>;
    /// `REST` + `RETR`, appended to `out`.
    fn get_rest(&mut self, path: &str, offset: u64, out: &mut Vec<u8>) -> Result<u64>;
    /// Reads a file through the streaming reader to its end; the data and
    /// the final reply.
    fn stream_to_end(&mut self, path: &str) -> Result<(Vec<u8>, Reply)>;
    /// Reads exactly `n` bytes through the streaming reader, then aborts.
    fn read_part_then_abort(&mut self, path: &str, n: usize) -> Result<Vec<u8>>;
    fn nlst(&mut self, path: &str) -> Result<Vec<Name>>;
    fn list(&mut self, path: &str) -> Result<Vec<Name>>;
    fn mlsd(&mut self, path: &str) -> Result<Vec<MlsdEntry>>;
    /// Typed entries: `list_entries`, or `list_entries_from_list` if `from_list`.
    fn list_entries(&mut self, path: &str, from_list: bool) -> Result<Vec<Entry>>;
    fn cdup(&mut self) -> Result<Reply>;
    /// Whether FEAT offers a checksum command the client can use.
    fn hash_offered(&mut self) -> Result<bool>;
    /// `upload(local, remote).temp_name(true).run()`.
    fn upload_via_temp_name(&mut self, local: &Path, remote: &str) -> Result<TransferReport>;
    /// `download(remote, local).run()`.
    fn download(&mut self, local: &Path, remote: &str) -> Result<TransferReport>;
    /// `download(remote, local).followed_by(next).run()`; `fresh`: with
    /// no resume and no kept time (no `MDTM`, and no `SIZE` once the
    /// server's `150` was seen to state sizes).
    fn download_then(
        &mut self,
        local: &Path,
        remote: &str,
        next: &str,
        fresh: bool,
    ) -> Result<TransferReport>;
    /// `download` over `n` connections (`segments(n)`).
    fn download_segments(&mut self, local: &Path, remote: &str, n: u16) -> Result<TransferReport>;
}

fn io_error(e: std::io::Error) -> ftpkit::Error {
    match e
        .into_inner()
        .map(|inner| inner.downcast::<ftpkit::Error>())
    {
        Some(Ok(inner)) => *inner,
        _ => ftpkit::Error::Unusable,
    }
}

impl Ftp for Client {
    fn login(&mut self, user: &str, pass: &str) -> Result<Reply> {
        Client::login(self, user, pass)
    }
    fn pwd(&mut self) -> Result<Name> {
        Client::pwd(self)
    }
    fn mkd(&mut self, path: &str) -> Result<Name> {
        Client::mkd(self, path)
    }
    fn cwd(&mut self, path: &str) -> Result<Reply> {
        Client::cwd(self, path)
    }
    fn rmd(&mut self, path: &str) -> Result<Reply> {
        Client::rmd(self, path)
    }
    fn delete(&mut self, path: &str) -> Result<Reply> {
        Client::delete(self, path)
    }
    fn rename(&mut self, from: &str, to: &str) -> Result<Reply> {
        Client::rename(self, from, to)
    }
    fn size(&mut self, path: &str) -> Result<u64> {
        Client::size(self, path)
    }
    fn mdtm(&mut self, path: &str) -> Result<SystemTime> {
        Client::mdtm(self, path)
    }
    fn noop(&mut self) -> Result<Reply> {
        Client::noop(self)
    }
    fn quit(self: Box<Self>) -> Result<Reply> {
        Client::quit(*self)
    }
    fn put(&mut self, path: &str, mut data: &[u8]) -> Result<u64> {
        Client::put(self, path, &mut data)
    }
    fn append(&mut self, path: &str, mut data: &[u8]) -> Result<u64> {
        Client::append(self, path, &mut data)
    }
    fn put_rest(&mut self, path: &str, offset: u64, mut data: &[u8]) -> Result<u64> {
        self.store(path).rest(offset).from_reader(&mut data)
    }
    fn get(&mut self, path: &str) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        Client::get(self, path, &mut out)?;
        Ok(out)
    }
    fn get_rest(&mut self, path: &str, offset: u64, out: &mut Vec<u8>) -> Result<u64> {
        self.retrieve(path).rest(offset).to_writer(out)
    }
    fn stream_to_end(&mut self, path: &str) -> Result<(Vec<u8>, Reply)> {
        let mut reader = self.retrieve(path).reader()?;
        let mut data = Vec::new();
        reader.read_to_end(&mut data).map_err(io_error)?;
        Ok((data, reader.finish()?))
    }
    fn read_part_then_abort(&mut self, path: &str, n: usize) -> Result<Vec<u8>> {
        let mut reader = self.retrieve(path).reader()?;
        let mut part = vec![0u8; n];
        reader.read_exact(&mut part).map_err(io_error)?;
        reader.abort()?;
        Ok(part)
    }
    fn nlst(&mut self, path: &str) -> Result<Vec<Name>> {
        Client::nlst(self, path)
    }
    fn list(&mut self, path: &str) -> Result<Vec<Name>> {
        Client::list(self, path)
    }
    fn mlsd(&mut self, path: &str) -> Result<Vec<MlsdEntry>> {
        Client::mlsd(self, path)
    }
    fn list_entries(&mut self, path: &str, from_list: bool) -> Result<Vec<Entry>> {
        if from_list {
            self.list_entries_from_list(path)?.collect()
        } else {
            Client::list_entries(self, path)?.collect()
        }
    }
    fn cdup(&mut self) -> Result<Reply> {
        Client::cdup(self)
    }
    fn hash_offered(&mut self) -> Result<bool> {
        Ok(HashCommand::choose(self.features()?).is_some())
    }
    fn upload_via_temp_name(&mut self, local: &Path, remote: &str) -> Result<TransferReport> {
        self.upload(local, remote).temp_name(true).run()
    }
    fn download(&mut self, local: &Path, remote: &str) -> Result<TransferReport> {
        Client::download(self, remote, local).run()
    }
    fn download_then(
        &mut self,
        local: &Path,
        remote: &str,
        next: &str,
        fresh: bool,
    ) -> Result<TransferReport> {
        Client::download(self, remote, local)
            .resume(!fresh)
            .preserve_mtime(!fresh)
            .followed_by(next)
            .run()
    }
    fn download_segments(&mut self, local: &Path, remote: &str, n: u16) -> Result<TransferReport> {
        Client::download(self, remote, local).segments(n).run()
    }
}

#[cfg(feature = "tokio")]
pub mod asynchronous {
    //! The async client behind the [`Ftp`] trait: each call is one
    //! `block_on` of the async method on a runtime of its own.

    use std::{path::Path, time::SystemTime};

    use ftpkit::{
        AsyncClient, Config, Entry, MlsdEntry, Name, Reply, Result, TransferReport,
        proto::hash::HashCommand,
    };
    use tokio::{io::AsyncReadExt, runtime::Runtime};

    use super::{Ftp, io_error};

    /// A runtime for one test's async clients.
    pub fn runtime() -> Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// An [`AsyncClient`] and the runtime that drives it.
    pub struct AsyncFtp {
        rt: Runtime,
        client: AsyncClient,
    }

    impl AsyncFtp {
        /// Connects on a runtime of its own.
        pub fn connect(addr: &str, config: Config) -> Result<AsyncFtp> {
            let rt = runtime();
            let client = rt.block_on(AsyncClient::connect_with(addr, config))?;
            Ok(AsyncFtp { rt, client })
        }
    }

    impl Ftp for AsyncFtp {
        fn login(&mut self, user: &str, pass: &str) -> Result<Reply> {
            self.rt.block_on(self.client.login(user, pass))
        }
        fn pwd(&mut self) -> Result<Name> {
            self.rt.block_on(self.client.pwd())
        }
        fn mkd(&mut self, path: &str) -> Result<Name> {
            self.rt.block_on(self.client.mkd(path))
        }
        fn cwd(&mut self, path: &str) -> Result<Reply> {
            self.rt.block_on(self.client.cwd(path))
        }
        fn rmd(&mut self, path: &str) -> Result<Reply> {
            self.rt.block_on(self.client.rmd(path))
        }
        fn delete(&mut self, path: &str) -> Result<Reply> {
            self.rt.block_on(self.client.delete(path))
        }
        fn rename(&mut self, from: &str, to: &str) -> Result<Reply> {
            self.rt.block_on(self.client.rename(from, to))
        }
        fn size(&mut self, path: &str) -> Result<u64> {
            self.rt.block_on(self.client.size(path))
        }
        fn mdtm(&mut self, path: &str) -> Result<SystemTime> {
            self.rt.block_on(self.client.mdtm(path))
        }
        fn noop(&mut self) -> Result<Reply> {
            self.rt.block_on(self.client.noop())
        }
        fn quit(self: Box<Self>) -> Result<Reply> {
            let AsyncFtp { rt, client } = *self;
            rt.block_on(client.quit())
        }
        fn put(&mut self, path: &str, mut data: &[u8]) -> Result<u64> {
            self.rt.block_on(self.client.put(path, &mut data))
        }
        fn append(&mut self, path: &str, mut data: &[u8]) -> Result<u64> {
            self.rt.block_on(self.client.append(path, &mut data))
        }
        fn put_rest(&mut self, path: &str, offset: u64, mut data: &[u8]) -> Result<u64> {
            self.rt
                .block_on(self.client.store(path).rest(offset).from_reader(&mut data))
        }
        fn get(&mut self, path: &str) -> Result<Vec<u8>> {
            let mut out = Vec::new();
            self.rt.block_on(self.client.get(path, &mut out))?;
            Ok(out)
        }
        fn get_rest(&mut self, path: &str, offset: u64, out: &mut Vec<u8>) -> Result<u64> {
            self.rt
                .block_on(self.client.retrieve(path).rest(offset).to_writer(out))
        }
        fn stream_to_end(&mut self, path: &str) -> Result<(Vec<u8>, Reply)> {
            self.rt.block_on(async {
                let mut reader = self.client.retrieve(path).reader().await?;
                let mut data = Vec::new();
                reader.read_to_end(&mut data).await.map_err(io_error)?;
                Ok((data, reader.finish().await?))
            })
        }
        fn read_part_then_abort(&mut self, path: &str, n: usize) -> Result<Vec<u8>> {
            self.rt.block_on(async {
                let mut reader = self.client.retrieve(path).reader().await?;
                let mut part = vec![0u8; n];
                reader.read_exact(&mut part).await.map_err(io_error)?;
                reader.abort().await?;
                Ok(part)
            })
        }
        fn nlst(&mut self, path: &str) -> Result<Vec<Name>> {
            self.rt.block_on(self.client.nlst(path))
        }
        fn list(&mut self, path: &str) -> Result<Vec<Name>> {
            self.rt.block_on(self.client.list(path))
        }
        fn mlsd(&mut self, path: &str) -> Result<Vec<MlsdEntry>> {
            self.rt.block_on(self.client.mlsd(path))
        }
        fn list_entries(&mut self, path: &str, from_list: bool) -> Result<Vec<Entry>> {
            self.rt.block_on(async {
                let entries = if from_list {
                    self.client.list_entries_from_list(path).await?
                } else {
                    self.client.list_entries(path).await?
                };
                entries.collect_all().await
            })
        }
        fn cdup(&mut self) -> Result<Reply> {
            self.rt.block_on(self.client.cdup())
        }
        fn hash_offered(&mut self) -> Result<bool> {
            let features = self.rt.block_on(self.client.features())?;
            Ok(HashCommand::choose(features).is_some())
        }
        fn upload_via_temp_name(&mut self, local: &Path, remote: &str) -> Result<TransferReport> {
            self.rt
                .block_on(self.client.upload(local, remote).temp_name(true).run())
        }
        fn download(&mut self, local: &Path, remote: &str) -> Result<TransferReport> {
            self.rt.block_on(self.client.download(remote, local).run())
        }
        fn download_then(
            &mut self,
            local: &Path,
            remote: &str,
            next: &str,
            fresh: bool,
        ) -> Result<TransferReport> {
            let download = self
                .client
                .download(remote, local)
                .resume(!fresh)
                .preserve_mtime(!fresh)
                .followed_by(next);
            self.rt.block_on(download.run())
        }
        fn download_segments(
            &mut self,
            local: &Path,
            remote: &str,
            n: u16,
        ) -> Result<TransferReport> {
            self.rt
                .block_on(self.client.download(remote, local).segments(n).run())
        }
    }
}
