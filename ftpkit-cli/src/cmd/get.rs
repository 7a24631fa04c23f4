//! `ftpkit get URL... [-o PATH] [-c]`: download to `PATH.part` with
//! retries and resume, rename to `PATH` only when complete and verified.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use ftpkit::Client;

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
    let mut client = super::connect(target, global)?;
    fetch(&mut client, &target.path, &dest, resume, global)?;
    let _ = client.quit();
    Ok(())
}

/// Downloads `remote` over `client` to `dest` through `dest.part`, with
/// the library's retrying, resuming, verifying download.
fn fetch(
    client: &mut Client,
    remote: &[u8],
    dest: &Path,
    resume: bool,
    global: &Global,
) -> Result<(), Failure> {
    let part = ftpkit::proto::resume::part_path(dest);
    if resume && !part.exists() && dest.exists() {
        // A file another tool left: continue it like our own .part.
        fs::rename(dest, &part).map_err(|e| Failure::Local(part.clone(), e))?;
    }
    let size = if Progress::enabled(global.quiet) {
        super::remote_size(client, remote)?
    } else {
        None
    };
    let name = String::from_utf8_lossy(base_name(remote)).into_owned();
    let have = fs::metadata(&part).map_or(0, |m| m.len());
    let progress = Progress::new(&name, size, have, global.quiet);
    let result = client
        .download(remote, dest)
        .options(super::transfer_options(global))
        .sync(global.fsync)
        .progress(|done| progress.set(done))
        .run();
    progress.finish();
    let report = match result {
        Ok(report) => report,
        Err(e) => {
            // Leave a .part only if it holds something to resume from.
            if fs::metadata(&part).is_ok_and(|m| m.len() == 0) {
                let _ = fs::remove_file(&part);
            }
            return Err(e.into());
        }
    };
    output::report_transfer(
        global,
        "get",
        &String::from_utf8_lossy(remote),
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
    global: &Global,
) -> Result<(), Failure> {
    let dir = dir.unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(Failure::Usage(format!(
            "{}: with several files or a glob, -o must name an existing directory",
            dir.display()
        )));
    }
    let mut session: Option<(String, u16, String, Client)> = None;
    for url in urls {
        let target = crate::plan::parse_url(url, global.tls)?;
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
                super::connect(&target, global)?,
            ));
        }
        let Some((.., client)) = session.as_mut() else {
            continue;
        };
        for remote in expand(client, &target.path)? {
            let dest = dir.join(safe_name(base_name(&remote))?);
            fetch(client, &remote, &dest, resume, global)?;
        }
    }
    if let Some((.., client)) = session {
        let _ = client.quit();
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

/// A server-supplied name as a local file name: refused if it could leave
/// the directory (empty, `.`, `..`, a separator) or is not UTF-8.
fn safe_name(name: &[u8]) -> Result<PathBuf, Failure> {
    let text = std::str::from_utf8(name).map_err(|_| {
        Failure::Remote(format!(
            "{}: the name is not UTF-8",
            String::from_utf8_lossy(name)
        ))
    })?;
    if text.is_empty() || text == "." || text == ".." || text.contains(['/', '\\']) {
        return Err(Failure::Remote(format!("refusing to save as {text:?}")));
    }
    Ok(PathBuf::from(text))
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
