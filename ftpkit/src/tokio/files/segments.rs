//! A segmented download on tokio: the plan is the core's
//! (`proto::engine::segments`); here each extra connection runs its
//! `worker` in a task of its own, next to the client's own connection in
//! the caller's task, each with its own sockets and its own handle on the
//! `.part` file (positional writes under `spawn_blocking`, as every local
//! operation). Dropping the download's future aborts the tasks.

use std::time::Duration;

use tokio::task::JoinHandle;

use super::{AsyncClient, Io, Progress, SizeCallback, drive_files};
use crate::{
    error::{Error, Phase, Result},
    proto::{
        engine::{
            files,
            segments::{self, Clock, Prepared},
        },
        resume::TransferReport,
    },
};

pub(super) use crate::proto::engine::segments::Parts;

/// The tasks of the extra connections, aborted if the download's future
/// is dropped before they end.
struct Tasks(Vec<JoinHandle<Result<()>>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Sets the operation deadline of the client's next operation to `left`,
/// returning the one it had.
fn limit(client: &mut AsyncClient, left: Option<Duration>) -> Option<Duration> {
    std::mem::replace(&mut client.core.config.deadline, left)
}

/// Downloads over several connections (see the builder's `segments`).
pub(super) async fn download(
    client: &mut AsyncClient,
    parts: Parts,
    mut progress: Option<Progress<'_>>,
    mut on_size: Option<SizeCallback<'_>>,
) -> Result<TransferReport> {
    let clock = Clock::start(client.core.config.deadline);
    let left = || clock.left();
    let sizes = on_size.as_mut().map(|f| Box::new(f) as SizeCallback<'_>);
    let saved = limit(client, left());
    let (remote, local) = (parts.remote.clone(), parts.local.clone());
    let op = client
        .core
        .op(|core| segments::prepare(core, remote, local, parts.options.clone(), parts.known));
    let prepared = drive_files(&mut client.io, op, None, sizes).await;
    limit(client, saved);
    let job = match prepared? {
        Prepared::Segments(job) => job,
        Prepared::Single(stat) => {
            let saved = limit(client, left());
            let Parts {
                remote,
                local,
                options,
                adopt_local,
                ..
            } = parts;
            let op = client
                .core
                .op(|core| files::download(core, remote, local, options, Some(stat), adopt_local));
            let result = drive_files(&mut client.io, op, progress, on_size).await;
            limit(client, saved);
            return result;
        }
    };
    let mut tasks = Tasks(Vec::new());
    for i in 1..job.connections() {
        let mut io = Io::default();
        io.route = client.io.route.clone();
        let mut other = AsyncClient {
            core: segments::sibling(&client.core, left()),
            io,
        };
        let job = job.clone();
        tasks.0.push(tokio::spawn(async move {
            let op = other.core.op(|core| segments::worker(core, job, i));
            let result = drive_files(&mut other.io, op, None, None).await;
            if !other.core.is_unusable() && other.io.control.is_some() {
                let _ = other.quit().await;
            }
            result
        }));
    }
    let saved = limit(client, left());
    let op = client
        .core
        .op(|core| segments::worker(core, job.clone(), 0));
    let reports = progress.as_mut().map(|f| Box::new(f) as Progress<'_>);
    let mine = drive_files(&mut client.io, op, reports, None).await;
    limit(client, saved);
    let mut theirs = Ok(());
    for task in std::mem::take(&mut tasks.0) {
        let result = task
            .await
            .unwrap_or_else(|e| Err(Error::io(Phase::Local)(std::io::Error::other(e))));
        theirs = theirs.and(result);
    }
    let workers = mine.and(theirs);
    let saved = limit(client, left());
    let op = client.core.op(|core| segments::finish(core, job, workers));
    let result = drive_files(&mut client.io, op, progress, None).await;
    limit(client, saved);
    result
}
