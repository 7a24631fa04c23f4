//! The commands, each over one logged-in client.

pub mod batch;
pub mod get;
pub mod ls;
pub mod mirror;
pub mod put;
pub mod shell;
pub mod simple;
pub mod text;
pub mod trust;

use std::ops::{Deref, DerefMut};

use ftpkit::Client;

use crate::{failure::Failure, plan, plan::Settings};

/// Connects and logs in (anonymously when the URL names no user).
pub fn connect(target: &plan::Target, settings: &Settings) -> Result<Connection, Failure> {
    Ok(Connection::new(
        Connector::new(target, settings)?.connect()?,
    ))
}

/// A logged-in client that ends its session politely (`QUIT`, and the
/// server's goodbye read) when it goes out of scope, whether the command
/// succeeded or failed: an early return with an error says goodbye too. A
/// connection left unusable (timed out, closed by the server, out of step)
/// is only closed: there is no one to say goodbye to.
pub struct Connection(Client);

impl Connection {
    /// Wraps a logged-in client.
    pub fn new(client: Client) -> Connection {
        Connection(client)
    }
}

impl Deref for Connection {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.0
    }
}

impl DerefMut for Connection {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.0
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // QUIT, its 221 not awaited: the program is about to exit, and
        // every transfer's final reply was read.
        self.0.hang_up();
    }
}

/// Everything needed to open another logged-in connection to the same
/// server, resolved once (the password prompt, if any, comes once): what
/// `mirror`'s connection pool opens its connections with.
#[derive(Clone)]
pub struct Connector {
    addr: String,
    config: ftpkit::Config,
    login: crate::credentials::Login,
    ccc: bool,
}

impl Connector {
    /// Resolves the configuration and the login for `target`.
    pub fn new(target: &plan::Target, settings: &Settings) -> Result<Connector, Failure> {
        if settings.ccc && target.tls.is_none() {
            return Err(Failure::Usage(
                "--ccc needs TLS: use ftpes://, ftps:// or --tls".into(),
            ));
        }
        Ok(Connector {
            addr: target.addr(),
            config: plan::config(settings, target)?,
            login: crate::credentials::resolve(target, settings)?,
            ccc: settings.ccc,
        })
    }

    /// Opens a connection and logs in.
    pub fn connect(&self) -> ftpkit::Result<Client> {
        let mut client = Client::connect_with(&self.addr, self.config.clone())?;
        let login = &self.login;
        match &login.account {
            Some(account) => client.login_with_account(&login.user, &login.password, account)?,
            None => client.login(&login.user, &login.password)?,
        };
        if self.ccc {
            client.ccc()?;
        }
        Ok(client)
    }
}

/// The URLs parsed; all must name the same server and user (one
/// connection, or one pool, serves them all).
pub fn same_server(urls: &[String], settings: &Settings) -> Result<Vec<plan::Target>, Failure> {
    let targets = urls
        .iter()
        .map(|u| settings.url(u))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(first) = targets.first()
        && targets
            .iter()
            .any(|t| (&t.host, t.port, &t.user) != (&first.host, first.port, &first.user))
    {
        return Err(Failure::Usage(
            "every URL must name the same server and user".into(),
        ));
    }
    Ok(targets)
}

/// A name from the server (or a local folder) as one local path
/// component, or why it is refused: the one rule,
/// [`ftpkit::Name::safe_component`], for every command that turns a
/// server's name into a local one (`get` globs, `mirror`, `shell`'s
/// `mget`). The reason shows the name escaped.
pub fn check_name(name: &[u8]) -> Result<String, String> {
    check_name_in(name, ftpkit::Charset::UTF_8)
}

/// [`check_name`] for a name in the server's charset (`--encoding`): the
/// name decoded, then the same rule ([`ftpkit::Name::safe_component_in`]).
pub fn check_name_in(name: &[u8], charset: ftpkit::Charset) -> Result<String, String> {
    let name_ = ftpkit::Name::from(name);
    let shown = ftpkit::Name::from(name_.decode(charset).into_owned()).escaped();
    match name_.safe_component_in(charset) {
        Some(text) => Ok(text.into_owned()),
        None if charset.decode_exact(name).is_none() => {
            Err(format!("{shown}: not valid {charset}"))
        }
        None if name.iter().any(|&b| b == b'/' || b == b'\\') && name != b".." => {
            Err(format!("{shown}: contains a path separator"))
        }
        None if matches!(name, b"" | b"." | b"..") => Err(format!("{shown:?}: not a file name")),
        None => Err(format!("{shown}: contains control characters")),
    }
}

/// A remote folder as warnings name it: `.` for the login folder (an
/// empty path), escaped.
pub fn shown_folder(path: &[u8]) -> String {
    if path.is_empty() {
        ".".to_owned()
    } else {
        ftpkit::Name::from(path).escaped()
    }
}

/// Prints one warning on stderr.
pub fn warn(msg: &str) {
    eprintln!("ftpkit: warning: {msg}");
}
