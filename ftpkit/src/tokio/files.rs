//! Whole-file transfers users can leave unattended, on tokio:
//! [`AsyncClient::download`] and [`AsyncClient::upload`], the async
//! counterparts of the blocking client's. Every decision (what to retry
//! and how long to wait, where to resume, whether the remote file changed,
//! how the overlap is compared, what counts as verified) is the core's
//! [`TransferRun`], [`ResumePlan`], [`Overlap`] and check functions in
//! [`crate::proto::resume`]; this module carries them out with tokio
//! sockets and files.
//!
//! Cancellation: dropping a `run()` future leaves the local `.part` file
//! (a later call resumes from it) and the client in the state its own
//! rules give (a transfer left to abort, or unusable).

use std::{
    io::{self, SeekFrom},
    path::{Path, PathBuf},
    time::{Instant, SystemTime},
};

use tokio::{
    fs::{self, File, OpenOptions},
    io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufWriter},
};

use super::AsyncClient;
use crate::{
    error::{Error, Phase, Result},
    proto::{
        Arg, Command,
        hash::{HashAlgorithm, Hasher, Timeval},
        resume::{
            Attempt, Overlap, RemoteStat, ResumePlan, TransferOptions, TransferReport, TransferRun,
            Verified, Verify, VerifyError, appe_unsupported, check_hash, check_size, optional,
            part_name, part_path, rename_over_refused, upload_may_resume,
        },
    },
};

/// A progress callback: the file offset reached so far.
type Progress<'c> = Box<dyn FnMut(u64) + Send + 'c>;

/// A download being set up: see [`AsyncClient::download`].
pub struct AsyncFileDownload<'c> {
    client: &'c mut AsyncClient,
    remote: Vec<u8>,
    local: PathBuf,
    options: TransferOptions,
    progress: Option<Progress<'c>>,
    known: Option<RemoteStat>,
}

/// An upload being set up: see [`AsyncClient::upload`].
pub struct AsyncFileUpload<'c> {
    client: &'c mut AsyncClient,
    local: PathBuf,
    remote: Vec<u8>,
    options: TransferOptions,
    progress: Option<Progress<'c>>,
}

impl<'c> AsyncFileDownload<'c> {
    transfer_setters!(common + Send);
    transfer_setters!(download);

    /// Downloads, retrying and resuming as set, and returns what happened.
    /// The data goes to `LOCAL.part`, renamed to `LOCAL` only once complete
    /// and verified.
    pub async fn run(self) -> Result<TransferReport> {
        let AsyncFileDownload {
            client,
            remote,
            local,
            options,
            mut progress,
            known,
        } = self;
        let remote = Arg::path(remote)?;
        let part = part_path(&local);
        let mut run = TransferRun::new(&options);
        run.set_known(known);
        let mut first = true;
        loop {
            let result = download_once(
                client,
                &remote,
                &part,
                &options,
                &mut run,
                first,
                &mut progress,
            )
            .await;
            first = false;
            match result {
                Ok(Attempt::Done) => break,
                Ok(Attempt::Restart) => run.check_restarts()?,
                Err(e) => on_error(&mut run, client, e).await?,
            }
        }
        fs::rename(&part, &local)
            .await
            .map_err(Error::io(Phase::Local))?;
        Ok(run.report)
    }
}

impl<'c> AsyncFileUpload<'c> {
    transfer_setters!(common + Send);
    transfer_setters!(upload);

    /// Uploads, retrying and resuming as set, and returns what happened.
    pub async fn run(self) -> Result<TransferReport> {
        let AsyncFileUpload {
            client,
            local,
            remote,
            options,
            mut progress,
        } = self;
        let final_name = Arg::path(&remote)?;
        let target = if options.temp_name {
            Arg::path(part_name(&remote))?
        } else {
            final_name.clone()
        };
        let mut file = File::open(&local).await.map_err(Error::io(Phase::Local))?;
        let before = local_stat(&file).await?;
        let mut run = TransferRun::new(&options);
        let mut first = true;
        loop {
            let result = upload_once(
                client,
                &mut file,
                before,
                &target,
                &options,
                &mut run,
                first,
                &mut progress,
            )
            .await;
            first = false;
            match result {
                Ok(()) => break,
                Err(e) => on_error(&mut run, client, e).await?,
            }
        }
        if options.temp_name {
            finish_temp_name(client, &target, &final_name).await?;
        }
        if options.preserve_mtime && client.features().await?.supports("MFMT") {
            let command = Command::Mfmt(Timeval::new(before.1), final_name);
            let reply = client.exchange(&command).await?;
            run.report.mtime_preserved = reply.code().is_completion();
        }
        Ok(run.report)
    }
}

impl AsyncClient {
    /// Downloads `remote` to the local file `local` as the blocking
    /// [`Client::download`](crate::Client::download) does: resumes from
    /// `LOCAL.part`, retries transient failures (reconnecting when the
    /// connection was lost), starts over if the remote file changed,
    /// verifies the size and a content hash where offered, sets the local
    /// modification time, and renames only when all that succeeded.
    ///
    /// ```no_run
    /// # async fn run(ftp: &mut ftpkit::AsyncClient) -> ftpkit::Result<()> {
    /// let report = ftp.download("pub/big.iso", "big.iso").retries(5).run().await?;
    /// println!("{} bytes, {}", report.size, report.verified.describe());
    /// # Ok(()) }
    /// ```
    pub fn download(
        &mut self,
        remote: impl AsRef<[u8]>,
        local: impl AsRef<Path>,
    ) -> AsyncFileDownload<'_> {
        AsyncFileDownload {
            client: self,
            remote: remote.as_ref().to_vec(),
            local: local.as_ref().to_path_buf(),
            options: TransferOptions::default(),
            progress: None,
            known: None,
        }
    }

    /// Uploads the local file `local` to `remote`, retrying and resuming
    /// within the call and verifying, as the blocking
    /// [`Client::upload`](crate::Client::upload) does.
    pub fn upload(
        &mut self,
        local: impl AsRef<Path>,
        remote: impl AsRef<[u8]>,
    ) -> AsyncFileUpload<'_> {
        AsyncFileUpload {
            client: self,
            local: local.as_ref().to_path_buf(),
            remote: remote.as_ref().to_vec(),
            options: TransferOptions::default(),
            progress: None,
        }
    }
}

/// After a failed attempt: gives up with the error, or waits, reconnects
/// if the connection is gone, and lets the caller go on.
async fn on_error(run: &mut TransferRun, client: &mut AsyncClient, error: Error) -> Result<()> {
    if client.core.fall_back_to_tls12(&error) {
        // The same attempt again over TLS 1.2, once: not a retry.
        return client.reconnect().await;
    }
    let mut error = error;
    loop {
        let retry = run.on_error(error)?;
        tokio::time::sleep(retry.wait).await;
        if !(client.is_unusable() || retry.reconnect) {
            return Ok(());
        }
        // A failed reconnect is one more failure of this call.
        match client.reconnect().await {
            Ok(()) => return Ok(()),
            Err(e) => error = e,
        }
    }
}

async fn pace(run: &mut TransferRun, bytes: usize) {
    let pause = run.pause(Instant::now(), bytes);
    if !pause.is_zero() {
        tokio::time::sleep(pause).await;
    }
}

/// One download attempt into `part`.
async fn download_once(
    client: &mut AsyncClient,
    remote: &Arg,
    part: &Path,
    options: &TransferOptions,
    run: &mut TransferRun,
    first: bool,
    progress: &mut Option<Progress<'_>>,
) -> Result<Attempt> {
    client.remember_cwd().await?;
    let stat = match run.take_known() {
        Some(stat) => stat,
        None => {
            client
                .remote_stat(remote.as_bytes(), options.preserve_mtime || options.resume)
                .await?
        }
    };
    if !run.check_unchanged(stat) {
        return Ok(Attempt::Restart);
    }
    let local = |e| Error::io(Phase::Local)(e);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(part)
        .await
        .map_err(local)?;
    let have = if run.take_from_start() {
        0
    } else {
        file.metadata().await.map_err(local)?.len()
    };
    let plan = ResumePlan::new(have, stat.size);
    if first {
        run.report.resumed_from = plan.resume_point();
    }
    let tail = read_range(&mut file, plan.rest, plan.overlap).await?;
    file.set_len(plan.resume_point()).await.map_err(local)?;
    file.seek(SeekFrom::Start(plan.resume_point()))
        .await
        .map_err(local)?;

    let mut overlap = Overlap::new(tail);
    let block = run.block_size(client.core.config.block_size);
    {
        let mut out = BufWriter::with_capacity(block.max(64 * 1024), &mut file);
        let mut offset = plan.rest;
        let mut buf = vec![0u8; block];
        let mut reader = client
            .retrieve(remote.as_bytes())
            .rest(plan.rest)
            .reader()
            .await?;
        loop {
            let n = match reader.read_data(&mut buf).await {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    run.report.transferred += reader.bytes_read();
                    out.flush().await.map_err(local)?;
                    return Err(e);
                }
            };
            offset += n as u64;
            let chunk = buf.get(..n).unwrap_or_default();
            let fresh = match overlap.feed(chunk) {
                Ok(fresh) => fresh,
                Err(_) => {
                    tracing::warn!(
                        target: "ftpkit::transfer",
                        "the local .part file does not match the remote file; starting over"
                    );
                    run.report.transferred += reader.bytes_read();
                    let _ = reader.abort().await;
                    run.restart();
                    return Ok(Attempt::Restart);
                }
            };
            if let Err(e) = out.write_all(fresh).await {
                let _ = reader.abort().await;
                return Err(local(e));
            }
            pace(run, n).await;
            if let Some(p) = progress.as_mut() {
                p(offset);
            }
        }
        run.report.transferred += reader.bytes_read();
        drop(reader);
        out.flush().await.map_err(local)?;
    }
    if !overlap.is_complete() {
        // The server sent less than the bytes already here.
        run.restart();
        return Ok(Attempt::Restart);
    }
    let local_len = file.metadata().await.map_err(local)?.len();
    run.report.size = local_len;
    if options.verify != Verify::Off {
        let after = RemoteStat {
            modified: stat.modified,
            ..client.remote_stat(remote.as_bytes(), false).await?
        };
        if !run.check_unchanged(after) {
            return Ok(Attempt::Restart);
        }
        run.report.verified =
            verify(client, remote, &mut file, local_len, after.size, options).await?;
    }
    if options.sync {
        file.sync_all().await.map_err(local)?;
    }
    if options.preserve_mtime
        && let Some(modified) = stat.modified
    {
        let std_file = file.into_std().await;
        run.report.mtime_preserved =
            tokio::task::spawn_blocking(move || std_file.set_modified(modified).is_ok())
                .await
                .unwrap_or(false);
    }
    Ok(Attempt::Done)
}

/// One upload attempt to `target`.
#[allow(clippy::too_many_arguments)]
async fn upload_once(
    client: &mut AsyncClient,
    file: &mut File,
    before: (u64, SystemTime),
    target: &Arg,
    options: &TransferOptions,
    run: &mut TransferRun,
    first: bool,
    progress: &mut Option<Progress<'_>>,
) -> Result<()> {
    let local = |e| Error::io(Phase::Local)(e);
    if local_stat(file).await? != before {
        return Err(VerifyError::LocalChanged.into());
    }
    let local_len = before.0;
    client.remember_cwd().await?;
    let from_start = run.take_from_start();
    let have = if upload_may_resume(options, from_start, first) {
        match client.size(target.as_bytes()).await {
            Ok(n) => n,
            Err(Error::Reply { reply, .. }) if reply.code().is_permanent() => 0,
            Err(e) => return Err(e),
        }
    } else {
        0
    };
    let mut plan = ResumePlan::new(have, Some(local_len));
    if plan.overlap > 0 {
        let ours = read_range(file, plan.rest, plan.overlap).await?;
        let mut theirs = Vec::with_capacity(ours.len());
        client
            .retrieve(target.as_bytes())
            .rest(plan.rest)
            .to_writer(&mut theirs)
            .await?;
        if theirs != ours {
            tracing::warn!(
                target: "ftpkit::transfer",
                "the bytes on the server do not match the local file; starting over"
            );
            run.restart();
            plan = ResumePlan::FROM_START;
        }
    }
    if first {
        run.report.resumed_from = plan.resume_point();
    }
    let start = plan.resume_point();
    if start < local_len || local_len == 0 {
        file.seek(SeekFrom::Start(start)).await.map_err(local)?;
        let block = run.block_size(client.core.config.block_size);
        let sent = if start == 0 {
            send(client, target, false, None, file, run, block, progress).await
        } else {
            match send(client, target, true, None, file, run, block, progress).await {
                Err(e) if appe_unsupported(&e) => {
                    // No APPE: restart the STOR at the offset instead.
                    file.seek(SeekFrom::Start(start)).await.map_err(local)?;
                    send(
                        client,
                        target,
                        false,
                        Some(start),
                        file,
                        run,
                        block,
                        progress,
                    )
                    .await
                }
                other => other,
            }
        };
        run.report.transferred += sent?;
    }
    run.report.size = local_len;
    if local_stat(file).await? != before {
        return Err(VerifyError::LocalChanged.into());
    }
    if options.verify != Verify::Off {
        let remote_size = optional(client.size(target.as_bytes()).await)?;
        run.report.verified = verify(client, target, file, local_len, remote_size, options).await?;
    }
    Ok(())
}

/// Sends the rest of `file` (`STOR`, `APPE`, or `REST`+`STOR`), paced
/// and reported; returns the bytes sent.
#[allow(clippy::too_many_arguments)]
async fn send(
    client: &mut AsyncClient,
    target: &Arg,
    append: bool,
    rest: Option<u64>,
    file: &mut File,
    run: &mut TransferRun,
    block: usize,
    progress: &mut Option<Progress<'_>>,
) -> Result<u64> {
    let mut store = client.store(target.as_bytes()).block_size(block);
    if append {
        store = store.append();
    }
    if let Some(offset) = rest {
        store = store.rest(offset);
    }
    let base = file
        .stream_position()
        .await
        .map_err(Error::io(Phase::Local))?;
    let mut writer = store.writer().await?;
    let mut buf = vec![0u8; block];
    loop {
        let n = match file.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = writer.abort().await;
                return Err(Error::io(Phase::Local)(e));
            }
        };
        writer.write_data(buf.get(..n).unwrap_or_default()).await?;
        pace(run, n).await;
        if let Some(p) = progress.as_mut() {
            p(base + writer.bytes_written());
        }
    }
    let sent = writer.bytes_written();
    writer.finish().await?;
    Ok(sent)
}

/// Compares sizes, then a content hash if the server offers one and the
/// options ask for it.
async fn verify(
    client: &mut AsyncClient,
    remote: &Arg,
    file: &mut File,
    local_len: u64,
    remote_size: Option<u64>,
    options: &TransferOptions,
) -> Result<Verified> {
    let mut verified = Verified {
        size: check_size(remote_size, local_len)?,
        hash: None,
    };
    if options.verify == Verify::Auto
        && let Some((command, remote_digest)) =
            optional(client.remote_hash(remote.as_bytes()).await)?.flatten()
    {
        let algorithm = command.algorithm();
        let local_digest = hash_file(file, algorithm).await?;
        check_hash(algorithm, &remote_digest, &local_digest)?;
        verified.hash = Some(algorithm);
    }
    Ok(verified)
}

async fn hash_file(file: &mut File, algorithm: HashAlgorithm) -> Result<Vec<u8>> {
    let local = |e| Error::io(Phase::Local)(e);
    let mut hasher = Hasher::new(algorithm);
    file.seek(SeekFrom::Start(0)).await.map_err(local)?;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match file.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(local(e)),
        };
        hasher.update(buf.get(..n).unwrap_or_default());
    }
    Ok(hasher.finish())
}

/// Makes the temporary upload visible under its final name, replacing a
/// file already there if the server will not rename over it.
async fn finish_temp_name(client: &mut AsyncClient, temp: &Arg, final_name: &Arg) -> Result<()> {
    match client.rename(temp.as_bytes(), final_name.as_bytes()).await {
        Err(e) if rename_over_refused(&e) => {
            client.delete(final_name.as_bytes()).await?;
            client
                .rename(temp.as_bytes(), final_name.as_bytes())
                .await?;
            Ok(())
        }
        other => other.map(drop),
    }
}

/// Reads `len` bytes of `file` from `offset`.
async fn read_range(file: &mut File, offset: u64, len: u64) -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.seek(SeekFrom::Start(offset))
        .await
        .map_err(Error::io(Phase::Local))?;
    (&mut *file)
        .take(len)
        .read_to_end(&mut buf)
        .await
        .map_err(Error::io(Phase::Local))?;
    if buf.len() as u64 != len {
        return Err(Error::io(Phase::Local)(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the local file is shorter than expected",
        )));
    }
    Ok(buf)
}

/// Size and modification time of a local file.
async fn local_stat(file: &File) -> Result<(u64, SystemTime)> {
    let meta = file.metadata().await.map_err(Error::io(Phase::Local))?;
    let modified = meta.modified().map_err(Error::io(Phase::Local))?;
    Ok((meta.len(), modified))
}
