//! The [`Progress`] people watch during `driftgate check`: one spinner a target on stderr
//! (`name: reading user@host:port/db (3s)`), cleared when the target is done; hidden with
//! `--quiet`, so the lines on stdout are all that is left.

use super::pipeline::{Progress, TargetProgress};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::Duration;

/// Spinners on stderr, or none drawn.
pub struct Spinners {
    bars: MultiProgress,
    style: ProgressStyle,
}

impl Spinners {
    pub fn new(hidden: bool) -> Spinners {
        Spinners {
            bars: MultiProgress::with_draw_target(if hidden {
                ProgressDrawTarget::hidden()
            } else {
                ProgressDrawTarget::stderr()
            }),
            style: ProgressStyle::with_template("{spinner} {prefix:.bold}: {msg} ({elapsed})")
                .expect("the progress template is valid"),
        }
    }
}

impl Progress for Spinners {
    type Bar = ProgressBar;

    fn start(&self, target: &str) -> ProgressBar {
        let bar = self.bars.add(
            ProgressBar::new_spinner()
                .with_style(self.style.clone())
                .with_prefix(target.to_string())
                .with_message("waiting"),
        );
        if !bar.is_hidden() {
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        bar
    }
}

impl TargetProgress for ProgressBar {
    fn message(&self, text: &str) {
        self.set_message(text.to_string());
    }

    fn finish(&self) {
        self.finish_and_clear();
    }
}
