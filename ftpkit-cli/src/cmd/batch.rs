//! Several files at once over a pool of connections (`get` and `put`
//! `--parallel N`): a worker borrows a connection per file, one progress
//! bar per file runs on a terminal, and the results are printed in the
//! order of the arguments once all are done. A failed file does not stop
//! the others.

use std::{collections::VecDeque, sync::Mutex, time::Duration};

use ftpkit::{
    Client,
    pool::{Pool, PoolConfig},
};
use indicatif::MultiProgress;

use crate::{exit::Exit, failure::Failure, plan::Settings, progress::Progress};

/// A pool of up to `size` logged-in connections made by `connector`.
pub fn pool(connector: &super::Connector, size: usize) -> Pool {
    let connector = connector.clone();
    Pool::new(
        PoolConfig::default()
            .max_size(size.max(1))
            .acquire_timeout(Duration::from_secs(600)),
        move || connector.connect(),
    )
}

/// Runs `work` on every job over at most `workers` pooled connections and
/// returns the results in the order of `jobs`. `work` is given the bar
/// group to put its bar in (none when no bar is shown).
pub fn run<J: Sync, T: Send>(
    pool: &Pool,
    workers: usize,
    jobs: &[J],
    settings: &Settings,
    work: impl Fn(&mut Client, &J, Option<&MultiProgress>) -> Result<T, Failure> + Sync,
) -> Vec<Result<T, Failure>> {
    let group = Progress::enabled(settings.quiet).then(MultiProgress::new);
    let queue: Mutex<VecDeque<usize>> = Mutex::new((0..jobs.len()).collect());
    let results: Mutex<Vec<Option<Result<T, Failure>>>> =
        Mutex::new(jobs.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers.clamp(1, jobs.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let next = match queue.lock() {
                        Ok(mut queue) => queue.pop_front(),
                        Err(_) => None,
                    };
                    let Some((i, job)) = next.and_then(|i| jobs.get(i).map(|job| (i, job))) else {
                        break;
                    };
                    let result = pool
                        .get()
                        .map_err(Failure::Ftp)
                        .and_then(|mut client| work(&mut client, job, group.as_ref()));
                    if let Ok(mut results) = results.lock()
                        && let Some(slot) = results.get_mut(i)
                    {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.unwrap_or(Err(Failure::Reported(Exit::Other))))
        .collect()
}

/// Prints each result in order: `done` for a success, the failure on
/// stderr, named by `name`. Returns the first failure's exit code.
pub fn report<J, T>(
    jobs: &[J],
    results: Vec<Result<T, Failure>>,
    name: impl Fn(&J) -> String,
    mut done: impl FnMut(&J, T),
) -> Option<Exit> {
    let mut first = None;
    for (job, result) in jobs.iter().zip(results) {
        match result {
            Ok(value) => done(job, value),
            Err(failure) => {
                eprintln!("ftpkit: {}: {failure}", name(job));
                first.get_or_insert(failure.exit());
            }
        }
    }
    first
}
