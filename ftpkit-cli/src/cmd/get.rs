//! `ftpkit get URL... [-o PATH] [-c]`: download to `PATH.part` with
//! retries and resume, rename to `PATH` only when complete and verified.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use ftpkit::Client;

use indicatif::MultiProgress;

use crate::{
    args::ManyArgs, failure::Failure, output, plan::Settings, plan::Target, progress::Progress,
};

/// Downloads `target` to `output` (or the remote base name), resuming with `resume`.
pub fn run(
    target: &Target,
    output: Option<&Path>,
    resume: bool,
    ascii: bool,
    settings: &Settings,
) -> Result<(), Failure> {
    let dest = match output {
        Some(path) => path.to_path_buf(),
        None => default_name(target, settings)?,
    };
    if dest.as_os_str() == "-" {
        return to_stdout(target, ascii, settings);
    }
    let (mut client, helpers) = connect_with_helpers(target, ascii, settings)?;
    let done = fetch(
        &mut client,
        &target.path,
        &dest,
        resume,
        ascii,
        settings,
        Extra {
            group: None,
            helpers,
            next: None,
        },
    )?;
    report(settings, &target.path, &dest, done);
    Ok(())
}

/// A connection being opened and logged in on a thread of its own.
type Opening = std::thread::JoinHandle<ftpkit::Result<Client>>;

/// The client, and for `--segments N` the N - 1 extra connections of a
/// segmented download, all opening and logging in at once: the first
/// logged in is the client, whose download starts at once, and each of
/// the others joins the download as soon as it is logged in, instead of
/// all waiting for the slowest login (a server that checks passwords with
/// a costly hash does that for all of them together). An extra
/// connection the server refuses is done without.
fn connect_with_helpers(
    target: &Target,
    ascii: bool,
    settings: &Settings,
) -> Result<(super::Connection, Vec<Opening>), Failure> {
    let extra = if ascii {
        0
    } else {
        settings.transfer.segments.saturating_sub(1)
    };
    if extra == 0 {
        return Ok((super::connect(target, settings)?, Vec::new()));
    }
    let connector = super::Connector::new(target, settings)?;
    let (done, logged_in) = std::sync::mpsc::channel();
    for _ in 0..=extra {
        let connector = connector.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            // The download may be over (or have failed) before this one
            // logs in: nobody waits for it then.
            let _ = done.send(connector.connect());
        });
    }
    drop(done);
    let mut waiting = usize::from(extra) + 1;
    let mut failed = None;
    let client = loop {
        match logged_in.recv() {
            Ok(result) => {
                waiting -= 1;
                match result {
                    Ok(client) => break client,
                    Err(e) => failed = Some(e),
                }
            }
            Err(_) => return Err(failed.unwrap_or(ftpkit::Error::Unusable).into()),
        }
    };
    // Each of the others as it logs in.
    let logged_in = std::sync::Arc::new(std::sync::Mutex::new(logged_in));
    let opening = (0..waiting)
        .map(|_| {
            let logged_in = logged_in.clone();
            std::thread::spawn(move || {
                let next = logged_in.lock().map(|r| r.recv());
                next.unwrap_or(Err(std::sync::mpsc::RecvError))
                    .unwrap_or(Err(ftpkit::Error::Unusable))
            })
        })
        .collect();
    Ok((super::Connection::new(client), opening))
}

/// What a download brought: a verified binary file, or a text file.
enum Done {
    Binary(ftpkit::TransferReport),
    Text(u64),
}

/// Prints the result line of a download.
fn report(settings: &Settings, remote: &[u8], dest: &Path, done: Done) {
    let remote = ftpkit::Name::from(settings.reach.charset().decode(remote).into_owned()).escaped();
    let local = dest.display().to_string();
    match done {
        Done::Binary(report) => output::report_transfer(settings, "get", &remote, &local, &report),
        Done::Text(bytes) => output::report_text_transfer(settings, "get", &remote, &local, bytes),
    }
}

/// What else a download has: the group of bars it shows in, the extra
/// connections of a segmented download, still opening, and the file
/// the same connection downloads next, if known (its commands go out
/// with this file's `RETR`: `followed_by`).
#[derive(Default)]
struct Extra<'a> {
    group: Option<&'a MultiProgress>,
    helpers: Vec<Opening>,
    next: Option<&'a [u8]>,
}

/// Downloads `remote` over `client` to `dest` through `dest.part`, with
/// the library's retrying, resuming, verifying download (or, with
/// `ascii`, in text mode). The bar learns the size from the library's own
/// `SIZE`: nothing is asked twice.
fn fetch(
    client: &mut Client,
    remote: &[u8],
    dest: &Path,
    resume: bool,
    ascii: bool,
    settings: &Settings,
    extra: Extra<'_>,
) -> Result<Done, Failure> {
    let Extra {
        group,
        helpers,
        next,
    } = extra;
    let charset = settings.reach.charset();
    let name = ftpkit::Name::from(charset.decode(base_name(remote)).into_owned()).escaped();
    let progress = Progress::new(&name, None, 0, settings.quiet).in_group(group);
    if ascii {
        let result = super::text::download(client, remote, dest, &progress, settings);
        progress.finish();
        return result.map(Done::Text);
    }
    let mut download = client
        .download(remote, dest)
        .options(settings.transfer.clone())
        .sync(settings.fsync)
        .adopt_local(resume)
        .opening_helpers(helpers)
        .on_size(|size| progress.set_total(size))
        .progress(|done| progress.set(done));
    if let Some(next) = next {
        download = download.followed_by(next);
    }
    let result = download.run();
    progress.finish();
    result
        .map(Done::Binary)
        .map_err(|e| Failure::of_local_file(dest, e))
}

/// The last component of a remote path.
fn base_name(path: &[u8]) -> &[u8] {
    path.rsplit(|&b| b == b'/').next().unwrap_or_default()
}

/// Downloads several URLs, and every file a glob in the last component of
/// a URL matches (`*`, `?`, `[a-z]`, matched on the client against NLST),
/// into `dir`, over one connection per server, or `--parallel N` at once
/// over a pool of connections to one server.
pub fn run_many(
    urls: &[String],
    dir: Option<&Path>,
    resume: bool,
    many: &ManyArgs,
    settings: &Settings,
) -> Result<(), Failure> {
    let dir = dir.unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(Failure::Usage(format!(
            "{}: with several files or a glob, -o must name an existing directory",
            dir.display()
        )));
    }
    if many.parallel > 1 {
        return run_parallel(urls, dir, resume, many, settings);
    }
    let mut session: Option<(String, u16, String, super::Connection)> = None;
    let mut skipped = 0;
    for url in urls {
        let target = settings.url(url)?;
        let same = session
            .as_ref()
            .is_some_and(|(h, p, u, _)| (h, *p, u) == (&target.host, target.port, &target.user));
        if !same {
            // The session with another server ends (QUIT) first.
            drop(session.take());
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
        let mut jobs = Vec::new();
        for remote in expand(client, &target.path)? {
            // `.` and `..` are not entries: no warning for them.
            if matches!(base_name(&remote), b"." | b"..") {
                continue;
            }
            // The one safe-name rule: a refused name is skipped with a
            // warning, and the others still come.
            match local_name(&remote, dir, settings.reach.charset()) {
                Some(dest) => jobs.push((remote, dest)),
                None => skipped += 1,
            }
        }
        for (n, (remote, dest)) in jobs.iter().enumerate() {
            // The next file's commands go out with this one's RETR.
            let next = jobs.get(n + 1).map(|(next, _)| next.as_slice());
            let extra = Extra {
                next,
                ..Extra::default()
            };
            let done = fetch(client, remote, dest, resume, many.ascii, settings, extra)?;
            report(settings, remote, dest, done);
        }
    }
    drop(session);
    if skipped > 0 {
        return Err(Failure::Skipped(skipped));
    }
    Ok(())
}

/// Where a remote file goes in `dir`: its base name if safe as a local
/// name, else `None` after a warning.
fn local_name(remote: &[u8], dir: &Path, charset: ftpkit::Charset) -> Option<PathBuf> {
    match super::check_name_in(base_name(remote), charset) {
        Ok(name) => Some(dir.join(name)),
        Err(why) => {
            let folder = remote.get(..remote.len() - base_name(remote).len());
            super::warn(&format!(
                "skipping a server entry in {}: {why}",
                super::shown_folder(folder.unwrap_or_default())
            ));
            None
        }
    }
}

/// `get --parallel N`: the globs expanded on one connection, then the
/// files downloaded N at once over a pool; each result printed in order.
fn run_parallel(
    urls: &[String],
    dir: &Path,
    resume: bool,
    many: &ManyArgs,
    settings: &Settings,
) -> Result<(), Failure> {
    let targets = super::same_server(urls, settings)?;
    let Some(first) = targets.first() else {
        return Err(Failure::Usage("get needs at least one URL".into()));
    };
    let pool = super::batch::pool(
        &super::Connector::new(first, settings)?,
        usize::from(many.parallel),
    );
    let mut jobs = Vec::new();
    let mut skipped = 0;
    {
        let mut client = pool.get()?;
        for target in &targets {
            for remote in expand(&mut client, &target.path)? {
                if matches!(base_name(&remote), b"." | b"..") {
                    continue;
                }
                match local_name(&remote, dir, settings.reach.charset()) {
                    Some(dest) => jobs.push((remote, dest)),
                    None => skipped += 1,
                }
            }
        }
    }
    let results = super::batch::run(
        &pool,
        usize::from(many.parallel),
        &jobs,
        settings,
        |client, (remote, dest), group| {
            fetch(
                client,
                remote,
                dest,
                resume,
                many.ascii,
                settings,
                Extra {
                    group,
                    ..Extra::default()
                },
            )
        },
    );
    let failed = super::batch::report(
        &jobs,
        results,
        |(remote, _)| ftpkit::Name::from(remote.as_slice()).escaped(),
        |(remote, dest), done| report(settings, remote, dest, done),
    );
    match failed {
        Some(exit) => Err(Failure::Reported(exit)),
        None if skipped > 0 => Err(Failure::Skipped(skipped)),
        None => Ok(()),
    }
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

fn to_stdout(target: &Target, ascii: bool, settings: &Settings) -> Result<(), Failure> {
    let mut client = super::connect(target, settings)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if ascii {
        let none = Progress::new("", None, 0, true);
        super::text::copy(
            &mut client,
            &target.path,
            &mut out,
            Path::new("<stdout>"),
            &none,
        )?;
    } else {
        client.get(&target.path, &mut out)?;
    }
    out.flush()
        .map_err(|e| Failure::Local("<stdout>".into(), e))?;
    Ok(())
}
