//! `driftgate report REF`: the ref's history from its ref log, each position diffed
//! against the one before (text, JSON, or an HTML page).

use super::format::FormatArg;
use super::Context;
use crate::diff::history::history;
use crate::exit;
use crate::render::history::HistoryReport;
use crate::render::Format;
use clap::Args;

#[derive(Args, Debug)]
pub struct ReportCmd {
    /// The ref whose history to show (`prod/latest`, `prod/baseline`, `entry`).
    pub reference: String,
    #[arg(long, value_parser = FormatArg::of::<HistoryReport>(), default_value_t = Format::Text)]
    pub format: Format,
}

impl ReportCmd {
    pub fn run(self, ctx: &Context) -> anyhow::Result<u8> {
        let store = ctx.store.open()?;
        let log = store.reflog(&self.reference)?;
        if log.is_empty() && store.read_ref(&self.reference)?.is_none() {
            anyhow::bail!("no ref named {:?}", self.reference);
        }
        let entries = history(&log, |id| {
            store.load_snapshot(id).map_err(|e| e.to_string())
        });
        let report = HistoryReport {
            ref_name: self.reference,
            entries,
        };
        ctx.print(&report, self.format)?;
        Ok(exit::OK)
    }
}
