//! The visit tree of a walk (what each table, trigger, routine, write and cascade led to)
//! and the options of a walk.

use super::graph::{FanoutGraph, FiringStep};
use super::hazard::{Cycle, Hazard, Unanalysable};
use crate::graph::body::{DynamicSql, Notify, TableWrite};
use crate::graph::firing::{Event, FiringEntry};
use serde::Serialize;

/// How a table state appears in the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitOutcome {
    Expanded,
    /// Already expanded earlier in this walk.
    ShownAbove,
    /// Reached again while being expanded: a cycle.
    Cycle,
    /// Not expanded: `--depth` reached.
    DepthLimit,
    /// Not in the snapshot: cannot be followed.
    Missing,
}

/// One table state in the tree: its triggers for the event, and its FK cascades.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableVisit {
    pub table: String,
    pub event: Event,
    /// UPDATE: the columns set, when known.
    pub columns: Option<Vec<String>>,
    pub outcome: VisitOutcome,
    /// Routines the write's row expressions call (defaults, generated columns, CHECKs,
    /// policies): they run for every row.
    pub row_calls: Vec<RowCallVisit>,
    /// Rewrite rules on the event, in the order PostgreSQL applies them (by name).
    pub rules: Vec<RuleVisit>,
    /// An unconditional `DO INSTEAD` rule replaces the write: the relation itself is not
    /// written, so none of its triggers fire (they are listed, skipped); the rule's name.
    pub replaced_by: Option<String>,
    /// A write on an automatically updatable view (no INSTEAD OF trigger, no INSTEAD
    /// rule): PostgreSQL rewrites it onto the base relation.
    pub through_view: Option<Box<ViewWrite>>,
    /// A view whose write nothing handles: why PostgreSQL refuses it.
    pub view_refused: Option<String>,
    pub triggers: Vec<TriggerVisit>,
    pub cascades: Vec<CascadeVisit>,
}

/// A rewrite rule on the walked event, and what its actions led to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleVisit {
    pub name: String,
    pub instead: bool,
    /// The rule's `WHERE`, as printed.
    pub condition: Option<String>,
    /// Why the rule does not apply (disabled, replica-only).
    pub skipped: Option<String>,
    /// The actions, analysed like a body (absent when skipped).
    pub actions: Option<FunctionVisit>,
}

/// The base-relation write of a write on an automatically updatable view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewWrite {
    /// `local` or `cascaded` for a view `WITH CHECK OPTION`: new rows must satisfy the
    /// view's condition.
    pub check_option: Option<String>,
    pub base: TableVisit,
}

/// A routine a row expression calls, and what it led to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowCallVisit {
    /// `default`, `generated`, `check`, `domain` or `policy`.
    pub via: &'static str,
    /// The column, constraint or policy.
    pub name: String,
    pub function: FunctionVisit,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TriggerVisit {
    pub entry: FiringEntry,
    pub skipped: Option<String>,
    /// Absent when the trigger does not fire here.
    pub function: Option<FunctionVisit>,
    /// Routines the WHEN condition calls: they run for every row, whether or not the
    /// condition then lets the trigger's function run.
    pub when_calls: Vec<FunctionVisit>,
    /// A row trigger after a BEFORE ROW trigger that may skip the row (return NULL): it
    /// fires only if that one did not; the earlier trigger's name.
    pub unless_skipped_by: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionVisit {
    /// The name part of the routine's key: `public.f(text)`.
    pub name: String,
    pub missing: bool,
    pub problem: Option<String>,
    /// Already on the call path: recursion, not expanded again.
    pub recursion: bool,
    /// How sure the caller is to call it (a routine's call of another routine); `always`
    /// where a trigger, WHEN or row expression calls it.
    pub sure: crate::graph::certainty::Sure,
    pub assigns: Vec<String>,
    pub writes: Vec<WriteVisit>,
    pub notifies: Vec<Notify>,
    pub dynamic: Vec<DynamicSql>,
    pub calls: Vec<FunctionVisit>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteVisit {
    pub write: TableWrite,
    pub target: TableVisit,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CascadeVisit {
    pub constraint: String,
    pub action: String,
    pub child: TableVisit,
}

/// The fan-out of one event on one table.
#[derive(Clone, Debug, Serialize)]
pub struct Fanout {
    pub table: String,
    pub event: Event,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    pub firing_order: Vec<FiringStep>,
    #[serde(flatten)]
    pub graph: FanoutGraph,
    pub hazards: Vec<Hazard>,
    pub cycles: Vec<Cycle>,
    pub unanalysable: Vec<Unanalysable>,
    /// Some state was left unexpanded because of `--depth`.
    pub depth_limited: bool,
    /// The walk stopped early: the call graph multiplies paths beyond a sane budget.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<usize>,
    #[serde(skip)]
    pub tree: TableVisit,
}

/// Walk options.
#[derive(Clone, Debug, Default)]
pub struct WalkOptions {
    /// How many levels of tables to expand (1: only the walked table's triggers); None:
    /// until every state is expanded.
    pub depth: Option<usize>,
    /// Whole-database mode: also build the union graph (for DOT, Mermaid, JSON). The
    /// ranking alone does not need it, and on a large catalog it is most of the work.
    pub database_graph: bool,
}
