//! The fan-out walk: table —fires→ trigger —calls→ function —writes→ table —fires→ …, with
//! function —notifies→ channel, function —calls→ function, function —dynamic→ opaque SQL and
//! foreign-key actions as table —cascade→ table.
//!
//! The walk follows the event a write actually causes: an UPDATE fires the target's UPDATE
//! triggers (only the `UPDATE OF` ones whose columns it sets, when the SET list is known), an
//! `ON CONFLICT DO UPDATE` both INSERT and UPDATE triggers, a cascading DELETE the child's
//! DELETE triggers. Each (table, event, columns) state is expanded once per walk; meeting a
//! state again while it is still being expanded is a cycle. So a trigger that UPDATEs its own
//! table on INSERT is no cycle, one that INSERTs into it is.

use super::body::{self, BodyFacts, DynamicSql, Notify, TableWrite};
use super::firing::{order_triggers, FiringEntry, FiringPhase, EVENTS};
use super::index::SnapshotIndex;
use super::sqlfacts::{SqlFacts, WriteOp};
use crate::model::{quote_ident, CatalogSnapshot, ObjectKey, ObjectKind};
use petgraph::graph::{DiGraph, NodeIndex};
use serde::ser::SerializeMap;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;

/// Past this many function expansions in one walk the walk stops and says so: a guard
/// against call graphs whose paths multiply, not a limit a real catalog reaches.
const FUNCTION_VISIT_BUDGET: usize = 200_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Table,
    Trigger,
    Function,
    Channel,
    Dynamic,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GraphNode {
    /// Unique: an object key (`table:public.dot_tools`), `channel:NAME`, `channel:?` (a
    /// channel computed at run time) or `dynamic:FUNCTION`.
    pub id: String,
    pub kind: NodeKind,
    /// For people: `public.dot_tools`, `trg_auto_code_dot_tools`, `context_pack_event`.
    pub name: String,
    /// The table a trigger is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// Named but not in the snapshot (a temporary table, an excluded schema).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub missing: bool,
    /// Why a function's body is not (fully) known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    #[default]
    Fires,
    Calls,
    Writes,
    Notifies,
    Dynamic,
    Cascade,
}

impl EdgeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Fires => "fires",
            EdgeKind::Calls => "calls",
            EdgeKind::Writes => "writes",
            EdgeKind::Notifies => "notifies",
            EdgeKind::Dynamic => "dynamic",
            EdgeKind::Cascade => "cascade",
        }
    }
}

/// An edge and what qualifies it; fields that do not apply to its kind are absent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct GraphEdge {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
    /// fires, cascade: the event on the source table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// fires: position in the table's firing order for the event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<usize>,
    /// fires: `before_row`, `after_row`, `at_commit` (deferred constraint trigger), ….
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<FiringPhase>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub update_columns: Vec<String>,
    /// fires: `disabled`, `replica` when not `origin`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<String>,
    /// fires: why the trigger does not fire here (disabled, replica-only, UPDATE OF columns
    /// not set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// calls from a trigger: the trigger's arguments (`TG_ARGV`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<String>,
    /// writes: insert, update, delete, truncate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op: Option<WriteOp>,
    /// writes (update), cascade (set null/default): the columns set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<&'static str>,
    /// cascade: `cascade`, `set_null`, `set_default`, and the foreign key's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    /// notifies with a channel computed at run time; dynamic SQL.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub opaque: bool,
    /// dynamic: the expression that builds the statement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

impl GraphNode {
    /// The node of a trigger on `table`.
    pub(crate) fn trigger(id: &str, table: &str, entry: &FiringEntry) -> Self {
        GraphNode {
            id: id.to_string(),
            kind: NodeKind::Trigger,
            name: entry.trigger.clone(),
            table: Some(table.to_string()),
            missing: false,
            problem: None,
        }
    }
}

impl GraphEdge {
    /// `table —fires→ trigger` for one event, with the trigger's place in the firing order.
    pub(crate) fn fires(
        table: &str,
        trigger_id: &str,
        event: &str,
        entry: &FiringEntry,
        skipped: &Option<String>,
    ) -> Self {
        GraphEdge {
            from: format!("table:{table}"),
            to: trigger_id.to_string(),
            kind: EdgeKind::Fires,
            event: Some(event.to_string()),
            order: Some(entry.order),
            phase: Some(entry.phase),
            timing: Some(entry.timing.clone()),
            level: Some(entry.level.clone()),
            when: entry.when.clone(),
            update_columns: entry.update_columns.clone(),
            enabled: (entry.enabled != "origin").then(|| entry.enabled.clone()),
            skipped: skipped.clone(),
            ..GraphEdge::default()
        }
    }

    /// `trigger —calls→ function` with the trigger's arguments.
    pub(crate) fn calls_function(
        trigger_id: &str,
        fn_key: &ObjectKey,
        entry: &FiringEntry,
    ) -> Self {
        GraphEdge {
            from: trigger_id.to_string(),
            to: fn_key.to_string(),
            kind: EdgeKind::Calls,
            arguments: entry.arguments.clone(),
            ..GraphEdge::default()
        }
    }
}

/// The fan-out as a petgraph graph; serialises as `nodes` and `edges` (DESIGN.md).
#[derive(Clone, Debug, Default)]
pub struct FanoutGraph {
    pub graph: DiGraph<GraphNode, GraphEdge>,
    ids: HashMap<String, NodeIndex>,
    edges: HashSet<GraphEdge>,
}

impl FanoutGraph {
    pub(crate) fn node(&mut self, node: GraphNode) -> NodeIndex {
        if let Some(&i) = self.ids.get(&node.id) {
            return i;
        }
        let id = node.id.clone();
        let i = self.graph.add_node(node);
        self.ids.insert(id, i);
        i
    }

    pub(crate) fn edge(&mut self, edge: GraphEdge) {
        if self.edges.contains(&edge) {
            return;
        }
        let (Some(&a), Some(&b)) = (self.ids.get(&edge.from), self.ids.get(&edge.to)) else {
            debug_assert!(false, "edge between unknown nodes: {edge:?}");
            return;
        };
        self.edges.insert(edge.clone());
        self.graph.add_edge(a, b, edge);
    }

    /// Add every node and edge of another graph (the whole-database view).
    pub fn merge(&mut self, other: &FanoutGraph) {
        for n in other.graph.node_weights() {
            self.node(n.clone());
        }
        for e in other.graph.edge_references() {
            self.edge(e.weight().clone());
        }
    }

    pub fn nodes(&self) -> impl Iterator<Item = &GraphNode> {
        self.graph.node_weights()
    }

    pub fn edges(&self) -> impl Iterator<Item = &GraphEdge> {
        self.graph.edge_references().map(|e| e.weight())
    }

    pub fn node_by_id(&self, id: &str) -> Option<&GraphNode> {
        self.ids.get(id).map(|&i| &self.graph[i])
    }
}

impl Serialize for FanoutGraph {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("nodes", &self.nodes().collect::<Vec<_>>())?;
        m.serialize_entry("edges", &self.edges().collect::<Vec<_>>())?;
        m.end()
    }
}

/// A trigger in the walked table's firing order, and whether it fires in this walk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FiringStep {
    #[serde(flatten)]
    pub entry: FiringEntry,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Hazard {
    /// A BEFORE ROW trigger reads `NEW.column`, which a trigger firing after it for the same
    /// event assigns: the reader sees the value before it is set (the seeds' permit gate
    /// reading `NEW.code` before `trg_auto_code_dot_tools` generates it).
    ReadBeforeAssigned {
        table: String,
        event: String,
        column: String,
        reader: String,
        reader_order: usize,
        writer: String,
        writer_order: usize,
    },
    /// One routine fired by several triggers for the same event on the same table.
    RoutineFiredTwice {
        table: String,
        event: String,
        function: String,
        triggers: Vec<String>,
        /// Each trigger's arguments, in the same order.
        arguments: Vec<Vec<String>>,
    },
}

impl Hazard {
    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            Hazard::ReadBeforeAssigned {
                table,
                event,
                column,
                reader,
                reader_order,
                writer,
                writer_order,
            } => format!(
                "{reader} (#{reader_order}) reads NEW.{column} before {writer} (#{writer_order}) assigns it \
                 ({} {table}): rename so the reader sorts after the writer",
                event.to_uppercase()
            ),
            Hazard::RoutineFiredTwice {
                table,
                event,
                function,
                triggers,
                arguments,
            } => {
                let list: Vec<String> = triggers
                    .iter()
                    .zip(arguments)
                    .map(|(t, a)| {
                        if a.is_empty() {
                            t.clone()
                        } else {
                            format!("{t}({})", a.iter().map(|x| format!("'{x}'")).collect::<Vec<_>>().join(", "))
                        }
                    })
                    .collect();
                format!(
                    "{function} fires {} times per {} on {table}: {}",
                    triggers.len(),
                    event.to_uppercase(),
                    list.join(", ")
                )
            }
        }
    }
}

/// A loop in the fan-out: the same table state (or routine, for calls) reached again while
/// it is still being expanded.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Cycle {
    /// `trigger` (through tables and events) or `call` (routines calling each other).
    pub kind: &'static str,
    /// The steps, first and last the same: `public.t INSERT`, `trg_x`, `public.f()`, ….
    pub path: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Unanalysable {
    pub function: String,
    pub problem: String,
}

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
    pub event: String,
    /// UPDATE: the columns set, when known.
    pub columns: Option<Vec<String>>,
    pub outcome: VisitOutcome,
    pub triggers: Vec<TriggerVisit>,
    pub cascades: Vec<CascadeVisit>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TriggerVisit {
    pub entry: FiringEntry,
    pub skipped: Option<String>,
    /// Absent when the trigger does not fire here.
    pub function: Option<FunctionVisit>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionVisit {
    /// The name part of the routine's key: `public.f(text)`.
    pub name: String,
    pub missing: bool,
    pub problem: Option<String>,
    /// Already on the call path: recursion, not expanded again.
    pub recursion: bool,
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
    pub event: String,
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

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("no table {name:?} in the snapshot{}", hint(candidates))]
    UnknownTable {
        name: String,
        candidates: Vec<String>,
    },
    #[error("table name {name:?} is ambiguous: {} (qualify it with its schema)", candidates.join(", "))]
    AmbiguousTable {
        name: String,
        candidates: Vec<String>,
    },
    #[error("unknown event {0:?} (expected insert, update, delete or truncate)")]
    UnknownEvent(String),
}

fn hint(candidates: &[String]) -> String {
    if candidates.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", candidates.join(", "))
    }
}

/// Turn what a user typed (`dot_tools`, `gov.dot_tools`, `table:public.dot_tools`,
/// `"My Table"`) into the qualified name of a table or view in the snapshot.
pub fn resolve_table(snapshot: &CatalogSnapshot, input: &str) -> Result<String, GraphError> {
    let relations: Vec<(&str, &str)> = snapshot
        .objects
        .values()
        .filter_map(|o| match (o.kind(), &o.def) {
            (ObjectKind::Table, crate::model::ObjectDef::Table(t)) => {
                Some((o.key.name(), t.name.as_str()))
            }
            (
                ObjectKind::View | ObjectKind::Matview,
                crate::model::ObjectDef::View(v) | crate::model::ObjectDef::Matview(v),
            ) => Some((o.key.name(), v.name.as_str())),
            _ => None,
        })
        .collect();
    let bare = input
        .strip_prefix("table:")
        .or_else(|| input.strip_prefix("view:"))
        .unwrap_or(input);
    if let Some((q, _)) = relations.iter().find(|(q, _)| *q == bare) {
        return Ok(q.to_string());
    }
    let normalized = crate::model::fingerprint::normalize_table_name(bare);
    if let Some((q, _)) = relations.iter().find(|(q, _)| *q == normalized) {
        return Ok(q.to_string());
    }
    let unquoted = crate::model::split_qualified(bare);
    let mut by_name: Vec<String> = relations
        .iter()
        .filter(|(_, name)| unquoted.len() == 1 && *name == unquoted[0])
        .map(|(q, _)| q.to_string())
        .collect();
    by_name.sort();
    match by_name.len() {
        1 => Ok(by_name.remove(0)),
        0 => {
            let needle = unquoted
                .last()
                .map(|s| s.to_lowercase())
                .unwrap_or_default();
            let mut candidates: Vec<String> = relations
                .iter()
                .filter(|(_, name)| !needle.is_empty() && name.to_lowercase().contains(&needle))
                .map(|(q, _)| q.to_string())
                .collect();
            candidates.sort();
            candidates.truncate(5);
            Err(GraphError::UnknownTable {
                name: input.to_string(),
                candidates,
            })
        }
        _ => Err(GraphError::AmbiguousTable {
            name: input.to_string(),
            candidates: by_name,
        }),
    }
}

/// Check an event name given by a user.
pub fn parse_event(event: &str) -> Result<&'static str, GraphError> {
    EVENTS
        .iter()
        .copied()
        .find(|e| e.eq_ignore_ascii_case(event))
        .ok_or_else(|| GraphError::UnknownEvent(event.to_string()))
}

/// Routine analyses, computed once each: lazily for one table's walk, all at once (on
/// every core) for the whole database.
pub struct Analyses {
    map: HashMap<ObjectKey, Rc<BodyFacts>>,
}

impl Analyses {
    pub fn lazy() -> Self {
        Analyses {
            map: HashMap::new(),
        }
    }

    /// Analyse every routine of the snapshot, spread over the available cores.
    pub fn all(index: &SnapshotIndex<'_>) -> Self {
        let routines: Vec<&crate::model::CatalogObject> = index
            .snapshot
            .objects
            .values()
            .filter(|o| o.kind().is_routine())
            .collect();
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        let chunk = routines.len().div_ceil(threads).max(64);
        let results: Vec<BodyFacts> = if routines.len() <= chunk {
            routines.iter().map(|o| body::analyse(index, o)).collect()
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = routines
                    .chunks(chunk)
                    .map(|part| {
                        s.spawn(move || {
                            part.iter()
                                .map(|o| body::analyse(index, o))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().expect("routine analysis does not panic"))
                    .collect()
            })
        };
        Analyses {
            map: results
                .into_iter()
                .map(|b| (b.routine.clone(), Rc::new(b)))
                .collect(),
        }
    }

    pub(crate) fn get(
        &mut self,
        index: &SnapshotIndex<'_>,
        key: &ObjectKey,
    ) -> Option<Rc<BodyFacts>> {
        if let Some(b) = self.map.get(key) {
            return Some(b.clone());
        }
        let obj = index.routine(key)?;
        let facts = Rc::new(body::analyse(index, obj));
        self.map.insert(key.clone(), facts.clone());
        Some(facts)
    }

    /// Every analysis computed so far, by key.
    pub fn iter(&self) -> impl Iterator<Item = (&ObjectKey, &BodyFacts)> {
        self.map.iter().map(|(k, v)| (k, v.as_ref()))
    }
}

/// A foreign-key action that writes a child table when its parent is deleted or updated.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Cascade {
    /// `child_table.constraint_name`.
    pub constraint: String,
    pub child: String,
    /// `cascade`, `set_null` or `set_default`.
    pub action: String,
    pub child_event: &'static str,
    /// The child's UPDATE sets these (the FK columns), for SET NULL/DEFAULT and ON UPDATE.
    pub child_columns: Option<Vec<String>>,
}

/// The FK actions `event` on `table` sets off (`columns`: what an UPDATE sets, if known).
pub(crate) fn cascades(
    index: &SnapshotIndex<'_>,
    table: &str,
    event: &str,
    columns: Option<&[String]>,
) -> Vec<Cascade> {
    let mut out = Vec::new();
    for c in index.foreign_keys_to(table) {
        let Some(fk) = &c.foreign_key else { continue };
        let action = match event {
            "delete" => &fk.on_delete,
            "update" => {
                let touches_key =
                    columns.is_none_or(|set| fk.ref_columns.iter().any(|k| set.contains(k)));
                if !touches_key {
                    continue;
                }
                &fk.on_update
            }
            _ => continue,
        };
        let (child_event, child_columns) = match action.as_str() {
            "cascade" if event == "delete" => ("delete", None),
            "cascade" | "set_null" | "set_default" => {
                let mut cols = c.columns.clone();
                cols.sort();
                ("update", Some(cols))
            }
            _ => continue,
        };
        out.push(Cascade {
            constraint: format!("{}.{}", c.table, quote_ident(&c.name)),
            child: c.table.clone(),
            action: action.clone(),
            child_event,
            child_columns,
        });
    }
    out.sort();
    out
}

/// Why a trigger on the walked event does not fire, if it does not: disabled, replica-only,
/// or an `UPDATE OF` list none of whose columns the UPDATE sets.
pub(crate) fn skip_reason(
    entry: &FiringEntry,
    event: &str,
    columns: Option<&[String]>,
) -> Option<String> {
    if !entry.fires_normally() {
        Some(match entry.enabled.as_str() {
            "replica" => {
                "replica-only (fires only with session_replication_role = replica)".to_string()
            }
            other => other.to_string(),
        })
    } else if event == "update" && !entry.fires_for_columns(columns) {
        Some(format!(
            "UPDATE OF {}: none of them is set",
            entry.update_columns.join(", ")
        ))
    } else {
        None
    }
}

/// Finds ordering hazards among the triggers that fire on one table state; caches the
/// parsed WHEN clauses.
#[derive(Default)]
pub(crate) struct HazardFinder {
    when_reads: HashMap<String, BTreeSet<String>>,
}

impl HazardFinder {
    pub fn hazards(
        &mut self,
        index: &SnapshotIndex<'_>,
        analyses: &mut Analyses,
        table: &str,
        event: &str,
        firing: &[&FiringEntry],
    ) -> Vec<Hazard> {
        let mut out = Vec::new();
        // One routine fired twice for the same event.
        let mut by_function: BTreeMap<&str, Vec<&FiringEntry>> = BTreeMap::new();
        for e in firing {
            by_function.entry(e.function.as_str()).or_default().push(e);
        }
        for (function, entries) in by_function {
            if entries.len() > 1 {
                out.push(Hazard::RoutineFiredTwice {
                    table: table.to_string(),
                    event: event.to_string(),
                    function: function.to_string(),
                    triggers: entries.iter().map(|e| e.trigger.clone()).collect(),
                    arguments: entries.iter().map(|e| e.arguments.clone()).collect(),
                });
            }
        }
        // A BEFORE ROW trigger reading NEW.col that a later BEFORE ROW trigger assigns.
        let before: Vec<(&FiringEntry, BTreeSet<String>, BTreeSet<String>)> = firing
            .iter()
            .filter(|e| e.phase == FiringPhase::BeforeRow)
            .map(|e| {
                let key = ObjectKey::new(ObjectKind::Function, &e.function);
                let facts = analyses.get(index, &key);
                let mut reads = facts
                    .as_ref()
                    .map(|f| f.new_read.clone())
                    .unwrap_or_default();
                if let Some(when) = &e.when {
                    reads.extend(self.when_reads(when));
                }
                let assigns = facts
                    .as_ref()
                    .map(|f| f.new_assigned.clone())
                    .unwrap_or_default();
                (*e, reads, assigns)
            })
            .collect();
        for (i, (reader, reads, _)) in before.iter().enumerate() {
            for (writer, _, assigns) in &before[i + 1..] {
                let columns: BTreeSet<&String> = if reads.contains("*") {
                    assigns.iter().collect()
                } else if assigns.contains("*") {
                    reads.iter().collect()
                } else {
                    reads.intersection(assigns).collect()
                };
                for column in columns {
                    out.push(Hazard::ReadBeforeAssigned {
                        table: table.to_string(),
                        event: event.to_string(),
                        column: column.clone(),
                        reader: reader.trigger.clone(),
                        reader_order: reader.order,
                        writer: writer.trigger.clone(),
                        writer_order: writer.order,
                    });
                }
            }
        }
        out
    }

    /// `NEW` fields a WHEN condition reads (a BEFORE trigger's WHEN sees earlier triggers'
    /// assignments too).
    fn when_reads(&mut self, when: &str) -> BTreeSet<String> {
        if let Some(r) = self.when_reads.get(when) {
            return r.clone();
        }
        let mut facts = SqlFacts::default();
        if let Ok(parsed) = pg_query::parse(&format!("SELECT {when}")) {
            facts.add_parse_result(&parsed.protobuf);
        }
        self.when_reads
            .insert(when.to_string(), facts.new_reads.clone());
        facts.new_reads
    }
}

type StateKey = (String, &'static str, Option<Vec<String>>);

struct Walker<'a, 's> {
    index: &'a SnapshotIndex<'s>,
    analyses: &'a mut Analyses,
    depth: Option<usize>,
    graph: FanoutGraph,
    expanded: HashSet<StateKey>,
    /// The states being expanded, outermost first, with where each sits in `trail`.
    path: Vec<(StateKey, usize)>,
    /// Labels of the current walk path (states, triggers, functions), for cycle reports.
    trail: Vec<String>,
    call_path: Vec<ObjectKey>,
    hazards: BTreeSet<Hazard>,
    cycles: BTreeSet<Cycle>,
    unanalysable: BTreeSet<Unanalysable>,
    depth_limited: bool,
    truncated: bool,
    function_visits: usize,
    hazard_finder: HazardFinder,
}

/// The fan-out of `event` on `table` (qualified, as from [`resolve_table`]).
pub fn fanout(
    index: &SnapshotIndex<'_>,
    analyses: &mut Analyses,
    table: &str,
    event: &str,
    columns: Option<Vec<String>>,
    opts: &WalkOptions,
) -> Result<Fanout, GraphError> {
    let event = parse_event(event)?;
    let columns = columns.map(|mut c| {
        c.sort();
        c.dedup();
        c
    });
    let mut w = Walker {
        index,
        analyses,
        depth: opts.depth,
        graph: FanoutGraph::default(),
        expanded: HashSet::new(),
        path: Vec::new(),
        trail: Vec::new(),
        call_path: Vec::new(),
        hazards: BTreeSet::new(),
        cycles: BTreeSet::new(),
        unanalysable: BTreeSet::new(),
        depth_limited: false,
        truncated: false,
        function_visits: 0,
        hazard_finder: HazardFinder::default(),
    };
    let tree = w.visit_table(table, event, columns.clone(), 0);
    let firing_order = tree
        .triggers
        .iter()
        .map(|t| FiringStep {
            entry: t.entry.clone(),
            skipped: t.skipped.clone(),
        })
        .collect();
    Ok(Fanout {
        table: table.to_string(),
        event: event.to_string(),
        columns,
        firing_order,
        graph: w.graph,
        hazards: w.hazards.into_iter().collect(),
        cycles: w.cycles.into_iter().collect(),
        unanalysable: w.unanalysable.into_iter().collect(),
        depth_limited: w.depth_limited,
        truncated: w.truncated,
        depth: opts.depth,
        tree,
    })
}

fn table_node(table: &str, missing: bool) -> GraphNode {
    GraphNode {
        id: format!("table:{table}"),
        kind: NodeKind::Table,
        name: table.to_string(),
        table: None,
        missing,
        problem: None,
    }
}

/// The nodes and edges of what one function's own body does: writes, notifications,
/// dynamic SQL (its calls are drawn by the caller, which follows them).
pub(crate) fn draw_body(graph: &mut FanoutGraph, key: &ObjectKey, facts: &BodyFacts) {
    let from = key.to_string();
    for w in &facts.writes {
        graph.node(table_node(&w.table, !w.in_snapshot));
        graph.edge(GraphEdge {
            from: from.clone(),
            to: format!("table:{}", w.table),
            kind: EdgeKind::Writes,
            op: Some(w.op),
            columns: w.columns.clone(),
            via: w.via,
            ..GraphEdge::default()
        });
    }
    for n in &facts.notifies {
        let (id, name) = match &n.channel {
            Some(c) => (format!("channel:{c}"), c.clone()),
            None => (
                "channel:?".to_string(),
                "(channel computed at run time)".to_string(),
            ),
        };
        graph.node(GraphNode {
            id: id.clone(),
            kind: NodeKind::Channel,
            name,
            table: None,
            missing: false,
            problem: None,
        });
        graph.edge(GraphEdge {
            from: from.clone(),
            to: id,
            kind: EdgeKind::Notifies,
            opaque: n.channel.is_none(),
            ..GraphEdge::default()
        });
    }
    for d in &facts.dynamic {
        let id = format!("dynamic:{}", key.name());
        graph.node(GraphNode {
            id: id.clone(),
            kind: NodeKind::Dynamic,
            name: "dynamic SQL (EXECUTE)".to_string(),
            table: None,
            missing: false,
            problem: None,
        });
        graph.edge(GraphEdge {
            from: from.clone(),
            to: id,
            kind: EdgeKind::Dynamic,
            opaque: !d.literal,
            expression: Some(d.expression.clone()),
            ..GraphEdge::default()
        });
    }
}

fn state_label(table: &str, event: &str, columns: &Option<Vec<String>>) -> String {
    match columns {
        Some(c) if event == "update" => format!("{table} UPDATE OF {}", c.join(", ")),
        _ => format!("{table} {}", event.to_uppercase()),
    }
}

impl Walker<'_, '_> {
    fn visit_table(
        &mut self,
        table: &str,
        event: &'static str,
        columns: Option<Vec<String>>,
        depth: usize,
    ) -> TableVisit {
        let in_snapshot = self.index.has_relation(table);
        self.graph.node(table_node(table, !in_snapshot));
        let mut visit = TableVisit {
            table: table.to_string(),
            event: event.to_string(),
            columns: columns.clone(),
            outcome: VisitOutcome::Expanded,
            triggers: Vec::new(),
            cascades: Vec::new(),
        };
        if !in_snapshot {
            visit.outcome = VisitOutcome::Missing;
            return visit;
        }
        let key: StateKey = (table.to_string(), event, columns.clone());
        let label = state_label(table, event, &columns);
        if let Some(&(_, at)) = self.path.iter().find(|(k, _)| *k == key) {
            let mut path = self.trail[at..].to_vec();
            path.push(label);
            self.cycles.insert(Cycle {
                kind: "trigger",
                path,
            });
            visit.outcome = VisitOutcome::Cycle;
            return visit;
        }
        if self.expanded.contains(&key) {
            visit.outcome = VisitOutcome::ShownAbove;
            return visit;
        }
        let order = order_triggers(self.index.triggers_on(table).iter().copied(), event);
        let cascades = cascades(self.index, table, event, columns.as_deref());
        if self.depth.is_some_and(|d| depth >= d) {
            if !order.is_empty() || !cascades.is_empty() {
                visit.outcome = VisitOutcome::DepthLimit;
                self.depth_limited = true;
            }
            return visit;
        }
        self.expanded.insert(key.clone());
        self.path.push((key, self.trail.len()));
        self.trail.push(label);

        for entry in order {
            visit
                .triggers
                .push(self.visit_trigger(table, event, columns.as_deref(), entry, depth));
        }
        self.order_hazards(table, event, &visit.triggers);
        for Cascade {
            constraint,
            child,
            action,
            child_event,
            child_columns: child_cols,
        } in cascades
        {
            self.graph
                .node(table_node(&child, !self.index.has_relation(&child)));
            self.graph.edge(GraphEdge {
                from: format!("table:{table}"),
                to: format!("table:{child}"),
                kind: EdgeKind::Cascade,
                event: Some(event.to_string()),
                action: Some(action.clone()),
                constraint: Some(constraint.clone()),
                columns: child_cols.clone(),
                ..GraphEdge::default()
            });
            self.trail.push(format!(
                "{constraint} ON {} {}",
                event.to_uppercase(),
                action.to_uppercase()
            ));
            let child_visit = self.visit_table(&child, child_event, child_cols, depth + 1);
            self.trail.pop();
            visit.cascades.push(CascadeVisit {
                constraint,
                action,
                child: child_visit,
            });
        }

        self.trail.pop();
        self.path.pop();
        visit
    }

    fn visit_trigger(
        &mut self,
        table: &str,
        event: &str,
        columns: Option<&[String]>,
        entry: FiringEntry,
        depth: usize,
    ) -> TriggerVisit {
        let trigger_id = format!("trigger:{table}.{}", quote_ident(&entry.trigger));
        let fn_key = ObjectKey::new(ObjectKind::Function, &entry.function);
        let skipped = skip_reason(&entry, event, columns);
        self.graph
            .node(GraphNode::trigger(&trigger_id, table, &entry));
        self.graph.edge(GraphEdge::fires(
            table,
            &trigger_id,
            event,
            &entry,
            &skipped,
        ));
        self.function_node(&fn_key);
        self.graph
            .edge(GraphEdge::calls_function(&trigger_id, &fn_key, &entry));
        let function = if skipped.is_none() {
            self.trail.push(entry.trigger.clone());
            let f = self.visit_function(&fn_key, depth);
            self.trail.pop();
            Some(f)
        } else {
            None
        };
        TriggerVisit {
            entry,
            skipped,
            function,
        }
    }

    fn function_node(&mut self, key: &ObjectKey) -> Option<Rc<BodyFacts>> {
        let facts = self.analyses.get(self.index, key);
        let problem = facts.as_ref().and_then(|f| f.status.problem());
        if let Some(p) = &problem {
            self.unanalysable.insert(Unanalysable {
                function: key.name().to_string(),
                problem: p.clone(),
            });
        }
        self.graph.node(GraphNode {
            id: key.to_string(),
            kind: NodeKind::Function,
            name: key.name().to_string(),
            table: None,
            missing: facts.is_none(),
            problem,
        });
        facts
    }

    fn visit_function(&mut self, key: &ObjectKey, depth: usize) -> FunctionVisit {
        let facts = self.function_node(key);
        let mut visit = FunctionVisit {
            name: key.name().to_string(),
            missing: facts.is_none(),
            problem: facts.as_ref().and_then(|f| f.status.problem()),
            recursion: false,
            assigns: Vec::new(),
            writes: Vec::new(),
            notifies: Vec::new(),
            dynamic: Vec::new(),
            calls: Vec::new(),
        };
        let Some(facts) = facts else { return visit };
        if self.call_path.contains(key) {
            let at = self
                .trail
                .iter()
                .rposition(|l| l == key.name())
                .unwrap_or(self.trail.len());
            let mut path = self.trail[at..].to_vec();
            path.push(key.name().to_string());
            self.cycles.insert(Cycle { kind: "call", path });
            visit.recursion = true;
            return visit;
        }
        self.function_visits += 1;
        if self.function_visits > FUNCTION_VISIT_BUDGET {
            self.truncated = true;
            return visit;
        }
        self.call_path.push(key.clone());
        self.trail.push(key.name().to_string());
        draw_body(&mut self.graph, key, &facts);
        visit.assigns = facts.new_assigned.iter().cloned().collect();
        for w in &facts.writes {
            let cols = if w.op == WriteOp::Update {
                w.columns.clone()
            } else {
                None
            };
            let target = self.visit_table(&w.table, w.op.event(), cols, depth + 1);
            visit.writes.push(WriteVisit {
                write: w.clone(),
                target,
            });
        }
        visit.notifies = facts.notifies.clone();
        visit.dynamic = facts.dynamic.clone();
        let from = key.to_string();
        for callee in &facts.calls {
            self.function_node(callee);
            self.graph.edge(GraphEdge {
                from: from.clone(),
                to: callee.to_string(),
                kind: EdgeKind::Calls,
                ..GraphEdge::default()
            });
            let v = self.visit_function(callee, depth);
            visit.calls.push(v);
        }
        self.trail.pop();
        self.call_path.pop();
        visit
    }

    /// Ordering hazards among the triggers that fire on one table state.
    fn order_hazards(&mut self, table: &str, event: &str, triggers: &[TriggerVisit]) {
        let firing: Vec<&FiringEntry> = triggers
            .iter()
            .filter(|t| t.skipped.is_none())
            .map(|t| &t.entry)
            .collect();
        let found = self
            .hazard_finder
            .hazards(self.index, self.analyses, table, event, &firing);
        self.hazards.extend(found);
    }
}

/// The fan-out of one table, analysing only the routines it reaches.
pub fn table_fanout(
    snapshot: &CatalogSnapshot,
    table: &str,
    event: &str,
    columns: Option<Vec<String>>,
    opts: &WalkOptions,
) -> Result<Fanout, GraphError> {
    let index = SnapshotIndex::new(snapshot);
    let mut analyses = Analyses::lazy();
    fanout(&index, &mut analyses, table, event, columns, opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::firing::tests::trigger;
    use crate::graph::testkit::{foreign_key, plpgsql, snapshot_with, table, trigger_object};
    use crate::model::CatalogObject;

    fn trig(name: &str, timing: &str, events: &[&str], function: &str) -> CatalogObject {
        let mut t = trigger(name, timing, events);
        t.function = format!("public.{function}()");
        trigger_object(t)
    }

    /// `public.t` with a reader that sorts before the auto-code writer, a function fired
    /// twice that UPDATEs its own table, and a child with a cascading FK.
    fn base() -> Vec<CatalogObject> {
        vec![
            table("public", "t"),
            table("public", "child"),
            table("public", "log"),
            plpgsql(
                "fn_gate",
                "BEGIN IF NEW.code IS NULL THEN RAISE EXCEPTION 'no code'; END IF; RETURN NEW; END",
            ),
            plpgsql(
                "fn_autocode",
                "BEGIN NEW.code := 'X-' || NEW.id; RETURN NEW; END",
            ),
            plpgsql(
                "fn_touch",
                "BEGIN UPDATE t SET touched = now() WHERE id = NEW.id; RETURN NULL; END",
            ),
            plpgsql(
                "fn_log",
                "BEGIN INSERT INTO log VALUES (1); PERFORM pg_notify('evt', 'x'); RETURN NULL; END",
            ),
            trig("a_gate", "before", &["insert"], "fn_gate"),
            trig("b_autocode", "before", &["insert"], "fn_autocode"),
            trig("c_touch", "after", &["insert"], "fn_touch"),
            trig("d_touch_again", "after", &["insert"], "fn_touch"),
            trig("e_child_delete", "after", &["delete"], "fn_log"),
            foreign_key("child", "t_id", "t", "cascade"),
        ]
    }

    fn walk(
        objects: Vec<CatalogObject>,
        table: &str,
        event: &str,
        columns: Option<Vec<String>>,
        depth: Option<usize>,
    ) -> Fanout {
        let snap = snapshot_with(objects);
        table_fanout(
            &snap,
            table,
            event,
            columns,
            &WalkOptions {
                depth,
                ..WalkOptions::default()
            },
        )
        .unwrap()
    }

    fn has_edge(f: &Fanout, from: &str, to: &str, kind: EdgeKind) -> bool {
        f.graph
            .edges()
            .any(|e| e.from == from && e.to == to && e.kind == kind)
    }

    #[test]
    fn updating_its_own_table_after_insert_is_not_a_cycle() {
        let f = walk(base(), "public.t", "insert", None, None);
        assert!(f.cycles.is_empty(), "{:?}", f.cycles);
        assert!(has_edge(
            &f,
            "function:public.fn_touch()",
            "table:public.t",
            EdgeKind::Writes
        ));
        let write = &f.tree.triggers[2].function.as_ref().unwrap().writes[0];
        assert_eq!(write.target.event, "update");
        assert_eq!(
            write.target.columns.as_deref(),
            Some(&["touched".to_string()][..])
        );
    }

    #[test]
    fn inserting_into_its_own_table_after_insert_is_a_cycle() {
        let mut objects = base();
        objects.push(plpgsql(
            "fn_clone",
            "BEGIN INSERT INTO t (code) VALUES (NEW.code || '-copy'); RETURN NULL; END",
        ));
        objects.push(trig("f_clone", "after", &["insert"], "fn_clone"));
        let f = walk(objects, "public.t", "insert", None, None);
        assert_eq!(f.cycles.len(), 1, "{:?}", f.cycles);
        assert_eq!(
            f.cycles[0].path,
            [
                "public.t INSERT",
                "f_clone",
                "public.fn_clone()",
                "public.t INSERT"
            ]
        );
    }

    #[test]
    fn read_before_assigned_and_fired_twice_hazards() {
        let f = walk(base(), "public.t", "insert", None, None);
        assert!(f.hazards.contains(&Hazard::ReadBeforeAssigned {
            table: "public.t".into(),
            event: "insert".into(),
            column: "code".into(),
            reader: "a_gate".into(),
            reader_order: 1,
            writer: "b_autocode".into(),
            writer_order: 2,
        }));
        assert!(f.hazards.iter().any(
            |h| matches!(h, Hazard::RoutineFiredTwice { function, triggers, .. }
            if function == "public.fn_touch()" && triggers == &["c_touch", "d_touch_again"])
        ));

        // Renamed to sort after the writer: no ordering hazard.
        let renamed: Vec<CatalogObject> = base()
            .into_iter()
            .filter(|o| !o.key.as_str().ends_with(".a_gate"))
            .chain([trig("z_gate", "before", &["insert"], "fn_gate")])
            .collect();
        let f = walk(renamed, "public.t", "insert", None, None);
        assert!(
            !f.hazards
                .iter()
                .any(|h| matches!(h, Hazard::ReadBeforeAssigned { .. })),
            "{:?}",
            f.hazards
        );
    }

    #[test]
    fn update_of_columns_decide_which_triggers_fire() {
        let mut objects = base();
        let mut upd_of = trigger("u_status", "after", &["update"]);
        upd_of.update_columns = vec!["status".into()];
        upd_of.function = "public.fn_log()".into();
        objects.push(trigger_object(upd_of));
        // fn_touch sets only `touched`: u_status must not fire on its UPDATE.
        let f = walk(objects.clone(), "public.t", "insert", None, None);
        let touch = f
            .tree
            .triggers
            .iter()
            .find(|t| t.entry.trigger == "c_touch")
            .unwrap();
        let target = &touch.function.as_ref().unwrap().writes[0].target;
        assert_eq!(target.triggers.len(), 1);
        assert!(target.triggers[0]
            .skipped
            .as_deref()
            .unwrap()
            .contains("UPDATE OF status"));
        // An UPDATE of unknown columns, or of status, fires it.
        let f = walk(objects.clone(), "public.t", "update", None, None);
        assert!(f.firing_order[0].skipped.is_none());
        let f = walk(
            objects,
            "public.t",
            "update",
            Some(vec!["status".into()]),
            None,
        );
        assert!(f.firing_order[0].skipped.is_none());
        assert!(has_edge(
            &f,
            "function:public.fn_log()",
            "channel:evt",
            EdgeKind::Notifies
        ));
    }

    #[test]
    fn delete_cascades_to_the_child_and_fires_its_triggers() {
        let mut objects = base();
        objects.push(trig("g_child_del", "before", &["delete"], "fn_log"));
        let mut child_trigger = trigger("h_on_child", "after", &["delete"]);
        child_trigger.table = "public.child".into();
        child_trigger.function = "public.fn_log()".into();
        objects.push(trigger_object(child_trigger));
        let f = walk(objects, "public.t", "delete", None, None);
        assert!(has_edge(
            &f,
            "table:public.t",
            "table:public.child",
            EdgeKind::Cascade
        ));
        let c = &f.tree.cascades[0];
        assert_eq!(
            (c.action.as_str(), c.child.event.as_str()),
            ("cascade", "delete")
        );
        assert_eq!(c.child.triggers[0].entry.trigger, "h_on_child");
        // SET NULL becomes an UPDATE of the FK column.
        let objects: Vec<CatalogObject> = base()
            .into_iter()
            .map(|o| {
                if o.kind() == ObjectKind::Constraint {
                    foreign_key("child", "t_id", "t", "set_null")
                } else {
                    o
                }
            })
            .collect();
        let f = walk(objects, "public.t", "delete", None, None);
        assert_eq!(f.tree.cascades[0].child.event, "update");
        assert_eq!(
            f.tree.cascades[0].child.columns.as_deref(),
            Some(&["t_id".to_string()][..])
        );
    }

    #[test]
    fn depth_bounds_the_walk() {
        let mut objects = base();
        let mut on_log = trigger("on_log", "after", &["insert"]);
        on_log.table = "public.log".into();
        on_log.function = "public.fn_autocode()".into();
        objects.push(trigger_object(on_log));
        objects.push(trig("i_log", "after", &["insert"], "fn_log"));
        let deep = walk(objects.clone(), "public.t", "insert", None, None);
        assert!(!deep.depth_limited);
        assert!(deep.graph.node_by_id("trigger:public.log.on_log").is_some());
        let shallow = walk(objects, "public.t", "insert", None, Some(1));
        assert!(shallow.depth_limited);
        assert!(shallow.graph.node_by_id("table:public.log").is_some());
        assert!(shallow
            .graph
            .node_by_id("trigger:public.log.on_log")
            .is_none());
    }

    #[test]
    fn disabled_and_replica_triggers_are_listed_but_not_followed() {
        let mut objects = base();
        let mut off = trigger("j_off", "after", &["insert"]);
        off.enabled = "disabled".into();
        off.function = "public.fn_log()".into();
        objects.push(trigger_object(off));
        let f = walk(objects, "public.t", "insert", None, None);
        let step = f
            .firing_order
            .iter()
            .find(|s| s.entry.trigger == "j_off")
            .unwrap();
        assert_eq!(step.skipped.as_deref(), Some("disabled"));
        assert!(!has_edge(
            &f,
            "function:public.fn_log()",
            "table:public.log",
            EdgeKind::Writes
        ));
    }

    #[test]
    fn resolve_table_accepts_bare_qualified_and_key_forms() {
        let snap = snapshot_with(vec![
            table("public", "t"),
            table("gov", "dup"),
            table("public", "dup"),
        ]);
        assert_eq!(resolve_table(&snap, "t").unwrap(), "public.t");
        assert_eq!(resolve_table(&snap, "table:public.t").unwrap(), "public.t");
        assert_eq!(resolve_table(&snap, "gov.dup").unwrap(), "gov.dup");
        assert_eq!(resolve_table(&snap, "dup").unwrap(), "public.dup");
        assert!(matches!(
            resolve_table(&snap, "nope"),
            Err(GraphError::UnknownTable { .. })
        ));
        assert!(parse_event("DELETE").is_ok());
        assert!(parse_event("select").is_err());
    }

    #[test]
    fn the_whole_database_is_ranked_by_fan_out() {
        let snap = snapshot_with(base());
        let db = crate::graph::database_fanout(&snap, &WalkOptions::default());
        assert_eq!(db.tables[0].table, "public.t");
        assert_eq!(db.tables[0].rank, 1);
        assert!(db.tables[0].triggers >= 5);
        assert!(db.tables[0].channels == 1);
    }
}
