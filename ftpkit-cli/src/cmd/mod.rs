//! The commands, each over one logged-in client.

pub mod get;
pub mod ls;
pub mod mirror;
pub mod put;
pub mod shell;
pub mod simple;
pub mod trust;

use ftpkit::Client;

use crate::{args::Global, failure::Failure, plan};

/// Connects and logs in (anonymously when the URL names no user).
pub fn connect(target: &plan::Target, global: &Global) -> Result<Client, Failure> {
    Ok(Connector::new(target, global)?.connect()?)
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
    pub fn new(target: &plan::Target, global: &Global) -> Result<Connector, Failure> {
        if global.ccc && target.tls.is_none() {
            return Err(Failure::Usage(
                "--ccc needs TLS: use ftpes://, ftps:// or --tls".into(),
            ));
        }
        Ok(Connector {
            addr: target.addr(),
            config: plan::config(global, target)?,
            login: crate::credentials::resolve(target, global)?,
            ccc: global.ccc,
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

/// The remote size, or `None` when the server cannot tell (SIZE refused).
pub fn remote_size(client: &mut Client, path: &[u8]) -> Result<Option<u64>, Failure> {
    match client.size(path) {
        Ok(size) => Ok(Some(size)),
        Err(ftpkit::Error::Reply { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The library's transfer options from the command line.
pub fn transfer_options(global: &Global) -> ftpkit::TransferOptions {
    let mut options = ftpkit::TransferOptions {
        limit_rate: global.limit_rate,
        ..ftpkit::TransferOptions::default()
    };
    options.retry.retries = global.retries;
    if global.no_verify {
        options.verify = ftpkit::Verify::Off;
    }
    options
}
