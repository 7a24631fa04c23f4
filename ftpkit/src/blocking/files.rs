//! Whole-file transfers users can leave unattended: [`Client::download`]
//! and [`Client::upload`] retry, reconnect, resume, detect a remote file
//! that changed, verify sizes and hashes, keep modification times, and
//! never leave a partial file under the final name.
//!
//! The decisions (what to retry, where to resume, what counts as a change,
//! how the overlap is compared) come from [`crate::proto::resume`]; this
//! module carries them out with sockets and files.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
    time::{Instant, SystemTime},
};

use super::Client;
use crate::{
    error::{Error, Phase, Result},
    proto::{
        Arg, Command, Expect, expect,
        hash::{HashCommand, Hasher, Timeval},
        resume::{
            Attempt, Overlap, RemoteStat, ResumePlan, TransferOptions, TransferReport, TransferRun,
            Verified, Verify, VerifyError, appe_unsupported, check_hash, check_size, optional,
            part_name, part_path, rename_over_refused, unless_refused, upload_may_resume,
        },
    },
};

/// A progress callback: the file offset reached so far.
type Progress<'c> = Box<dyn FnMut(u64) + 'c>;

/// A callback told the remote size before the data flows.
type SizeCallback<'c> = Box<dyn FnMut(Option<u64>) + 'c>;

/// A download being set up: see [`Client::download`].
pub struct FileDownload<'c> {
    client: &'c mut Client,
    remote: Vec<u8>,
    local: PathBuf,
    options: TransferOptions,
    progress: Option<Progress<'c>>,
    known: Option<RemoteStat>,
    on_size: Option<SizeCallback<'c>>,
    adopt_local: bool,
}

/// An upload being set up: see [`Client::upload`].
pub struct FileUpload<'c> {
    client: &'c mut Client,
    local: PathBuf,
    remote: Vec<u8>,
    options: TransferOptions,
    progress: Option<Progress<'c>>,
}

impl<'c> FileDownload<'c> {
    transfer_setters!(common);
    transfer_setters!(download);

    /// Calls `f` with the remote file's size (`None` when the server will
    /// not tell) before each attempt's data flows, from the `SIZE` the
    /// download asks anyway (or the size given to
    /// [`known_stat`](FileDownload::known_stat)): what a progress bar needs
    /// for its total, without asking the server again.
    pub fn on_size(mut self, f: impl FnMut(Option<u64>) + 'c) -> Self {
        self.on_size = Some(Box::new(f));
        self
    }

    /// Also resume from `LOCAL` itself when there is no `LOCAL.part`: a
    /// partial file another tool left under the final name is moved to
    /// `LOCAL.part` first, and its bytes are checked like those of a
    /// `.part` (default: off; `LOCAL` is then replaced, never read).
    pub fn adopt_local(mut self, on: bool) -> Self {
        self.adopt_local = on;
        self
    }

    /// The path of the file the data goes to before it is verified and
    /// renamed: `LOCAL.part`.
    pub fn part_path(&self) -> PathBuf {
        part_path(&self.local)
    }

    /// Downloads, retrying and resuming as set, and returns what happened.
    ///
    /// The data goes to `LOCAL.part`, renamed to `LOCAL` only once complete
    /// and verified; on failure the `.part` file stays if it holds bytes
    /// (a later call resumes from it), an empty one is removed, and
    /// `LOCAL` is untouched.
    pub fn run(self) -> Result<TransferReport> {
        let FileDownload {
            client,
            remote,
            local,
            options,
            mut progress,
            known,
            mut on_size,
            adopt_local,
        } = self;
        let remote = Arg::path(remote)?;
        let part = part_path(&local);
        if adopt_local && !part.exists() && local.exists() {
            fs::rename(&local, &part).map_err(Error::io(Phase::Local))?;
        }
        let result = download_all(
            client,
            &remote,
            &part,
            &options,
            known,
            &mut progress,
            &mut on_size,
        );
        if let Err(e) = result {
            // Leave a .part only if it holds something to resume from.
            if fs::metadata(&part).is_ok_and(|m| m.len() == 0) {
                let _ = fs::remove_file(&part);
            }
            return Err(e);
        }
        fs::rename(&part, &local).map_err(Error::io(Phase::Local))?;
        result
    }
}

/// The attempts of one download into `part`, until one is done or the
/// retries run out.
fn download_all(
    client: &mut Client,
    remote: &Arg,
    part: &Path,
    options: &TransferOptions,
    known: Option<RemoteStat>,
    progress: &mut Option<Progress<'_>>,
    on_size: &mut Option<SizeCallback<'_>>,
) -> Result<TransferReport> {
    let mut run = Run::new(options);
    run.0.set_known(known);
    let mut first = true;
    loop {
        let result = download_once(
            client, remote, part, options, &mut run, first, progress, on_size,
        );
        first = false;
        match result {
            Ok(Attempt::Done) => break,
            Ok(Attempt::Restart) => run.0.check_restarts()?,
            Err(e) => run.on_error(client, e)?,
        }
    }
    Ok(run.0.report)
}

impl<'c> FileUpload<'c> {
    transfer_setters!(common);
    transfer_setters!(upload);

    /// Uploads, retrying and resuming as set, and returns what happened.
    ///
    /// Within one call, a failed upload resumes from the size the server
    /// reports (after comparing an overlap). A file already on the server
    /// under the final name is replaced, never appended to.
    pub fn run(self) -> Result<TransferReport> {
        let FileUpload {
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
        let mut file = File::open(&local).map_err(Error::io(Phase::Local))?;
        let before = local_stat(&file)?;
        let mut run = Run::new(&options);
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
            );
            first = false;
            match result {
                Ok(()) => break,
                Err(e) => run.on_error(client, e)?,
            }
        }
        if options.temp_name {
            finish_temp_name(client, &target, &final_name)?;
        }
        if options.preserve_mtime && client.features()?.supports("MFMT") {
            let command = Command::Mfmt(Timeval::new(before.1), final_name);
            let reply = client.exchange(&command)?;
            run.0.report.mtime_preserved = reply.code().is_completion();
        }
        Ok(run.0.report)
    }
}

impl Client {
    /// Downloads `remote` to the local file `local`: resumes from
    /// `LOCAL.part` if one is there, retries transient failures
    /// (reconnecting and logging in again when the connection was lost),
    /// starts over if the remote file changed, verifies the size and,
    /// where the server offers `HASH`/`XSHA256`/`XSHA1`/`XMD5`/`XCRC`, a
    /// content hash, sets the local modification time from `MDTM`, and
    /// renames `LOCAL.part` to `LOCAL` only when all that succeeded.
    ///
    /// ```no_run
    /// # let mut ftp = ftpkit::Client::connect("localhost")?;
    /// # ftp.login_anonymous()?;
    /// let report = ftp.download("pub/big.iso", "big.iso").retries(5).run()?;
    /// println!("{} bytes, {}", report.size, report.verified.describe());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn download(
        &mut self,
        remote: impl AsRef<[u8]>,
        local: impl AsRef<Path>,
    ) -> FileDownload<'_> {
        FileDownload {
            client: self,
            remote: remote.as_ref().to_vec(),
            local: local.as_ref().to_path_buf(),
            options: TransferOptions::default(),
            progress: None,
            known: None,
            on_size: None,
            adopt_local: false,
        }
    }

    /// Uploads the local file `local` to `remote`, retrying and resuming
    /// within the call, verifying the size and (where offered) a content
    /// hash, and setting the remote modification time with `MFMT` where
    /// offered. See [`FileUpload::temp_name`] for an upload that appears
    /// under its final name only when complete.
    pub fn upload(&mut self, local: impl AsRef<Path>, remote: impl AsRef<[u8]>) -> FileUpload<'_> {
        FileUpload {
            client: self,
            local: local.as_ref().to_path_buf(),
            remote: remote.as_ref().to_vec(),
            options: TransferOptions::default(),
            progress: None,
        }
    }

    /// The content hash of a remote file, with the strongest checksum
    /// command the server advertises (`HASH`, `XSHA256`, `XSHA1`, `XMD5`,
    /// `XCRC`); `None` if it advertises none.
    pub fn remote_hash(
        &mut self,
        path: impl AsRef<[u8]>,
    ) -> Result<Option<(HashCommand, Vec<u8>)>> {
        let Some(command) = HashCommand::choose(self.features()?) else {
            return Ok(None);
        };
        let path = Arg::path(path)?;
        if let Some(opts) = command.opts_argument()
            && self.hash_selected != Some(command)
        {
            self.run_checked(Command::Opts(Arg::new("OPTS", opts)?), Expect::Completion)?;
            self.hash_selected = Some(command);
        }
        let request = Command::Checksum(command, path);
        let reply = self.exchange(&request)?;
        let reply = expect(&request, reply, Expect::Completion)?;
        Ok(Some((command, command.parse_reply(&reply)?)))
    }

    /// `SIZE` and `MDTM` of a remote file; `None` for what the server
    /// will not tell (any 5xx reply: some servers refuse SIZE for files
    /// they would send, so a missing file is left for RETR to report).
    pub fn remote_stat(&mut self, path: impl AsRef<[u8]>, mdtm: bool) -> Result<RemoteStat> {
        let path = path.as_ref();
        let size = unless_refused(self.size(path))?;
        let modified = if mdtm {
            unless_refused(self.mdtm(path))?
        } else {
            None
        };
        Ok(RemoteStat { size, modified })
    }

    fn run_checked(&mut self, command: Command, expected: Expect) -> Result<()> {
        let reply = self.exchange(&command)?;
        expect(&command, reply, expected).map(drop)
    }
}

/// Failures, retries and the report of one call: the core's
/// [`TransferRun`], plus the waiting and reconnecting it asks for.
struct Run(TransferRun);

impl Run {
    fn new(options: &TransferOptions) -> Run {
        Run(TransferRun::new(options))
    }

    /// After a failed attempt: gives up with the error, or waits,
    /// reconnects if the connection is gone, and lets the caller go on.
    fn on_error(&mut self, client: &mut Client, error: Error) -> Result<()> {
        if client.fall_back_to_tls12(&error) {
            // The same attempt again over TLS 1.2, once: not a retry.
            return client.reconnect();
        }
        let retry = self.0.on_error(error)?;
        std::thread::sleep(retry.wait);
        if client.is_unusable() || retry.reconnect {
            // A failed reconnect is one more failure of this call.
            if let Err(e) = client.reconnect() {
                return self.on_error(client, e);
            }
        }
        Ok(())
    }

    fn pace(&mut self, bytes: usize) {
        let pause = self.0.pause(Instant::now(), bytes);
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
    }

    fn block_size(&self, client: &Client) -> usize {
        self.0.block_size(client.config.block_size)
    }
}

/// One download attempt into `part`.
#[allow(clippy::too_many_arguments)]
fn download_once(
    client: &mut Client,
    remote: &Arg,
    part: &Path,
    options: &TransferOptions,
    run: &mut Run,
    first: bool,
    progress: &mut Option<Progress<'_>>,
    on_size: &mut Option<SizeCallback<'_>>,
) -> Result<Attempt> {
    client.remember_cwd()?;
    let stat = match run.0.take_known() {
        Some(stat) => stat,
        None => client.remote_stat(remote.as_bytes(), options.preserve_mtime || options.resume)?,
    };
    if let Some(f) = on_size.as_mut() {
        f(stat.size);
    }
    if !run.0.check_unchanged(stat) {
        return Ok(Attempt::Restart);
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(part)
        .map_err(Error::io(Phase::Local))?;
    let have = if run.0.take_from_start() {
        0
    } else {
        file.metadata().map_err(Error::io(Phase::Local))?.len()
    };
    let plan = ResumePlan::new(have, stat.size);
    if first {
        run.0.report.resumed_from = plan.resume_point();
    }
    let tail = read_range(&mut file, plan.rest, plan.overlap)?;
    file.set_len(plan.resume_point())
        .and_then(|()| file.seek(SeekFrom::Start(plan.resume_point())))
        .map_err(Error::io(Phase::Local))?;

    let mut overlap = Overlap::new(tail);
    let result = receive(
        client,
        remote,
        plan.rest,
        &mut file,
        &mut overlap,
        run,
        progress,
    );
    match result {
        Err(Received::Mismatch) => {
            tracing::warn!(
                target: "ftpkit::transfer",
                "the local .part file does not match the remote file; starting over"
            );
            run.0.restart();
            return Ok(Attempt::Restart);
        }
        Err(Received::Failed(e)) => return Err(e),
        Ok(()) if !overlap.is_complete() => {
            // The server sent less than the bytes already here: the file
            // is shorter than it was.
            run.0.restart();
            return Ok(Attempt::Restart);
        }
        Ok(()) => {}
    }
    let local_len = file.metadata().map_err(Error::io(Phase::Local))?.len();
    run.0.report.size = local_len;

    // Verification: the size after, compared with the size before and the
    // local size; then a content hash where offered.
    if options.verify != Verify::Off {
        // SIZE only: a file rewritten to the same size within the
        // transfer is left to the content hash.
        let after = RemoteStat {
            modified: stat.modified,
            ..client.remote_stat(remote.as_bytes(), false)?
        };
        if !run.0.check_unchanged(after) {
            return Ok(Attempt::Restart);
        }
        run.0.report.verified = verify(client, remote, &mut file, local_len, after.size, options)?;
    }
    if options.preserve_mtime
        && let Some(modified) = stat.modified
    {
        run.0.report.mtime_preserved = file.set_modified(modified).is_ok();
    }
    if options.sync {
        file.sync_all().map_err(Error::io(Phase::Local))?;
    }
    Ok(Attempt::Done)
}

/// Why [`receive`] stopped early.
enum Received {
    /// The re-fetched overlap differs from the bytes already here.
    Mismatch,
    /// Any other failure.
    Failed(Error),
}

impl From<Error> for Received {
    fn from(e: Error) -> Received {
        Received::Failed(e)
    }
}

/// Receives `remote` from `rest` into `file` (positioned at the resume
/// point): the overlap is compared in user space, then the bytes move with
/// `splice(2)` on a plain connection under Linux (no copy through user
/// space), or through a block-sized buffer.
fn receive(
    client: &mut Client,
    remote: &Arg,
    rest: u64,
    file: &mut File,
    overlap: &mut Overlap,
    run: &mut Run,
    progress: &mut Option<Progress<'_>>,
) -> std::result::Result<(), Received> {
    let block = run.block_size(client);
    let mut reader = client
        .retrieve(remote.as_bytes())
        .rest(rest)
        .block_size(block)
        .reader()?;
    let mut offset = rest;
    // Both made on first need: a plain transfer past its overlap splices
    // and never touches `buf`; a TLS or paced one never makes a pipe.
    let mut buf = Vec::new();
    #[cfg(target_os = "linux")]
    let mut pipe: Option<super::transfer::Pipe> = None;
    #[cfg(target_os = "linux")]
    let mut may_splice = !run.0.is_paced() && reader.is_plain();
    let mut report = |run: &mut Run, n: u64, offset: u64| {
        run.0.report.transferred += n;
        if let Some(p) = progress.as_mut() {
            p(offset);
        }
    };
    loop {
        #[cfg(target_os = "linux")]
        if may_splice && overlap.is_complete() {
            if pipe.is_none() {
                pipe = super::transfer::Pipe::new(1 << 20).ok();
            }
            match pipe
                .as_ref()
                .and_then(|p| reader.splice_into(p, file, 1 << 20))
            {
                Some(moved) => {
                    let n = moved?;
                    if n == 0 {
                        return Ok(());
                    }
                    offset += n;
                    report(run, n, offset);
                    continue;
                }
                // No pipe to be had: the bytes go through `buf` instead.
                None => may_splice = false,
            }
        }
        if buf.is_empty() {
            buf.resize(block, 0);
        }
        let n = reader.read_data(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        let chunk = buf.get(..n).unwrap_or_default();
        let fresh = overlap.feed(chunk).map_err(|_| Received::Mismatch)?;
        if let Err(e) = file.write_all(fresh) {
            reader.abort_quietly();
            return Err(Error::io(Phase::Local)(e).into());
        }
        offset += n as u64;
        run.pace(n);
        report(run, n as u64, offset);
    }
}

/// One upload attempt to `target`.
#[allow(clippy::too_many_arguments)]
fn upload_once(
    client: &mut Client,
    file: &mut File,
    before: (u64, SystemTime),
    target: &Arg,
    options: &TransferOptions,
    run: &mut Run,
    first: bool,
    progress: &mut Option<Progress<'_>>,
) -> Result<()> {
    if local_stat(file)? != before {
        return Err(VerifyError::LocalChanged.into());
    }
    let local_len = before.0;
    client.remember_cwd()?;
    // What the server already holds: only ours (the temporary name, or an
    // earlier attempt of this call) is ever resumed.
    let from_start = run.0.take_from_start();
    let may_resume = upload_may_resume(options, from_start, first);
    let have = if may_resume {
        match client.size(target.as_bytes()) {
            Ok(n) => n,
            Err(Error::Reply { reply, .. }) if reply.code().is_permanent() => 0,
            Err(e) => return Err(e),
        }
    } else {
        0
    };
    let mut plan = ResumePlan::new(have, Some(local_len));
    if plan.overlap > 0 {
        let ours = read_range(file, plan.rest, plan.overlap)?;
        let mut theirs = Vec::with_capacity(ours.len());
        client
            .retrieve(target.as_bytes())
            .rest(plan.rest)
            .to_writer(&mut theirs)?;
        if theirs != ours {
            tracing::warn!(
                target: "ftpkit::transfer",
                "the bytes on the server do not match the local file; starting over"
            );
            run.0.restart();
            plan = ResumePlan::FROM_START;
        }
    }
    if first {
        run.0.report.resumed_from = plan.resume_point();
    }
    let start = plan.resume_point();
    if start < local_len || local_len == 0 {
        file.seek(SeekFrom::Start(start))
            .map_err(Error::io(Phase::Local))?;
        let block = run.block_size(client);
        let sent = if start == 0 {
            send(client.store(target.as_bytes()), file, run, block, progress)
        } else {
            match send(
                client.store(target.as_bytes()).append(),
                file,
                run,
                block,
                progress,
            ) {
                Err(e) if appe_unsupported(&e) => {
                    // No APPE: restart the STOR at the offset instead.
                    file.seek(SeekFrom::Start(start))
                        .map_err(Error::io(Phase::Local))?;
                    send(
                        client.store(target.as_bytes()).rest(start),
                        file,
                        run,
                        block,
                        progress,
                    )
                }
                other => other,
            }
        };
        run.0.report.transferred += sent?;
    }
    run.0.report.size = local_len;
    if local_stat(file)? != before {
        return Err(VerifyError::LocalChanged.into());
    }
    if options.verify != Verify::Off {
        let remote_size = optional(client.size(target.as_bytes()))?;
        run.0.report.verified = verify(client, target, file, local_len, remote_size, options)?;
    }
    Ok(())
}

/// Sends the rest of `file` with the store builder, paced and reported.
fn send(
    store: super::Store<'_>,
    file: &mut File,
    run: &mut Run,
    block: usize,
    progress: &mut Option<Progress<'_>>,
) -> Result<u64> {
    let store = store.block_size(block);
    let store = match progress.as_mut() {
        Some(p) => store.progress(p),
        None => store,
    };
    match run.0.is_paced() {
        // Unpaced: the kernel copies file to socket where it can.
        false => store.from_file(file),
        true => store.from_reader(&mut Paced { file, run }),
    }
}

/// A file read at the pace of the rate limit.
struct Paced<'a> {
    file: &'a mut File,
    run: &'a mut Run,
}

impl Read for Paced<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.run.pace(n);
        Ok(n)
    }
}

/// Compares sizes, then a content hash if the server offers one and the
/// options ask for it.
fn verify(
    client: &mut Client,
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
            optional(client.remote_hash(remote.as_bytes()))?.flatten()
    {
        let algorithm = command.algorithm();
        let local_digest = hash_file(file, algorithm)?;
        check_hash(algorithm, &remote_digest, &local_digest)?;
        verified.hash = Some(algorithm);
    }
    Ok(verified)
}

fn hash_file(file: &mut File, algorithm: crate::proto::hash::HashAlgorithm) -> Result<Vec<u8>> {
    let mut hasher = Hasher::new(algorithm);
    file.seek(SeekFrom::Start(0))
        .map_err(Error::io(Phase::Local))?;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(Phase::Local)(e)),
        };
        hasher.update(buf.get(..n).unwrap_or_default());
    }
    Ok(hasher.finish())
}

/// Makes the temporary upload visible under its final name, replacing a
/// file already there if the server will not rename over it.
fn finish_temp_name(client: &mut Client, temp: &Arg, final_name: &Arg) -> Result<()> {
    match client.rename(temp.as_bytes(), final_name.as_bytes()) {
        Err(e) if rename_over_refused(&e) => {
            client.delete(final_name.as_bytes())?;
            client.rename(temp.as_bytes(), final_name.as_bytes())?;
            Ok(())
        }
        other => other.map(drop),
    }
}

/// Reads `len` bytes of `file` from `offset`.
fn read_range(file: &mut File, offset: u64, len: u64) -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.take(len).read_to_end(&mut buf))
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
fn local_stat(file: &File) -> Result<(u64, SystemTime)> {
    let meta = file.metadata().map_err(Error::io(Phase::Local))?;
    let modified = meta.modified().map_err(Error::io(Phase::Local))?;
    Ok((meta.len(), modified))
}
