//! The async client's side of the benchmark: one operation per run, the
//! way the blocking client runs in `bench/run.py`.
//!
//! usage: async_transfer get|put|getdir|nlst HOST:PORT USER PASSWORD REMOTE LOCAL [CA_PEM]
//!
//! With `CA_PEM`, the connection uses explicit FTPS (`AUTH TLS`, `PROT P`)
//! and trusts that CA. `getdir` downloads every file of the directory
//! `REMOTE` into the directory `LOCAL` over one connection (local files
//! written with `std::fs`); `nlst` prints the number of names. `get` and `put` move the file with the whole-file
//! `download` and `upload`, without the final verification: the same
//! path as the blocking `ftpkit get --no-verify` and `put --no-verify`
//! they are compared with.

use std::{io::Write, path::Path};

use ftpkit::{AsyncClient, Config, TlsConfig, TlsMode, TransferOptions, Verify};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (op, addr, user, pass, remote, local, ca) = match args.as_slice() {
        [op, addr, user, pass, remote, local, rest @ ..] if rest.len() <= 1 => {
            (op, addr, user, pass, remote, local, rest.first())
        }
        _ => {
            return Err(
                "usage: async_transfer get|put|getdir|nlst HOST:PORT USER PASSWORD REMOTE LOCAL [CA_PEM]"
                    .into(),
            );
        }
    };
    let mut config = Config::default().block_size(1 << 20);
    if let Some(ca) = ca {
        let tls = TlsConfig::builder().add_ca_pem_file(ca)?.build()?;
        config = config.tls(TlsMode::Explicit, Some(tls));
    }
    let mut ftp = AsyncClient::connect_with(addr, config).await?;
    ftp.login(user, pass).await?;
    match op.as_str() {
        "get" => {
            ftp.download(remote, local)
                .options(unverified())
                .run()
                .await?;
        }
        "put" => {
            ftp.upload(local, remote)
                .options(unverified())
                .run()
                .await?;
        }
        "getdir" => {
            ftp.cwd(remote).await?;
            for name in ftp.nlst("").await? {
                let Some(text) = name.as_str().map(|n| n.trim_start_matches("./")) else {
                    continue;
                };
                if text.is_empty() || text == "." || text == ".." || text.contains(['/', '\\']) {
                    continue;
                }
                // Written with std::fs, chunk by chunk as they arrive: a
                // write to the page cache returns at once, where tokio::fs
                // would hand the create and each write to a thread of its
                // blocking pool and wait for it, three handovers for a
                // small file.
                let mut file = std::fs::File::create(Path::new(local).join(text))?;
                ftp.retrieve(text)
                    .for_each_chunk(|chunk| file.write_all(chunk))
                    .await?;
            }
        }
        // From inside the directory, as `ftpkit ls URL/` lists one: bare
        // names from every server.
        "nlst" => {
            ftp.cwd(remote).await?;
            println!("{}", ftp.nlst("").await?.len());
        }
        other => return Err(format!("unknown operation {other:?}").into()),
    }
    ftp.quit().await?;
    Ok(())
}

/// Like its peers, trust the server's final reply.
fn unverified() -> TransferOptions {
    TransferOptions {
        verify: Verify::Off,
        ..TransferOptions::default()
    }
}
