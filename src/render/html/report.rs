//! `driftgate report REF --format html`: a target's history as a page: a timeline table
//! (time, snapshot, verdict, what changed against the position before), then for each
//! position that changed the catalog its changes and coloured line diffs.

use super::diff::changes_section;
use super::layout::Layouter;
use super::page::write_page;
use super::Html;
use crate::render::diff::{DiffDocument, SideInfo};
use crate::render::history::{entry_summary, HistoryReport};
use std::io::{self, Write};

pub fn write_report_page<W: Write>(
    out: &mut W,
    r: &HistoryReport,
    _layouter: &dyn Layouter,
) -> io::Result<()> {
    let mut h = Html::new();
    h.el("h2", &[], "Timeline");
    let rows: Vec<_> = r
        .entries
        .iter()
        .rev()
        .map(|e| {
            let class = match e.verdict.as_deref() {
                Some("PASS") => Some("pass"),
                Some("WARN") => Some("warn"),
                Some("BLOCK") => Some("block"),
                _ => None,
            };
            (
                class,
                vec![
                    e.verdict.clone().unwrap_or_default(),
                    e.time.clone(),
                    e.snapshot.short(),
                    entry_summary(e),
                    e.message.clone(),
                ],
            )
        })
        .collect();
    if rows.is_empty() {
        h.el("p", &[("class", "note")], "The ref log is empty.");
    } else {
        h.table(
            "timeline",
            &[
                "verdict",
                "time",
                "snapshot",
                "against the position before",
                "message",
            ],
            &rows,
        );
    }
    for e in r.entries.iter().rev() {
        let (Some(d), Some(prev)) = (&e.diff, e.previous) else {
            continue;
        };
        if !d.has_drift() {
            continue;
        }
        let side = |id: crate::model::ContentHash| SideInfo {
            spec: id.short(),
            id: Some(id.to_hex()),
            catalog: String::new(),
            source: String::new(),
            created_at: String::new(),
            server_version: String::new(),
        };
        let (base, head) = (side(prev), side(e.snapshot));
        h.open("section", &[("class", "position")]);
        h.el(
            "h2",
            &[("class", "name")],
            &format!("{} — {} → {}", e.time, prev.short(), e.snapshot.short()),
        );
        changes_section(&mut h, &DiffDocument::new(&base, &head, d));
        h.close("section");
    }
    write_page(
        out,
        &format!("driftgate report: {}", r.ref_name),
        "the ref's history: when the catalog changed and what",
        h,
    )
}
