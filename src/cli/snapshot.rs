//! `driftgate snapshot`: capture the catalog read-only, store it, print its id.

use super::common::ConnectArgs;
use super::Context;
use crate::catalog::{self, ExactCounts};
use crate::exit;
use crate::store::{refs::validate_ref_name, Store};
use anyhow::Context as _;
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
pub struct SnapshotCmd {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Point this ref (e.g. baseline, entry, prod/nightly) at the new snapshot.
    #[arg(long = "ref", value_name = "NAME")]
    pub ref_name: Option<String>,
    /// A free-text label kept in the snapshot's metadata.
    #[arg(long)]
    pub label: Option<String>,
    /// Exact row counts (takes ACCESS SHARE locks): `all`, or tables like public.dot_tools,birth_registry.
    #[arg(long, value_name = "T1,T2|all")]
    pub exact_counts: Option<String>,
    /// Only schemas matching this glob (repeatable).
    #[arg(long, value_name = "PATTERN")]
    pub include_schema: Vec<String>,
    /// Leave out schemas matching this glob (repeatable).
    #[arg(long, value_name = "PATTERN")]
    pub exclude_schema: Vec<String>,
}

impl SnapshotCmd {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<u8> {
        if let Some(name) = &self.ref_name {
            validate_ref_name(name)?;
        }
        // Refuse a bad store before touching the database.
        Store::check_writable(&ctx.store.store)?;
        let target = self.connect.target()?;
        let mut opts = self.connect.capture_options();
        opts.exact_counts = self
            .exact_counts
            .as_deref()
            .map(ExactCounts::parse)
            .unwrap_or_default();
        opts.include_schemas = self.include_schema.clone();
        opts.exclude_schemas = self.exclude_schema.clone();
        opts.label = self.label.clone();

        let snap = catalog::capture(&target, &opts)
            .await
            .with_context(|| format!("snapshot of {}", target.describe()))?;
        let mut store = Store::open_or_init(&ctx.store.store)?;
        let (id, stats) = store.write_snapshot(&snap)?;
        if let Some(name) = &self.ref_name {
            store.update_ref(
                name,
                &id,
                &format!("snapshot of {}", snap.meta.source.describe()),
            )?;
        }
        writeln!(std::io::stdout(), "{id}")?;
        ctx.note(format!(
            "stored snapshot {} of {} (PostgreSQL {}): {} objects, catalog {}, {} new blob(s), {} bytes written, {} ms{}",
            id.short(),
            snap.meta.source.describe(),
            snap.meta.server_version,
            snap.objects.len(),
            stats.catalog.map(|c| c.short()).unwrap_or_default(),
            stats.new_blobs,
            stats.bytes_written,
            snap.meta.capture_ms,
            self.ref_name
                .as_ref()
                .map(|r| format!(", ref {r}"))
                .unwrap_or_default()
        ));
        Ok(exit::OK)
    }
}
