//! A segmented download on threads: the plan is the core's
//! (`proto::engine::segments`); here each extra connection runs its
//! `worker` on a thread of its own, next to the client's own connection on
//! the caller's thread, each with its own sockets and its own handle on
//! the `.part` file (positional writes, so they never share a position).

use super::{Client, Io, Progress, SizeCallback, drive_files};
use crate::{
    error::{Error, Result},
    proto::{
        Command, Expect,
        engine::{
            Core, files, ops,
            segments::{self, Clock, Prepared},
        },
        resume::TransferReport,
    },
};

pub(super) use crate::proto::engine::segments::Parts;

/// Runs `op_of` on `core` within what is left of the download's deadline.
fn within<T>(
    client: &mut Client,
    left: Option<std::time::Duration>,
    run: impl FnOnce(&mut Core, &mut Io) -> Result<T>,
) -> Result<T> {
    let limit = std::mem::replace(&mut client.core.config.deadline, left);
    let result = run(&mut client.core, &mut client.io);
    client.core.config.deadline = limit;
    result
}

/// Says goodbye on an extra connection that is open and in step; one
/// that is not is closed as it is when dropped.
fn goodbye(other: &mut Client) {
    if !other.core.is_unusable() && other.io.control.is_some() {
        let op = other
            .core
            .op(|core| ops::run(core, Command::Quit, Expect::Completion));
        let _ = crate::blocking::io::drive(&mut other.io, op);
    }
    other.io.control = None;
}

/// Downloads over several connections (see the builder's `segments`).
pub(super) fn download(
    client: &mut Client,
    parts: Parts,
    mut progress: Option<Progress<'_>>,
    mut on_size: Option<SizeCallback<'_>>,
) -> Result<TransferReport> {
    let clock = Clock::start(client.core.config.deadline);
    let left = || clock.left();
    let sizes = on_size.as_mut().map(|f| Box::new(f) as SizeCallback<'_>);
    let prepared = within(client, left(), |core, io| {
        let op = core.op(|core| {
            let (remote, local) = (parts.remote.clone(), parts.local.clone());
            segments::prepare(core, remote, local, parts.options.clone(), parts.known)
        });
        drive_files(io, op, None, sizes)
    })?;
    let job = match prepared {
        Prepared::Segments(job) => job,
        Prepared::Single(stat) => {
            return within(client, left(), |core, io| {
                let Parts {
                    remote,
                    local,
                    options,
                    adopt_local,
                    ..
                } = parts;
                let op = core.op(|core| {
                    files::download(core, remote, local, options, Some(stat), adopt_local)
                });
                drive_files(io, op, progress, on_size)
            });
        }
    };
    let mut others: Vec<Client> = (1..job.connections())
        .map(|_| {
            let mut io = Io::default();
            io.route = client.io.route.clone();
            Client {
                core: segments::sibling(&client.core, left()),
                io,
            }
        })
        .collect();
    let (mine, theirs) = std::thread::scope(|scope| {
        let handles: Vec<_> = others
            .iter_mut()
            .enumerate()
            .map(|(i, other)| {
                let job = job.clone();
                scope.spawn(move || {
                    let op = other.core.op(|core| segments::worker(core, job, i + 1));
                    let result = drive_files(&mut other.io, op, None, None);
                    goodbye(other);
                    result
                })
            })
            .collect();
        let reports = progress.as_mut().map(|f| Box::new(f) as Progress<'_>);
        let mine = within(client, left(), |core, io| {
            let op = core.op(|core| segments::worker(core, job.clone(), 0));
            drive_files(io, op, reports, None)
        });
        let theirs: Vec<Result<()>> = handles
            .into_iter()
            .map(|handle| handle.join().unwrap_or(Err(Error::Unusable)))
            .collect();
        (mine, theirs)
    });
    drop(others);
    let workers = mine.and(theirs.into_iter().collect::<Result<Vec<()>>>().map(drop));
    within(client, left(), |core, io| {
        let op = core.op(|core| segments::finish(core, job, workers));
        drive_files(io, op, progress, None)
    })
}
