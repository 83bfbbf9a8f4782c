//! Progress on the terminal: an indicatif bar that implements explain-core's `Progress`.

use explain_core::util::progress::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A progress bar on stderr, hidden with --quiet or when stderr is not a terminal.
pub(crate) struct Bar(ProgressBar);

impl Bar {
    pub(crate) fn new(quiet: bool, message: &'static str, unit: &str) -> Bar {
        let target = if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{spinner}} {{msg}} [{{bar:30}}] {{pos}}/{{len}}{unit}, {{elapsed}} (eta {{eta}})"
            ))
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_message(message);
        Bar(bar)
    }

    pub(crate) fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Progress for Bar {
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
    fn begin(&self, total: u64) {
        self.0.set_position(0);
        self.0.set_length(total);
    }
    fn stage(&self, name: &str) {
        self.0.set_message(name.to_string());
    }
    fn note(&self, text: &str) {
        self.0.suspend(|| eprintln!("note: {text}"));
    }
}
