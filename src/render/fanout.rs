//! `driftgate graph` as one typed report: one table's fan-out, the whole database's
//! ranking, or a graph diff, each in the tree, DOT, Mermaid and JSON renderers of
//! [`super::graph`] and [`super::gdiff`]. This file only dispatches.

use super::format::{Format, Report, Style};
use super::{gdiff, graph, write_json_doc};
use crate::graph::database::DatabaseFanout;
use crate::graph::fanout::Fanout;
use crate::graph::gdiff::GraphDiff;
use std::io::{self, Write};

/// What `driftgate graph` answers.
pub enum GraphReport<'a> {
    /// `graph SNAP TABLE`: the fan-out of one table and event.
    Table {
        fanout: &'a Fanout,
        /// `INSERT on public.dot_tools`, the DOT graph's label.
        title: String,
        /// The root node's id (`table:public.dot_tools`).
        root: String,
    },
    /// `graph SNAP`: every table ranked by fan-out.
    Database(&'a DatabaseFanout),
    /// `graph A B TABLE`: how TABLE's fan-out changed.
    Diff {
        sides: &'a gdiff::Sides,
        diff: &'a GraphDiff,
    },
}

impl Report for GraphReport<'_> {
    const COMMAND: &'static str = "graph";
    const FORMATS: &'static [Format] = &[
        Format::Tree,
        Format::Dot,
        Format::Mermaid,
        Format::Markdown,
        Format::Json,
        Format::Html,
    ];

    fn write_as<W: Write>(&self, format: Format, style: Style, out: &mut W) -> io::Result<()> {
        const DATABASE: &str = "trigger fan-out of the database";
        match (self, format) {
            (_, Format::Html) => super::html::graph::write_graph_page(out, self, style.layouter()),
            (GraphReport::Table { fanout, .. }, Format::Tree) => graph::write_tree(out, fanout),
            (
                GraphReport::Table {
                    fanout,
                    title,
                    root,
                },
                Format::Dot,
            ) => graph::write_dot(out, &fanout.graph, title, Some(root), &fanout.hazards),
            (
                GraphReport::Table {
                    fanout,
                    title,
                    root,
                },
                Format::Mermaid,
            ) => graph::write_mermaid(out, &fanout.graph, title, Some(root), &fanout.hazards),
            (
                GraphReport::Table {
                    fanout,
                    title,
                    root,
                },
                Format::Markdown,
            ) => graph::write_fenced(out, title, |w| {
                graph::write_mermaid(w, &fanout.graph, title, Some(root), &fanout.hazards)
            }),
            (GraphReport::Table { fanout, .. }, _) => {
                write_json_doc(out, "driftgate.graph/v1", fanout)
            }
            (GraphReport::Database(db), Format::Tree) => graph::write_ranking(out, db),
            (GraphReport::Database(db), Format::Dot) => {
                graph::write_dot(out, &db.graph, DATABASE, None, &db.hazards)
            }
            (GraphReport::Database(db), Format::Mermaid) => {
                graph::write_mermaid(out, &db.graph, DATABASE, None, &db.hazards)
            }
            (GraphReport::Database(db), Format::Markdown) => {
                graph::write_fenced(out, DATABASE, |w| {
                    graph::write_mermaid(w, &db.graph, DATABASE, None, &db.hazards)
                })
            }
            (GraphReport::Database(db), _) => {
                write_json_doc(out, "driftgate.graph-database/v1", db)
            }
            (GraphReport::Diff { sides, diff }, Format::Tree) => {
                gdiff::write_text(out, sides, diff)
            }
            (GraphReport::Diff { sides, diff }, Format::Dot) => gdiff::write_dot(out, sides, diff),
            (GraphReport::Diff { diff, .. }, Format::Mermaid) => gdiff::write_mermaid(out, diff),
            (GraphReport::Diff { sides, diff }, Format::Markdown) => {
                let title = gdiff::title(sides, diff);
                graph::write_fenced(out, &title, |w| gdiff::write_mermaid(w, diff))
            }
            (GraphReport::Diff { sides, diff }, _) => gdiff::write_json(out, sides, diff),
        }
    }
}
