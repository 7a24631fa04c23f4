//! The async client's side of the benchmark: one operation per run, the
//! way the blocking client runs in `bench/run.py`.
//!
//! usage: async_transfer get|put|getdir|nlst HOST:PORT USER PASSWORD REMOTE LOCAL [CA_PEM]
//!
//! With `CA_PEM`, the connection uses explicit FTPS (`AUTH TLS`, `PROT P`)
//! and trusts that CA. `getdir` downloads every file of the directory
//! `REMOTE` into the directory `LOCAL` over one connection, each with the
//! `download` plan (size verified; no file times, no resume, as
//! `get_many`) naming the file that follows (`followed_by`), so that the
//! next file's commands go out with this one's `RETR`; `nlst` prints the number of names. `get` and `put` move the file with the whole-file
//! `download` and `upload`, without the final verification: the same
//! path as the blocking `ftpkit get --no-verify` and `put --no-verify`
//! they are compared with.

use std::path::Path;

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
            let names: Vec<String> = ftp
                .nlst("")
                .await?
                .iter()
                .filter_map(|name| name.as_str().map(|n| n.trim_start_matches("./").to_owned()))
                .filter(|n| !(n.is_empty() || n == "." || n == ".." || n.contains(['/', '\\'])))
                .collect();
            // Each download names the next file: its SIZE, MDTM and EPSV
            // go out behind this file's RETR (one round trip a file).
            for (n, name) in names.iter().enumerate() {
                // Like its peers (and `get_many`), no file times and no
                // resume; the size is verified.
                let mut download =
                    ftp.download(name, Path::new(local).join(name))
                        .options(TransferOptions {
                            preserve_mtime: false,
                            resume: false,
                            ..TransferOptions::default()
                        });
                if let Some(next) = names.get(n + 1) {
                    download = download.followed_by(next);
                }
                download.run().await?;
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
