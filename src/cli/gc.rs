//! `driftgate gc`: drop snapshots no ref or kept history needs, and the objects only they
//! used; `fsck` stays clean (see [`crate::store::gc`] for what is kept).

use super::common::parse_duration;
use super::Context;
use crate::exit;
use crate::render::store::GcOutcome;
use crate::render::Format;
use crate::store::gc::GcOptions;
use clap::Args;
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
        ctx.print(
            &GcOutcome {
                report: &report,
                dry_run: self.dry_run,
                waited: self.wait,
            },
            Format::Text,
        )?;
        Ok(exit::OK)
    }
}
