//! Downloads 100 files concurrently over 8 pooled connections with the
//! async client, from an FTP server embedded in the example (libunftp on
//! loopback, the one ftpkit's tests use), and checks every file's SHA-256.
//!
//! usage: cargo run --release --example async_many --features tokio [-- FILES CONNECTIONS FILE_KIB]

use std::{sync::Arc, time::Instant};

use ftpkit::{
    AsyncClient, Config,
    pool::{AsyncPool, PoolConfig},
};
use ftpkit_testkit::{UnftpServer, random_bytes, sha256_hex};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let files = args.first().copied().unwrap_or(100);
    let connections = args.get(1).copied().unwrap_or(8);
    let size = args.get(2).copied().unwrap_or(256) * 1024;

    let server = UnftpServer::start();
    let mut expected = Vec::with_capacity(files);
    for i in 0..files {
        let data = random_bytes(size, i as u64);
        std::fs::write(server.root().join(format!("f{i:03}.bin")), &data)?;
        expected.push(sha256_hex(&data));
    }
    let expected = Arc::new(expected);

    let addr = server.addr().to_string();
    let pool = AsyncPool::new(PoolConfig::default().max_size(connections), move || {
        let addr = addr.clone();
        async move {
            let mut ftp = AsyncClient::connect_with(&addr, Config::default()).await?;
            ftp.login_anonymous().await?;
            Ok(ftp)
        }
    });

    let started = Instant::now();
    let mut tasks = Vec::with_capacity(files);
    for i in 0..files {
        let (pool, expected) = (pool.clone(), expected.clone());
        tasks.push(tokio::spawn(async move {
            let mut ftp = pool.get().await?;
            let mut data = Vec::new();
            ftp.get(format!("f{i:03}.bin"), &mut data).await?;
            let ok = expected.get(i) == Some(&sha256_hex(&data));
            Ok::<_, ftpkit::Error>((data.len(), ok))
        }));
    }
    let (mut bytes, mut bad) = (0, 0);
    for task in tasks {
        let (n, ok) = task.await??;
        bytes += n;
        bad += usize::from(!ok);
    }
    let secs = started.elapsed().as_secs_f64();
    let (_, idle) = pool.status();
    println!(
        "{files} files, {bytes} bytes over {idle} connections in {secs:.2} s ({:.1} MB/s); {} verified",
        bytes as f64 / secs / 1e6,
        files - bad
    );
    if bad > 0 {
        return Err(format!("{bad} files differ from the source").into());
    }
    Ok(())
}
