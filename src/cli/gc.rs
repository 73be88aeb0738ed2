//! `driftgate gc`: drop snapshots no ref or kept history needs, and the objects only they
//! used; `fsck` stays clean (see [`crate::store::gc`] for what is kept).

use super::common::parse_duration;
use super::Context;
use crate::exit;
use crate::store::gc::GcOptions;
use clap::Args;
use std::io::Write;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct GcCmd {
    /// Keep only the last N positions of each ref's history (the current one always stays).
    #[arg(long, value_name = "N")]
    pub keep_last: Option<usize>,
    /// Keep history positions and unreferenced snapshots younger than this (e.g. 30d); drop
    /// older ones.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub older_than: Option<Duration>,
    /// Say what would be removed; remove nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// How long to wait for writers at work (snapshot, check, baseline accept) on the same
    /// store to finish; still at work after it, gc removes nothing and says so.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "60s")]
    pub wait: Duration,
}

impl GcCmd {
    pub fn run(self, ctx: &Context) -> anyhow::Result<u8> {
        let mut store = ctx.store.open()?;
        let report = store.gc(&GcOptions {
            keep_last: self.keep_last,
            older_than: self.older_than,
            now: time::OffsetDateTime::now_utc().unix_timestamp(),
            dry_run: self.dry_run,
            writer_wait: self.wait,
        })?;
        let mut out = std::io::stdout().lock();
        if !report.deferred_by.is_empty() {
            writeln!(
                out,
                "deferred: {} writer(s) still at work after {} ({}); nothing removed",
                report.deferred_by.len(),
                humantime_secs(self.wait),
                report.deferred_by.join(", ")
            )?;
            return Ok(exit::OK);
        }
        if self.dry_run {
            for id in &report.snapshots_removed {
                writeln!(out, "would remove snapshot {id}")?;
            }
        }
        writeln!(
            out,
            "{}{} snapshot(s) removed, {} kept; {} history entr{} trimmed; {} blob(s) removed, {} kept; {} pack(s) rewritten, {} removed; {} → {} bytes",
            if self.dry_run { "dry run: " } else { "" },
            report.snapshots_removed.len(),
            report.snapshots_kept,
            report.history_entries_removed,
            if report.history_entries_removed == 1 { "y" } else { "ies" },
            report.blobs_removed,
            report.blobs_kept,
            report.packs_rewritten,
            report.packs_removed,
            report.bytes_before,
            report.bytes_after
        )?;
        if report.temp_files_removed > 0 {
            writeln!(
                out,
                "{} temp file(s) of writers that died removed",
                report.temp_files_removed
            )?;
        }
        if report.orphan_history_removed > 0 {
            writeln!(
                out,
                "{} history entr{} of failed ref moves removed",
                report.orphan_history_removed,
                if report.orphan_history_removed == 1 {
                    "y"
                } else {
                    "ies"
                }
            )?;
        }
        let _ = ctx;
        Ok(exit::OK)
    }
}

fn humantime_secs(d: Duration) -> String {
    format!("{}s", d.as_secs())
}
