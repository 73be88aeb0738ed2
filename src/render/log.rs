//! `driftgate log`: every snapshot in the store, or the positions one ref held, as a table
//! for people or a JSON array for programs.

use super::format::{Format, Report, Style};
use super::table::{self, cell};
use super::write_json;
use crate::model::snapshot::SourceInfo;
use crate::model::ContentHash;
use serde::Serialize;
use std::io::{self, Write};

/// What `driftgate log` answers, newest first.
pub enum LogReport {
    /// `log`: every snapshot.
    Snapshots(Vec<SnapshotEntry>),
    /// `log REF`: the positions of one ref.
    Ref(Vec<RefPosition>),
}

#[derive(Serialize)]
pub struct SnapshotEntry {
    pub snapshot: ContentHash,
    pub created_at: String,
    pub source: SourceInfo,
    pub server_version: String,
    pub catalog: ContentHash,
    pub objects: usize,
    pub label: Option<String>,
    /// The refs that point at it now.
    pub refs: Vec<String>,
}

#[derive(Serialize)]
pub struct RefPosition {
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub time: String,
    pub snapshot: ContentHash,
    pub previous: Option<ContentHash>,
    pub catalog: ContentHash,
    pub message: String,
}

impl Report for LogReport {
    const COMMAND: &'static str = "log";
    const FORMATS: &'static [Format] = &[Format::Table, Format::Json];

    fn write_as<W: Write>(&self, format: Format, _: Style, out: &mut W) -> io::Result<()> {
        if format == Format::Json {
            // Through a JSON value: the keys are sorted at every level, as `log` has always
            // written them.
            let value = match self {
                LogReport::Snapshots(entries) => serde_json::to_value(entries),
                LogReport::Ref(positions) => serde_json::to_value(positions),
            }
            .map_err(io::Error::from)?;
            return write_json(out, &value);
        }
        match self {
            LogReport::Ref(positions) => {
                let rows = positions
                    .iter()
                    .map(|p| {
                        vec![
                            p.time.clone(),
                            p.snapshot.short(),
                            p.catalog.short(),
                            cell(&p.message),
                        ]
                    })
                    .collect();
                writeln!(
                    out,
                    "{}",
                    table::render(&["TIME", "SNAPSHOT", "CATALOG", "MESSAGE"], rows)
                )
            }
            LogReport::Snapshots(entries) => {
                let rows = entries
                    .iter()
                    .map(|e| {
                        vec![
                            e.created_at.clone(),
                            e.snapshot.short(),
                            e.catalog.short(),
                            e.objects.to_string(),
                            cell(&e.source.describe()),
                            cell(&e.refs.join(", ")),
                            cell(e.label.as_deref().unwrap_or("")),
                        ]
                    })
                    .collect();
                let header = [
                    "CREATED", "SNAPSHOT", "CATALOG", "OBJECTS", "SOURCE", "REFS", "LABEL",
                ];
                writeln!(out, "{}", table::render(&header, rows))
            }
        }
    }
}
