//! `driftgate graph … --format html`: one table's fan-out (hazards, the firing order, the
//! picture, the tree), the whole database's ranking and picture, or a graph diff; and the
//! fan-out section the diff, gate and check pages reuse for tables whose triggers changed.

use super::layout::Layouter;
use super::page::write_page;
use super::svg::fanout_svg;
use super::Html;
use crate::graph::fanout::{Fanout, Hazard};
use crate::render::fanout::GraphReport;
use crate::render::{gdiff, graph};
use std::io::{self, Write};

/// The page of a `graph` report.
pub fn write_graph_page<W: Write>(
    out: &mut W,
    report: &GraphReport,
    layouter: &dyn Layouter,
) -> io::Result<()> {
    let mut h = Html::new();
    match report {
        GraphReport::Table {
            fanout,
            title,
            root,
        } => {
            fanout_body(&mut h, fanout, title, root, layouter, 0, true);
            write_page(
                out,
                &format!("Trigger fan-out: {title}"),
                "driftgate graph",
                h,
            )
        }
        GraphReport::Database(db) => {
            const TITLE: &str = "Trigger fan-out of the database";
            hazard_list(&mut h, &db.hazards);
            h.el("h2", &[], "Tables ranked by fan-out");
            h.el(
                "pre",
                &[("class", "ranking")],
                &text_of(|w| graph::write_ranking(w, db))?,
            );
            h.el("h2", &[], "Graph");
            h.append(fanout_svg(&db.graph, None, &db.hazards, layouter, 0, TITLE));
            write_page(out, TITLE, "driftgate graph", h)
        }
        GraphReport::Diff { sides, diff } => {
            let title = gdiff::title(sides, diff);
            h.el(
                "pre",
                &[("class", "gdiff")],
                &text_of(|w| gdiff::write_text(w, sides, diff))?,
            );
            write_page(out, &title, "driftgate graph", h)
        }
    }
}

/// A fan-out: its hazards called out, the firing order, the picture, and (when `tree`)
/// the indented tree as the terminal shows it. `figure` numbers the picture on its page.
pub fn fanout_body(
    h: &mut Html,
    f: &Fanout,
    title: &str,
    root: &str,
    layouter: &dyn Layouter,
    figure: usize,
    tree: bool,
) {
    hazard_list(h, &f.hazards);
    h.el("h2", &[], "Firing order");
    let rows: Vec<_> = f
        .firing_order
        .iter()
        .map(|s| {
            let e = &s.entry;
            let mut notes = Vec::new();
            if e.events.len() > 1 || !e.update_columns.is_empty() {
                notes.push(format!("on {}", e.events_clause()));
            }
            if let Some(w) = &e.when {
                notes.push(format!("WHEN {w}"));
            }
            if !e.arguments.is_empty() {
                notes.push(format!("args ({})", e.arguments.join(", ")));
            }
            if e.constraint_trigger {
                notes.push("constraint trigger".into());
            }
            if let Some(why) = &s.skipped {
                notes.push(format!("does not fire: {why}"));
            }
            (
                s.skipped.as_ref().map(|_| "skipped"),
                vec![
                    e.order.to_string(),
                    e.phase.label().to_string(),
                    e.trigger.clone(),
                    e.function.clone(),
                    notes.join("; "),
                ],
            )
        })
        .collect();
    if rows.is_empty() {
        h.el("p", &[("class", "note")], "No triggers fire.");
    } else {
        h.table(
            "firing",
            &["#", "when", "trigger", "function", "notes"],
            &rows,
        );
    }
    h.el("h2", &[], "Graph");
    h.append(fanout_svg(
        &f.graph,
        Some(root),
        &f.hazards,
        layouter,
        figure,
        title,
    ));
    if !f.cycles.is_empty() {
        h.el("h2", &[], "Cycles");
        h.open("ul", &[("class", "cycles")]);
        for c in &f.cycles {
            h.el(
                "li",
                &[],
                &format!("{} cycle: {}", c.kind, c.path.join(" → ")),
            );
        }
        h.close("ul");
    }
    if !f.unanalysable.is_empty() {
        h.el("h2", &[], "Opaque routines");
        h.open("ul", &[("class", "opaque")]);
        for u in &f.unanalysable {
            h.el("li", &[], &format!("{}: {}", u.function, u.problem));
        }
        h.close("ul");
    }
    if tree {
        if let Ok(t) = text_of(|w| graph::write_tree(w, f)) {
            h.el("h2", &[], "Tree");
            h.el("pre", &[("class", "tree")], &t);
        }
    }
}

/// The hazards, each a `li.hazard`, or a line saying there are none.
pub fn hazard_list(h: &mut Html, hazards: &[Hazard]) {
    h.el("h2", &[], "Hazards");
    if hazards.is_empty() {
        h.el("p", &[("class", "note")], "No hazards found.");
        return;
    }
    h.open("ul", &[("class", "hazards")]);
    for hz in hazards {
        h.el("li", &[("class", "hazard")], &hz.describe());
    }
    h.close("ul");
}

/// What a text renderer writes, as a string.
pub(crate) fn text_of(f: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> io::Result<String> {
    let mut buf = Vec::new();
    f(&mut buf)?;
    String::from_utf8(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}
