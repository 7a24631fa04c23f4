//! Who to log in as: the URL, `FTPKIT_PASSWORD`, `~/.netrc`, or a prompt.
//!
//! Precedence for the password: the URL's, then `FTPKIT_PASSWORD` (both
//! already in the [`Target`]), then the netrc entry for the host (which may
//! also give the user and an account), then a prompt without echo when a
//! user is named and standard input is a terminal. No user at all means
//! anonymous. A password is never printed.

use std::io::IsTerminal;

use crate::{failure::Failure, netrc::Netrc, plan::Settings, plan::Target};

/// The login to send.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Login {
    /// User; empty for anonymous.
    pub user: String,
    /// Password.
    pub password: String,
    /// Account (ACCT), from netrc.
    pub account: Option<String>,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("user", &self.user)
            .field("password", &"****")
            .finish_non_exhaustive()
    }
}

/// Resolves the login for `target`.
pub fn resolve(target: &Target, settings: &Settings) -> Result<Login, Failure> {
    if !target.password.0.is_empty() {
        return Ok(Login {
            user: target.user.clone(),
            password: target.password.0.clone(),
            account: None,
        });
    }
    if !settings.no_netrc {
        let path = settings.netrc_file.clone().or_else(Netrc::default_path);
        let netrc = match (&settings.netrc_file, path) {
            // A file named on the command line must be readable.
            (Some(named), _) => Some(Netrc::load(named).ok_or_else(|| {
                Failure::Usage(format!("{}: cannot read the netrc file", named.display()))
            })?),
            (None, Some(default)) => Netrc::load(&default),
            (None, None) => None,
        };
        let user = (!target.user.is_empty()).then_some(target.user.as_str());
        if let Some(entry) = netrc.as_ref().and_then(|n| n.find(&target.host, user)) {
            tracing::debug!(target: "ftpkit::cli", host = %target.host, "credentials from netrc");
            if entry.password.is_some()
                && let Some(path) = settings.netrc_file.clone().or_else(Netrc::default_path)
            {
                warn_if_readable_by_others(&path);
            }
            return Ok(Login {
                user: user
                    .map(str::to_owned)
                    .or_else(|| entry.login.clone())
                    .unwrap_or_default(),
                password: entry.password.clone().unwrap_or_default(),
                account: entry.account.clone(),
            });
        }
    }
    if !target.user.is_empty() && std::io::stdin().is_terminal() {
        let prompt = format!("Password for {}@{}: ", target.user, target.host);
        let password = rpassword::prompt_password(prompt)
            .map_err(|e| Failure::Local("<terminal>".into(), e))?;
        return Ok(Login {
            user: target.user.clone(),
            password,
            account: None,
        });
    }
    Ok(Login {
        user: target.user.clone(),
        password: String::new(),
        account: None,
    })
}

/// ftp(1) refuses a netrc file with passwords that others can read;
/// ftpkit uses it but says so.
fn warn_if_readable_by_others(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0) {
            eprintln!(
                "ftpkit: warning: {} holds passwords and others can read it: chmod 600 it",
                path.display()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
