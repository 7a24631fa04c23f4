//! `ftpkit put PATH URL [-c]`: upload, resuming with REST+STOR (or APPE
//! where REST is refused), and check the remote size afterwards.

use std::{
    fs::File,
    io::{Seek, SeekFrom},
    path::Path,
};

use ftpkit::{Client, Error};

use crate::{args::Global, failure::Failure, output, plan::Target, progress::Progress};

/// Uploads `local` to `target`.
pub fn run(local: &Path, target: &Target, resume: bool, global: &Global) -> Result<(), Failure> {
    let mut file = File::open(local).map_err(|e| Failure::Local(local.to_path_buf(), e))?;
    let len = file
        .metadata()
        .map_err(|e| Failure::Local(local.to_path_buf(), e))?
        .len();
    let remote = remote_path(local, target)?;
    let mut client = super::connect(target, global)?;

    let offset = if resume {
        super::remote_size(&mut client, &remote)?.unwrap_or(0)
    } else {
        0
    };
    if offset > len {
        return Err(Failure::Mismatch(format!(
            "the remote file has {offset} bytes, more than the local {len}: not resuming"
        )));
    }
    if offset < len || len == 0 {
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| Failure::Local(local.to_path_buf(), e))?;
        send(&mut client, &remote, &mut file, offset, len, global)?;
    }
    let size = super::remote_size(&mut client, &remote)?;
    if let Some(size) = size
        && size != len
    {
        return Err(Failure::Mismatch(format!(
            "the server reports {size} bytes after the upload, not {len}"
        )));
    }
    let _ = client.quit();
    if !global.quiet {
        output::report_transfer(&String::from_utf8_lossy(&remote), len, size.is_some());
    }
    Ok(())
}

/// Sends the rest of `file` from `offset`: REST+STOR, and APPE if the
/// server refuses REST.
fn send(
    client: &mut Client,
    remote: &[u8],
    file: &mut File,
    offset: u64,
    len: u64,
    global: &Global,
) -> Result<(), Failure> {
    let name = String::from_utf8_lossy(remote).into_owned();
    let progress = Progress::new(&name, Some(len), offset, global.quiet);
    let mut result = client
        .store(remote)
        .rest(offset)
        .progress(|done| progress.set(done))
        .from_file(file);
    if let Err(Error::Reply { command, .. }) = &result
        && offset > 0
        && command.starts_with("REST")
    {
        result = client
            .store(remote)
            .append()
            .progress(|done| progress.set(offset + done))
            .from_file(file);
    }
    progress.finish();
    result?;
    Ok(())
}

/// The remote path: the URL's, or the local file's name inside the URL's
/// directory when the URL ends in `/`.
fn remote_path(local: &Path, target: &Target) -> Result<Vec<u8>, Failure> {
    if !target.is_dir() {
        return Ok(target.path.clone());
    }
    let name = local
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Failure::Usage(format!("{} has no usable file name", local.display())))?;
    let mut path = target.path.clone();
    path.extend_from_slice(name.as_bytes());
    Ok(path)
}
