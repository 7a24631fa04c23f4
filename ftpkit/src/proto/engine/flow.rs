//! A streaming transfer (a data reader or writer handed to the caller):
//! what each read or write of its data connection means, when the final
//! reply is due and how it is judged, what is counted, and what a
//! transfer left unfinished leaves to the next operation. The drivers'
//! readers and writers only move bytes and ask [`Flow`] what follows.

use std::io;

use super::{Action, Core, Event, Pending, ops};
use crate::{
    error::{Error, Phase, Result},
    proto::{Command, Reply, TransferType, finish_transfer, rules},
};

/// Where a streaming transfer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Data is flowing.
    Data,
    /// The data connection is closed (or closing); the final reply is due.
    FinalReply,
    /// The server confirmed the transfer, or refused it.
    Done,
    /// An error or an abort ended the transfer.
    Failed,
}

/// What one read or write of the data connection means.
#[derive(Debug)]
pub(crate) enum Moved {
    /// This many bytes moved (never 0).
    Bytes(usize),
    /// The data ended: the final reply is due.
    End,
    /// Interrupted: try again.
    Again,
    /// The transfer failed: abandon it and report this.
    Failed(Error),
}

/// What one read of a data connection means, whatever the transfer: 0
/// bytes, or TLS ending without close_notify, is the end of the data (only
/// the final reply and the size check can vouch for data cut short
/// without close_notify).
pub(crate) fn read_outcome(result: io::Result<usize>, tls: bool) -> Moved {
    match result {
        Ok(0) => Moved::End,
        Ok(n) => Moved::Bytes(n),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Moved::Again,
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && tls => {
            tracing::warn!(target: "ftpkit::tls", "data connection closed without TLS close_notify");
            Moved::End
        }
        Err(e) => Moved::Failed(Error::io(Phase::Data)(e)),
    }
}

/// Where a data reader's next read goes ([`Flow::read_from`]).
#[derive(Debug)]
pub(crate) enum ReadFrom<'s, S> {
    /// The data connection: the data is flowing.
    Data(&'s mut S),
    /// The control connection: the data ended (or its connection is gone)
    /// and the final reply is due.
    Reply,
    /// Nowhere: the transfer was confirmed or failed; a read gives 0.
    Ended,
}

/// One streaming transfer, from the server's 1xx to its final reply.
#[derive(Debug)]
pub(crate) struct Flow {
    command: Command,
    upload: bool,
    announced: Option<u64>,
    expected: Option<u64>,
    moved: u64,
    stage: Stage,
    done: Option<Reply>,
}

impl Flow {
    /// A download by `command`, whose 1xx announced `announced` bytes.
    pub(crate) fn download(
        command: Command,
        announced: Option<u64>,
        ty: TransferType,
        rest: Option<u64>,
    ) -> Flow {
        Flow {
            command,
            upload: false,
            announced,
            expected: rules::expected_size(announced, ty, rest),
            moved: 0,
            stage: Stage::Data,
            done: None,
        }
    }

    /// An upload by `command`.
    pub(crate) fn upload(command: Command) -> Flow {
        Flow {
            upload: true,
            ..Flow::download(command, None, TransferType::Binary, None)
        }
    }

    /// The size the server announced in its 1xx, if it did.
    pub(crate) fn announced(&self) -> Option<u64> {
        self.announced
    }

    /// Bytes moved so far.
    pub(crate) fn moved(&self) -> u64 {
        self.moved
    }

    pub(crate) fn stage(&self) -> Stage {
        self.stage
    }

    /// Where a reader whose data connection is `stream` (`None` once it
    /// ended or was handed over) reads next.
    pub(crate) fn read_from<'s, S>(&self, stream: &'s mut Option<S>) -> ReadFrom<'s, S> {
        match (self.stage, stream.as_mut()) {
            (Stage::Data, Some(stream)) => ReadFrom::Data(stream),
            (Stage::Data | Stage::FinalReply, _) => ReadFrom::Reply,
            (Stage::Done | Stage::Failed, _) => ReadFrom::Ended,
        }
    }

    /// Whether the transfer still has data or a final reply to come.
    pub(crate) fn is_open(&self) -> bool {
        matches!(self.stage, Stage::Data | Stage::FinalReply)
    }

    /// What a read of the data connection means; counts the bytes.
    pub(crate) fn on_read(&mut self, result: io::Result<usize>, tls: bool) -> Moved {
        let moved = read_outcome(result, tls);
        self.count(&moved);
        moved
    }

    /// What a write to the data connection means; counts the bytes. A
    /// write of 0 bytes is a failure: the connection takes no more.
    pub(crate) fn on_write(&mut self, result: io::Result<usize>) -> Moved {
        let moved = match result {
            Ok(0) => Moved::Failed(Error::io(Phase::Data)(io::ErrorKind::WriteZero.into())),
            Ok(n) => Moved::Bytes(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Moved::Again,
            Err(e) => Moved::Failed(Error::io(Phase::Data)(e)),
        };
        self.count(&moved);
        moved
    }

    fn count(&mut self, moved: &Moved) {
        match moved {
            Moved::Bytes(n) => self.moved += *n as u64,
            Moved::End => self.stage = Stage::FinalReply,
            Moved::Again | Moved::Failed(_) => {}
        }
    }

    /// The upload's data is all written: its data connection is to be
    /// closed and its final reply read. `false` if it is not flowing.
    pub(crate) fn close(&mut self) -> bool {
        let flowing = self.stage == Stage::Data;
        if flowing {
            self.stage = Stage::FinalReply;
        }
        flowing
    }

    /// The transfer's final reply (or the failure to read it), judged: a
    /// 2xx, and for a binary download no fewer bytes than announced. A
    /// failure to read it leaves the connection unusable.
    pub(crate) fn conclude(&mut self, core: &mut Core, reply: Result<Reply>) -> Result<Reply> {
        let reply = match reply {
            Ok(reply) => reply,
            Err(e) => {
                core.unusable = true;
                self.stage = Stage::Failed;
                return Err(e);
            }
        };
        core.in_flight = false;
        self.stage = Stage::Done;
        let reply = if self.upload {
            finish_transfer(&self.command, reply)?
        } else {
            rules::finish_download(&self.command, reply, self.expected, self.moved)?
        };
        self.done = Some(reply.clone());
        Ok(reply)
    }

    /// The confirmed final reply, once.
    pub(crate) fn take_reply(&mut self) -> Result<Reply> {
        self.done.take().ok_or(Error::Unusable)
    }

    /// The transfer is given up (an error, an abort, a drop, an idle
    /// timeout): leaves the next operation what it must settle. `None` if
    /// it had already ended (nothing to do); `Some(true)` if the data
    /// connection is still open and the driver must hand it over
    /// (`Io::data`) for that abort; `Some(false)` if the driver must drop
    /// it, wherever it is (only the final reply is left).
    pub(crate) fn abandon(&mut self, core: &mut Core) -> Option<bool> {
        let stage = std::mem::replace(&mut self.stage, Stage::Failed);
        let pending = match stage {
            Stage::Data => Pending::Abort { reset: self.upload },
            Stage::FinalReply => Pending::FinalReply,
            Stage::Done | Stage::Failed => {
                self.stage = stage;
                return None;
            }
        };
        core.pending = Some(pending);
        core.in_flight = false;
        Some(stage == Stage::Data)
    }

    /// The idle timeout passed while the data or the final reply was
    /// awaited. Waiting on data: the transfer is abandoned (the driver
    /// hands its data connection over, as for [`Flow::abandon`]); waiting
    /// on the reply: the control connection is out of step.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn idle_expired(&mut self, core: &mut Core) -> (bool, Error) {
        if self.stage == Stage::FinalReply {
            core.unusable = true;
            self.stage = Stage::Failed;
            return (false, ops::timed_out(Phase::Control));
        }
        (
            self.abandon(core) == Some(true),
            ops::timed_out(Phase::Data),
        )
    }
}

/// Ends a streaming transfer whose data ended (a download) or was all
/// written (an upload, whose data connection the driver holds in
/// `Io::data`): the upload's data connection is closed properly (TLS
/// close_notify, shutdown, read until the server closes), then the final
/// reply is read and judged.
pub(crate) async fn conclude(core: &mut Core, flow: &mut Flow) -> Result<Reply> {
    if flow.upload {
        let deadline = core.idle_deadline();
        let event = core.perform(Action::FinishUpload { deadline }).await;
        if let Err(e) = ops::done(core, event, Phase::Data) {
            core.unusable = true;
            flow.stage = Stage::Failed;
            return Err(e);
        }
    }
    let reply = ops::final_reply(core).await;
    flow.conclude(core, reply)
}

impl Event {
    /// The event of a driver's read of a data connection (`ReadData`) into
    /// `block`: the bytes read, copied out; `None`: read again.
    pub(crate) fn of_data_read(read: Moved, block: &crate::block::Block) -> Option<Event> {
        match read {
            Moved::Bytes(n) => Some(Event::Bytes(block.filled(n).to_vec())),
            Moved::End => Some(Event::Eof),
            Moved::Again => None,
            Moved::Failed(e) => Some(Event::Failed(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;
    use crate::{
        Config,
        proto::{Arg, ReplyCode},
    };

    fn reply(code: u16) -> Reply {
        Reply::new(ReplyCode(code), vec![format!("{code} x").into_bytes()])
    }

    fn retr(announced: Option<u64>) -> Flow {
        let command = Command::Retr(Arg::path("f").unwrap());
        Flow::download(command, announced, TransferType::Binary, None)
    }

    #[test]
    fn a_download_counts_its_bytes_and_ends_on_eof_or_tls_without_close_notify() {
        let mut flow = retr(Some(10));
        assert!(matches!(flow.on_read(Ok(4), false), Moved::Bytes(4)));
        let eof = io::Error::from(io::ErrorKind::UnexpectedEof);
        assert!(matches!(flow.on_read(Err(eof), true), Moved::End));
        assert_eq!((flow.moved(), flow.stage()), (4, Stage::FinalReply));
        let plain_eof = io::Error::from(io::ErrorKind::UnexpectedEof);
        assert!(matches!(
            retr(None).on_read(Err(plain_eof), false),
            Moved::Failed(_)
        ));
    }

    #[test]
    fn a_reader_reads_data_then_the_final_reply_then_nothing() {
        let mut core = Core::new("h".into(), Config::default());
        let mut flow = retr(None);
        let mut stream = Some(7u8);
        assert!(matches!(flow.read_from(&mut stream), ReadFrom::Data(7)));
        // The data connection handed over (an abort) while data flows.
        assert!(matches!(flow.read_from(&mut None::<u8>), ReadFrom::Reply));
        flow.on_read(Ok(0), false);
        assert!(matches!(flow.read_from(&mut stream), ReadFrom::Reply));
        flow.conclude(&mut core, Ok(reply(226))).unwrap();
        assert!(matches!(flow.read_from(&mut stream), ReadFrom::Ended));
        let mut failed = retr(None);
        failed.abandon(&mut core);
        assert!(matches!(failed.read_from(&mut stream), ReadFrom::Ended));
    }

    #[test]
    fn fewer_bytes_than_announced_is_incomplete_even_with_226() {
        let mut core = Core::new("h".into(), Config::default());
        let mut flow = retr(Some(10));
        flow.on_read(Ok(4), false);
        flow.on_read(Ok(0), false);
        let err = flow.conclude(&mut core, Ok(reply(226))).unwrap_err();
        assert!(matches!(
            err,
            Error::Incomplete {
                expected: 10,
                received: 4
            }
        ));
        assert!(!core.in_flight && !core.unusable);
    }

    #[test]
    fn what_a_given_up_transfer_leaves_depends_on_where_it_stood() {
        let mut core = Core::new("h".into(), Config::default());
        core.in_flight = true;
        let mut upload = Flow::upload(Command::Stor(Arg::path("f").unwrap()));
        assert_eq!(upload.abandon(&mut core), Some(true));
        assert_eq!(core.pending, Some(Pending::Abort { reset: true }));
        assert!(!core.in_flight);
        assert_eq!(upload.abandon(&mut core), None);

        let mut closing = Flow::upload(Command::Stor(Arg::path("f").unwrap()));
        assert!(closing.close());
        assert_eq!(closing.abandon(&mut core), Some(false));
        assert_eq!(core.pending, Some(Pending::FinalReply));

        let mut done = retr(None);
        done.on_read(Ok(0), false);
        done.conclude(&mut core, Ok(reply(226))).unwrap();
        core.pending = None;
        assert_eq!(done.abandon(&mut core), None);
        assert_eq!(core.pending, None);
        assert_eq!(done.take_reply().unwrap().code(), ReplyCode(226));
    }
}
