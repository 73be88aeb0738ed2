//! `driftgate graph SNAP [TABLE]`: the trigger fan-out of one table and event (tree, DOT,
//! Mermaid or JSON), or without TABLE every table ranked by fan-out.

use super::common::{load_snapshot_kinds, ConnectArgs};
use super::Context;
use crate::exit;
use crate::graph::{self, WalkOptions};
use crate::render::{self, graph as draw};
use anyhow::Context as _;
use clap::{Args, ValueEnum};
use std::io::Write;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Numbered firing order with the indented fan-out, for people.
    Tree,
    /// Graphviz DOT (`dot -Tsvg`).
    Dot,
    /// A Mermaid flowchart, renders in GitHub Markdown.
    Mermaid,
    Json,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Event {
    Insert,
    Update,
    Delete,
    Truncate,
}

impl Event {
    fn of_graph(self) -> graph::firing::Event {
        match self {
            Event::Insert => graph::firing::Event::Insert,
            Event::Update => graph::firing::Event::Update,
            Event::Delete => graph::firing::Event::Delete,
            Event::Truncate => graph::firing::Event::Truncate,
        }
    }
}

#[derive(Args, Debug)]
pub struct GraphCmd {
    /// A ref, snapshot id or prefix, snapshot file, or `live`.
    pub snap: String,
    /// The table (or view) whose fan-out to show: `dot_tools`, `gov.dot_tools`. Without
    /// it: every table ranked by fan-out over all events.
    pub table: Option<String>,
    /// The event on TABLE whose fan-out to walk (without TABLE every event is counted).
    #[arg(long, value_enum, default_value_t = Event::Insert)]
    pub event: Event,
    /// With `--event update`: the columns the UPDATE sets, so `UPDATE OF` triggers fire
    /// only when one of theirs is among them (default: any column may be set).
    #[arg(long, value_delimiter = ',', value_name = "COL,…")]
    pub columns: Vec<String>,
    #[arg(long, value_enum, default_value_t = GraphFormat::Tree)]
    pub format: GraphFormat,
    /// Expand at most N levels of tables (1: only TABLE's own triggers and what they do).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub depth: Option<u32>,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl GraphCmd {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<u8> {
        if !self.columns.is_empty() && self.event != Event::Update {
            anyhow::bail!("--columns only applies to --event update");
        }
        let loaded = load_snapshot_kinds(
            &self.snap,
            &ctx.store,
            &self.connect,
            self.connect.capture_options(),
            Some(&graph::KINDS_USED),
        )
        .await?;
        let snap = &loaded.snapshot;
        let opts = WalkOptions {
            depth: self.depth.map(|d| d as usize),
            database_graph: self.format != GraphFormat::Tree,
        };
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        match &self.table {
            Some(table) => {
                let table = graph::resolve_table(snap, table)?;
                let columns = (!self.columns.is_empty()).then(|| self.columns.clone());
                let f = graph::table_fanout(snap, &table, self.event.of_graph(), columns, &opts)
                    .with_context(|| format!("walking the fan-out of {table}"))?;
                let root = format!("table:{table}");
                let title = format!("{} on {table}", self.event.of_graph().label());
                match self.format {
                    GraphFormat::Tree => draw::write_tree(&mut out, &f)?,
                    GraphFormat::Dot => draw::write_dot(&mut out, &f.graph, &title, Some(&root))?,
                    GraphFormat::Mermaid => draw::write_mermaid(&mut out, &f.graph, Some(&root))?,
                    GraphFormat::Json => {
                        render::write_json_doc(&mut out, "driftgate.graph/v1", &f)?
                    }
                }
                if !f.unanalysable.is_empty() && self.format != GraphFormat::Tree {
                    ctx.note(format!(
                        "note: {} routine(s) in this fan-out could not be fully analysed; their edges may be missing",
                        f.unanalysable.len()
                    ));
                }
            }
            None => {
                let db = graph::database_fanout(snap, &opts);
                match self.format {
                    GraphFormat::Tree => draw::write_ranking(&mut out, &db)?,
                    GraphFormat::Dot => draw::write_dot(
                        &mut out,
                        &db.graph,
                        "trigger fan-out of the database",
                        None,
                    )?,
                    GraphFormat::Mermaid => draw::write_mermaid(&mut out, &db.graph, None)?,
                    GraphFormat::Json => {
                        render::write_json_doc(&mut out, "driftgate.graph-database/v1", &db)?
                    }
                }
            }
        }
        out.flush()?;
        Ok(exit::OK)
    }
}
