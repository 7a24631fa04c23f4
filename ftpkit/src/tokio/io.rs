//! What the tokio driver performs for the engine: the control and data
//! sockets, their TLS, and nothing else. Every deadline comes from the
//! core and is awaited with `tokio::time::timeout_at`.

use std::{future::Future, time::Instant};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    time::timeout_at,
};

use crate::{error::Result, proto::engine::Event};

/// Runs `work` until `deadline`: its result, or [`Event::TimedOut`].
async fn within<F>(deadline: Instant, work: F) -> Event
where
    F: Future<Output = Result<Event>>,
{
    match timeout_at(deadline.into(), work).await {
        Ok(Ok(event)) => event,
        Ok(Err(e)) => Event::Failed(e),
        Err(_) => Event::TimedOut,
    }
}

macro_rules! within {
    ($deadline:expr, $body:block) => {
        within($deadline, async $body).await
    };
}

async fn pause(until: Instant) {
    tokio::time::sleep_until(until.into()).await;
}

perform_actions!([async], [.await]);

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    use ftpkit_testkit::{hash::random_bytes, memory::MemoryServer};

    use crate::{AsyncClient, Config};

    #[tokio::test]
    async fn gets_and_download_plans_reuse_the_connections_buffers() {
        let server = MemoryServer::start();
        let files: Vec<Vec<u8>> = (0..3).map(|i| random_bytes(70_000 + i, i as u64)).collect();
        for (i, data) in files.iter().enumerate() {
            server.put_file(&format!("f{i}.bin"), data.clone());
        }
        let config = Config::default().block_size(4096);
        let mut ftp = AsyncClient::connect_with(&server.addr().to_string(), config)
            .await
            .unwrap();
        ftp.login("tester", "pw").await.unwrap();
        let mut block = None;
        for (i, data) in files.iter().enumerate() {
            let mut out = Vec::new();
            ftp.get(format!("f{i}.bin"), &mut out).await.unwrap();
            assert_eq!(&out, data);
            let [kept] = ftp.io.blocks.as_slice() else {
                panic!("{} blocks kept", ftp.io.blocks.len());
            };
            let at = kept.filled(0).as_ptr();
            assert_eq!(*block.get_or_insert(at), at, "file {i} had a new block");
        }
        #[cfg(target_os = "linux")]
        {
            let dir = tempfile::tempdir().unwrap();
            let mut pipe = None;
            for (i, data) in files.iter().enumerate() {
                let path = dir.path().join(format!("f{i}.bin"));
                ftp.download(format!("f{i}.bin"), &path)
                    .run()
                    .await
                    .unwrap();
                assert_eq!(&std::fs::read(&path).unwrap(), data);
                let id = ftp.io.pipe.as_ref().expect("the pipe is kept").id();
                assert_eq!(*pipe.get_or_insert(id), id, "file {i} had a new pipe");
            }
        }
    }

    /// Every data connection, passive or active, upload or download,
    /// passes through `open_data`: its unsent bytes are capped there at
    /// the configured limit (the default's, another, or none).
    #[tokio::test]
    async fn a_data_connection_caps_its_unsent_bytes() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        for limit in [Config::default().unsent_limit, Some(16 * 1024), None] {
            let tcp = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let mut io = Io::default();
            io.open_data(tcp, Duration::from_secs(5), (true, limit), None)
                .await
                .unwrap();
            crate::driver::assert_unsent_limited(io.data().unwrap().socket().unwrap(), limit);
        }
    }
}
