//! `driftgate show SNAP`: list a snapshot's objects (and row counts).

use super::common::{load_snapshot, ConnectArgs};
use super::Context;
use crate::exit;
use crate::model::canonical::hash_of;
use crate::model::ObjectKind;
use crate::render::{self, table};
use clap::{Args, ValueEnum};
use std::io::Write;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    Table,
    Json,
}

#[derive(Args, Debug)]
pub struct ShowCmd {
    /// A ref, snapshot id or prefix, snapshot file, or `live`.
    pub snap: String,
    /// Only objects of this kind (repeatable): table, trigger, function, …, or `count`.
    #[arg(long)]
    pub kind: Vec<String>,
    #[arg(long, value_enum, default_value_t = ShowFormat::Table)]
    pub format: ShowFormat,
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

        let mut out = std::io::stdout().lock();
        match self.format {
            ShowFormat::Json => render::write_json(&mut out, &entries)?,
            ShowFormat::Table => {
                let rows = entries
                    .iter()
                    .map(|e| {
                        let s = |f: &str| e[f].as_str().unwrap_or_default().to_string();
                        let detail = if s("kind") == "count" {
                            match (e["exact"].as_i64(), e["exact_error"].as_str()) {
                                (Some(n), _) => format!("exact {n}, estimate {}", e["estimate"]),
                                (None, Some(err)) => {
                                    format!("estimate {}, exact: {err}", e["estimate"])
                                }
                                _ => format!("estimate {}", e["estimate"]),
                            }
                        } else {
                            String::new()
                        };
                        let mut row = vec![
                            s("kind"),
                            table::cell(&s("key")),
                            s("hash")[..12].to_string(),
                        ];
                        if want_counts {
                            row.push(detail);
                        }
                        row
                    })
                    .collect();
                let header: &[&str] = if want_counts {
                    &["KIND", "KEY", "HASH", "COUNTS"]
                } else {
                    &["KIND", "KEY", "HASH"]
                };
                writeln!(out, "{}", table::render(header, rows))?;
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
        }
        Ok(exit::OK)
    }
}
