//! The one-command operations: `rm`, `mkdir`, `rmdir`, `mv`, `chmod`,
//! `size`, `stat`, `quote`.

use std::io::Write;

use ftpkit::{Client, Error};

use crate::{exit::Exit, failure::Failure, output, plan::Settings, plan::Target};

fn stdout_line(bytes: &[u8]) -> Result<(), Failure> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    output::write_line(&mut out, bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Failure::Local("<stdout>".into(), e))
}

/// Deletes each file; all URLs must name the same server and login.
pub fn rm(urls: &[String], settings: &Settings) -> Result<(), Failure> {
    let targets = super::same_server(urls, settings)?;
    let Some(first) = targets.first() else {
        return Err(Failure::Usage("rm needs at least one URL".into()));
    };
    let mut client = super::connect(first, settings)?;
    for target in &targets {
        client.delete(&target.path)?;
    }
    Ok(())
}

/// Creates a directory; with `parents`, each missing ancestor too, and an
/// existing directory is not an error.
pub fn mkdir(target: &Target, parents: bool, settings: &Settings) -> Result<(), Failure> {
    let mut client = super::connect(target, settings)?;
    let path = target.path.strip_suffix(b"/").unwrap_or(&target.path);
    if parents {
        ensure_path(&mut client, path)?;
    } else {
        client.mkd(path)?;
    }
    Ok(())
}

/// Creates `path` and each missing ancestor (MKD level by level); one that
/// exists already is fine (`mkdir -p`, `put --create-dirs`).
pub fn ensure_path(client: &mut Client, path: &[u8]) -> Result<(), Failure> {
    let path = path.strip_suffix(b"/").unwrap_or(path);
    for (i, _) in path
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'/' && i > 0)
    {
        ensure_dir(client, path.get(..i).unwrap_or_default())?;
    }
    if path.is_empty() {
        return Ok(());
    }
    ensure_dir(client, path)
}

/// MKD, accepting a refusal when the directory already exists (checked
/// with CWD, then back).
fn ensure_dir(client: &mut Client, path: &[u8]) -> Result<(), Failure> {
    match client.mkd(path) {
        Ok(_) => Ok(()),
        Err(refused @ Error::Reply { .. }) => {
            let home = client.pwd()?;
            if client.cwd(path).is_ok() {
                client.cwd(home.as_bytes())?;
                Ok(())
            } else {
                Err(refused.into())
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Removes an empty directory.
pub fn rmdir(target: &Target, settings: &Settings) -> Result<(), Failure> {
    let mut client = super::connect(target, settings)?;
    client.rmd(&target.path)?;
    Ok(())
}

/// Renames a file or directory on the server.
pub fn mv(target: &Target, new_path: &str, settings: &Settings) -> Result<(), Failure> {
    // Refuse a new path that cannot be sent before connecting at all.
    ftpkit::proto::Arg::path(new_path).map_err(ftpkit::Error::from)?;
    let mut client = super::connect(target, settings)?;
    client.rename(&target.path, new_path)?;
    Ok(())
}

/// Sets the mode of each file (SITE CHMOD); all URLs on one server. A
/// server without SITE CHMOD is told apart from one refusing a file.
pub fn chmod(mode: u32, urls: &[String], settings: &Settings) -> Result<(), Failure> {
    let targets = super::same_server(urls, settings)?;
    let Some(first) = targets.first() else {
        return Err(Failure::Usage("chmod needs at least one URL".into()));
    };
    for target in &targets {
        ftpkit::proto::Arg::path(&target.path).map_err(ftpkit::Error::from)?;
    }
    let mut client = super::connect(first, settings)?;
    for target in &targets {
        client
            .chmod(mode, &target.path)
            .map_err(|e| chmod_failure(e, &target.path))?;
    }
    Ok(())
}

/// Whether a refusal of SITE CHMOD means the server lacks the command
/// (500 unknown, 502 not implemented, 504 not for this parameter), not
/// that this file was refused.
pub fn lacks_site_chmod(error: &Error) -> bool {
    error
        .code()
        .is_some_and(|code| matches!(code.0, 500 | 502 | 504))
}

/// A chmod failure as the user should read it.
fn chmod_failure(error: Error, path: &[u8]) -> Failure {
    match error.reply() {
        Some(reply) if lacks_site_chmod(&error) => Failure::Remote(format!(
            "the server does not offer SITE CHMOD: {}",
            output::escape(&format!("{} {}", reply.code().0, reply.message()))
        )),
        Some(reply) => Failure::Remote(format!(
            "{}: SITE CHMOD refused: {}",
            ftpkit::Name::from(path).escaped(),
            output::escape(&format!("{} {}", reply.code().0, reply.message()))
        )),
        None => error.into(),
    }
}

/// Prints the size in bytes.
pub fn size(target: &Target, json: bool, settings: &Settings) -> Result<(), Failure> {
    let mut client = super::connect(target, settings)?;
    let size = client.size(&target.path)?;
    let line = if json {
        format!(
            "{{\"name\":{},\"size\":{size}}}",
            output::json_string(&String::from_utf8_lossy(&target.path))
        )
    } else {
        size.to_string()
    };
    stdout_line(line.as_bytes())?;
    Ok(())
}

/// Prints one entry: from MLST where offered, else from a LIST of the path.
pub fn stat(target: &Target, json: bool, settings: &Settings) -> Result<(), Failure> {
    let mut client = super::connect(target, settings)?;
    let entry = client.stat(&target.path)?.ok_or_else(|| {
        Failure::Remote(format!(
            "{}: no such entry",
            String::from_utf8_lossy(&target.path)
        ))
    })?;
    if json {
        stdout_line(output::entry_json(&entry).as_bytes())?;
    } else {
        let [mode, owner, group, size, time] = output::long_columns(&entry);
        let mut line = format!("{mode} {owner} {group} {size} {time} ").into_bytes();
        line.extend_from_slice(entry.name.as_bytes());
        stdout_line(&line)?;
    }
    Ok(())
}

/// Sends a raw command and prints the whole reply on stdout, alike on
/// success and failure, so scripts read both the same way; a 4xx/5xx
/// reply then exits 5.
pub fn quote(target: &Target, command: &[String], settings: &Settings) -> Result<(), Failure> {
    let line = command.join(" ");
    // Refuse a line break or NUL before connecting at all.
    ftpkit::proto::Command::raw(line.as_str()).map_err(ftpkit::Error::from)?;
    let mut client = super::connect(target, settings)?;
    // In the server's charset (`--encoding`), as every path.
    let wire = client.encode_path(&line)?;
    let (reply, result) = match client.sendcmd(wire) {
        Ok(reply) => (reply, Ok(())),
        Err(Error::Reply { reply, .. }) => (reply, Err(Failure::Reported(Exit::Remote))),
        Err(e) => return Err(e.into()),
    };
    for line in reply.lines() {
        stdout_line(line)?;
    }
    result
}
