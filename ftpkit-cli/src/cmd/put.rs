//! `ftpkit put FILE... URL [-c] [--temp-name]`: upload with retries and
//! resume, and verify the result (size, and a hash where offered).

use std::{ffi::OsString, path::Path};

use ftpkit::Client;

use crate::{failure::Failure, output, plan::Settings, plan::Target, progress::Progress};

/// Uploads the files in `args` (all but the last) to the URL (the last).
pub fn run_args(
    args: &[OsString],
    resume: bool,
    temp_name: bool,
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
    let mut client = super::connect(&target, settings)?;
    for file in files {
        upload_one(
            &mut client,
            Path::new(file),
            &target,
            resume,
            temp_name,
            settings,
        )?;
    }
    let _ = client.quit();
    Ok(())
}

/// Uploads `local` to the target (a file, or a directory ending in `/`).
fn upload_one(
    client: &mut Client,
    local: &Path,
    target: &Target,
    resume: bool,
    temp_name: bool,
    settings: &Settings,
) -> Result<(), Failure> {
    let len = std::fs::metadata(local)
        .map_err(|e| Failure::Local(local.to_path_buf(), e))?
        .len();
    let charset = settings.reach.charset();
    let remote = remote_path(local, target, charset)?;
    let name = charset.decode(&remote).into_owned();
    let progress = Progress::new(&name, Some(len), 0, settings.quiet);
    let result = client
        .upload(local, &remote)
        .options(settings.transfer.clone())
        .resume_existing(resume)
        .temp_name(temp_name)
        .progress(|done| progress.set(done))
        .run();
    progress.finish();
    let report = result.map_err(|e| Failure::of_local_file(local, e))?;
    output::report_transfer(
        settings,
        "put",
        &name,
        &local.display().to_string(),
        &report,
    );
    Ok(())
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
