//! `ftpkit ls URL [-l]`.

use std::io::Write;

use crate::{args::Global, failure::Failure, output, plan::Target};

/// Lists names (NLST) or, with `long`, the LIST lines.
pub fn run(target: &Target, long: bool, global: &Global) -> Result<(), Failure> {
    let mut client = super::connect(target, global)?;
    let lines = if long {
        client.list(&target.path)?
    } else {
        client.nlst(&target.path)?
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in &lines {
        output::write_line(&mut out, line.as_bytes())
            .map_err(|e| Failure::Local("<stdout>".into(), e))?;
    }
    out.flush()
        .map_err(|e| Failure::Local("<stdout>".into(), e))?;
    let _ = client.quit();
    Ok(())
}
