//! `driftgate graph SNAP [TABLE]`: the trigger fan-out of one table and event (tree, DOT,
//! Mermaid or JSON), or without TABLE every table ranked by fan-out; `graph A B TABLE`
//! compares TABLE's fan-out on two snapshots (exit 0 no difference, 1 differences).

use super::common::{load_snapshot_kinds, ConnectArgs};
use super::format::FormatArg;
use super::pair::{load_sides, SideError};
use super::Context;
use crate::exit;
use crate::graph::{self, gdiff, WalkOptions};
use crate::model::Event;
use crate::render::fanout::GraphReport;
use crate::render::{gdiff as gdraw, Format};
use anyhow::Context as _;
use clap::{Args, ValueEnum};

/// `--event`: the trigger events themselves, listed in the order `TriggerDef::events` keeps.
impl ValueEnum for Event {
    fn value_variants<'a>() -> &'a [Self] {
        &Event::ALL
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

#[derive(Args, Debug)]
pub struct GraphCmd {
    /// A ref, snapshot id or prefix, snapshot file, or `live` (with three arguments: the
    /// base of a graph diff).
    pub snap: String,
    /// The table (or view) whose fan-out to show: `dot_tools`, `gov.dot_tools`. Without
    /// it: every table ranked by fan-out over all events. With three arguments: the head
    /// snapshot of a graph diff.
    pub table: Option<String>,
    /// `graph A B TABLE`: the table whose fan-out to compare between snapshots A and B.
    #[arg(value_name = "DIFF_TABLE")]
    pub diff_table: Option<String>,
    /// The event on TABLE whose fan-out to walk (default insert; without TABLE every event
    /// is counted; a graph diff without it compares every event).
    #[arg(long, value_enum)]
    pub event: Option<Event>,
    /// With `--event update`: the columns the UPDATE sets, so `UPDATE OF` triggers fire
    /// only when one of theirs is among them (default: any column may be set).
    #[arg(long, value_delimiter = ',', value_name = "COL,…")]
    pub columns: Vec<String>,
    #[arg(
        long,
        value_parser = FormatArg::of::<GraphReport>()
            .with_aliases(&[("text", Format::Tree)])
            .described(),
        default_value_t = Format::Tree
    )]
    pub format: Format,
    /// Expand at most N levels of tables (1: only TABLE's own triggers and what they do).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub depth: Option<u32>,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl GraphCmd {
    pub async fn run(self, ctx: &Context) -> anyhow::Result<u8> {
        if !self.columns.is_empty() && self.event != Some(Event::Update) {
            anyhow::bail!("--columns only applies to --event update");
        }
        if let (Some(head), Some(table)) = (&self.table, &self.diff_table) {
            return self.run_diff(ctx, head, table).await;
        }
        let event = self.event.unwrap_or(Event::Insert);
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
            database_graph: self.format != Format::Tree,
        };
        match &self.table {
            Some(table) => {
                let table = match graph::resolve_table(snap, table) {
                    Ok(t) => t,
                    // `graph A B`: two snapshots and no table is a graph diff missing its
                    // table, not a table named like a ref; say so.
                    Err(e @ graph::GraphError::UnknownTable { .. }) if is_stored(ctx, table) => {
                        anyhow::bail!(
                            "{e}; {table:?} is a snapshot: to compare two snapshots name a table, `graph {} {table} TABLE`",
                            self.snap
                        )
                    }
                    Err(e) => return Err(e.into()),
                };
                let columns = (!self.columns.is_empty()).then(|| self.columns.clone());
                let f = graph::table_fanout(snap, &table, event, columns, &opts)
                    .with_context(|| format!("walking the fan-out of {table}"))?;
                let report = GraphReport::Table {
                    fanout: &f,
                    title: format!("{} on {table}", event.label()),
                    root: format!("table:{table}"),
                };
                ctx.print(&report, self.format)?;
                if !f.unanalysable.is_empty() && self.format != Format::Tree {
                    ctx.note(format!(
                        "note: {} routine(s) in this fan-out could not be fully analysed; their edges may be missing",
                        f.unanalysable.len()
                    ));
                }
            }
            None => {
                let db = graph::database_fanout(snap, &opts);
                ctx.print(&GraphReport::Database(&db), self.format)?;
            }
        }
        Ok(exit::OK)
    }

    /// `graph A B TABLE`: the fan-out of TABLE on both sides, compared.
    async fn run_diff(&self, ctx: &Context, head: &str, table: &str) -> anyhow::Result<u8> {
        let (base_side, head_side) = load_sides(&self.snap, head, ctx, &self.connect, false)
            .await
            .map_err(SideError::named)?;
        let events: Vec<Event> = match self.event {
            Some(e) => vec![e],
            None => Event::ALL.to_vec(),
        };
        let opts = WalkOptions {
            depth: self.depth.map(|d| d as usize),
            database_graph: false,
        };
        let columns = (!self.columns.is_empty()).then(|| self.columns.clone());
        let d = gdiff::graph_diff(
            base_side.snapshot(),
            head_side.snapshot(),
            table,
            &events,
            columns,
            &opts,
        )?;
        let side = |s: &super::pair::Side| gdraw::SideRef {
            spec: s.spec.clone(),
            id: s.loaded.id.map(|id| id.to_hex()),
        };
        let sides = gdraw::Sides {
            base: side(&base_side),
            head: side(&head_side),
        };
        let report = GraphReport::Diff {
            sides: &sides,
            diff: &d,
        };
        ctx.print(&report, self.format)?;
        Ok(if d.changed { exit::DRIFT } else { exit::OK })
    }
}

/// Whether `spec` names a stored snapshot (a ref, an id or its prefix).
fn is_stored(ctx: &Context, spec: &str) -> bool {
    ctx.store
        .open()
        .and_then(|s| Ok(s.resolve(spec)?))
        .is_ok_and(|r| matches!(r, crate::store::Resolved::Stored(_)))
}
