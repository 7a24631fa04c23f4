//! The engine's operations fed events by hand, with a fake clock: exact
//! wire bytes, exact deadlines, no sockets and no sleeping.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use super::{
    Action, Core, Event, LocalOp, Operation, Pending, Step, Target, batch, data, files, ops,
};
use crate::{
    config::Config,
    error::{Deadline, Error, Phase},
    proto::{
        Arg, Command, DataMode, DataRequest, Reply, ReplyCode, Session, TransferType,
        hash::HashAlgorithm,
        resume::{Asks, RemoteStat, TransferOptions, Verified},
        rules,
    },
};

mod operations;

const PEER: &str = "192.0.2.1:21";

fn core() -> Core {
    let mut core = Core::new("ftp.example.com".into(), Config::default());
    let peer: SocketAddr = PEER.parse().unwrap();
    core.session = Session::new(peer, DataMode::Passive, false, true);
    core
}

fn bytes(text: &str) -> Event {
    Event::Bytes(text.as_bytes().to_vec())
}

/// Resumes `op` and returns the action it asks for.
fn act<T: std::fmt::Debug>(op: &mut Operation<'_, T>, event: Event, now: Instant) -> Action {
    match op.resume(event, now) {
        Step::Act(action) => action,
        Step::Done(result) => panic!("ended early: {result:?}"),
    }
}

/// Resumes `op` and returns its result.
fn end<T: std::fmt::Debug>(
    op: &mut Operation<'_, T>,
    event: Event,
    now: Instant,
) -> crate::Result<T> {
    match op.resume(event, now) {
        Step::Done(result) => result,
        Step::Act(action) => panic!("asked for {action:?}"),
    }
}

fn sent(action: Action) -> (Vec<u8>, Instant) {
    match action {
        Action::Send { bytes, deadline } => (bytes, deadline),
        other => panic!("expected a send, got {other:?}"),
    }
}

fn read_deadline(action: Action) -> Instant {
    match action {
        Action::Read { deadline } => deadline,
        other => panic!("expected a read, got {other:?}"),
    }
}

#[test]
fn cwd_sends_its_bytes_and_every_deadline_is_now_plus_the_idle_timeout() {
    let mut core = core();
    let idle = core.config.timeout;
    let t0 = Instant::now();
    let t1 = t0 + Duration::from_secs(3);
    let mut op = core.op(|c| ops::cwd(c, b"pub"));
    let (wire, deadline) = sent(act(&mut op, Event::Start, t0));
    assert_eq!(wire, b"CWD pub\r\n");
    assert_eq!(deadline, t0 + idle);
    assert_eq!(read_deadline(act(&mut op, Event::Done, t1)), t1 + idle);
    // A reply split across reads: the idle deadline is fresh, but the
    // whole reply stays within the reply deadline (the idle timeout by
    // default) counted from its first read.
    let t2 = t1 + Duration::from_secs(5);
    assert_eq!(read_deadline(act(&mut op, bytes("25"), t2)), t1 + idle);
    let reply = end(&mut op, bytes("0 moved\r\n"), t2).unwrap();
    assert_eq!(reply.code().0, 250);
    drop(op);
    assert!(!core.is_unusable());
}

#[test]
fn cwd_dot_dot_falls_back_from_an_unknown_cdup() {
    let mut core = core();
    let now = Instant::now();
    let mut op = core.op(|c| ops::cwd(c, b".."));
    assert_eq!(sent(act(&mut op, Event::Start, now)).0, b"CDUP\r\n");
    act(&mut op, Event::Done, now);
    assert_eq!(
        sent(act(&mut op, bytes("502 unknown\r\n"), now)).0,
        b"CWD ..\r\n"
    );
    act(&mut op, Event::Done, now);
    assert_eq!(
        end(&mut op, bytes("250 ok\r\n"), now).unwrap().code().0,
        250
    );
}

#[test]
fn mdtm_sends_its_path_and_reads_the_time_in_utc() {
    let mut core = core();
    let now = Instant::now();
    let mut op = core.op(|c| ops::mdtm(c, b"docs/a b.txt"));
    assert_eq!(
        sent(act(&mut op, Event::Start, now)).0,
        b"MDTM docs/a b.txt\r\n"
    );
    act(&mut op, Event::Done, now);
    let time = end(&mut op, bytes("213 20240229123456\r\n"), now).unwrap();
    let secs = time.duration_since(std::time::UNIX_EPOCH).unwrap();
    assert_eq!(secs.as_secs(), 1_709_210_096);
    drop(op);
    // A refusal keeps its code and text; the connection stays usable.
    let mut op = core.op(|c| ops::mdtm(c, b"missing"));
    act(&mut op, Event::Start, now);
    act(&mut op, Event::Done, now);
    let err = end(&mut op, bytes("550 no such file\r\n"), now).unwrap_err();
    assert_eq!(err.to_string(), "MDTM missing: 550 no such file");
    drop(op);
    assert!(!core.is_unusable());
    // A line break in the path never reaches the wire.
    let mut op = core.op(|c| ops::mdtm(c, b"a\r\nDELE b"));
    assert!(matches!(
        end(&mut op, Event::Start, now),
        Err(Error::InvalidInput(_))
    ));
}

#[test]
fn a_read_past_its_deadline_times_out_and_leaves_the_connection_unusable() {
    let mut core = core();
    let now = Instant::now();
    let mut op = core.op(ops::pwd);
    act(&mut op, Event::Start, now);
    act(&mut op, Event::Done, now);
    let err = end(&mut op, Event::TimedOut, now).unwrap_err();
    assert!(err.is_timeout(), "{err}");
    drop(op);
    assert!(core.is_unusable());
    // The next operation sends nothing.
    let mut next = core.op(ops::pwd);
    assert!(matches!(
        end(&mut next, Event::Start, now),
        Err(Error::Unusable)
    ));
}

#[test]
fn an_operation_dropped_with_its_command_in_flight_makes_the_next_one_refuse() {
    let mut core = core();
    let now = Instant::now();
    let mut op = core.op(ops::pwd);
    act(&mut op, Event::Start, now);
    drop(op);
    let mut next = core.op(|c| ops::mkd(c, b"x"));
    assert!(matches!(
        end(&mut next, Event::Start, now),
        Err(Error::Unusable)
    ));
}

#[test]
fn connect_takes_its_deadline_from_the_connect_timeout_and_reads_the_greeting() {
    let mut core = Core::new("ftp.example.com".into(), Config::default());
    let t0 = Instant::now();
    let wait = core.config.connect_timeout;
    let mut op = core.op(|c| ops::connect(c, Target::Host("ftp.example.com".into(), 21)));
    match act(&mut op, Event::Start, t0) {
        Action::Connect {
            target, deadline, ..
        } => {
            assert_eq!(target, Target::Host("ftp.example.com".into(), 21));
            assert_eq!(deadline, t0 + wait);
        }
        other => panic!("expected a connect, got {other:?}"),
    }
    let peer: SocketAddr = "198.51.100.7:21".parse().unwrap();
    act(&mut op, Event::Connected(peer), t0);
    act(&mut op, bytes("120 soon\r\n"), t0);
    end(&mut op, bytes("220 welcome\r\n"), t0).unwrap();
    drop(op);
    assert_eq!(core.welcome.code().0, 220);
    assert_eq!(core.session.peer(), peer);
}

#[test]
fn a_greeting_flood_is_a_refusal() {
    let mut core = core();
    let now = Instant::now();
    let mut op = core.op(|c| ops::connect(c, Target::Addr(PEER.parse().unwrap())));
    act(&mut op, Event::Start, now);
    act(&mut op, Event::Connected(PEER.parse().unwrap()), now);
    for _ in 0..rules::MAX_GREETING_WAITS {
        act(&mut op, bytes("120 wait\r\n"), now);
    }
    let err = end(&mut op, bytes("120 wait\r\n"), now).unwrap_err();
    assert_eq!(err.code().map(|c| c.0), Some(120));
}

/// Sets up a RETR data connection (passive or active) on `config`,
/// answering every command with the usual positive reply, and returns the
/// action that opens or accepts the data connection.
fn data_connection_action(config: Config, mode: DataMode, command: Command) -> Action {
    let mut core = Core::new("ftp.example.com".into(), config);
    core.session = Session::new(PEER.parse().unwrap(), mode, false, true);
    let t0 = Instant::now();
    let request = DataRequest {
        command,
        transfer_type: TransferType::Binary,
        rest: None,
    };
    let mut op = core.op(|c| data::open_data(c, request));
    let mut replies = Vec::new();
    let mut action = act(&mut op, Event::Start, t0);
    for _ in 0..20 {
        let event = match &action {
            Action::OpenData { .. } | Action::Accept { .. } => return action,
            Action::Send { bytes, .. } => {
                for line in String::from_utf8_lossy(bytes).lines() {
                    replies.push(match line.split(' ').next() {
                        Some("EPSV") => "229 ok (|||4242|)\r\n",
                        Some("RETR" | "STOR") => "150 opening\r\n",
                        _ => "200 ok\r\n",
                    });
                }
                Event::Done
            }
            Action::Read { .. } if !replies.is_empty() => bytes(replies.remove(0)),
            Action::Listen { .. } => Event::Listening("127.0.0.1:4243".parse().unwrap()),
            other => panic!("unexpected {other:?}"),
        };
        action = act(&mut op, event, t0);
    }
    panic!("no data connection was opened")
}

/// An upload's data connection takes the configured unsent limit and a
/// write timeout; a plain download's, which is only read, neither.
#[test]
fn data_connections_are_opened_and_accepted_with_the_configured_unsent_limit() {
    let path = || crate::proto::Arg::path("f").unwrap();
    for limit in [Config::default().unsent_limit, Some(12_345), None] {
        let config = Config::default().unsent_limit(limit);
        for (command, sends) in [
            (Command::Stor(path()), true),
            (Command::Retr(path()), false),
        ] {
            let want = if sends { limit } else { None };
            match data_connection_action(config.clone(), DataMode::Passive, command.clone()) {
                Action::OpenData { unsent, writes, .. } => {
                    assert_eq!((unsent, writes), (want, sends), "{command:?}");
                }
                other => panic!("expected a data connection, got {other:?}"),
            }
            match data_connection_action(config.clone(), DataMode::Active, command.clone()) {
                Action::Accept { unsent, writes, .. } => {
                    assert_eq!((unsent, writes), (want, sends), "{command:?}");
                }
                other => panic!("expected an accept, got {other:?}"),
            }
        }
    }
    let raw = Command::raw("STOU").unwrap();
    assert!(!raw.only_receives(), "a raw transfer command may send");
    assert_eq!(Config::default().unsent_limit, Some(64 * 1024));
    assert_eq!(
        Config::default().unsent_limit(Some(0)).unsent_limit,
        Some(1)
    );
}

#[test]
fn a_passive_setup_connects_to_the_control_peer_and_finishes_tls_after_the_150() {
    let mut core = core();
    let t0 = Instant::now();
    let connect_timeout = core.config.connect_timeout;
    let request = DataRequest {
        command: Command::Retr(crate::proto::Arg::path("f").unwrap()),
        transfer_type: TransferType::Binary,
        rest: Some(5),
    };
    let mut op = core.op(|c| data::open_data(c, request));
    // TYPE, EPSV and REST in one batch; each reply after the first is
    // awaited for the pipelining grace after the one before.
    assert_eq!(
        sent(act(&mut op, Event::Start, t0)).0,
        b"TYPE I\r\nEPSV\r\nREST 5\r\n"
    );
    act(&mut op, Event::Done, t0);
    assert_eq!(
        read_deadline(act(&mut op, bytes("200 ok\r\n"), t0)),
        t0 + Duration::from_secs(1)
    );
    assert_eq!(
        read_deadline(act(&mut op, bytes("229 ok (|||4242|)\r\n"), t0)),
        t0 + Duration::from_secs(1)
    );
    match act(&mut op, bytes("350 ok\r\n"), t0) {
        Action::OpenData {
            addr,
            deadline,
            tls,
            ..
        } => {
            assert_eq!(addr, "192.0.2.1:4242".parse().unwrap());
            assert_eq!(deadline, t0 + connect_timeout);
            assert!(tls.is_none());
        }
        other => panic!("expected a data connection, got {other:?}"),
    }
    // REST was answered in the batch: RETR goes out once connected.
    assert_eq!(sent(act(&mut op, Event::Done, t0)).0, b"RETR f\r\n");
    act(&mut op, Event::Done, t0);
    assert!(matches!(
        act(&mut op, bytes("150 opening (12 bytes)\r\n"), t0),
        Action::FinishData { .. }
    ));
    assert_eq!(end(&mut op, Event::Done, t0).unwrap(), Some(12));
    drop(op);
    // In flight until the final reply is read.
    assert!(core.in_flight);
}

#[test]
fn a_dropped_transfer_is_aborted_by_the_next_operation() {
    let mut core = core();
    core.pending = Some(Pending::Abort { reset: true });
    let t0 = Instant::now();
    let mut op = core.op(ops::pwd);
    assert_eq!(sent(act(&mut op, Event::Start, t0)).0, b"ABOR\r\n");
    assert!(matches!(
        act(&mut op, Event::Done, t0),
        Action::CloseData { reset: true }
    ));
    act(&mut op, Event::Done, t0);
    assert_eq!(
        sent(act(&mut op, bytes("426 aborted\r\n"), t0)).0,
        b"NOOP\r\n"
    );
    act(&mut op, Event::Done, t0);
    // One reply before NOOP's 200: a straggler is awaited for the grace only.
    let t1 = t0 + Duration::from_millis(10);
    assert_eq!(
        read_deadline(act(&mut op, bytes("200 ok\r\n"), t1)),
        t1 + rules::ABORT_GRACE
    );
    // None came: the abort is over and the operation itself runs.
    assert_eq!(sent(act(&mut op, Event::TimedOut, t1)).0, b"PWD\r\n");
    act(&mut op, Event::Done, t1);
    assert_eq!(
        end(&mut op, bytes("257 \"/\"\r\n"), t1).unwrap().as_bytes(),
        b"/"
    );
}

#[test]
fn a_straggler_that_begins_within_the_abort_grace_is_read_to_its_end() {
    let mut core = core();
    core.pending = Some(Pending::Abort { reset: false });
    let t0 = Instant::now();
    let idle = core.config.timeout;
    let mut op = core.op(ops::cdup);
    act(&mut op, Event::Start, t0);
    act(&mut op, Event::Done, t0);
    act(&mut op, Event::Done, t0);
    act(&mut op, bytes("426 aborted\r\n"), t0);
    act(&mut op, Event::Done, t0);
    act(&mut op, bytes("200 ok\r\n"), t0);
    // Half a reply within the grace: the rest is awaited under the idle
    // timeout, not dropped with the grace (one rule for both drivers).
    let t1 = t0 + Duration::from_millis(100);
    assert_eq!(read_deadline(act(&mut op, bytes("22"), t1)), t1 + idle);
    assert_eq!(sent(act(&mut op, bytes("6 done\r\n"), t1)).0, b"CDUP\r\n");
    act(&mut op, Event::Done, t1);
    end(&mut op, bytes("250 ok\r\n"), t1).unwrap();
    drop(op);
    assert!(!core.is_unusable());
}

#[test]
fn a_421_leaves_the_connection_unusable() {
    let mut core = core();
    let now = Instant::now();
    let mut op = core.op(ops::cdup);
    act(&mut op, Event::Start, now);
    act(&mut op, Event::Done, now);
    assert!(end(&mut op, bytes("421 bye\r\n"), now).is_err());
    drop(op);
    assert!(core.is_unusable());
}

fn deadline_of(err: &Error) -> Option<(Deadline, Phase)> {
    match err {
        Error::Deadline {
            deadline, phase, ..
        } => Some((*deadline, *phase)),
        _ => None,
    }
}

#[test]
fn a_dripping_reply_is_bounded_as_a_whole_and_the_error_names_the_reply_deadline() {
    let config = Config::default()
        .timeout(Duration::from_secs(10))
        .reply_timeout(Duration::from_secs(30));
    let mut core = Core::new("ftp.example.com".into(), config);
    core.session = Session::new(PEER.parse().unwrap(), DataMode::Passive, false, true);
    let t0 = Instant::now();
    let mut op = core.op(ops::pwd);
    act(&mut op, Event::Start, t0);
    assert_eq!(
        read_deadline(act(&mut op, Event::Done, t0)),
        t0 + Duration::from_secs(10)
    );
    // One byte every 9 s: each read gets its idle timeout until the reply
    // deadline, 30 s after the first read, comes first.
    let mut now = t0;
    for (i, b) in ["2", "5", "7"].into_iter().enumerate() {
        now += Duration::from_secs(9);
        let expected = if i < 2 {
            now + Duration::from_secs(10)
        } else {
            t0 + Duration::from_secs(30)
        };
        assert_eq!(read_deadline(act(&mut op, bytes(b), now)), expected, "{i}");
    }
    let err = end(&mut op, Event::TimedOut, t0 + Duration::from_secs(30)).unwrap_err();
    assert_eq!(deadline_of(&err), Some((Deadline::Reply, Phase::Control)));
    assert!(err.is_timeout() && err.is_transient());
    drop(op);
    assert!(core.is_unusable());
}

#[test]
fn the_connect_deadline_bounds_the_tcp_connect_and_a_dripping_greeting() {
    let config = Config::default()
        .timeout(Duration::from_secs(60))
        .connect_timeout(Duration::from_secs(5))
        .keepalive(Some(Duration::from_secs(7)));
    let mut core = Core::new("ftp.example.com".into(), config);
    let t0 = Instant::now();
    let mut op = core.op(|c| ops::connect(c, Target::Addr(PEER.parse().unwrap())));
    match act(&mut op, Event::Start, t0) {
        Action::Connect {
            deadline,
            keepalive,
            ..
        } => {
            assert_eq!(deadline, t0 + Duration::from_secs(5));
            assert_eq!(keepalive, Some(Duration::from_secs(7)));
        }
        other => panic!("expected a connect, got {other:?}"),
    }
    let t1 = t0 + Duration::from_secs(1);
    let peer = PEER.parse().unwrap();
    assert_eq!(
        read_deadline(act(&mut op, Event::Connected(peer), t1)),
        t0 + Duration::from_secs(5)
    );
    let t2 = t0 + Duration::from_secs(4);
    assert_eq!(
        read_deadline(act(&mut op, bytes("2"), t2)),
        t0 + Duration::from_secs(5)
    );
    let err = end(&mut op, Event::TimedOut, t0 + Duration::from_secs(5)).unwrap_err();
    assert_eq!(deadline_of(&err), Some((Deadline::Connect, Phase::Control)));
    drop(op);
    // The connect deadline ends with the connect.
    assert_eq!(core.connect_by, None);
}

#[test]
fn a_tcp_connect_that_times_out_names_the_connect_deadline() {
    let mut core = Core::new("ftp.example.com".into(), Config::default());
    let t0 = Instant::now();
    let mut op = core.op(|c| ops::connect(c, Target::Addr(PEER.parse().unwrap())));
    act(&mut op, Event::Start, t0);
    let err = end(&mut op, Event::TimedOut, t0 + Duration::from_secs(30)).unwrap_err();
    assert_eq!(deadline_of(&err), Some((Deadline::Connect, Phase::Connect)));
}

#[test]
fn the_operation_deadline_bounds_every_action_from_the_first_step_and_names_itself() {
    let mut core = core();
    core.config.deadline = Some(Duration::from_secs(2));
    let t0 = Instant::now();
    let mut op = core.op(ops::pwd);
    let (wire, deadline) = sent(act(&mut op, Event::Start, t0));
    assert_eq!(wire, b"PWD\r\n");
    assert_eq!(deadline, t0 + Duration::from_secs(2));
    let t1 = t0 + Duration::from_secs(1);
    assert_eq!(
        read_deadline(act(&mut op, Event::Done, t1)),
        t0 + Duration::from_secs(2)
    );
    let err = end(&mut op, Event::TimedOut, t0 + Duration::from_secs(2)).unwrap_err();
    assert_eq!(
        deadline_of(&err),
        Some((Deadline::Operation, Phase::Control))
    );
    // Never worth a retry: it would run past the deadline.
    assert!(err.is_timeout() && !err.is_transient());
    drop(op);
    // The next operation has its own deadline, from its own first step.
    core.unusable = false;
    core.in_flight = false;
    let t2 = t0 + Duration::from_secs(100);
    let mut next = core.op(ops::cdup);
    assert_eq!(
        sent(act(&mut next, Event::Start, t2)).1,
        t2 + Duration::from_secs(2)
    );
}

#[test]
fn jitter_spreads_a_wait_between_half_and_all_of_it_reproducibly() {
    let wait = Duration::from_secs(4);
    let mut a = super::Jitter::seeded(42);
    let mut b = super::Jitter::seeded(42);
    let mut seen = std::collections::HashSet::new();
    for _ in 0..100 {
        let w = a.spread(wait);
        assert_eq!(w, b.spread(wait));
        assert!(w >= wait / 2 && w <= wait, "{w:?}");
        seen.insert(w);
    }
    // Spread, not constant.
    assert!(seen.len() > 90);
    assert_eq!(
        super::Jitter::seeded(1).spread(Duration::ZERO),
        Duration::ZERO
    );
}

// ----- pipelining -------------------------------------------------------

fn retr_request(rest: Option<u64>) -> DataRequest {
    DataRequest {
        command: Command::Retr(Arg::path("f").unwrap()),
        transfer_type: TransferType::Binary,
        rest,
    }
}

/// Starts `prepare_retr` of `remote` (with MDTM if `mdtm`) and sends its
/// batch: the operation, waiting for the replies, and its one write.
fn batch_sent<'a>(
    core: &'a mut Core,
    remote: &'a Arg,
    mdtm: bool,
    now: Instant,
) -> (Operation<'a, Option<RemoteStat>>, Vec<u8>) {
    let asks = Asks { size: true, mdtm };
    let mut op = core.op(move |c| batch::prepare_retr(c, remote, asks, None, false));
    let wire = sent(act(&mut op, Event::Start, now)).0;
    act(&mut op, Event::Done, now);
    (op, wire)
}

#[test]
fn a_download_batch_goes_out_in_one_write_and_its_epsv_reply_opens_the_data_connection() {
    let mut core = core();
    let t0 = Instant::now();
    let remote = Arg::path("f").unwrap();
    let (mut op, wire) = batch_sent(&mut core, &remote, true, t0);
    assert_eq!(wire, b"TYPE I\r\nSIZE f\r\nMDTM f\r\nEPSV\r\n");
    // Every reply in one read.
    let replies = "200 ok\r\n213 12\r\n213 20240102030405\r\n229 ok (|||4242|)\r\n";
    let stat = end(&mut op, bytes(replies), t0).unwrap().unwrap();
    drop(op);
    assert_eq!(stat.size, Some(12));
    assert!(stat.modified.is_some());
    assert!(!core.in_flight);
    // The setup sends nothing before the data connection: EPSV was answered.
    let mut op = core.op(|c| data::open_data(c, retr_request(None)));
    match act(&mut op, Event::Start, t0) {
        Action::OpenData { addr, .. } => assert_eq!(addr, "192.0.2.1:4242".parse().unwrap()),
        other => panic!("expected a data connection, got {other:?}"),
    }
    assert_eq!(sent(act(&mut op, Event::Done, t0)).0, b"RETR f\r\n");
}

#[test]
fn a_refused_size_in_a_batch_is_unknown_and_the_rest_still_answers() {
    let mut core = core();
    let t0 = Instant::now();
    let remote = Arg::path("f").unwrap();
    let (mut op, wire) = batch_sent(&mut core, &remote, false, t0);
    assert_eq!(wire, b"TYPE I\r\nSIZE f\r\nEPSV\r\n");
    let replies = "200 ok\r\n550 no size here\r\n229 ok (|||4242|)\r\n";
    let stat = end(&mut op, bytes(replies), t0).unwrap().unwrap();
    drop(op);
    assert_eq!(stat.size, None);
    assert!(matches!(core.answered.as_slice(), [(Command::Epsv, r)] if r.code().0 == 229));
    // Any other command makes the read-ahead reply stale.
    let mut op = core.op(ops::pwd);
    act(&mut op, Event::Start, t0);
    drop(op);
    assert!(core.answered.is_empty());
}

#[test]
fn a_batch_whose_second_reply_never_comes_turns_pipelining_off_and_reconnects() {
    let mut core = core();
    let t0 = Instant::now();
    let remote = Arg::path("f").unwrap();
    let (mut op, _) = batch_sent(&mut core, &remote, false, t0);
    // The first reply took 400 ms: the next may take four times that.
    let t1 = t0 + Duration::from_millis(400);
    let wait = read_deadline(act(&mut op, bytes("200 ok\r\n"), t1));
    assert_eq!(wait, t1 + Duration::from_millis(1600));
    match act(&mut op, Event::TimedOut, wait) {
        Action::Connect { target, .. } => {
            assert_eq!(target, Target::Addr(PEER.parse().unwrap()));
        }
        other => panic!("expected a reconnect, got {other:?}"),
    }
    act(&mut op, Event::Connected(PEER.parse().unwrap()), wait);
    assert_eq!(end(&mut op, bytes("220 hi again\r\n"), wait).unwrap(), None);
    drop(op);
    assert!(core.pipelining_refused);
    assert!(!core.is_unusable());
    assert!(!batch::enabled(&core));
    // One command at a time from now on, after a reset too.
    core.reset();
    assert!(core.pipelining_refused);
    let mut op = core.op(|c| data::open_data(c, retr_request(None)));
    assert_eq!(sent(act(&mut op, Event::Start, wait)).0, b"TYPE I\r\n");
}

#[test]
fn a_batch_answered_out_of_order_is_put_back_in_order_and_the_connection_kept() {
    let mut core = core();
    let t0 = Instant::now();
    let remote = Arg::path("f").unwrap();
    let (mut op, _) = batch_sent(&mut core, &remote, false, t0);
    // The EPSV reply where TYPE's belongs (libunftp answers SIZE and MDTM
    // from tasks of their own, after a pipelined EPSV).
    let replies = "229 ok (|||4242|)\r\n200 ok\r\n213 5\r\n";
    let stat = end(&mut op, bytes(replies), t0).unwrap().unwrap();
    drop(op);
    assert_eq!(stat.size, Some(5));
    assert!(core.pipelining_refused);
    assert!(!core.is_unusable());
    assert!(!core.in_flight);
    // The batch's passive port is the transfer's: no EPSV, no reconnect.
    let mut op = core.op(|c| data::open_data(c, retr_request(None)));
    match act(&mut op, Event::Start, t0) {
        Action::OpenData { addr, .. } => assert_eq!(addr, "192.0.2.1:4242".parse().unwrap()),
        other => panic!("expected a data connection, got {other:?}"),
    }
}

#[test]
fn a_batch_whose_replies_cannot_be_told_apart_gets_a_new_connection() {
    let mut core = core();
    let t0 = Instant::now();
    let remote = Arg::path("f").unwrap();
    let (mut op, _) = batch_sent(&mut core, &remote, true, t0);
    // EPSV's reply in SIZE's place, then two refusals: which is whose?
    let wait = read_deadline(act(
        &mut op,
        bytes("200 ok\r\n229 ok (|||4242|)\r\n550 no\r\n"),
        t0,
    ));
    assert_eq!(wait, t0 + Duration::from_secs(1));
    assert!(matches!(
        act(&mut op, bytes("450 busy\r\n"), t0),
        Action::Connect { .. }
    ));
    drop(op);
    assert!(core.pipelining_refused);
}

#[test]
fn replies_out_of_order_are_matched_by_kind_or_not_at_all() {
    let text = |line: &str| Reply::parse_line(format!("{line}\r\n").as_bytes()).unwrap();
    let codes = |replies: Option<Vec<Reply>>| {
        replies.map(|r| r.iter().map(ToString::to_string).collect::<Vec<_>>())
    };
    let f = || Arg::path("f").unwrap();
    let batch = [
        Command::Type(TransferType::Binary),
        Command::Size(f()),
        Command::Mdtm(f()),
        Command::Epsv,
    ];
    let epsv = "229 ok (|||4242|)";
    let time = "213 20240102030405";
    let in_order = ["200 ok", "213 12", time, epsv];
    let matched = |lines: &[&str]| {
        codes(batch::match_by_kind(
            &batch,
            lines.iter().map(|l| text(l)).collect(),
        ))
    };
    let expected = Some(in_order.iter().map(|l| (*l).to_owned()).collect());
    // libunftp's order, and SIZE and MDTM swapped (a time also reads as a
    // size: it waits until the size took SIZE).
    assert_eq!(matched(&["200 ok", epsv, "213 12", time]), expected);
    assert_eq!(matched(&["200 ok", time, "213 12", epsv]), expected);
    // One refusal goes to the one command left.
    assert_eq!(
        matched(&["425 no port", "200 ok", "213 12", time]),
        Some(vec![
            "200 ok".into(),
            "213 12".into(),
            time.into(),
            "425 no port".into()
        ])
    );
    // Doubts: two refusals; a reply that fits nothing; two sizes.
    assert_eq!(matched(&["200 ok", "550 no", "425 no", epsv]), None);
    assert_eq!(
        matched(&["200 ok", "213 12", time, "227 x (1,2,3,4,5,6)"]),
        None
    );
    assert_eq!(matched(&["200 ok", "213 12", "213 13", epsv]), None);
}

#[test]
fn with_pipelining_off_a_setup_sends_one_command_at_a_time() {
    let mut core = Core::new(
        "ftp.example.com".into(),
        Config::default().pipelining(false),
    );
    core.session = Session::new(PEER.parse().unwrap(), DataMode::Passive, false, true);
    let t0 = Instant::now();
    let mut op = core.op(|c| data::open_data(c, retr_request(None)));
    assert_eq!(sent(act(&mut op, Event::Start, t0)).0, b"TYPE I\r\n");
    act(&mut op, Event::Done, t0);
    assert_eq!(sent(act(&mut op, bytes("200 ok\r\n"), t0)).0, b"EPSV\r\n");
}

#[test]
fn only_the_reply_a_command_gets_answers_it_in_a_batch() {
    let reply = |code: u16| Reply::new(ReplyCode(code), Vec::new());
    let text = |line: &str| Reply::parse_line(format!("{line}\r\n").as_bytes()).unwrap();
    let size = Command::Size(Arg::path("f").unwrap());
    let mdtm = Command::Mdtm(Arg::path("f").unwrap());
    let ty = Command::Type(TransferType::Binary);
    assert!(batch::answers(&size, &text("213 12")));
    assert!(batch::answers(&mdtm, &text("213 20240102030405")));
    // SIZE and MDTM answered in each other's place.
    assert!(!batch::answers(&mdtm, &text("213 12")));
    assert!(!batch::answers(&size, &text("213 not a size")));
    assert!(!batch::answers(&size, &reply(213)));
    assert!(batch::answers(&size, &reply(550)));
    assert!(batch::answers(&size, &reply(450)));
    assert!(!batch::answers(&size, &reply(229)));
    assert!(!batch::answers(&size, &reply(200)));
    assert!(batch::answers(&Command::Epsv, &reply(229)));
    assert!(!batch::answers(&Command::Epsv, &reply(227)));
    assert!(batch::answers(&Command::Pasv, &reply(227)));
    assert!(batch::answers(&ty, &reply(200)));
    assert!(!batch::answers(&ty, &reply(213)));
    assert!(!batch::answers(&ty, &reply(150)));
    assert!(!batch::answers(&ty, &reply(350)));
    // REST's 350 answers REST alone.
    assert!(batch::answers(&Command::Rest(5), &reply(350)));
    assert!(batch::answers(&Command::Rest(5), &reply(502)));
    assert!(!batch::answers(&Command::Rest(5), &reply(200)));
    assert!(!batch::answers(&Command::Rest(5), &reply(229)));
    // FEAT's 211 answers FEAT alone, and FEAT nothing but 211 (or a
    // refusal): TYPE's 200 and FEAT's 211 reordered are told apart.
    assert!(batch::answers(&Command::Feat, &reply(211)));
    assert!(batch::answers(&Command::Feat, &reply(500)));
    assert!(!batch::answers(&Command::Feat, &reply(200)));
    assert!(!batch::answers(&ty, &reply(211)));
    let batch = [ty.clone(), Command::Feat, size.clone(), Command::Epsv];
    let answered = [reply(211), text("213 12"), reply(200), reply(229)];
    let ordered = batch::match_by_kind(&batch, answered.to_vec()).unwrap();
    let codes: Vec<u16> = ordered.iter().map(|r| r.code().0).collect();
    assert_eq!(codes, [200, 211, 213, 229]);
    let second = Duration::from_secs(1);
    assert_eq!(batch::grace(Duration::ZERO, 60 * second), second);
    assert_eq!(batch::grace(second, 60 * second), 4 * second);
    assert_eq!(batch::grace(60 * second, 10 * second), 10 * second);
}

/// Runs [`files::verify`] of `f.bin` (5 bytes on both sides) against a
/// server that offers `XSHA256`, with `local` as the local hash's outcome
/// and `reply` as the server's: the action asked for right after the
/// command went out, the result, and the core afterwards.
fn verify_xsha256(local: Event, reply: &str) -> (Action, crate::Result<Verified>, Core) {
    let mut core = core();
    let now = Instant::now();
    let remote = Arg::path(b"f.bin").unwrap();
    let options = TransferOptions::default();
    let mut op = core.op(|c| files::verify(c, &remote, 5, Some(5), &options));
    assert_eq!(sent(act(&mut op, Event::Start, now)).0, b"FEAT\r\n");
    read_deadline(act(&mut op, Event::Done, now));
    let feat = bytes("211-Features:\r\n SIZE\r\n XSHA256\r\n211 End\r\n");
    assert_eq!(sent(act(&mut op, feat, now)).0, b"XSHA256 f.bin\r\n");
    let after_send = act(&mut op, Event::Done, now);
    // The reply is read whatever became of the local hash.
    read_deadline(act(&mut op, local, now));
    let result = end(&mut op, bytes(reply), now);
    drop(op);
    (after_send, result, core)
}

#[test]
fn verification_hashes_the_local_file_while_the_server_computes_its_digest() {
    let digest = || Event::Bytes(vec![0xab; 32]);
    let (after_send, result, _) = verify_xsha256(digest(), &format!("213 {}\r\n", "ab".repeat(32)));
    // The local file is read once the command is out and before its reply
    // is awaited: both sides hash at the same time.
    assert!(
        matches!(
            after_send,
            Action::Local(LocalOp::Hash(HashAlgorithm::Sha256))
        ),
        "{after_send:?}"
    );
    let verified = result.unwrap();
    assert_eq!(verified.hash, Some(HashAlgorithm::Sha256));
    assert_eq!(verified.size, Some(5));
    // A digest that differs is still caught.
    let (_, result, _) = verify_xsha256(digest(), &format!("213 {}\r\n", "cd".repeat(32)));
    let err = result.unwrap_err();
    assert!(err.to_string().contains("SHA-256"), "{err}");
}

#[test]
fn a_local_hash_that_fails_still_reads_the_servers_reply() {
    let failed = Event::Failed(Error::io(Phase::Local)(std::io::Error::other("disk gone")));
    let (_, result, mut core) = verify_xsha256(failed, &format!("213 {}\r\n", "ab".repeat(32)));
    let err = result.unwrap_err();
    assert!(err.to_string().contains("disk gone"), "{err}");
    assert!(!core.is_unusable());
    // The next command's reply is its own.
    let now = Instant::now();
    let mut next = core.op(ops::pwd);
    assert_eq!(sent(act(&mut next, Event::Start, now)).0, b"PWD\r\n");
    act(&mut next, Event::Done, now);
    let dir = end(&mut next, bytes("257 \"/pub\"\r\n"), now).unwrap();
    assert_eq!(dir.as_bytes(), b"/pub");
}
