//! `driftgate log [REF]`: every snapshot in the store, or the history of one ref.

use super::Context;
use crate::exit;
use crate::render::{self, table};
use clap::{Args, ValueEnum};
use std::collections::BTreeMap;
use std::io::Write;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Table,
    Json,
}

#[derive(Args, Debug)]
pub struct LogCmd {
    /// Show the positions this ref held, newest first.
    pub reference: Option<String>,
    #[arg(long, value_enum, default_value_t = LogFormat::Table)]
    pub format: LogFormat,
}

impl LogCmd {
    pub fn run(self, ctx: &Context) -> anyhow::Result<u8> {
        let store = ctx.store.open()?;
        let mut refs_at: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, id) in store.list_refs()? {
            refs_at.entry(id.to_hex()).or_default().push(name);
        }
        let mut out = std::io::stdout().lock();
        let mut json = Vec::new();
        let mut rows = Vec::new();
        match &self.reference {
            Some(name) => {
                let history = store.reflog(name)?;
                if history.is_empty() && store.read_ref(name)?.is_none() {
                    anyhow::bail!("no ref named {name:?}");
                }
                for entry in history.iter().rev() {
                    let record = store.read_record(&entry.new)?;
                    json.push(serde_json::json!({
                        "ref": name, "time": entry.time, "snapshot": entry.new,
                        "previous": entry.old, "catalog": record.catalog,
                        "message": entry.message,
                    }));
                    rows.push(vec![
                        entry.time.clone(),
                        entry.new.short(),
                        record.catalog.short(),
                        table::cell(&entry.message),
                    ]);
                }
                match self.format {
                    LogFormat::Json => render::write_json(&mut out, &json)?,
                    LogFormat::Table => writeln!(
                        out,
                        "{}",
                        table::render(&["TIME", "SNAPSHOT", "CATALOG", "MESSAGE"], rows)
                    )?,
                }
            }
            None => {
                for (id, record) in store.list_snapshots()?.iter().rev() {
                    let refs = refs_at.get(&id.to_hex()).cloned().unwrap_or_default();
                    json.push(serde_json::json!({
                        "snapshot": id, "created_at": record.meta.created_at,
                        "source": record.meta.source, "server_version": record.meta.server_version,
                        "catalog": record.catalog, "objects": record.object_count,
                        "label": record.meta.label, "refs": refs,
                    }));
                    rows.push(vec![
                        record.meta.created_at.clone(),
                        id.short(),
                        record.catalog.short(),
                        record.object_count.to_string(),
                        table::cell(&record.meta.source.describe()),
                        table::cell(&refs.join(", ")),
                        table::cell(record.meta.label.as_deref().unwrap_or("")),
                    ]);
                }
                match self.format {
                    LogFormat::Json => render::write_json(&mut out, &json)?,
                    LogFormat::Table => writeln!(
                        out,
                        "{}",
                        table::render(
                            &[
                                "CREATED", "SNAPSHOT", "CATALOG", "OBJECTS", "SOURCE", "REFS",
                                "LABEL"
                            ],
                            rows
                        )
                    )?,
                }
            }
        }
        let _ = ctx;
        Ok(exit::OK)
    }
}
