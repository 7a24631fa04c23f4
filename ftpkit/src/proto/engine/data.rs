//! Data connections: a transfer's setup (protection, `TYPE`, passive or
//! active, `REST`, the command, the connection and its TLS, with the
//! pipelined `TYPE`+`EPSV` of [`super::batch`]) and its end, and the probe
//! that learns the server's `LIST` time offset, which lists a directory.
//! Apart from [`super::ops`], whose single exchanges it builds on, so that
//! the batching it uses can build on them too without an import circle.

use std::time::SystemTime;

use super::{
    Action, Core, Event,
    ops::{
        abort_transfer, done, ensure_protection, exchange, features, final_reply, pay_owed,
        read_reply, reconnect, remember_cwd, run, settle, timed_out, unexpected,
    },
    overlap,
};
use crate::{
    error::{Error, InvalidInput, Phase, Result},
    proto::{
        Command, DataRequest, DataSetup, DataStep, Expect, Protection, TransferType, parse, reach,
    },
};

// ----- transfers --------------------------------------------------------

/// Sets up a transfer: protection, `TYPE`, `EPSV`/`PASV` or `EPRT`/`PORT`,
/// `REST`, the transfer command, the data connection and its TLS. Returns
/// the size the 1xx announced; the driver holds the data connection. The
/// connection stays in flight until the transfer's final reply is read.
pub(crate) async fn open_data(core: &mut Core, request: DataRequest) -> Result<Option<u64>> {
    match open_data_once(core, request.clone()).await {
        // A server that refuses a data connection's TLS 1.3 session (too
        // few session tickets: vsftpd with require_ssl_reuse, proftpd):
        // the same request again over TLS 1.2, once, and TLS 1.2 from then
        // on. One rule for streaming calls and file plans alike.
        Err(e) if core.fall_back_to_tls12(&e) => {
            // The control connection still works: learn the directory to
            // return to, if a CWD left it unknown.
            if !core.is_unusable() {
                remember_cwd(core).await?;
            }
            reconnect(core).await?;
            open_data_once(core, request).await
        }
        other => other,
    }
}

async fn open_data_once(core: &mut Core, request: DataRequest) -> Result<Option<u64>> {
    let first = setup_data(core, request.clone()).await;
    // A refused EPSV/PASV before FEAT was read: a server that needs PRET
    // (drftpd) says so in FEAT; ask, and set up once more with it.
    if let Err(e) = &first
        && reach::may_need_pret(e)
        && core.session.features().is_none()
        && !core.is_unusable()
    {
        features(core).await?;
        if core.session.features().is_some_and(|f| f.supports("PRET")) {
            return setup_data(core, request).await;
        }
    }
    first
}

/// Binds the active-mode listener: on any port, or on the first free port
/// of [`Config::active_ports`](crate::Config::active_ports), from a
/// varying start.
async fn listen(core: &mut Core) -> Result<std::net::SocketAddr> {
    let range = core.config.active_ports.clone();
    let mut last = None;
    for port in reach::listen_ports(range.clone(), reach::port_seed()) {
        match core.perform(Action::Listen { port }).await {
            Event::Listening(addr) => return Ok(addr),
            Event::Failed(e) if range.is_some() && reach::port_taken(&e) => last = Some(e),
            Event::Failed(e) => return Err(e),
            other => return Err(unexpected(&other)),
        }
    }
    Err(last.unwrap_or_else(|| {
        Error::InvalidInput(InvalidInput::Address(
            "the active-mode port range is empty".into(),
        ))
    }))
}

async fn setup_data(core: &mut Core, request: DataRequest) -> Result<Option<u64>> {
    settle(core).await?;
    // What the transfer command needs of what FEAT called for goes before
    // the data connection is set up, not between it and the command.
    pay_owed(core, std::slice::from_ref(&request.command)).await?;
    ensure_protection(core).await?;
    super::batch::type_and_passive(core, request.transfer_type, request.rest).await?;
    // The reply to the first command, if a batch read it already.
    let mut answered = std::mem::take(&mut core.answered).into_iter();
    let tls = match core.protection {
        Protection::Private => Some(core.tls_params()?),
        Protection::Clear => None,
    };
    let transfer = request.command.clone();
    let socket = DataSocket::for_transfer(core, &transfer, tls.is_some());
    let mut setup = DataSetup::new(request);
    let mut listening = false;
    let mut step = setup.start(&mut core.session)?;
    loop {
        step = match step {
            DataStep::Send(command) => {
                let reply = match answered.next() {
                    Some((sent, reply)) if sent == command => reply,
                    _ => {
                        // Read ahead for commands not sent: they answer nothing now.
                        answered = Vec::new().into_iter();
                        if command == transfer {
                            // The next download's commands go out behind it.
                            overlap::exchange(core, &command).await?
                        } else {
                            exchange(core, &command).await?
                        }
                    }
                };
                overlap::on_setup_reply(core, &reply).await?;
                setup.on_reply(&mut core.session, reply)?
            }
            DataStep::ReadReply => {
                let reply = read_reply(core).await?;
                overlap::on_setup_reply(core, &reply).await?;
                setup.on_reply(&mut core.session, reply)?
            }
            DataStep::Connect(addr) => {
                tracing::debug!(target: "ftpkit::data", %addr, "connecting");
                let action = Action::OpenData {
                    addr,
                    source: core.config.source_address,
                    idle: core.idle_for(),
                    deadline: core.bound(core.now() + core.config.connect_timeout),
                    writes: socket.writes,
                    unsent: socket.unsent,
                    tls: tls.clone(),
                };
                let event = core.perform(action).await;
                done(core, event, Phase::DataConnect)?;
                setup.connected()
            }
            DataStep::Listen => {
                let addr = listen(core).await?;
                tracing::debug!(target: "ftpkit::data", %addr, "listening");
                listening = true;
                setup.listening(reach::advertised(addr, core.config.active_address))
            }
            DataStep::Ready { announced_size, .. } => {
                // The server holds a transfer open from here on.
                core.in_flight = true;
                let result = finish_data(core, listening.then_some(socket), tls).await;
                if result.is_err() {
                    // A transfer we cannot finish: its next reply is unknowable.
                    core.unusable = true;
                }
                return result.map(|()| announced_size);
            }
        };
    }
}

/// What a data connection's socket is given beyond its read timeout.
#[derive(Clone, Copy)]
struct DataSocket {
    /// A write timeout: the client sends on it (an upload, TLS records).
    writes: bool,
    /// The cap on unsent bytes, for an upload.
    unsent: Option<u32>,
}

impl DataSocket {
    /// For the data connection of `transfer`: a plain download or listing
    /// is only read, so its socket takes no write timeout and no cap (two
    /// system calls a file spared).
    fn for_transfer(core: &Core, transfer: &Command, tls: bool) -> DataSocket {
        let sends = !transfer.only_receives();
        DataSocket {
            writes: sends || tls,
            unsent: core.config.unsent_limit.filter(|_| sends),
        }
    }
}

/// Accepts the active connection if one is awaited (`accept` says how its
/// socket is set), then completes the data connection's TLS handshake.
async fn finish_data(
    core: &mut Core,
    accept: Option<DataSocket>,
    tls: Option<super::TlsParams>,
) -> Result<()> {
    if let Some(socket) = accept {
        let action = Action::Accept {
            from: DataSetup::server_ip(&core.session),
            idle: core.idle_for(),
            deadline: core.idle_deadline(),
            writes: socket.writes,
            unsent: socket.unsent,
            tls,
        };
        let event = core.perform(action).await;
        done(core, event, Phase::DataAccept)?;
    }
    let deadline = core.idle_deadline();
    let event = core.perform(Action::FinishData { deadline }).await;
    done(core, event, Phase::DataConnect)
}

// ----- the time zone of LIST times -----------------------------------------

/// Learns the server's `LIST` time offset, as FileZilla does: lists `dir`
/// (at most [`reach::PROBE_LISTING_MAX`] bytes kept), asks `MDTM` of the
/// first file shown with a time of day, and records the difference
/// ([`reach::learn_offset`]). `None` (nothing recorded) when no file
/// qualifies or `MDTM` is refused.
pub(crate) async fn learn_list_offset(
    core: &mut Core,
    dir: Option<crate::proto::Arg>,
    now: SystemTime,
) -> Result<Option<i32>> {
    core.list_offset_probes = core.list_offset_probes.saturating_add(1);
    let request = DataRequest {
        command: Command::List(dir.clone()),
        transfer_type: TransferType::Ascii,
        rest: None,
    };
    open_data(core, request).await?;
    let mut data = Vec::new();
    loop {
        let deadline = core.idle_deadline();
        match core.perform(Action::ReadData { deadline }).await {
            Event::Bytes(chunk) => {
                let room = reach::PROBE_LISTING_MAX.saturating_sub(data.len());
                data.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
            }
            Event::Eof => break,
            event => {
                let error = match event {
                    Event::TimedOut => timed_out(Phase::Data),
                    Event::Failed(e) => e,
                    other => unexpected(&other),
                };
                // The listing's error is the one to report.
                let _ = abort_transfer(core, false).await;
                return Err(error);
            }
        }
    }
    crate::proto::finish_transfer(&Command::List(dir.clone()), final_reply(core).await?)?;
    let entries = reach::parse_probe_listing(&data, now);
    let Some(probe) = reach::offset_probe(&entries) else {
        return Ok(None);
    };
    let (Some(listed), Some(path)) = (probe.modified, reach::probe_path(dir.as_ref(), probe))
    else {
        return Ok(None);
    };
    let mdtm = match run(core, Command::Mdtm(path), Expect::Completion).await {
        Ok(reply) => parse::parse_mdtm(&reply)?,
        Err(Error::Reply { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let learned = reach::learn_offset(listed, mdtm);
    if let Some(offset) = learned {
        tracing::debug!(target: "ftpkit::list", offset, "learned the server's LIST time offset");
        core.list_offset_learned = Some(offset);
    }
    Ok(learned)
}
