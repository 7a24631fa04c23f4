//! `ftpkit put FILE... URL [-c] [--temp-name] [--create-dirs] [--ascii]
//! [--parallel N]`: upload with retries and resume, and verify the result
//! (size, and a hash where offered).

use std::{ffi::OsString, path::Path};

use ftpkit::Client;
use indicatif::MultiProgress;

use crate::{
    args::ManyArgs, failure::Failure, output, plan::Settings, plan::Target, progress::Progress,
};

/// How `put` was asked to upload.
#[derive(Clone, Copy, Debug, Default)]
pub struct PutOptions {
    /// Resume what the server has.
    pub resume: bool,
    /// Upload to NAME.part, then rename.
    pub temp_name: bool,
    /// Create the missing remote directories first.
    pub create_dirs: bool,
}

/// Uploads the files in `args` (all but the last) to the URL (the last).
pub fn run_args(
    args: &[OsString],
    options: PutOptions,
    many: &ManyArgs,
    settings: &Settings,
) -> Result<(), Failure> {
    let Some((url, files)) = args.split_last() else {
        return Err(Failure::Usage("put needs a file and a URL".into()));
    };
    let url = url
        .to_str()
        .ok_or_else(|| Failure::Usage("the URL is not UTF-8".into()))?;
    let target = settings.url(url)?;
    if files.len() > 1 && !target.is_dir() {
        return Err(Failure::Usage(
            "with several files, the URL must name a directory (end it with /)".into(),
        ));
    }
    if many.ascii && options.temp_name {
        return Err(Failure::Usage(
            "--ascii and --temp-name cannot be used together".into(),
        ));
    }
    let jobs = files
        .iter()
        .map(|file| {
            let local = Path::new(file);
            remote_path(local, &target, settings.reach.charset()).map(|remote| (local, remote))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if many.parallel > 1 && jobs.len() > 1 {
        return run_parallel(&target, &jobs, options, many, settings);
    }
    let mut client = super::connect(&target, settings)?;
    if options.create_dirs {
        super::simple::ensure_path(&mut client, remote_dir(&target))?;
    }
    for (local, remote) in &jobs {
        let done = upload_one(
            &mut client,
            local,
            remote,
            options,
            many.ascii,
            settings,
            None,
        )?;
        report(settings, local, remote, done);
    }
    Ok(())
}

/// `put --parallel N`: the directories made on one connection, then the
/// files uploaded N at once over a pool; each result printed in order.
fn run_parallel(
    target: &Target,
    jobs: &[(&Path, Vec<u8>)],
    options: PutOptions,
    many: &ManyArgs,
    settings: &Settings,
) -> Result<(), Failure> {
    let workers = usize::from(many.parallel);
    let pool = super::batch::pool(&super::Connector::new(target, settings)?, workers);
    if options.create_dirs {
        let mut client = pool.get()?;
        super::simple::ensure_path(&mut client, remote_dir(target))?;
    }
    let results = super::batch::run(
        &pool,
        workers,
        jobs,
        settings,
        |client, (local, remote), group| {
            upload_one(client, local, remote, options, many.ascii, settings, group)
        },
    );
    let failed = super::batch::report(
        jobs,
        results,
        |(local, _)| local.display().to_string(),
        |(local, remote), done| report(settings, local, remote, done),
    );
    match failed {
        Some(exit) => Err(Failure::Reported(exit)),
        None => Ok(()),
    }
}

/// What an upload sent: a verified binary file, or a text file.
enum Done {
    Binary(ftpkit::TransferReport),
    Text(u64),
}

/// Prints the result line of an upload.
fn report(settings: &Settings, local: &Path, remote: &[u8], done: Done) {
    let name = settings.reach.charset().decode(remote);
    let local = local.display().to_string();
    match done {
        Done::Binary(report) => output::report_transfer(settings, "put", &name, &local, &report),
        Done::Text(bytes) => output::report_text_transfer(settings, "put", &name, &local, bytes),
    }
}

/// Uploads `local` to `remote`.
fn upload_one(
    client: &mut Client,
    local: &Path,
    remote: &[u8],
    options: PutOptions,
    ascii: bool,
    settings: &Settings,
    group: Option<&MultiProgress>,
) -> Result<Done, Failure> {
    if ascii {
        return super::text::upload(client, local, remote).map(Done::Text);
    }
    let len = std::fs::metadata(local)
        .map_err(|e| Failure::Local(local.to_path_buf(), e))?
        .len();
    let name = settings.reach.charset().decode(remote).into_owned();
    let progress = Progress::new(&name, Some(len), 0, settings.quiet).in_group(group);
    let result = client
        .upload(local, remote)
        .options(settings.transfer.clone())
        .resume_existing(options.resume)
        .temp_name(options.temp_name)
        .progress(|done| progress.set(done))
        .run();
    progress.finish();
    result
        .map(Done::Binary)
        .map_err(|e| Failure::of_local_file(local, e))
}

/// The remote directory the files go to: the URL's path if it ends in
/// `/`, else its parent.
fn remote_dir(target: &Target) -> &[u8] {
    if target.is_dir() {
        return &target.path;
    }
    let name = target.file_name();
    target
        .path
        .get(..target.path.len() - name.len())
        .unwrap_or_default()
}

/// The remote path: the URL's, or the local file's name (written in the
/// server's charset) inside the URL's directory when the URL ends in `/`.
fn remote_path(
    local: &Path,
    target: &Target,
    charset: ftpkit::Charset,
) -> Result<Vec<u8>, Failure> {
    if !target.is_dir() {
        return Ok(target.path.clone());
    }
    let name = local
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Failure::Usage(format!("{} has no usable file name", local.display())))?;
    let name = charset
        .encode(name)
        .map_err(|e| Failure::Usage(format!("{}: {e}", local.display())))?;
    let mut path = target.path.clone();
    path.extend_from_slice(&name);
    Ok(path)
}
