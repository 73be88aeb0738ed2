//! `driftgate report REF`: a target's history from its ref log, when the catalog changed
//! and what, as text lines, JSON (`driftgate.report/v1`) or an HTML page
//! ([`super::html::report`]).

use super::format::{Format, Report, Style};
use super::table::cell;
use super::write_json_doc;
use crate::diff::history::HistoryEntry;
use serde::Serialize;
use std::io::{self, Write};

pub const REPORT_FORMAT: &str = "driftgate.report/v1";

/// The history of one ref, oldest first.
pub struct HistoryReport {
    pub ref_name: String,
    pub entries: Vec<HistoryEntry>,
}

#[derive(Serialize)]
struct JsonEntry<'a> {
    time: &'a str,
    snapshot: String,
    previous: Option<String>,
    message: &'a str,
    verdict: Option<&'a str>,
    created_at: Option<&'a str>,
    source: Option<&'a str>,
    /// Against the previous position (null for the first).
    summary: Option<crate::diff::DiffSummary>,
    changes: Vec<JsonChange>,
    error: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonChange {
    change: String,
    key: String,
    fields: Vec<String>,
}

/// `3 changed, 1 added …` of an entry, or why there is none.
pub fn entry_summary(e: &HistoryEntry) -> String {
    match (&e.error, &e.diff) {
        (Some(why), _) => format!("not compared: {why}"),
        (None, None) if e.previous.is_none() => "first position".into(),
        (None, None) => "same snapshot as before".into(),
        (None, Some(d)) => {
            let s = d.summary();
            if !d.has_drift() {
                "no catalog change".into()
            } else {
                format!(
                    "{} added, {} removed, {} changed, {} whitespace-only",
                    s.added, s.removed, s.changed, s.whitespace_only
                )
            }
        }
    }
}

impl Report for HistoryReport {
    const COMMAND: &'static str = "report";
    const FORMATS: &'static [Format] = &[Format::Text, Format::Json, Format::Html];

    fn write_as<W: Write>(&self, format: Format, style: Style, out: &mut W) -> io::Result<()> {
        match format {
            Format::Html => super::html::report::write_report_page(out, self, style.layouter()),
            Format::Json => {
                let entries: Vec<JsonEntry> = self
                    .entries
                    .iter()
                    .map(|e| JsonEntry {
                        time: &e.time,
                        snapshot: e.snapshot.to_hex(),
                        previous: e.previous.map(|p| p.to_hex()),
                        message: &e.message,
                        verdict: e.verdict.as_deref(),
                        created_at: e.created_at.as_deref(),
                        source: e.source.as_deref(),
                        summary: e.diff.as_ref().map(|d| d.summary()),
                        changes: e
                            .diff
                            .iter()
                            .flat_map(|d| &d.changes)
                            .map(|c| JsonChange {
                                change: c.change.to_string(),
                                key: c.key.as_str().to_string(),
                                fields: c.field_paths(),
                            })
                            .collect(),
                        error: e.error.as_deref(),
                    })
                    .collect();
                #[derive(Serialize)]
                struct Doc<'a> {
                    #[serde(rename = "ref")]
                    ref_name: &'a str,
                    entries: Vec<JsonEntry<'a>>,
                }
                write_json_doc(
                    out,
                    REPORT_FORMAT,
                    &Doc {
                        ref_name: &self.ref_name,
                        entries,
                    },
                )
            }
            _ => {
                writeln!(out, "history of {}", cell(&self.ref_name))?;
                for e in &self.entries {
                    let verdict = e
                        .verdict
                        .as_deref()
                        .map(|v| format!(" {v}"))
                        .unwrap_or_default();
                    writeln!(
                        out,
                        "{}  {}{verdict}  {}",
                        e.time,
                        e.snapshot.short(),
                        cell(&entry_summary(e))
                    )?;
                    for c in e.diff.iter().flat_map(|d| &d.changes) {
                        writeln!(out, "    {} {}", c.change, cell(c.key.as_str()))?;
                    }
                }
                Ok(())
            }
        }
    }
}
