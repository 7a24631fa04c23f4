//! `ftpkit get URL [-o PATH] [-c]`: download to `PATH.part`, rename to
//! `PATH` only when the server confirmed the end and the size matches.

use std::{
    ffi::OsString,
    fs::{self, OpenOptions},
    io::Write,
    path::{Path, PathBuf},
};

use crate::{args::Global, failure::Failure, output, plan::Target, progress::Progress};

/// Downloads `target` to `output` (or the remote base name), resuming with `resume`.
pub fn run(
    target: &Target,
    output: Option<&Path>,
    resume: bool,
    global: &Global,
) -> Result<(), Failure> {
    let dest = match output {
        Some(path) => path.to_path_buf(),
        None => default_name(target)?,
    };
    if dest.as_os_str() == "-" {
        return to_stdout(target, global);
    }
    let part = part_path(&dest);
    let mut client = super::connect(target, global)?;
    let size = super::remote_size(&mut client, &target.path)?;

    let offset = if resume {
        resume_offset(&dest, &part)?
    } else {
        0
    };
    if let Some(size) = size
        && offset > size
    {
        return Err(Failure::Mismatch(format!(
            "{} has {offset} bytes but the remote file only {size}: not resuming",
            part.display()
        )));
    }
    let created = !part.exists();
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .append(resume)
        .truncate(!resume)
        .open(&part)
        .map_err(|e| Failure::Local(part.clone(), e))?;

    if size != Some(offset) || size.is_none() {
        let name = String::from_utf8_lossy(target.file_name()).into_owned();
        let progress = Progress::new(&name, size, offset, global.quiet);
        let result = client
            .retrieve(&target.path)
            .rest(offset)
            .progress(|done| progress.set(done))
            .to_writer(&mut file);
        progress.finish();
        if let Err(e) = result {
            // Leave a .part only if it holds something to resume from.
            drop(file);
            if created && fs::metadata(&part).is_ok_and(|m| m.len() == 0) {
                let _ = fs::remove_file(&part);
            }
            return Err(e.into());
        }
    }
    file.flush().map_err(|e| Failure::Local(part.clone(), e))?;
    file.sync_all()
        .map_err(|e| Failure::Local(part.clone(), e))?;
    drop(file);

    let got = fs::metadata(&part)
        .map_err(|e| Failure::Local(part.clone(), e))?
        .len();
    if let Some(size) = size
        && got != size
    {
        return Err(Failure::Mismatch(format!(
            "{} has {got} bytes but the server reports {size}; kept for inspection or -c",
            part.display()
        )));
    }
    fs::rename(&part, &dest).map_err(|e| Failure::Local(dest.clone(), e))?;
    let _ = client.quit();
    if !global.quiet {
        output::report_transfer(&dest.display().to_string(), got, size.is_some());
    }
    Ok(())
}

/// The remote file's base name, refused if it could escape the directory.
fn default_name(target: &Target) -> Result<PathBuf, Failure> {
    let name = target.file_name();
    let text = std::str::from_utf8(name)
        .map_err(|_| Failure::Usage("the remote name is not UTF-8: give -o PATH".into()))?;
    if text.is_empty() || text == "." || text == ".." || text.contains('\\') {
        return Err(Failure::Usage(format!(
            "cannot save as {text:?}: give -o PATH"
        )));
    }
    Ok(PathBuf::from(text))
}

/// `PATH.part`.
pub fn part_path(dest: &Path) -> PathBuf {
    let mut name = OsString::from(dest.as_os_str());
    name.push(".part");
    PathBuf::from(name)
}

/// Where a resumed download starts: the length of `PATH.part`, or of
/// `PATH` (moved to `PATH.part`) when another tool left it.
fn resume_offset(dest: &Path, part: &Path) -> Result<u64, Failure> {
    if let Ok(meta) = fs::metadata(part) {
        return Ok(meta.len());
    }
    match fs::metadata(dest) {
        Ok(meta) => {
            fs::rename(dest, part).map_err(|e| Failure::Local(part.to_path_buf(), e))?;
            Ok(meta.len())
        }
        Err(_) => Ok(0),
    }
}

fn to_stdout(target: &Target, global: &Global) -> Result<(), Failure> {
    let mut client = super::connect(target, global)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    client.get(&target.path, &mut out)?;
    out.flush()
        .map_err(|e| Failure::Local("<stdout>".into(), e))?;
    let _ = client.quit();
    Ok(())
}
