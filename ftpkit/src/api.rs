//! The methods of [`Client`](crate::Client) and `AsyncClient`, written
//! once. Each driver invokes `client_api!` with its client's name and,
//! for the async one, `async` and `.await`; every method builds a core
//! operation (`crate::proto::engine::ops`) and has the driver run it.

/// Defines a driver's client `$client` (documented by `$doc`): the struct,
/// a `core: Core` and the driver's `io` (`super::io::Io`), and the shared
/// methods, each run by the driver's `super::io::drive(&mut io,
/// operation)`. `$over` are the bounds of a control connection the caller
/// supplies (`connect_over`).
macro_rules! client_api {
    ($(#[$doc:meta])* $client:ident, over: [$($over:tt)+], [$($async:ident)?], [$($aw:tt)*]) => {
        use $crate::proto::engine::{Core, Target, data, ops};
        use super::{io::{Io, drive}, stream::{Socket, Stream}};

        $(#[$doc])*
        #[derive(Debug)]
        pub struct $client {
            pub(crate) core: Core,
            pub(crate) io: Io,
        }

        impl $client {
            /// Connects to `addr` (`host`, `host:port`, `[v6addr]:port`;
            /// port 21 by default, 990 for implicit TLS) with the default
            /// [`Config`](crate::Config) and reads the greeting.
            /// ftplib: `FTP(host)` / `connect()`.
            pub $($async)? fn connect(addr: &str) -> $crate::Result<$client> {
                $client::connect_with(addr, $crate::Config::default()) $($aw)*
            }

            /// Connects with the given configuration (timeouts, source
            /// address, data mode) and starts TLS as
            /// [`Config::tls_mode`](crate::Config::tls_mode) asks (implicit:
            /// at once; explicit: `AUTH TLS` after the greeting).
            /// ftplib: `connect(host, port, timeout, source_address)`.
            pub $($async)? fn connect_with(addr: &str, config: $crate::Config) -> $crate::Result<$client> {
                let default = $crate::proto::rules::default_port(config.tls_mode);
                let (host, port) = $crate::proto::rules::split_host_port(addr, default)?;
                $client::open(Target::Host(host.clone(), port), host, config, None) $($aw)*
            }

            /// Connects over `stream`, a control connection the caller
            /// opened (an SSH channel, a socket set up by other means, a
            /// tunnel ftpkit does not know), then reads the greeting and
            /// starts TLS as `config` asks, as [`connect_with`](Self::connect_with)
            /// does. `addr` (`host[:port]`) names the server: its host is
            /// the name TLS verifies, and it is resolved for the address
            /// passive data connections go to (`EPSV`, and `PASV` unless
            /// [`Config::trust_pasv_address`](crate::Config::trust_pasv_address)).
            /// Data connections are opened as usual: directly, or through
            /// [`Config::proxy`](crate::Config::proxy). Active mode needs a
            /// TCP control connection, and a client over a supplied stream
            /// cannot reconnect (the download and upload plans then fail
            /// instead of retrying on a new connection). Deadlines bound
            /// each read and write of the stream on tokio; a blocking
            /// stream keeps its own timeouts.
            pub $($async)? fn connect_over(
                stream: impl $($over)+,
                addr: &str,
                config: $crate::Config,
            ) -> $crate::Result<$client> {
                let default = $crate::proto::rules::default_port(config.tls_mode);
                let (host, port) = $crate::proto::rules::split_host_port(addr, default)?;
                let supplied = Socket::Supplied(std::sync::Mutex::new(Box::new(stream)));
                $client::open(Target::Host(host.clone(), port), host, config, Some(supplied)) $($aw)*
            }

            $($async)? fn open(
                target: Target,
                host: String,
                config: $crate::Config,
                supplied: Option<Socket>,
            ) -> $crate::Result<$client> {
                let mut client = $client { core: Core::new(host, config), io: Default::default() };
                client.core.supplied = supplied.is_some();
                client.io.supplied = supplied;
                client.io.route = $crate::proxy::Route::new(&client.core.config, &client.core.host);
                if let Target::Host(_, port) = &target {
                    client.core.origin_port = *port;
                }
                drive(&mut client.io, client.core.op(|core| ops::connect(core, target))) $($aw)* ?;
                Ok(client)
            }

            /// Opens a new control connection to the same server address,
            /// runs TLS as configured, logs in again with the credentials
            /// of the last successful login, and returns to the working
            /// directory; the old connection is dropped, or kept as it was
            /// if this fails (or, async, is dropped). Used by `download` and
            /// `upload` after a failure; also useful after
            /// [`Error::Unusable`](crate::Error::Unusable).
            pub $($async)? fn reconnect(&mut self) -> $crate::Result<()> {
                let mut fresh = $client { core: self.core.successor(), io: Default::default() };
                fresh.io.route = $crate::proxy::Route::new(&fresh.core.config, &fresh.core.host);
                drive(&mut fresh.io, fresh.core.op(ops::reconnect)) $($aw)* ?;
                *self = fresh;
                Ok(())
            }

            /// Secures the control connection with `AUTH TLS` (explicit
            /// FTPS, RFC 4217), using [`Config::tls`](crate::Config::tls)
            /// or the system's trust store. A refusal (4xx or 5xx) is an
            /// error that leaves the client usable, still in clear text; any
            /// other reply but 234 is an error that leaves it unusable; bytes
            /// the server sent in clear after the 234 are discarded. Called by `connect_with`
            /// when the TLS mode is explicit. ftplib: `FTP_TLS.auth()`.
            pub $($async)? fn auth(&mut self) -> $crate::Result<$crate::Reply> {
                drive(&mut self.io, self.core.op(ops::auth)) $($aw)*
            }

            /// Whether the control connection is encrypted.
            pub fn is_secure(&self) -> bool {
                self.core.secure
            }

            /// Encrypts data connections: `PBSZ 0` then `PROT P`. Done
            /// automatically before the first transfer when
            /// [`Config::data_protection`](crate::Config::data_protection)
            /// asks for it. ftplib: `prot_p()`.
            pub $($async)? fn prot_p(&mut self) -> $crate::Result<$crate::Reply> {
                let level = $crate::Protection::Private;
                drive(&mut self.io, self.core.op(|core| ops::set_protection(core, level))) $($aw)*
            }

            /// Leaves data connections in clear: `PBSZ 0` then `PROT C`.
            /// ftplib: `prot_c()`.
            pub $($async)? fn prot_c(&mut self) -> $crate::Result<$crate::Reply> {
                let level = $crate::Protection::Clear;
                drive(&mut self.io, self.core.op(|core| ops::set_protection(core, level))) $($aw)*
            }

            /// Returns the control connection to clear text (`CCC`, RFC
            /// 4217), for NAT devices that must read it. Data connections
            /// keep their protection. Credentials are refused from then
            /// on: log in first. ftplib: `ccc()`.
            pub $($async)? fn ccc(&mut self) -> $crate::Result<$crate::Reply> {
                drive(&mut self.io, self.core.op(ops::ccc)) $($aw)*
            }

            /// The server's greeting. ftplib: `getwelcome()`.
            pub fn welcome(&self) -> &$crate::Reply {
                &self.core.welcome
            }

            /// The host name or address given to `connect`.
            pub fn host(&self) -> &str {
                &self.core.host
            }

            /// The configuration in force.
            pub fn config(&self) -> &$crate::Config {
                &self.core.config
            }

            /// The server's address on the control connection.
            pub fn peer_addr(&self) -> std::net::SocketAddr {
                self.core.session.peer()
            }

            /// Switches between passive and active data connections.
            /// ftplib: `set_pasv(val)`.
            pub fn set_mode(&mut self, mode: $crate::DataMode) {
                self.core.session.set_mode(mode);
            }

            /// The data connection mode in force.
            pub fn mode(&self) -> $crate::DataMode {
                self.core.session.mode()
            }

            /// Whether an earlier failure, or an operation dropped half-way,
            /// left the connection unusable. A transfer left to abort does
            /// not count: the next call settles it.
            pub fn is_unusable(&self) -> bool {
                self.core.is_unusable()
            }

            /// Sends a raw command line and returns the reply; 4xx and 5xx
            /// replies are errors. The line must not contain CR, LF or NUL:
            /// such a line is refused before anything is sent. The line goes
            /// on the wire as given: a `&str` as UTF-8, bytes as they are
            /// (a name in the server's charset, ftplib's `encoding`).
            /// ftplib: `sendcmd(cmd)`.
            pub $($async)? fn sendcmd(&mut self, line: impl AsRef<[u8]>) -> $crate::Result<$crate::Reply> {
                let line = line.as_ref();
                drive(&mut self.io, self.core.op(|core| ops::raw(core, line, false))) $($aw)*
            }

            /// Sends a raw command line without reading its reply; read the
            /// reply with `getresp`. For exchanges the client does not run
            /// itself, such as a server-to-server copy (`PORT` and `STOR`
            /// sent to one server, `RETR` to another, then each final
            /// reply). The line is checked as for `sendcmd`.
            /// ftplib: `putcmd(line)`.
            pub $($async)? fn putcmd(&mut self, line: impl AsRef<[u8]>) -> $crate::Result<()> {
                let line = line.as_ref();
                drive(&mut self.io, self.core.op(|core| ops::put_raw(core, line))) $($aw)*
            }

            /// Reads one reply without sending anything: the reply to
            /// `putcmd`, or a further reply to a raw command (the final
            /// `226` after a `150`). Every code is returned, none is an
            /// error. ftplib: `getresp()`.
            pub $($async)? fn getresp(&mut self) -> $crate::Result<$crate::Reply> {
                drive(&mut self.io, self.core.op(ops::get_reply)) $($aw)*
            }

            /// Sends a raw command line (as for `sendcmd`) and requires a
            /// 2xx reply. ftplib: `voidcmd(cmd)`.
            pub $($async)? fn voidcmd(&mut self, line: impl AsRef<[u8]>) -> $crate::Result<$crate::Reply> {
                let line = line.as_ref();
                drive(&mut self.io, self.core.op(|core| ops::raw(core, line, true))) $($aw)*
            }

            /// Logs in. An empty `user` means `anonymous`, and an anonymous
            /// login with an empty password sends `anonymous@`, as ftplib
            /// does. Sends `ACCT` only if the server asks (332): use
            /// `login_with_account`. ftplib: `login(user, passwd)`.
            pub $($async)? fn login(&mut self, user: &str, password: &str) -> $crate::Result<$crate::Reply> {
                drive(&mut self.io, self.core.op(|core| ops::login(core, user, password, None))) $($aw)*
            }

            /// Logs in as `anonymous` with password `anonymous@`.
            /// ftplib: `login()`.
            pub $($async)? fn login_anonymous(&mut self) -> $crate::Result<$crate::Reply> {
                drive(&mut self.io, self.core.op(|core| ops::login(core, "", "", None))) $($aw)*
            }

            /// Logs in, sending `account` if the server asks for one (332).
            /// ftplib: `login(user, passwd, acct)`.
            pub $($async)? fn login_with_account(
                &mut self,
                user: &str,
                password: &str,
                account: &str,
            ) -> $crate::Result<$crate::Reply> {
                let op = self.core.op(|core| ops::login(core, user, password, Some(account)));
                drive(&mut self.io, op) $($aw)*
            }

            /// Sends an account (`ACCT`). ftplib: `acct(password)`.
            pub $($async)? fn acct(&mut self, account: &str) -> $crate::Result<$crate::Reply> {
                drive(&mut self.io, self.core.op(|core| ops::acct(core, account))) $($aw)*
            }

            /// Changes the working directory; `..` is sent as `CDUP`
            /// (falling back to `CWD ..` if the server does not know CDUP),
            /// an empty path as `.`. ftplib: `cwd(dirname)`.
            pub $($async)? fn cwd(&mut self, path: impl AsRef<[u8]>) -> $crate::Result<$crate::Reply> {
                let path = path.as_ref();
                drive(&mut self.io, self.core.op(|core| ops::cwd(core, path))) $($aw)*
            }

            /// Moves to the parent directory (`CDUP`).
            pub $($async)? fn cdup(&mut self) -> $crate::Result<$crate::Reply> {
                drive(&mut self.io, self.core.op(ops::cdup)) $($aw)*
            }

            /// The working directory (`PWD`). ftplib: `pwd()`.
            pub $($async)? fn pwd(&mut self) -> $crate::Result<$crate::Name> {
                drive(&mut self.io, self.core.op(ops::pwd)) $($aw)*
            }

            /// Creates a directory and returns its path as the server
            /// reports it (`MKD`; the path given if the reply names none).
            /// ftplib: `mkd(dirname)`.
            pub $($async)? fn mkd(&mut self, path: impl AsRef<[u8]>) -> $crate::Result<$crate::Name> {
                let path = path.as_ref();
                drive(&mut self.io, self.core.op(|core| ops::mkd(core, path))) $($aw)*
            }

            /// Removes a directory (`RMD`). ftplib: `rmd(dirname)`.
            pub $($async)? fn rmd(&mut self, path: impl AsRef<[u8]>) -> $crate::Result<$crate::Reply> {
                let path = path.as_ref();
                let rmd = $crate::proto::Command::Rmd;
                drive(&mut self.io, self.core.op(|core| ops::on_path(core, rmd, path))) $($aw)*
            }

            /// Deletes a file (`DELE`). ftplib: `delete(filename)`.
            pub $($async)? fn delete(&mut self, path: impl AsRef<[u8]>) -> $crate::Result<$crate::Reply> {
                let path = path.as_ref();
                let dele = $crate::proto::Command::Dele;
                drive(&mut self.io, self.core.op(|core| ops::on_path(core, dele, path))) $($aw)*
            }

            /// Renames `from` to `to` (`RNFR` then `RNTO`).
            /// ftplib: `rename(fromname, toname)`.
            pub $($async)? fn rename(
                &mut self,
                from: impl AsRef<[u8]>,
                to: impl AsRef<[u8]>,
            ) -> $crate::Result<$crate::Reply> {
                let (from, to) = (from.as_ref(), to.as_ref());
                drive(&mut self.io, self.core.op(|core| ops::rename(core, from, to))) $($aw)*
            }

            /// The size of a file in bytes (`SIZE`, after switching to
            /// `TYPE I` so the answer is the size in bytes).
            /// ftplib: `size(filename)`.
            pub $($async)? fn size(&mut self, path: impl AsRef<[u8]>) -> $crate::Result<u64> {
                let path = path.as_ref();
                drive(&mut self.io, self.core.op(|core| ops::size(core, path))) $($aw)*
            }

            /// The modification time of a file (`MDTM`, RFC 3659), in UTC.
            pub $($async)? fn mdtm(&mut self, path: impl AsRef<[u8]>) -> $crate::Result<std::time::SystemTime> {
                let path = path.as_ref();
                drive(&mut self.io, self.core.op(|core| ops::mdtm(core, path))) $($aw)*
            }

            /// The facts of one file or directory (`MLST`, over the control
            /// connection).
            pub $($async)? fn mlst(&mut self, path: impl AsRef<[u8]>) -> $crate::Result<$crate::MlsdEntry> {
                let path = path.as_ref();
                drive(&mut self.io, self.core.op(|core| ops::mlst(core, path))) $($aw)*
            }

            /// Sends `SITE args` and requires a 2xx reply.
            pub $($async)? fn site(&mut self, args: &str) -> $crate::Result<$crate::Reply> {
                let command = $crate::proto::Command::Site($crate::proto::Arg::new("SITE arguments", args)?);
                let op = self.core.op(|core| ops::run(core, command, $crate::proto::Expect::Completion));
                drive(&mut self.io, op) $($aw)*
            }

            /// Sets the Unix permissions of `path` with `SITE CHMOD`, the
            /// mode sent in octal (`SITE CHMOD 644 path`); a 2xx reply is
            /// required. Only the permission bits (`mode & 0o7777`) are
            /// sent, so a local file's whole `st_mode` may be given. Not
            /// every server offers it: many answer 500, 502 or 504.
            pub $($async)? fn chmod(&mut self, mode: u32, path: impl AsRef<[u8]>) -> $crate::Result<$crate::Reply> {
                let mut args = format!("CHMOD {:o} ", mode & 0o7777).into_bytes();
                args.extend_from_slice(path.as_ref());
                let command = $crate::proto::Command::Site($crate::proto::Arg::new("SITE arguments", args)?);
                let op = self.core.op(|core| ops::run(core, command, $crate::proto::Expect::Completion));
                drive(&mut self.io, op) $($aw)*
            }

            /// Sends `NOOP` (keeps the connection alive; checks it is usable).
            pub $($async)? fn noop(&mut self) -> $crate::Result<$crate::Reply> {
                let noop = $crate::proto::Command::Noop;
                let op = self.core.op(|core| ops::run(core, noop, $crate::proto::Expect::Completion));
                drive(&mut self.io, op) $($aw)*
            }

            /// The server's features (`FEAT`, RFC 2389), asked once per
            /// session and remembered. A server without FEAT gives an empty
            /// set. If the server lists `UTF8`, `OPTS UTF8 ON` (RFC 2640)
            /// is sent before the first command it matters to: a name that
            /// is not ASCII, a listing, `PWD`, `MKD`, `SITE` or a raw
            /// command (not one sent with `put_raw`).
            pub $($async)? fn features(&mut self) -> $crate::Result<&$crate::Features> {
                drive(&mut self.io, self.core.op(ops::features)) $($aw)* ?;
                self.core.session.features().ok_or($crate::Error::Unusable)
            }

            /// Learns the time zone of the server's `LIST` times from `dir`
            /// (empty: the working directory), as FileZilla does: one `LIST`,
            /// then `MDTM` of the first file it shows with a time of day; the
            /// difference, rounded to a quarter of an hour, applies to every
            /// `LIST` time of this client from then on. Called by the listing
            /// methods under [`ListTimeOffset::Auto`](crate::ListTimeOffset::Auto)
            /// until it succeeds, on the first three listings at most. `None`
            /// when no file qualifies or `MDTM` is refused.
            pub $($async)? fn learn_list_time_offset(&mut self, dir: impl AsRef<[u8]>) -> $crate::Result<Option<i32>> {
                let dir = $crate::proto::rules::optional_path(dir.as_ref())?;
                let now = std::time::SystemTime::now();
                let op = self.core.op(|core| data::learn_list_offset(core, dir, now));
                drive(&mut self.io, op) $($aw)*
            }

            /// The offset, in seconds ahead of UTC, that `LIST` times are read
            /// with: [`Config::list_time_offset`](crate::Config::list_time_offset)'s
            /// fixed one, or the one learned (`None` while
            /// [`ListTimeOffset::Auto`](crate::ListTimeOffset::Auto) has not
            /// learned it yet).
            pub fn list_time_offset(&self) -> Option<i32> {
                (!self.core.list_offset_unknown()).then(|| self.core.list_offset())
            }

            /// Text typed by a user (a path, a file name) as the bytes of a
            /// name in the server's charset,
            /// [`Config::encoding`](crate::Config::encoding), to pass to any
            /// method that takes a path. Names read from the server
            /// ([`Entry::name`](crate::Entry::name), [`Name`](crate::Name))
            /// are passed back as they are, byte for byte.
            pub fn encode_path(&self, path: &str) -> $crate::Result<Vec<u8>> {
                Ok(self.core.config.encoding.encode(path)?)
            }

            /// Sends `ABOR` when no transfer is running through this client
            /// and accepts 225, 226 or 426. Transfers in progress are
            /// aborted with their reader's or writer's `abort`, which also
            /// closes the data connection. ftplib: `abort()` (sent in band,
            /// not as urgent data).
            pub $($async)? fn abort(&mut self) -> $crate::Result<$crate::Reply> {
                drive(&mut self.io, self.core.op(ops::abort)) $($aw)*
            }

            /// Says goodbye (`QUIT`) and closes the connection.
            /// ftplib: `quit()`.
            pub $($async)? fn quit(mut self) -> $crate::Result<$crate::Reply> {
                let quit = $crate::proto::Command::Quit;
                let op = self.core.op(|core| ops::run(core, quit, $crate::proto::Expect::Completion));
                drive(&mut self.io, op) $($aw)*
            }

            /// Says goodbye (`QUIT`) without waiting for the server's
            /// `221`: for a program about to exit, a round trip sooner than
            /// [`quit`](Self::quit). Every transfer's final reply was read
            /// before, so nothing is lost. The client is unusable
            /// afterwards; dropping it closes the connection.
            pub $($async)? fn hang_up(&mut self) {
                let op = self.core.op(|core| async move {
                    ops::hang_up(core).await;
                    Ok(())
                });
                let _ = drive(&mut self.io, op) $($aw)*;
            }

            /// Closes the connection without `QUIT`. ftplib: `close()`.
            /// Dropping the client does the same.
            pub fn close(self) {}

            /// The content hash of a remote file, with the strongest
            /// checksum command the server advertises (`HASH`, `XSHA256`, `XSHA1`, `XMD5`, `XCRC`);
            /// `None` if it advertises none.
            pub $($async)? fn remote_hash(
                &mut self,
                path: impl AsRef<[u8]>,
            ) -> $crate::Result<Option<($crate::proto::hash::HashCommand, Vec<u8>)>> {
                let path = path.as_ref();
                drive(&mut self.io, self.core.op(|core| ops::remote_hash(core, path))) $($aw)*
            }

            /// `SIZE` and `MDTM` of a remote file; `None` for what the
            /// server will not tell (any 5xx reply: some servers refuse
            /// SIZE for files they would send, so a missing file is left
            /// for RETR to report).
            pub $($async)? fn remote_stat(
                &mut self,
                path: impl AsRef<[u8]>,
                mdtm: bool,
            ) -> $crate::Result<$crate::RemoteStat> {
                let path = path.as_ref();
                let op = self.core.op(|core| $crate::proto::engine::files::remote_stat(core, path, mdtm));
                drive(&mut self.io, op) $($aw)*
            }

            // ----- for the driver's transfers and plans ---------------------

            /// Sends one command and reads its reply, whatever its class.
            #[allow(dead_code)]
            pub(crate) $($async)? fn exchange(&mut self, command: &$crate::proto::Command) -> $crate::Result<$crate::Reply> {
                drive(&mut self.io, self.core.op(|core| ops::exchange(core, command))) $($aw)*
            }

            /// Settles what a dropped transfer left behind (abort it, or
            /// read its final reply); fails if the client is unusable.
            #[allow(dead_code)]
            pub(crate) $($async)? fn settle(&mut self) -> $crate::Result<()> {
                drive(&mut self.io, self.core.op(ops::settle)) $($aw)*
            }

            /// Ends a streaming transfer as the core's `flow::conclude`
            /// directs, and returns its judged final reply.
            #[allow(dead_code)]
            pub(crate) $($async)? fn conclude(&mut self, flow: &mut $crate::proto::engine::flow::Flow) -> $crate::Result<$crate::Reply> {
                drive(&mut self.io, self.core.op(|core| $crate::proto::engine::flow::conclude(core, flow))) $($aw)*
            }

            /// Reads one reply (a transfer's final reply).
            #[allow(dead_code)]
            pub(crate) $($async)? fn read_reply(&mut self) -> $crate::Result<$crate::Reply> {
                drive(&mut self.io, self.core.op(ops::final_reply)) $($aw)*
            }

            #[allow(dead_code)]
            pub(crate) fn mark_unusable(&mut self) {
                self.core.unusable = true;
            }

            /// Records the working directory (one `PWD`) if a `CWD` made it
            /// unknown, so that a reconnect can return to it.
            #[allow(dead_code)]
            pub(crate) $($async)? fn remember_cwd(&mut self) -> $crate::Result<()> {
                drive(&mut self.io, self.core.op(ops::remember_cwd)) $($aw)*
            }

            /// Runs the core's data setup and returns the data stream once
            /// the server sent its 1xx, with the size it announced.
            #[allow(dead_code)]
            pub(crate) $($async)? fn open_data(
                &mut self,
                request: $crate::proto::DataRequest,
            ) -> $crate::Result<(Stream, Option<u64>)> {
                let announced =
                    drive(&mut self.io, self.core.op(|core| data::open_data(core, request))) $($aw)* ?;
                match self.io.data.take() {
                    Some(stream) => Ok((stream, announced)),
                    None => {
                        self.core.unusable = true;
                        Err($crate::Error::Unusable)
                    }
                }
            }

            /// Ends an interrupted transfer over `data` (reset for uploads):
            /// `ABOR`, close, `NOOP`, as the core directs.
            #[allow(dead_code)]
            pub(crate) $($async)? fn abort_transfer(&mut self, data: Stream, reset: bool) -> $crate::Result<()> {
                self.io.data = Some(data);
                drive(&mut self.io, self.core.op(|core| ops::abort_transfer(core, reset))) $($aw)*
            }
        }
    };
}
