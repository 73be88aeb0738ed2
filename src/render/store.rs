//! What the store maintenance commands say: `gc`'s summary of what it removed (or would,
//! or why it waited), and `fsck`'s verdict line.

use super::format::{Format, Report, Style};
use crate::store::fsck::FsckReport;
use crate::store::gc::GcReport;
use std::io::{self, Write};
use std::time::Duration;

/// What `driftgate gc` did, as it was asked.
pub struct GcOutcome<'a> {
    pub report: &'a GcReport,
    /// Nothing was removed: say what would have been.
    pub dry_run: bool,
    /// How long gc waited for writers at work.
    pub waited: Duration,
}

impl Report for GcOutcome<'_> {
    const COMMAND: &'static str = "gc";
    const FORMATS: &'static [Format] = &[Format::Text];

    fn write_as<W: Write>(&self, _: Format, _: Style, out: &mut W) -> io::Result<()> {
        if !self.report.deferred_by.is_empty() {
            writeln!(
                out,
                "deferred: {} writer(s) still at work after {} ({}); nothing removed",
                self.report.deferred_by.len(),
                humantime_secs(self.waited),
                self.report.deferred_by.join(", ")
            )?;
            return Ok(());
        }
        if self.dry_run {
            for id in &self.report.snapshots_removed {
                writeln!(out, "would remove snapshot {id}")?;
            }
        }
        writeln!(
        out,
        "{}{} snapshot(s) removed, {} kept; {} history entr{} trimmed; {} blob(s) removed, {} kept; {} pack(s) rewritten, {} removed; {} → {} bytes",
        if self.dry_run { "dry run: " } else { "" },
        self.report.snapshots_removed.len(),
        self.report.snapshots_kept,
        self.report.history_entries_removed,
        if self.report.history_entries_removed == 1 { "y" } else { "ies" },
        self.report.blobs_removed,
        self.report.blobs_kept,
        self.report.packs_rewritten,
        self.report.packs_removed,
        self.report.bytes_before,
        self.report.bytes_after
    )?;
        if self.report.temp_files_removed > 0 {
            writeln!(
                out,
                "{} temp file(s) of writers that died removed",
                self.report.temp_files_removed
            )?;
        }
        if self.report.orphan_history_removed > 0 {
            writeln!(
                out,
                "{} history entr{} of failed ref moves removed",
                self.report.orphan_history_removed,
                if self.report.orphan_history_removed == 1 {
                    "y"
                } else {
                    "ies"
                }
            )?;
        }
        Ok(())
    }
}

fn humantime_secs(d: Duration) -> String {
    format!("{}s", d.as_secs())
}

impl Report for FsckReport {
    const COMMAND: &'static str = "fsck";
    const FORMATS: &'static [Format] = &[Format::Text];

    fn write_as<W: Write>(&self, _: Format, _: Style, out: &mut W) -> io::Result<()> {
        writeln!(
            out,
            "{}: {}",
            if self.is_clean() { "ok" } else { "CORRUPT" },
            self.summary()
        )
    }
}
