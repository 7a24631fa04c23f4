//! `ftpkit ls URL [-l | --json]`.

use std::io::Write;

use ftpkit::{Entry, EntryKind};

use crate::{failure::Failure, output, plan::Settings, plan::Target};

/// How to show the listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Names only (NLST).
    Names,
    /// One aligned line per typed entry.
    Long,
    /// One JSON object per entry.
    Json,
}

/// Lists `target` in the given style.
pub fn run(target: &Target, style: Style, settings: &Settings) -> Result<(), Failure> {
    let mut client = super::connect(target, settings)?;
    // Stdout alone flushes at every newline: one write per entry.
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let local = |e: std::io::Error| Failure::Local("<stdout>".into(), e);
    let charset = settings.reach.charset();
    match style {
        Style::Names if target.is_dir() => {
            // A directory: from inside it, so that every server sends the
            // bare names (some prefix each with the path NLST was given),
            // each written as it arrives.
            let dir = match target.path.as_slice() {
                [] => None,
                [b'/'] => Some(&b"/"[..]),
                path => Some(path.strip_suffix(b"/").unwrap_or(path)),
            };
            if let Some(dir) = dir {
                client.cwd(dir)?;
            }
            let mut failed = None;
            client.retr_lines("NLST", |line| {
                if failed.is_none()
                    && let Err(e) = output::write_line(&mut out, charset.decode(line).as_bytes())
                {
                    failed = Some(e);
                }
            })?;
            if let Some(e) = failed {
                return Err(local(e));
            }
        }
        // A file or a pattern: NLST of it, names as the server gives them.
        Style::Names => {
            for name in client.nlst(&target.path)? {
                output::write_line(&mut out, name.decode(charset).as_bytes()).map_err(local)?;
            }
        }
        // Each entry is written as it is parsed, so memory stays flat
        // however long the listing.
        Style::Json => {
            for entry in client.list_entries(&target.path)? {
                let entry = crate::reach::decoded(entry?, charset);
                output::write_entry_json(&mut out, &entry)
                    .and_then(|()| out.write_all(b"\n"))
                    .map_err(local)?;
            }
        }
        // The columns' widths need every entry.
        Style::Long => {
            let entries: Vec<Entry> = client
                .list_entries(&target.path)?
                .map(|entry| entry.map(|e| crate::reach::decoded(e, charset)))
                .collect::<Result<_, _>>()?;
            write_long(&mut out, &entries).map_err(local)?;
        }
    }
    out.flush().map_err(local)?;
    Ok(())
}

/// Aligned columns: type and permissions, owner, group, size, time, name.
pub fn write_long(out: &mut impl Write, entries: &[Entry]) -> std::io::Result<()> {
    let rows: Vec<[String; 5]> = entries.iter().map(output::long_columns).collect();
    let width = |col: usize| {
        rows.iter()
            .map(|r| r.get(col).map_or(0, String::len))
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2), width(3), width(4)];
    for (entry, row) in entries.iter().zip(&rows) {
        if entry.kind == EntryKind::Unknown {
            output::write_line(out, &entry.raw)?;
            continue;
        }
        let [mode, owner, group, size, time] = row;
        let [w0, w1, w2, w3, w4] = widths;
        write!(
            out,
            "{mode:<w0$} {owner:<w1$} {group:<w2$} {size:>w3$} {time:<w4$} "
        )?;
        let mut name = entry.name.as_bytes().to_vec();
        if let EntryKind::Symlink {
            target: Some(target),
        } = &entry.kind
        {
            name.extend_from_slice(b" -> ");
            name.extend_from_slice(target.as_bytes());
        }
        output::write_line(out, &name)?;
    }
    Ok(())
}
