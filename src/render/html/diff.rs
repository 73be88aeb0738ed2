//! `driftgate diff A B --format html`: the changes table, coloured line diffs of changed
//! definitions, firing-order changes, row counts, and the fan-out picture (of the head) of
//! every table whose triggers changed. The gate and check pages reuse its sections.

use super::graph::fanout_body;
use super::layout::Layouter;
use super::page::write_page;
use super::Html;
use crate::diff::Diff;
use crate::graph::fanout::{Fanout, WalkOptions};
use crate::model::{CatalogSnapshot, Event, ObjectDef, ObjectKind};
use crate::render::diff::DiffDocument;
use crate::render::format::{Format, Report, Style};
use std::collections::BTreeSet;
use std::io::{self, Write};

/// More pictures than this on one page are left out, with a note (each is a walk).
pub const MAX_GRAPHS: usize = 24;

/// One table's fan-out for one event, drawn on a page.
pub struct TableFanout {
    /// `INSERT on public.dot_tools`.
    pub title: String,
    /// `table:public.dot_tools`.
    pub root: String,
    pub fanout: Fanout,
}

/// The pictures of a diff's page: the head's fan-out of every (table, event) whose
/// triggers changed (a trigger added, removed or changed there, or the firing order moved),
/// and notes on those that could not be drawn.
#[derive(Default)]
pub struct ChangedFanouts {
    pub graphs: Vec<TableFanout>,
    pub notes: Vec<String>,
}

impl ChangedFanouts {
    pub fn of(base: &CatalogSnapshot, head: &CatalogSnapshot, diff: &Diff) -> ChangedFanouts {
        let mut wanted: BTreeSet<(String, Event)> = BTreeSet::new();
        for c in diff
            .changes
            .iter()
            .filter(|c| c.kind == ObjectKind::Trigger)
        {
            for side in [base, head] {
                if let Some(ObjectDef::Trigger(t)) = side.objects.get(&c.key).map(|o| &o.def) {
                    for e in &t.events {
                        wanted.insert((t.table.clone(), *e));
                    }
                }
            }
        }
        for f in &diff.firing_order {
            wanted.insert((f.table.clone(), f.event));
        }
        let mut out = ChangedFanouts::default();
        let total = wanted.len();
        for (table, event) in wanted.into_iter().take(MAX_GRAPHS) {
            let opts = WalkOptions {
                depth: None,
                database_graph: true,
            };
            match crate::graph::table_fanout(head, &table, event, None, &opts) {
                Ok(fanout) => out.graphs.push(TableFanout {
                    title: format!("{} on {table}", event.label()),
                    root: format!("table:{table}"),
                    fanout,
                }),
                Err(e) => out
                    .notes
                    .push(format!("{} on {table}: not drawn ({e})", event.label())),
            }
        }
        if total > MAX_GRAPHS {
            out.notes.push(format!(
                "{} more fan-outs whose triggers changed are not drawn (at most {MAX_GRAPHS} per page)",
                total - MAX_GRAPHS
            ));
        }
        out
    }
}

/// `diff` as one report for every format: the document, and for HTML the pictures.
pub struct DiffPage<'a> {
    pub doc: DiffDocument<'a>,
    pub fanouts: ChangedFanouts,
}

impl Report for DiffPage<'_> {
    const COMMAND: &'static str = "diff";
    const FORMATS: &'static [Format] =
        &[Format::Table, Format::Json, Format::Markdown, Format::Html];

    fn write_as<W: Write>(&self, format: Format, style: Style, out: &mut W) -> io::Result<()> {
        match format {
            Format::Html => {
                let mut h = Html::new();
                changes_section(&mut h, &self.doc);
                fanouts_section(&mut h, &self.fanouts, style.layouter());
                let title = format!(
                    "driftgate diff: {}",
                    if self.doc.drift { "drift" } else { "no drift" }
                );
                write_page(out, &title, &sides(&self.doc), h)
            }
            _ => self.doc.write_as(format, style, out),
        }
    }
}

/// `base … · head …`.
pub fn sides(doc: &DiffDocument) -> String {
    format!(
        "base: {} · head: {}",
        doc.base.describe(),
        doc.head.describe()
    )
}

/// What changed: capture format, readability, the changes table, each changed
/// definition's line diff, firing-order changes, row counts and the summary.
pub fn changes_section(h: &mut Html, doc: &DiffDocument) {
    if let Some(c) = &doc.capture_format {
        h.el(
            "p",
            &[("class", "capture-format")],
            &format!("capture format changed: {}", c.explain()),
        );
    }
    if !doc.readability.is_empty() {
        h.open("ul", &[("class", "readability")]);
        for r in doc.readability {
            h.el("li", &[], &format!("readability differs: {}", r.explain()));
        }
        h.close("ul");
    }
    h.el("h2", &[], "Changes");
    if doc.changes.is_empty() {
        h.el("p", &[("class", "note")], "No catalog changes.");
    } else {
        let rows: Vec<_> = doc
            .changes
            .iter()
            .map(|c| {
                let change = c.change.to_string();
                (
                    change_class(&change),
                    vec![
                        change,
                        c.key.as_str().to_string(),
                        c.field_paths().join(", "),
                    ],
                )
            })
            .collect();
        h.table("changes", &["change", "key", "fields"], &rows);
        let defs: Vec<_> = doc
            .changes
            .iter()
            .flat_map(|c| c.definitions.iter().map(move |d| (c, d)))
            .collect();
        if !defs.is_empty() {
            h.el("h2", &[], "Changed definitions");
            for (c, d) in defs {
                h.el(
                    "h3",
                    &[("class", "name")],
                    &format!("{} ({})", c.key.as_str(), d.field),
                );
                h.unified(&d.unified);
            }
        }
    }
    if !doc.firing_order.is_empty() {
        h.el("h2", &[], "Firing order changes");
        for f in doc.firing_order {
            let mut line = format!("{} on {}", f.event.label(), f.table);
            if !f.moved.is_empty() {
                line.push_str(&format!(" (moved: {})", f.moved.join(", ")));
            }
            h.el("h3", &[("class", "name")], &line);
            let n = f.before.len().max(f.after.len());
            let rows: Vec<_> = (0..n)
                .map(|i| {
                    let (b, a) = (f.before.get(i), f.after.get(i));
                    (
                        (b != a).then_some("changed"),
                        vec![
                            (i + 1).to_string(),
                            b.cloned().unwrap_or_default(),
                            a.cloned().unwrap_or_default(),
                        ],
                    )
                })
                .collect();
            h.table("firing-change", &["#", "before", "after"], &rows);
        }
    }
    if !doc.counts.is_empty() {
        h.el("h2", &[], "Row counts");
        let delta = |d: &Option<crate::diff::CountDelta>| match d {
            Some(d) => format!("{} → {} ({:+})", d.old, d.new, d.delta),
            None => "-".into(),
        };
        let rows: Vec<_> = doc
            .counts
            .iter()
            .map(|c| {
                (
                    c.drift.then_some("changed"),
                    vec![
                        c.change.table.clone(),
                        delta(&c.change.exact),
                        delta(&c.change.estimate),
                        if c.drift { "yes" } else { "no" }.to_string(),
                        c.change.note.clone().unwrap_or_default(),
                    ],
                )
            })
            .collect();
        h.table(
            "counts",
            &["table", "exact", "estimate", "drift", "note"],
            &rows,
        );
    }
    let s = &doc.summary;
    h.el(
        "p",
        &[("class", "summary")],
        &format!(
            "{} added, {} removed, {} changed, {} whitespace-only; exact counts moved on {} table(s)",
            s.added, s.removed, s.changed, s.whitespace_only, s.count_drift
        ),
    );
}

fn change_class(change: &str) -> Option<&'static str> {
    match change {
        "added" => Some("added"),
        "removed" => Some("removed"),
        "changed" => Some("changed"),
        _ => None,
    }
}

/// The fan-out of each table whose triggers changed, as the head has it.
pub fn fanouts_section(h: &mut Html, f: &ChangedFanouts, layouter: &dyn Layouter) {
    if f.graphs.is_empty() && f.notes.is_empty() {
        return;
    }
    h.el("h2", &[], "Fan-out of tables whose triggers changed (head)");
    for (i, g) in f.graphs.iter().enumerate() {
        h.open("section", &[("class", "table-fanout")]);
        h.el("h3", &[("class", "name")], &g.title);
        let mut inner = Html::new();
        fanout_body(&mut inner, &g.fanout, &g.title, &g.root, layouter, i, false);
        h.append(inner);
        h.close("section");
    }
    for n in &f.notes {
        h.el("p", &[("class", "note")], n);
    }
}
