//! `driftgate show SNAP`: list a snapshot's objects (and row counts).

use super::common::{load_snapshot, ConnectArgs};
use super::format::FormatArg;
use super::Context;
use crate::exit;
use crate::model::canonical::hash_of;
use crate::model::ObjectKind;
use crate::render::show::ShowReport;
use crate::render::Format;
use clap::Args;

#[derive(Args, Debug)]
pub struct ShowCmd {
    /// A ref, snapshot id or prefix, snapshot file, or `live`.
    pub snap: String,
    /// Only objects of this kind (repeatable): table, trigger, function, …, or `count`.
    #[arg(long)]
    pub kind: Vec<String>,
    #[arg(long, value_parser = FormatArg::of::<ShowReport>(), default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl ShowCmd {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<u8> {
        let mut kinds = Vec::new();
        let mut want_counts = self.kind.is_empty();
        for k in &self.kind {
            if k == "count" {
                want_counts = true;
            } else {
                kinds.push(k.parse::<ObjectKind>().map_err(anyhow::Error::msg)?);
            }
        }
        let want_objects = self.kind.is_empty() || !kinds.is_empty();
        let loaded = load_snapshot(
            &self.snap,
            &ctx.store,
            &self.connect,
            self.connect.capture_options(),
        )
        .await?;
        let snap = &loaded.snapshot;
        let tree = snap.tree();

        let mut entries: Vec<serde_json::Value> = Vec::new();
        if want_objects {
            for obj in snap.objects.values() {
                if !kinds.is_empty() && !kinds.contains(&obj.kind()) {
                    continue;
                }
                let mut v = serde_json::to_value(obj)?;
                v["hash"] = serde_json::Value::String(tree.object_hashes[&obj.key].to_hex());
                entries.push(v);
            }
        }
        if want_counts {
            for (table, count) in &snap.counts {
                let mut v = serde_json::to_value(count)?;
                v["kind"] = "count".into();
                v["key"] = format!("count:{table}").into();
                v["table"] = table.clone().into();
                v["hash"] = hash_of(count).to_hex().into();
                entries.push(v);
            }
        }

        let report = ShowReport {
            entries,
            counts: want_counts,
        };
        ctx.print(&report, self.format)?;
        if self.format == Format::Table {
            ctx.note(format!(
                "{} objects, catalog {}{}",
                snap.objects.len(),
                tree.root_hash().short(),
                loaded
                    .id
                    .map(|id| format!(", snapshot {}", id.short()))
                    .unwrap_or_default()
            ));
        }
        Ok(exit::OK)
    }
}
