//! The terminal: stdout that tolerates a closed pipe, and progress bars.

use crate::error::{Error, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::io::Write;

/// Writes to stdout; a closed pipe (`recount list | head`) is not an error.
pub(crate) fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::io("<stdout>", e)),
        _ => Ok(()),
    }
}

/// A progress bar on stderr over `total` trials (hidden with --quiet; indicatif hides it by
/// itself when stderr is not a terminal).
pub(crate) fn progress_bar(total: u64, quiet: bool, what: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let what = if what.is_empty() {
        String::new()
    } else {
        format!(" {what}")
    };
    b.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{human_pos}}/{{human_len}} trials{what} ({{rate}}, ETA {{eta}})"
        ))
        .expect("valid template")
        // indicatif's {per_sec} prints "5,073.3713/s"; whole trials per second read better.
        .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{} trials/s", indicatif::HumanCount(s.per_sec().round() as u64));
        }),
    );
    b
}
