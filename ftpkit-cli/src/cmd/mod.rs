//! The commands, each over one logged-in client.

pub mod get;
pub mod ls;
pub mod mirror;
pub mod put;
pub mod shell;
pub mod simple;

use ftpkit::Client;

use crate::{args::Global, failure::Failure, plan};

/// Connects and logs in (anonymously when the URL names no user).
pub fn connect(target: &plan::Target, global: &Global) -> Result<Client, Failure> {
    let config = plan::config(global, target)?;
    let login = crate::credentials::resolve(target, global)?;
    let mut client = Client::connect_with(&target.addr(), config)?;
    match &login.account {
        Some(account) => client.login_with_account(&login.user, &login.password, account)?,
        None => client.login(&login.user, &login.password)?,
    };
    if global.ccc {
        if target.tls.is_none() {
            return Err(Failure::Usage(
                "--ccc needs TLS: use ftpes://, ftps:// or --tls".into(),
            ));
        }
        client.ccc()?;
    }
    Ok(client)
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
