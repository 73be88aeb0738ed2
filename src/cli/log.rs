//! `driftgate log [REF]`: every snapshot in the store, or the history of one ref.

use super::format::FormatArg;
use super::Context;
use crate::exit;
use crate::render::log::{LogReport, RefPosition, SnapshotEntry};
use crate::render::Format;
use clap::Args;
use std::collections::BTreeMap;

#[derive(Args, Debug)]
pub struct LogCmd {
    /// Show the positions this ref held, newest first.
    pub reference: Option<String>,
    #[arg(long, value_parser = FormatArg::of::<LogReport>(), default_value_t = Format::Table)]
    pub format: Format,
}

impl LogCmd {
    pub fn run(self, ctx: &Context) -> anyhow::Result<u8> {
        let store = ctx.store.open()?;
        let mut refs_at: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, id) in store.list_refs()? {
            refs_at.entry(id.to_hex()).or_default().push(name);
        }
        let report = match &self.reference {
            Some(name) => {
                let history = store.reflog(name)?;
                if history.is_empty() && store.read_ref(name)?.is_none() {
                    anyhow::bail!("no ref named {name:?}");
                }
                let mut positions = Vec::new();
                for entry in history.iter().rev() {
                    let record = store.read_record(&entry.new)?;
                    positions.push(RefPosition {
                        ref_name: name.clone(),
                        time: entry.time.clone(),
                        snapshot: entry.new,
                        previous: entry.old,
                        catalog: record.catalog,
                        message: entry.message.clone(),
                    });
                }
                LogReport::Ref(positions)
            }
            None => LogReport::Snapshots(
                store
                    .list_snapshots()?
                    .into_iter()
                    .rev()
                    .map(|(id, record)| SnapshotEntry {
                        refs: refs_at.get(&id.to_hex()).cloned().unwrap_or_default(),
                        snapshot: id,
                        created_at: record.meta.created_at,
                        source: record.meta.source,
                        server_version: record.meta.server_version,
                        catalog: record.catalog,
                        objects: record.object_count,
                        label: record.meta.label,
                    })
                    .collect(),
            ),
        };
        ctx.print(&report, self.format)?;
        Ok(exit::OK)
    }
}
