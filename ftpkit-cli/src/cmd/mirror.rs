//! `ftpkit mirror REMOTE_URL LOCAL_DIR` and `mirror --reverse LOCAL_DIR
//! REMOTE_URL`: copy a tree, only what changed, over several connections.
//!
//! Names from the server are hostile until checked: a name that is empty,
//! `.` or `..`, holds `/`, `\`, NUL or a control character, or is not
//! UTF-8 is skipped with a warning, and so is every symlink (never
//! followed, on either side). Local paths are built only from checked
//! components under LOCAL_DIR, and a local symlink met on the way is
//! refused, so nothing is written or deleted outside LOCAL_DIR.

use std::{
    collections::{BTreeMap, BTreeSet, VecDeque},
    fs,
    path::{Path, PathBuf},
    sync::{
        Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, SystemTime},
};

use ftpkit::{Charset, Client, EntryKind, RemoteStat, TimePrecision, TransferReport};
use indicatif::{ProgressBar, ProgressStyle};

use super::{check_name, check_name_in};
use crate::{failure::Failure, glob, output, plan::Settings, plan::Target};

/// What `mirror` was asked to do.
#[derive(Clone, Debug, Default)]
pub struct MirrorOptions {
    /// Local to remote instead of remote to local.
    pub reverse: bool,
    /// Connections transferring at once.
    pub parallel: usize,
    /// Delete files and directories gone from the source.
    pub delete: bool,
    /// Print what would be done, do nothing.
    pub dry_run: bool,
    /// Only paths matching one of these (all when empty).
    pub include: Vec<String>,
    /// Never paths matching one of these.
    pub exclude: Vec<String>,
    /// Carry the Unix permissions of the files copied.
    pub perms: bool,
}

/// Connections a download of `size` bytes is split over: `--segments`
/// (default [`MIRROR_SEGMENTS`]) for a file of at least
/// `--segment-threshold`, else one.
fn segments_for(size: Option<u64>, settings: &Settings) -> u16 {
    match size {
        Some(size) if size >= settings.segment_threshold => {
            settings.segments.unwrap_or(MIRROR_SEGMENTS)
        }
        _ => 1,
    }
}

/// The connections `mirror` splits a large file over by default.
pub const MIRROR_SEGMENTS: u16 = 4;

/// A relative path inside the tree, as checked components.
type Rel = Vec<String>;

/// A file of either side.
#[derive(Clone, Debug)]
struct FileInfo {
    size: Option<u64>,
    modified: Option<SystemTime>,
    /// How precisely `modified` is known: the second on a local disk and
    /// from MLSD or MDTM, the minute or the day from LIST.
    precision: TimePrecision,
    /// Unix permission bits, where known (the listing's, the local file's).
    mode: Option<u32>,
}

/// One side's tree: files and directories by relative path.
#[derive(Debug, Default)]
struct Tree {
    files: BTreeMap<Rel, FileInfo>,
    dirs: BTreeSet<Rel>,
    /// Entries skipped because their name is unsafe as a local one.
    refused: usize,
}

/// Runs the mirror.
pub fn run(
    src: &str,
    dst: &str,
    options: &MirrorOptions,
    settings: &Settings,
) -> Result<(), Failure> {
    let (url, local) = if options.reverse {
        (dst, src)
    } else {
        (src, dst)
    };
    let target = settings.url(url)?;
    let charset = settings.reach.charset();
    let root = remote_root(&target);
    let local = PathBuf::from(local);
    let filter = Filter::new(options)?;
    let mut warnings = 0usize;
    let mut warn = |msg: String| {
        warnings += 1;
        eprintln!("ftpkit: warning: {msg}");
    };

    let connector = super::Connector::new(&target, settings)?;
    let mut lister = super::Connection::new(connector.connect()?);
    let refused = if options.reverse {
        if !local.is_dir() {
            return Err(Failure::Usage(format!(
                "{}: not a directory",
                local.display()
            )));
        }
        let source = walk_local(&local, &filter, charset, &mut warn)?;
        let dest = match walk_remote(&mut lister, &root, &filter, &mut warn) {
            Ok(tree) => tree,
            // A destination that does not exist yet is an empty tree.
            Err(Failure::Ftp(e)) if e.is_permanent() => Tree::default(),
            Err(e) => return Err(e),
        };
        let plan = Plan::new(&source, &dest, &mut lister, &root, options.reverse)?;
        if options.dry_run {
            plan.print(options);
            return Ok(());
        }
        // The root and its parents, like mkdir -p.
        for (i, _) in root
            .iter()
            .enumerate()
            .filter(|(i, b)| **b == b'/' && *i > 0)
        {
            ensure_remote_dir(&mut lister, root.get(..i).unwrap_or_default())?;
        }
        if !root.is_empty() && root != b"/" {
            ensure_remote_dir(&mut lister, &root)?;
        }
        for dir in &plan.mkdirs {
            ensure_remote_dir(&mut lister, &remote_path(&root, dir, charset))?;
        }
        let reports = transfer_all(
            &connector, settings, options, &plan, &root, &local, &mut warn,
        )?;
        if options.delete {
            for rel in &plan.deletes {
                lister.delete(remote_path(&root, rel, charset))?;
            }
            for rel in plan.rmdirs.iter().rev() {
                lister.rmd(remote_path(&root, rel, charset))?;
            }
        }
        drop(lister);
        summary(settings, &plan, &reports, warnings, options);
        source.refused
    } else {
        fs::create_dir_all(&local).map_err(|e| Failure::Local(local.clone(), e))?;
        let source = walk_remote(&mut lister, &root, &filter, &mut warn)?;
        let dest = walk_local(&local, &filter, charset, &mut warn)?;
        let mut plan = Plan::new(&source, &dest, &mut lister, &root, options.reverse)?;
        drop(lister);
        if options.dry_run {
            plan.print(options);
            return Ok(());
        }
        for dir in &plan.mkdirs {
            if let Err(msg) = local_dir(&local, dir) {
                warn(msg);
            }
        }
        // Never write through a local symlink, planted or not.
        plan.copies.retain(|(rel, _)| {
            let safe = local_path(&local, rel).is_some_and(|path| {
                !fs::symlink_metadata(ftpkit::part_path(&path))
                    .is_ok_and(|m| m.file_type().is_symlink())
            });
            if !safe {
                warn(format!(
                    "skipping {}: a local symlink is on the way",
                    rel.join("/")
                ));
            }
            safe
        });
        let reports = transfer_all(
            &connector, settings, options, &plan, &root, &local, &mut warn,
        )?;
        if options.delete {
            for rel in &plan.deletes {
                if let Some(path) = local_path(&local, rel) {
                    fs::remove_file(&path).map_err(|e| Failure::Local(path.clone(), e))?;
                }
            }
            for rel in plan.rmdirs.iter().rev() {
                if let Some(path) = local_path(&local, rel) {
                    fs::remove_dir(&path).map_err(|e| Failure::Local(path.clone(), e))?;
                }
            }
        }
        summary(settings, &plan, &reports, warnings, options);
        source.refused
    };
    if refused > 0 {
        return Err(Failure::Skipped(refused));
    }
    Ok(())
}

/// The URL's path as the root of the remote tree, without a trailing `/`.
fn remote_root(target: &Target) -> Vec<u8> {
    let mut root = target.path.clone();
    while root.len() > 1 && root.ends_with(b"/") {
        root.pop();
    }
    root
}

/// The remote path of `rel` under `root`, each name written in the
/// server's charset (the walks keep only names it can write).
fn remote_path(root: &[u8], rel: &[String], charset: Charset) -> Vec<u8> {
    let mut path = root.to_vec();
    for part in rel {
        if !path.is_empty() && !path.ends_with(b"/") {
            path.push(b'/');
        }
        match charset.encode(part) {
            Ok(bytes) => path.extend_from_slice(&bytes),
            Err(_) => path.extend_from_slice(part.as_bytes()),
        }
    }
    path
}

/// Include and exclude globs. A pattern with a `/` matches the relative
/// path; one without matches the name in any directory.
struct Filter {
    include: Vec<String>,
    exclude: Vec<String>,
}

impl Filter {
    fn new(options: &MirrorOptions) -> Result<Filter, Failure> {
        Ok(Filter {
            include: options.include.clone(),
            exclude: options.exclude.clone(),
        })
    }

    fn matches(pattern: &str, rel: &[String]) -> bool {
        let name = rel.last().map(String::as_str).unwrap_or_default();
        if pattern.contains('/') {
            glob::matches(pattern.as_bytes(), rel.join("/").as_bytes())
        } else {
            glob::matches(pattern.as_bytes(), name.as_bytes())
        }
    }

    /// Whether a directory is walked: not excluded.
    fn walks(&self, rel: &[String]) -> bool {
        !self.exclude.iter().any(|p| Filter::matches(p, rel))
    }

    /// Whether a file is copied: included (or no includes) and not excluded.
    fn copies(&self, rel: &[String]) -> bool {
        (self.include.is_empty() || self.include.iter().any(|p| Filter::matches(p, rel)))
            && self.walks(rel)
    }
}

/// Lists the remote tree under `root`, breadth first.
fn walk_remote(
    client: &mut Client,
    root: &[u8],
    filter: &Filter,
    warn: &mut impl FnMut(String),
) -> Result<Tree, Failure> {
    let mut tree = Tree::default();
    let mut queue: VecDeque<Rel> = VecDeque::from([Vec::new()]);
    while let Some(dir) = queue.pop_front() {
        let charset = client.config().encoding;
        let path = remote_path(root, &dir, charset);
        let mut entries = client.list_entries(&path)?;
        let mut listed = Vec::new();
        for entry in entries.by_ref() {
            listed.push(entry?);
        }
        drop(entries);
        for entry in listed {
            let shown_path = || {
                ftpkit::Name::from(remote_path(
                    charset.decode(&path).as_bytes(),
                    &[entry.name.decode(charset).into_owned()],
                    Charset::UTF_8,
                ))
                .escaped()
            };
            // `.` and `..` (some LISTs show them) are not entries.
            if matches!(entry.name.as_bytes(), b"." | b"..") {
                continue;
            }
            let name = match check_name_in(entry.name.as_bytes(), charset) {
                Ok(name) => name,
                Err(why) => {
                    warn(format!(
                        "skipping a server entry in {}: {why}",
                        super::shown_folder(&path)
                    ));
                    tree.refused += 1;
                    continue;
                }
            };
            let mut rel = dir.clone();
            rel.push(name);
            match &entry.kind {
                EntryKind::Directory => {
                    if filter.walks(&rel) {
                        tree.dirs.insert(rel.clone());
                        queue.push_back(rel);
                    }
                }
                EntryKind::File => {
                    if filter.copies(&rel) {
                        tree.files.insert(
                            rel,
                            FileInfo {
                                size: entry.size,
                                modified: entry.modified,
                                precision: entry.time_precision,
                                mode: entry.permissions,
                            },
                        );
                    }
                }
                EntryKind::Symlink { .. } => {
                    warn(format!(
                        "skipping {}: symlinks are not followed",
                        shown_path()
                    ));
                }
                _ => warn(format!(
                    "skipping {}: not a file or directory",
                    shown_path()
                )),
            }
        }
    }
    Ok(tree)
}

/// Lists the local tree under `root`, never following symlinks.
fn walk_local(
    root: &Path,
    filter: &Filter,
    charset: Charset,
    warn: &mut impl FnMut(String),
) -> Result<Tree, Failure> {
    let mut tree = Tree::default();
    let mut queue: VecDeque<Rel> = VecDeque::from([Vec::new()]);
    while let Some(dir) = queue.pop_front() {
        let path = dir.iter().fold(root.to_path_buf(), |p, c| p.join(c));
        let read = fs::read_dir(&path).map_err(|e| Failure::Local(path.clone(), e))?;
        for item in read {
            let item = item.map_err(|e| Failure::Local(path.clone(), e))?;
            let name = item.file_name();
            let checked =
                check_name(name.as_encoded_bytes()).and_then(|name| match charset.encode(&name) {
                    Ok(_) => Ok(name),
                    Err(e) => Err(format!(
                        "{}: {e}",
                        ftpkit::Name::from(name.as_str()).escaped()
                    )),
                });
            let name = match checked {
                Ok(name) => name,
                Err(why) => {
                    warn(format!(
                        "skipping a local entry in {}: {why}",
                        path.display()
                    ));
                    tree.refused += 1;
                    continue;
                }
            };
            let meta =
                fs::symlink_metadata(item.path()).map_err(|e| Failure::Local(item.path(), e))?;
            let mut rel = dir.clone();
            rel.push(name);
            if meta.file_type().is_symlink() {
                warn(format!(
                    "skipping {}: symlinks are not followed",
                    item.path().display()
                ));
            } else if meta.is_dir() {
                if filter.walks(&rel) {
                    tree.dirs.insert(rel.clone());
                    queue.push_back(rel);
                }
            } else if meta.is_file() && filter.copies(&rel) {
                tree.files.insert(
                    rel,
                    FileInfo {
                        size: Some(meta.len()),
                        modified: meta.modified().ok(),
                        precision: TimePrecision::Second,
                        mode: local_mode(&meta),
                    },
                );
            }
        }
    }
    Ok(tree)
}

/// What to do.
#[derive(Debug, Default)]
struct Plan {
    /// Files to copy, with the source's stat.
    copies: Vec<(Rel, FileInfo)>,
    /// Files already the same on both sides.
    same: usize,
    /// Directories to create at the destination.
    mkdirs: Vec<Rel>,
    /// Files to delete at the destination (with --delete).
    deletes: Vec<Rel>,
    /// Directories to remove at the destination (with --delete), parents
    /// first (removed in reverse).
    rmdirs: Vec<Rel>,
}

impl Plan {
    fn new(
        source: &Tree,
        dest: &Tree,
        lister: &mut Client,
        root: &[u8],
        reverse: bool,
    ) -> Result<Plan, Failure> {
        let mut plan = Plan::default();
        for (rel, src) in &source.files {
            let same = match dest.files.get(rel) {
                None => false,
                Some(dst) => {
                    // Times from LIST are coarse: ask MDTM for the second
                    // when sizes agree; without it, compare at the
                    // coarser precision of the two sides.
                    let mut src = src.clone();
                    let mut dst = dst.clone();
                    if src.size == dst.size && src.size.is_some() {
                        let remote = if reverse { &mut dst } else { &mut src };
                        if remote.precision < TimePrecision::Second
                            && let Ok(exact) =
                                lister.mdtm(remote_path(root, rel, lister.config().encoding))
                        {
                            remote.modified = Some(exact);
                            remote.precision = TimePrecision::Second;
                        }
                    }
                    up_to_date(&src, &dst)
                }
            };
            if same {
                plan.same += 1;
            } else {
                plan.copies.push((rel.clone(), src.clone()));
            }
        }
        plan.mkdirs = source.dirs.difference(&dest.dirs).cloned().collect();
        // A file at the destination where the source has a directory (or
        // the reverse) is deleted only with --delete; the copy then fails
        // with a clear error if it is in the way.
        plan.deletes = dest
            .files
            .keys()
            .filter(|rel| !source.files.contains_key(*rel))
            .cloned()
            .collect();
        plan.rmdirs = dest.dirs.difference(&source.dirs).cloned().collect();
        Ok(plan)
    }

    fn print(&self, options: &MirrorOptions) {
        let verb = if options.reverse { "put" } else { "get" };
        for dir in &self.mkdirs {
            println!("mkdir {}", dir.join("/"));
        }
        for (rel, info) in &self.copies {
            match info.size {
                Some(size) => println!("{verb} {} ({size} bytes)", rel.join("/")),
                None => println!("{verb} {}", rel.join("/")),
            }
        }
        if options.delete {
            for rel in &self.deletes {
                println!("delete {}", rel.join("/"));
            }
            for rel in self.rmdirs.iter().rev() {
                println!("rmdir {}", rel.join("/"));
            }
        }
        println!(
            "# {} to copy, {} up to date{}",
            self.copies.len(),
            self.same,
            if options.delete {
                format!(", {} to delete", self.deletes.len() + self.rmdirs.len())
            } else {
                String::new()
            }
        );
    }
}

/// Same size, and the destination not older than the source, compared at
/// the coarser precision of the two times (a LIST time known to the
/// minute is not older than the same minute with seconds), with a second
/// of slack for file systems that round times.
fn up_to_date(src: &FileInfo, dst: &FileInfo) -> bool {
    if src.size.is_none() || src.size != dst.size {
        return false;
    }
    match (src.modified, dst.modified) {
        (Some(src_time), Some(dst_time)) => {
            let at = src.precision.coarser(dst.precision);
            let (src_time, dst_time) = (at.truncate(src_time), at.truncate(dst_time));
            dst_time >= src_time
                || (at == TimePrecision::Second && dst_time + Duration::from_secs(1) >= src_time)
        }
        _ => true,
    }
}

/// The local path of `rel` under `root`, or `None` if a component on the
/// way is a symlink (it could lead outside `root`).
fn local_path(root: &Path, rel: &[String]) -> Option<PathBuf> {
    let mut path = root.to_path_buf();
    for part in rel {
        path.push(part);
        if fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            return None;
        }
    }
    Some(path)
}

/// Creates the local directory `rel` under `root`, refusing symlinks.
fn local_dir(root: &Path, rel: &[String]) -> Result<(), String> {
    let mut path = root.to_path_buf();
    for part in rel {
        path.push(part);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(format!(
                    "{}: a symlink; not writing through it",
                    path.display()
                ));
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(format!("{}: exists and is not a directory", path.display())),
            Err(_) => fs::create_dir(&path).map_err(|e| format!("{}: {e}", path.display()))?,
        }
    }
    Ok(())
}

/// Creates a remote directory unless it exists.
fn ensure_remote_dir(client: &mut Client, path: &[u8]) -> Result<(), Failure> {
    match client.mkd(path) {
        Ok(_) => Ok(()),
        Err(e) if e.is_permanent() => Ok(()), // exists; a real problem shows at upload
        Err(e) => Err(e.into()),
    }
}

/// Copies every file of the plan over `options.parallel` connections from
/// a pool ([`super::batch::pool`]): a worker borrows a connection per file, and a connection a
/// failure left unusable is replaced by a fresh one.
fn transfer_all(
    connector: &super::Connector,
    settings: &Settings,
    options: &MirrorOptions,
    plan: &Plan,
    root: &[u8],
    local: &Path,
    warn: &mut impl FnMut(String),
) -> Result<Vec<TransferReport>, Failure> {
    let workers = options.parallel.clamp(1, 64).min(plan.copies.len().max(1));
    let pool = super::batch::pool(connector, workers);
    let jobs: Mutex<VecDeque<&(Rel, FileInfo)>> = Mutex::new(plan.copies.iter().collect());
    let total: u64 = plan.copies.iter().filter_map(|(_, i)| i.size).sum();
    let bar = overall_bar(settings, plan.copies.len(), total);
    let results: Mutex<Vec<Result<TransferReport, (Rel, Failure)>>> = Mutex::new(Vec::new());
    let perms = PermsState::default();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let pop = || match jobs.lock() {
                    Ok(mut queue) => queue.pop_front(),
                    Err(_) => None,
                };
                // A worker takes its next file before copying this one, and
                // keeps its connection while copies succeed: the next file's
                // commands go out with this one's RETR (`followed_by`).
                let mut held = None;
                let mut job = pop();
                while let Some((rel, info)) = job {
                    let next = pop();
                    let client = match held.take() {
                        Some(client) => Ok(client),
                        None => pool.get().map_err(Failure::Ftp),
                    };
                    let result = client.and_then(|mut client| {
                        let copied = copy_one(
                            &mut client,
                            settings,
                            options,
                            root,
                            local,
                            (rel, info),
                            next.map(|(rel, _)| rel),
                            &bar,
                            &perms,
                        );
                        if copied.is_ok() {
                            held = Some(client);
                        }
                        copied
                    });
                    if let Ok(mut r) = results.lock() {
                        r.push(result.map_err(|e| (rel.clone(), e)));
                    }
                    job = next;
                }
            });
        }
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    perms.warn(options.reverse);
    let mut reports = Vec::new();
    let mut first_failure = None;
    for result in results.into_inner().unwrap_or_default() {
        match result {
            Ok(report) => reports.push(report),
            Err((rel, failure)) => {
                warn(format!("{}: {failure}", rel.join("/")));
                first_failure.get_or_insert(failure);
            }
        }
    }
    match first_failure {
        Some(failure) => Err(failure),
        None => Ok(reports),
    }
}

/// Copies one file on a pooled connection; `next`, the file the same
/// connection copies next, if known.
#[allow(clippy::too_many_arguments)]
fn copy_one(
    c: &mut Client,
    settings: &Settings,
    options: &MirrorOptions,
    root: &[u8],
    local: &Path,
    (rel, info): (&Rel, &FileInfo),
    next: Option<&Rel>,
    bar: &Option<ProgressBar>,
    perms: &PermsState,
) -> Result<TransferReport, Failure> {
    let remote = remote_path(root, rel, c.config().encoding);
    let next = next.map(|next| remote_path(root, next, c.config().encoding));
    let path = local_path(local, rel).ok_or_else(|| {
        Failure::Remote(format!(
            "{}: a local symlink is on the way; not writing through it",
            rel.join("/")
        ))
    })?;
    let mut last = 0u64;
    let tick = |done: u64| {
        if let Some(bar) = bar {
            bar.inc(done.saturating_sub(last));
        }
        last = done;
    };
    let report = if options.reverse {
        c.upload(&path, &remote)
            .options(settings.transfer.clone())
            .progress(tick)
            .run()?
    } else {
        let download = c
            .download(&remote, &path)
            .options(settings.transfer.clone())
            .segments(segments_for(info.size, settings));
        // A time known only to the minute or the day must not become the
        // local file's time (the next run would find it older than MDTM's
        // second): then the library asks SIZE and MDTM itself.
        let download = if info.precision == TimePrecision::Second {
            download.known_stat(RemoteStat {
                size: info.size,
                modified: info.modified,
            })
        } else {
            download
        };
        let download = match next {
            Some(next) => download.followed_by(next),
            None => download,
        };
        download.sync(settings.fsync).progress(tick).run()?
    };
    if options.perms {
        perms.carry(c, options.reverse, info.mode, &remote, &path)?;
    }
    if let Some(bar) = bar {
        bar.set_message(rel.join("/"));
    }
    if settings.json_summary {
        println!(
            "{}",
            output::transfer_json(
                if options.reverse { "put" } else { "get" },
                &String::from_utf8_lossy(&remote),
                &path.display().to_string(),
                &report
            )
        );
    }
    Ok(report)
}

/// What `--perms` met on the way, told once at the end: files whose mode
/// nobody knew, a server without SITE CHMOD.
#[derive(Default)]
struct PermsState {
    unknown: AtomicUsize,
    no_site_chmod: AtomicBool,
    refused: AtomicUsize,
}

impl PermsState {
    /// Gives the copy of a file the source's mode: the local file's with
    /// SITE CHMOD on upload, the listing's with chmod(2) on download.
    fn carry(
        &self,
        c: &mut Client,
        upload: bool,
        mode: Option<u32>,
        remote: &[u8],
        path: &Path,
    ) -> Result<(), Failure> {
        let Some(mode) = mode.map(|m| m & 0o7777) else {
            self.unknown.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        };
        if !upload {
            return set_local_mode(path, mode).map_err(|e| Failure::Local(path.to_path_buf(), e));
        }
        if self.no_site_chmod.load(Ordering::Relaxed) {
            return Ok(());
        }
        match c.chmod(mode, remote) {
            Ok(_) => Ok(()),
            Err(e) if super::simple::lacks_site_chmod(&e) => {
                self.no_site_chmod.store(true, Ordering::Relaxed);
                Ok(())
            }
            Err(e) if e.is_permanent() => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The warnings, once each.
    fn warn(&self, upload: bool) {
        let unknown = self.unknown.load(Ordering::Relaxed);
        if unknown > 0 {
            let side = if upload {
                "locally"
            } else {
                "from the listing"
            };
            super::warn(&format!(
                "--perms: the mode of {unknown} files is not known {side}; left as is"
            ));
        }
        if self.no_site_chmod.load(Ordering::Relaxed) {
            super::warn("--perms: the server does not offer SITE CHMOD; modes left as is");
        }
        let refused = self.refused.load(Ordering::Relaxed);
        if refused > 0 {
            super::warn(&format!(
                "--perms: the server refused SITE CHMOD for {refused} files"
            ));
        }
    }
}

/// A local file's permission bits (Unix only).
fn local_mode(meta: &fs::Metadata) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Some(meta.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// Sets a local file's permission bits (Unix only; elsewhere nothing).
fn set_local_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

fn overall_bar(settings: &Settings, files: usize, bytes: u64) -> Option<ProgressBar> {
    if !crate::progress::Progress::enabled(settings.quiet) || files == 0 {
        return None;
    }
    let bar = ProgressBar::new(bytes).with_style(
        ProgressStyle::with_template(
            "mirror {bar:30} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(format!("{files} files"));
    Some(bar)
}

fn summary(
    settings: &Settings,
    plan: &Plan,
    reports: &[TransferReport],
    warnings: usize,
    options: &MirrorOptions,
) {
    if settings.quiet {
        return;
    }
    let bytes: u64 = reports.iter().map(|r| r.size).sum();
    let hashed = reports.iter().filter(|r| r.verified.hash.is_some()).count();
    let sized = reports.iter().filter(|r| r.verified.size.is_some()).count();
    let retries: u32 = reports.iter().map(|r| r.retries).sum();
    let deleted = if options.delete {
        plan.deletes.len() + plan.rmdirs.len()
    } else {
        0
    };
    eprintln!(
        "mirror: {} files copied ({bytes} bytes; {sized} size-verified, {hashed} hash-verified), {} up to date, {deleted} deleted, {warnings} skipped with a warning, {retries} retries",
        reports.len(),
        plan.same
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_refused() {
        for bad in [
            &b".."[..],
            b".",
            b"",
            b"../x",
            b"/etc/passwd",
            b"a/b",
            b"a\\b",
            b"x\x1b[31m",
            b"a\0b",
            b"\xff",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(check_name(b"-R").unwrap(), "-R");
        assert_eq!(check_name("été.txt".as_bytes()).unwrap(), "été.txt");
    }

    #[test]
    fn filters_match_names_or_paths() {
        let f = Filter {
            include: vec!["*.csv".into()],
            exclude: vec!["tmp".into(), "a/skip.csv".into()],
        };
        let rel = |s: &str| s.split('/').map(str::to_owned).collect::<Vec<_>>();
        assert!(f.copies(&rel("x/y/data.csv")));
        assert!(!f.copies(&rel("x/data.txt")));
        assert!(!f.copies(&rel("a/skip.csv")));
        assert!(!f.walks(&rel("x/tmp")));
        assert!(f.walks(&rel("x/y")));
    }

    #[test]
    fn up_to_date_needs_the_same_size_and_a_newer_copy() {
        let t = |s: u64| Some(SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        let f = |size: Option<u64>, modified, precision| FileInfo {
            size,
            modified,
            precision,
            mode: None,
        };
        let exact = |size, s| f(size, t(s), TimePrecision::Second);
        assert!(up_to_date(&exact(Some(1), 100), &exact(Some(1), 100)));
        assert!(up_to_date(&exact(Some(1), 100), &exact(Some(1), 200)));
        assert!(!up_to_date(&exact(Some(1), 200), &exact(Some(1), 100)));
        assert!(!up_to_date(&exact(Some(1), 100), &exact(Some(2), 100)));
        assert!(!up_to_date(&exact(None, 100), &exact(Some(2), 100)));
        assert!(up_to_date(
            &f(Some(1), None, TimePrecision::None),
            &exact(Some(1), 1)
        ));
        // LIST says 00:02 (the minute only): a copy stamped within that
        // minute (00:02:37, from MDTM) is up to date, one from an earlier
        // minute is not.
        let listed = f(Some(1), t(120), TimePrecision::Minute);
        assert!(up_to_date(&listed, &exact(Some(1), 157)));
        assert!(up_to_date(&exact(Some(1), 157), &listed));
        assert!(!up_to_date(&listed, &exact(Some(1), 119)));
        // Old files: the day only.
        let dated = f(Some(1), t(86_400), TimePrecision::Day);
        assert!(up_to_date(&exact(Some(1), 86_400 + 5_000), &dated));
        assert!(!up_to_date(&exact(Some(1), 2 * 86_400 + 5), &dated));
    }
}
