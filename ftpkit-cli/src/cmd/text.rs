//! `--ascii`: text transfers in `TYPE A`. On the wire every line ends in
//! CRLF, as RFC 959 asks; on disk lines end as the system's text files do
//! (LF, or CRLF on Windows). Sizes differ between the two sides, so text
//! transfers are neither resumed nor verified.

use std::{
    fs,
    io::{BufReader, Write},
    path::{Path, PathBuf},
};

use ftpkit::Client;

use crate::{failure::Failure, plan::Settings, progress::Progress};

/// Whether local text files end their lines in CRLF already.
const LOCAL_CRLF: bool = cfg!(windows);

/// Downloads `remote` in `TYPE A` to `dest` through `dest.part`, CRLF
/// line ends turned into the local ones; returns the bytes written. A
/// failed download removes its `dest.part`.
pub fn download(
    client: &mut Client,
    remote: &[u8],
    dest: &Path,
    progress: &Progress,
    settings: &Settings,
) -> Result<u64, Failure> {
    let part = part_path(dest);
    let result = write_part(client, remote, &part, progress, settings).and_then(|n| {
        fs::rename(&part, dest)
            .map(|()| n)
            .map_err(|e| local(dest, e))
    });
    if result.is_err() {
        let _ = fs::remove_file(&part);
    }
    result
}

fn write_part(
    client: &mut Client,
    remote: &[u8],
    part: &Path,
    progress: &Progress,
    settings: &Settings,
) -> Result<u64, Failure> {
    let mut file = fs::File::create(part).map_err(|e| local(part, e))?;
    let written = copy(client, remote, &mut file, part, progress)?;
    if settings.fsync {
        file.sync_all().map_err(|e| local(part, e))?;
    }
    Ok(written)
}

/// Downloads `remote` in `TYPE A` into `out` (named `path` in errors),
/// CRLF line ends turned into the local ones; returns the bytes written.
pub fn copy(
    client: &mut Client,
    remote: &[u8],
    out: &mut dyn Write,
    path: &Path,
    progress: &Progress,
) -> Result<u64, Failure> {
    let mut lines = ToLocal::default();
    let mut buf = Vec::new();
    let mut written = 0u64;
    client
        .retrieve(remote)
        .ascii()
        .progress(|n| progress.set(n))
        .for_each_chunk(|chunk| {
            buf.clear();
            lines.convert(chunk, &mut buf);
            written += buf.len() as u64;
            out.write_all(&buf)
        })
        .map_err(|e| Failure::of_local_file(path, e))?;
    buf.clear();
    lines.finish(&mut buf);
    written += buf.len() as u64;
    out.write_all(&buf).map_err(|e| local(path, e))?;
    Ok(written)
}

/// Uploads `local` to `remote` in `TYPE A`, each line's end sent as CRLF
/// (a last line without one gets one); returns the local file's size.
pub fn upload(client: &mut Client, local: &Path, remote: &[u8]) -> Result<u64, Failure> {
    let file = fs::File::open(local).map_err(|e| self::local(local, e))?;
    let len = file.metadata().map_err(|e| self::local(local, e))?.len();
    client
        .store_lines(remote, BufReader::new(file))
        .map_err(|e| Failure::of_local_file(local, e))?;
    Ok(len)
}

fn local(path: &Path, e: std::io::Error) -> Failure {
    Failure::Local(path.to_path_buf(), e)
}

/// `PATH.part`.
fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest.as_os_str().to_owned();
    name.push(".part");
    PathBuf::from(name)
}

/// CRLF to the local line end, across chunk boundaries: a CR at the end of
/// a chunk waits for the next byte. A CR not followed by LF is kept.
#[derive(Default)]
struct ToLocal {
    pending_cr: bool,
}

impl ToLocal {
    fn convert(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        if LOCAL_CRLF {
            out.extend_from_slice(chunk);
            return;
        }
        for &b in chunk {
            if std::mem::take(&mut self.pending_cr) && b != b'\n' {
                out.push(b'\r');
            }
            if b == b'\r' {
                self.pending_cr = true;
            } else {
                out.push(b);
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.pending_cr) {
            out.push(b'\r');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_becomes_lf_across_chunks() {
        if LOCAL_CRLF {
            return;
        }
        let mut lines = ToLocal::default();
        let mut out = Vec::new();
        for chunk in [&b"a\r"[..], b"\nb\rc\r", b"", b"\r\n", b"d\r"] {
            lines.convert(chunk, &mut out);
        }
        lines.finish(&mut out);
        assert_eq!(out, b"a\nb\rc\r\nd\r");
    }
}
