//! Progress bars on a terminal (indicatif); nothing on a pipe or with -q.

use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// A progress display for one transfer.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// Whether a bar would be shown (stderr is a terminal, not `quiet`):
    /// callers ask the server for a size only then.
    pub fn enabled(quiet: bool) -> bool {
        !quiet && std::io::stderr().is_terminal()
    }

    /// A bar for `name` if stderr is a terminal and not `quiet`; `total`
    /// is the file size when known.
    pub fn new(name: &str, total: Option<u64>, start: u64, quiet: bool) -> Progress {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = match total {
            Some(total) => ProgressBar::new(total).with_style(bar_style()),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{msg} {spinner} {bytes} {bytes_per_sec}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.set_message(name.to_owned());
        bar.set_position(start);
        Progress(Some(bar))
    }

    /// Shows the bar among the others of `group` (several files at once),
    /// when there is a group.
    pub fn in_group(self, group: Option<&MultiProgress>) -> Progress {
        match (self.0, group) {
            (Some(bar), Some(group)) => Progress(Some(group.add(bar))),
            (bar, _) => Progress(bar),
        }
    }

    /// Sets the total once known (the library tells it before the data
    /// flows): the spinner becomes a bar with an ETA.
    pub fn set_total(&self, total: Option<u64>) {
        if let (Some(bar), Some(total)) = (&self.0, total) {
            bar.set_length(total);
            bar.set_style(bar_style());
        }
    }

    /// Moves the bar to `offset`.
    pub fn set(&self, offset: u64) {
        if let Some(bar) = &self.0 {
            bar.set_position(offset);
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// A bar with a known total.
fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}
