//! The graph itself: nodes (tables, triggers, routines, channels, opaque SQL), edges and
//! their kinds, and the firing steps of one table state.

use crate::graph::certainty::{Certainty, Sure};
use crate::graph::firing::{Enabled, Event, FiringEntry, FiringPhase, Level, Timing};
use crate::graph::sqlfacts::WriteOp;
use crate::model::ObjectKey;
use petgraph::graph::{DiGraph, NodeIndex};
use serde::ser::SerializeMap;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Table,
    Trigger,
    Function,
    Channel,
    Dynamic,
    /// A rewrite rule (`rule:SCHEMA.TABLE.NAME`): its actions are analysed like a body.
    Rule,
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
    /// How the walk's root reaches this node along its surest path, each path as sure as
    /// its weakest edge (`always`: whenever the walked event happens). Absent in the
    /// whole-database graph, which has no single root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reached: Option<Certainty>,
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
    /// `table —rule→ rule`: a rewrite rule on the event; `instead` when it is `DO INSTEAD`.
    Rule,
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
            EdgeKind::Rule => "rule",
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
    pub event: Option<Event>,
    /// fires: position in the table's firing order for the event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<usize>,
    /// fires: `before_row`, `after_row`, `at_commit` (deferred constraint trigger), ….
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<FiringPhase>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub update_columns: Vec<String>,
    /// fires: the event a row trigger fires as when an UPDATE moves the row between
    /// partitions (`delete` on the source partition, `insert` on the destination).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fires_as: Option<Event>,
    /// fires: `disabled`, `replica` when not `origin`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<Enabled>,
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
    /// cascade: `cascade`, `set_null`, `set_default`, and the foreign key's name; calls from
    /// a row expression (`via` default, generated, check, policy): the column, constraint
    /// or policy in `constraint`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    /// rule: `DO INSTEAD` (the rule's actions replace the write, when unconditional).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub instead: bool,
    /// writes through an automatically updatable view (`via` = `view`) declared `WITH
    /// CHECK OPTION`: `local` or `cascaded`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_option: Option<String>,
    /// notifies with a channel computed at run time; dynamic SQL.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub opaque: bool,
    /// dynamic: the expression that builds the statement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// How sure the edge is to be taken when its source runs: `always`, `conditional`
    /// (with the `guard`: a PL/pgSQL branch, a trigger's WHEN, …) or `maybe-no-rows`.
    pub certainty: Certainty,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<String>,
}

impl GraphNode {
    /// The node of a table (`missing`: not in the snapshot).
    pub(crate) fn table(table: &str, missing: bool) -> Self {
        GraphNode {
            id: format!("table:{table}"),
            kind: NodeKind::Table,
            name: table.to_string(),
            table: None,
            missing,
            problem: None,
            reached: None,
        }
    }

    /// A node that is only its id, kind and name (a channel, dynamic SQL).
    pub(crate) fn named(id: &str, kind: NodeKind, name: String) -> Self {
        GraphNode {
            id: id.to_string(),
            kind,
            name,
            table: None,
            missing: false,
            problem: None,
            reached: None,
        }
    }
    /// The node of a trigger on `table`.
    pub(crate) fn trigger(id: &str, table: &str, entry: &FiringEntry) -> Self {
        GraphNode {
            id: id.to_string(),
            kind: NodeKind::Trigger,
            name: entry.trigger.clone(),
            table: Some(table.to_string()),
            missing: false,
            problem: None,
            reached: None,
        }
    }
}

impl GraphEdge {
    /// How sure the edge is, as one value.
    pub fn sure(&self) -> Sure {
        Sure {
            certainty: self.certainty,
            guard: self.guard.clone(),
        }
    }

    /// The edge with certainty `sure`.
    pub(crate) fn with_sure(mut self, sure: &Sure) -> Self {
        self.certainty = sure.certainty;
        self.guard = sure.guard.clone();
        self
    }

    /// `table —calls→ routine` for a routine a row expression of `event` calls.
    pub(crate) fn row_call(table: &str, event: Event, rc: &super::analyses::RowCall) -> Self {
        GraphEdge {
            from: format!("table:{table}"),
            to: rc.callee.to_string(),
            kind: EdgeKind::Calls,
            event: Some(event),
            via: Some(rc.via),
            constraint: Some(rc.name.clone()),
            ..GraphEdge::default()
        }
    }

    /// `trigger —calls→ routine` for a routine its WHEN condition calls.
    pub(crate) fn when_calls(trigger_id: &str, callee: &ObjectKey) -> Self {
        GraphEdge {
            from: trigger_id.to_string(),
            to: callee.to_string(),
            kind: EdgeKind::Calls,
            via: Some("when"),
            ..GraphEdge::default()
        }
    }

    /// `table —fires→ trigger` for one event, with the trigger's place in the firing order.
    pub(crate) fn fires(
        table: &str,
        trigger_id: &str,
        event: Event,
        entry: &FiringEntry,
        skipped: &Option<String>,
    ) -> Self {
        GraphEdge {
            from: format!("table:{table}"),
            to: trigger_id.to_string(),
            kind: EdgeKind::Fires,
            event: Some(event),
            order: Some(entry.order),
            phase: Some(entry.phase),
            timing: Some(entry.timing),
            level: Some(entry.level),
            when: entry.when.clone(),
            update_columns: entry.update_columns.clone(),
            fires_as: entry.fires_as,
            enabled: (entry.enabled != Enabled::Origin).then_some(entry.enabled),
            skipped: skipped.clone(),
            ..GraphEdge::default()
        }
        .with_sure(&fires_sure(entry))
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

/// How sure a trigger is to run its function when its table's event happens: its `WHEN`
/// condition, and the conditions of its place in a partition or inheritance tree (only rows
/// routed to a partition, stored in a child, moved), make it conditional.
pub fn fires_sure(entry: &FiringEntry) -> Sure {
    let mut guards = entry.conditions.clone();
    if let Some(w) = &entry.when {
        guards.push(format!("WHEN {w}"));
    }
    Sure::guarded(&guards)
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

    /// Set every node's `reached` from `root` (walked with `event`, an UPDATE setting
    /// `columns` when known): the surest path, a path as sure as its weakest edge; edges of
    /// triggers that do not fire are not taken. Nodes the root does not reach keep `None`.
    ///
    /// A table is reached per event (and UPDATE column set): its node is shared by every
    /// event that reaches it, but an INSERT that always happens does not make its UPDATE
    /// triggers run. So the walk is over (node, event, columns) states, and an edge out of a
    /// table is taken only in the states that fire it. Three levels, so a label-correcting
    /// pass settles quickly.
    pub(crate) fn mark_reached(&mut self, root: &str, event: Event, columns: Option<&[String]>) {
        use petgraph::visit::EdgeRef;
        type State = (NodeIndex, Option<Event>, Option<Vec<String>>);
        let Some(&r) = self.ids.get(root) else { return };
        let start: State = (r, Some(event), columns.map(<[String]>::to_vec));
        let mut best: HashMap<State, Certainty> = HashMap::new();
        best.insert(start.clone(), Certainty::Always);
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(state) = queue.pop_front() {
            let at = best[&state];
            let (n, ev, cols) = &state;
            let from_table = self.graph[*n].kind == NodeKind::Table;
            for e in self.graph.edges(*n) {
                let w = e.weight();
                if w.skipped.is_some() {
                    continue;
                }
                if from_table {
                    if w.event.is_some() && w.event != *ev {
                        continue;
                    }
                    // A trigger fired as the DELETE or INSERT of a moved row does not
                    // look at its UPDATE OF list.
                    let as_update = w.fires_as.is_none();
                    if let (Some(set), false) = (cols, w.update_columns.is_empty() || !as_update) {
                        if !w.update_columns.iter().any(|c| set.contains(c)) {
                            continue;
                        }
                    }
                }
                let target_kind = self.graph[e.target()].kind;
                let next: State = match (w.kind, target_kind) {
                    (EdgeKind::Writes, NodeKind::Table) => {
                        let op = w.op.map(WriteOp::event);
                        let c = (op == Some(Event::Update))
                            .then(|| w.columns.clone())
                            .flatten();
                        (e.target(), op, c)
                    }
                    (EdgeKind::Cascade, _) => {
                        // An ON UPDATE CASCADE sets the child's key columns; a cascade
                        // without columns deletes (a DELETE, or a row moved between
                        // partitions before PostgreSQL 15).
                        let child = match (w.event, w.action.as_deref()) {
                            (_, Some("cascade")) if w.columns.is_none() => Event::Delete,
                            (Some(Event::Truncate), _) => Event::Truncate,
                            _ => Event::Update,
                        };
                        let c = (child == Event::Update)
                            .then(|| w.columns.clone())
                            .flatten();
                        (e.target(), Some(child), c)
                    }
                    _ => (e.target(), None, None),
                };
                let c = at.min(w.certainty);
                if best.get(&next).is_none_or(|&b| b < c) {
                    best.insert(next.clone(), c);
                    queue.push_back(next);
                }
            }
        }
        let mut reached: HashMap<NodeIndex, Certainty> = HashMap::new();
        for ((i, _, _), c) in best {
            let r = reached.entry(i).or_insert(c);
            *r = (*r).max(c);
        }
        for (i, c) in reached {
            self.graph[i].reached = Some(c);
        }
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
