//! `ftpkit get URL... [-o PATH] [-c]`: download to `PATH.part` with
//! retries and resume, rename to `PATH` only when complete and verified.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use ftpkit::Client;

use crate::{failure::Failure, output, plan::Settings, plan::Target, progress::Progress};

/// Downloads `target` to `output` (or the remote base name), resuming with `resume`.
pub fn run(
    target: &Target,
    output: Option<&Path>,
    resume: bool,
    settings: &Settings,
) -> Result<(), Failure> {
    let dest = match output {
        Some(path) => path.to_path_buf(),
        None => default_name(target, settings)?,
    };
    if dest.as_os_str() == "-" {
        return to_stdout(target, settings);
    }
    let mut client = super::connect(target, settings)?;
    fetch(&mut client, &target.path, &dest, resume, settings)?;
    let _ = client.quit();
    Ok(())
}

/// Downloads `remote` over `client` to `dest` through `dest.part`, with
/// the library's retrying, resuming, verifying download. The bar learns
/// the size from the library's own `SIZE`: nothing is asked twice.
fn fetch(
    client: &mut Client,
    remote: &[u8],
    dest: &Path,
    resume: bool,
    settings: &Settings,
) -> Result<(), Failure> {
    let charset = settings.reach.charset();
    let shown = |path: &[u8]| ftpkit::Name::from(charset.decode(path).into_owned()).escaped();
    let name = shown(base_name(remote));
    let progress = Progress::new(&name, None, 0, settings.quiet);
    let result = client
        .download(remote, dest)
        .options(settings.transfer.clone())
        .sync(settings.fsync)
        .adopt_local(resume)
        .on_size(|size| progress.set_total(size))
        .progress(|done| progress.set(done))
        .run();
    progress.finish();
    let report = result.map_err(|e| Failure::of_local_file(dest, e))?;
    output::report_transfer(
        settings,
        "get",
        &shown(remote),
        &dest.display().to_string(),
        &report,
    );
    Ok(())
}

/// The last component of a remote path.
fn base_name(path: &[u8]) -> &[u8] {
    path.rsplit(|&b| b == b'/').next().unwrap_or_default()
}

/// Downloads several URLs, and every file a glob in the last component of
/// a URL matches (`*`, `?`, `[a-z]`, matched on the client against NLST),
/// into `dir`, over one connection per server.
pub fn run_many(
    urls: &[String],
    dir: Option<&Path>,
    resume: bool,
    settings: &Settings,
) -> Result<(), Failure> {
    let dir = dir.unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(Failure::Usage(format!(
            "{}: with several files or a glob, -o must name an existing directory",
            dir.display()
        )));
    }
    let mut session: Option<(String, u16, String, Client)> = None;
    let mut skipped = 0;
    for url in urls {
        let target = settings.url(url)?;
        let same = session
            .as_ref()
            .is_some_and(|(h, p, u, _)| (h, *p, u) == (&target.host, target.port, &target.user));
        if !same {
            if let Some((.., old)) = session.take() {
                let _ = old.quit();
            }
            session = Some((
                target.host.clone(),
                target.port,
                target.user.clone(),
                super::connect(&target, settings)?,
            ));
        }
        let Some((.., client)) = session.as_mut() else {
            continue;
        };
        for remote in expand(client, &target.path)? {
            // `.` and `..` are not entries: no warning for them.
            if matches!(base_name(&remote), b"." | b"..") {
                continue;
            }
            // The one safe-name rule: a refused name is skipped with a
            // warning, and the others still come.
            match super::check_name_in(base_name(&remote), settings.reach.charset()) {
                Ok(name) => fetch(client, &remote, &dir.join(name), resume, settings)?,
                Err(why) => {
                    let folder = remote.get(..remote.len() - base_name(&remote).len());
                    super::warn(&format!(
                        "skipping a server entry in {}: {why}",
                        super::shown_folder(folder.unwrap_or_default())
                    ));
                    skipped += 1;
                }
            }
        }
    }
    if let Some((.., client)) = session {
        let _ = client.quit();
    }
    if skipped > 0 {
        return Err(Failure::Skipped(skipped));
    }
    Ok(())
}

/// The remote paths a URL path names: itself, or the matches of a glob in
/// its last component (an error if nothing matches).
fn expand(client: &mut Client, path: &[u8]) -> Result<Vec<Vec<u8>>, Failure> {
    let name = base_name(path);
    if !name.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
        return Ok(vec![path.to_vec()]);
    }
    let parent = path.get(..path.len() - name.len()).unwrap_or_default();
    let mut matches: Vec<Vec<u8>> = client
        .nlst(parent)?
        .into_iter()
        .map(|n| base_name(n.as_bytes()).to_vec())
        .filter(|n| crate::glob::matches(name, n))
        .map(|n| [parent, n.as_slice()].concat())
        .collect();
    matches.sort();
    if matches.is_empty() {
        return Err(Failure::Remote(format!(
            "{}: no match",
            String::from_utf8_lossy(path)
        )));
    }
    Ok(matches)
}

/// The remote file's base name, refused if it could escape the directory.
fn default_name(target: &Target, settings: &Settings) -> Result<PathBuf, Failure> {
    super::check_name_in(target.file_name(), settings.reach.charset())
        .map(PathBuf::from)
        .map_err(|why| Failure::Usage(format!("cannot save as {why}: give -o PATH")))
}

fn to_stdout(target: &Target, settings: &Settings) -> Result<(), Failure> {
    let mut client = super::connect(target, settings)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    client.get(&target.path, &mut out)?;
    out.flush()
        .map_err(|e| Failure::Local("<stdout>".into(), e))?;
    let _ = client.quit();
    Ok(())
}
