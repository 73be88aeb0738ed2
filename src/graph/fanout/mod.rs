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

use crate::graph::body::BodyFacts;
use crate::graph::certainty::Sure;
use crate::graph::firing::{Event, FiringEntry, FiringPhase};
use crate::graph::index::SnapshotIndex;
use crate::graph::sqlfacts::WriteOp;
use crate::model::{quote_ident, CatalogSnapshot, ObjectKey, ObjectKind};
use std::collections::{BTreeSet, HashSet};
use std::rc::Rc;

// The rooms of the walk: the graph's types (`graph`), what it warns about (`hazard`), the
// visit tree and options (`visit`), what a user names (`input`) and the routine analyses
// (`analyses`); the walker itself stays here. Their items are the walk's interface and are
// re-exported, so callers name `fanout::X` whichever room holds it.
mod analyses;
mod graph;
mod hazard;
mod input;
pub(crate) mod rewrite;
#[cfg(test)]
mod tests;
mod visit;

pub use analyses::*;
pub use graph::*;
pub use hazard::*;
pub use input::*;
pub use visit::*;

/// Past this many function expansions in one walk the walk stops and says so: a guard
/// against call graphs whose paths multiply, not a limit a real catalog reaches.
const FUNCTION_VISIT_BUDGET: usize = 200_000;

type StateKey = (String, Event, Option<Vec<String>>);

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
    event: Event,
    columns: Option<Vec<String>>,
    opts: &WalkOptions,
) -> Result<Fanout, GraphError> {
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
    w.graph
        .mark_reached(&format!("table:{table}"), event, columns.as_deref());
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
        event,
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

/// The nodes and edges of what one function's own body does: writes, notifications,
/// dynamic SQL (its calls are drawn by the caller, which follows them).
pub(crate) fn draw_body(graph: &mut FanoutGraph, key: &ObjectKey, facts: &BodyFacts) {
    let from = key.to_string();
    for w in &facts.writes {
        graph.node(GraphNode::table(&w.table, !w.in_snapshot));
        graph.edge(
            GraphEdge {
                from: from.clone(),
                to: format!("table:{}", w.table),
                kind: EdgeKind::Writes,
                op: Some(w.op),
                columns: w.columns.clone(),
                via: w.via,
                ..GraphEdge::default()
            }
            .with_sure(&w.sure),
        );
    }
    for n in &facts.notifies {
        let (id, name) = match &n.channel {
            Some(c) => (format!("channel:{c}"), c.clone()),
            None => (
                "channel:?".to_string(),
                "(channel computed at run time)".to_string(),
            ),
        };
        graph.node(GraphNode::named(&id, NodeKind::Channel, name));
        graph.edge(
            GraphEdge {
                from: from.clone(),
                to: id,
                kind: EdgeKind::Notifies,
                opaque: n.channel.is_none(),
                ..GraphEdge::default()
            }
            .with_sure(&n.sure),
        );
    }
    for d in &facts.dynamic {
        let id = format!("dynamic:{}", key.name());
        graph.node(GraphNode::named(
            &id,
            NodeKind::Dynamic,
            "dynamic SQL (EXECUTE)".to_string(),
        ));
        graph.edge(
            GraphEdge {
                from: from.clone(),
                to: id,
                kind: EdgeKind::Dynamic,
                opaque: !d.literal,
                expression: Some(d.expression.clone()),
                ..GraphEdge::default()
            }
            .with_sure(&d.sure),
        );
    }
}

/// For each trigger of a firing order, the first earlier BEFORE ROW trigger that may skip
/// the row (return NULL, or anything but the row; an unanalysed body may), when it is a
/// row trigger: it fires only if that one did not skip the row. Statement triggers fire
/// regardless.
pub(crate) fn row_skippers(
    index: &SnapshotIndex<'_>,
    analyses: &mut Analyses,
    order: &[FiringEntry],
    event: Event,
    columns: Option<&[String]>,
) -> Vec<Option<String>> {
    let row = if event == Event::Delete { "old" } else { "new" };
    let mut skipper: Option<String> = None;
    let mut out = Vec::with_capacity(order.len());
    for entry in order {
        let row_level = !matches!(
            entry.phase,
            FiringPhase::BeforeStatement | FiringPhase::AfterStatement
        );
        out.push(skipper.clone().filter(|_| row_level));
        let may_skip = skipper.is_none()
            && entry.phase == FiringPhase::BeforeRow
            && skip_reason(entry, event, columns).is_none()
            && analyses
                .get(
                    index,
                    &ObjectKey::new(ObjectKind::Function, &entry.function),
                )
                .is_none_or(|f| f.may_skip_row(row));
        if may_skip {
            skipper = Some(entry.trigger.clone());
        }
    }
    out
}

/// A fires edge of a trigger that an earlier BEFORE ROW trigger may keep from firing.
pub(crate) fn unless_skipped(fires: GraphEdge, by: Option<&str>) -> GraphEdge {
    match by {
        Some(by) => {
            let sure = fires.sure().under(&Sure::guarded(&[skip_guard(by)]));
            fires.with_sure(&sure)
        }
        None => fires,
    }
}

/// The guard of a row trigger after a BEFORE ROW trigger that may skip the row.
pub fn skip_guard(trigger: &str) -> String {
    format!("unless BEFORE trigger {trigger} skips the row")
}

fn state_label(table: &str, event: Event, columns: &Option<Vec<String>>) -> String {
    match columns {
        Some(c) if event == Event::Update => format!("{table} UPDATE OF {}", c.join(", ")),
        _ => format!("{table} {}", event.label()),
    }
}

impl Walker<'_, '_> {
    fn visit_table(
        &mut self,
        table: &str,
        event: Event,
        columns: Option<Vec<String>>,
        depth: usize,
    ) -> TableVisit {
        let in_snapshot = self.index.has_relation(table);
        self.graph.node(GraphNode::table(table, !in_snapshot));
        let mut visit = TableVisit {
            table: table.to_string(),
            event,
            columns: columns.clone(),
            outcome: VisitOutcome::Expanded,
            row_calls: Vec::new(),
            rules: Vec::new(),
            replaced_by: None,
            through_view: None,
            view_refused: None,
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
        let order = self
            .index
            .statement_firing_order(table, event, columns.as_deref());
        let rules = self.index.rules_on(table, event);
        let view = self.index.view(table);
        // An unconditional DO INSTEAD rule replaces the write: the relation is not
        // written, so nothing of its own (row expressions, triggers, cascades) runs.
        let replaced_by = rewrite::replacing_rule(&rules);
        let written = replaced_by.is_none();
        let cascades = if written {
            cascades(self.index, table, event, columns.as_deref())
        } else {
            Vec::new()
        };
        let row_calls = if written {
            self.analyses.row_calls(self.index, table, event)
        } else {
            Rc::default()
        };
        if self.depth.is_some_and(|d| depth >= d) {
            if !order.is_empty()
                || !cascades.is_empty()
                || !row_calls.is_empty()
                || !rules.is_empty()
                || view.is_some()
            {
                visit.outcome = VisitOutcome::DepthLimit;
                self.depth_limited = true;
            }
            return visit;
        }
        self.expanded.insert(key.clone());
        self.path.push((key, self.trail.len()));
        self.trail.push(label);

        visit.rules = self.visit_rules(table, event, &rules, depth);
        visit.replaced_by = replaced_by.clone();
        for rc in row_calls.iter() {
            // A domain CHECK runs on UPDATE only for the columns the UPDATE sets.
            let sure = match (&rc.only_if_set, columns.as_deref()) {
                (Some(c), Some(set)) if !set.contains(c) => continue,
                (Some(c), None) => Sure::guarded(&[format!("when column {c} is set")]),
                _ => Sure::always(),
            };
            self.function_node(&rc.callee);
            self.graph
                .edge(GraphEdge::row_call(table, event, rc).with_sure(&sure));
            self.trail.push(format!("{} {}", rc.via, rc.name));
            let mut function = self.visit_function(&rc.callee, depth);
            function.sure = sure;
            self.trail.pop();
            visit.row_calls.push(RowCallVisit {
                via: rc.via,
                name: rc.name.clone(),
                function,
            });
        }
        // A BEFORE ROW trigger returning NULL skips the row: the row triggers after it
        // do not fire for that row, so they are conditional on it not doing so.
        let skippers = row_skippers(self.index, self.analyses, &order, event, columns.as_deref());
        // A write on a view that no INSTEAD OF trigger handles is rewritten onto the base
        // relation when the view is automatically updatable; then the base relation's
        // statement triggers fire, not the view's.
        let mut not_written = replaced_by
            .as_ref()
            .map(|r| format!("the write is replaced by DO INSTEAD rule {r}"));
        if let (Some(v), true) = (view, written && !rewrite::has_instead_of_trigger(&order)) {
            match self.visit_view_base(table, v, event, columns.as_deref(), depth) {
                Ok(w) => {
                    not_written = Some(format!(
                        "the write is rewritten onto the base relation {}",
                        w.base.table
                    ));
                    visit.through_view = Some(Box::new(w));
                }
                Err(why) => visit.view_refused = Some(why),
            }
        }
        for (entry, unless) in order.into_iter().zip(skippers) {
            // Disabled, replica-only, UPDATE OF not met, or the relation not written.
            let skipped = not_written
                .clone()
                .or_else(|| skip_reason(&entry, event, columns.as_deref()));
            visit
                .triggers
                .push(self.visit_trigger(table, event, entry, depth, unless, skipped));
        }
        self.order_hazards(table, event, &visit.triggers);
        for cascade in cascades {
            let sure = cascade.sure();
            let Cascade {
                constraint,
                child,
                action,
                child_event,
                child_columns: child_cols,
                guard: _,
            } = cascade;
            self.graph
                .node(GraphNode::table(&child, !self.index.has_relation(&child)));
            self.graph.edge(
                GraphEdge {
                    from: format!("table:{table}"),
                    to: format!("table:{child}"),
                    kind: EdgeKind::Cascade,
                    event: Some(event),
                    action: Some(action.clone()),
                    constraint: Some(constraint.clone()),
                    columns: child_cols.clone(),
                    // The parent row may have no child rows to act on.
                    ..GraphEdge::default()
                }
                .with_sure(&sure),
            );
            self.trail.push(format!(
                "{constraint} ON {} {}",
                event.label(),
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
        event: Event,
        entry: FiringEntry,
        depth: usize,
        unless_skipped_by: Option<String>,
        skipped: Option<String>,
    ) -> TriggerVisit {
        let trigger_id = format!(
            "trigger:{}.{}",
            entry.routed_to.as_deref().unwrap_or(table),
            quote_ident(&entry.trigger)
        );
        let fn_key = ObjectKey::new(ObjectKind::Function, &entry.function);
        self.graph.node(GraphNode::trigger(
            &trigger_id,
            entry.routed_to.as_deref().unwrap_or(table),
            &entry,
        ));
        let fires = GraphEdge::fires(table, &trigger_id, event, &entry, &skipped);
        self.graph
            .edge(unless_skipped(fires, unless_skipped_by.as_deref()));
        self.function_node(&fn_key);
        self.graph
            .edge(GraphEdge::calls_function(&trigger_id, &fn_key, &entry));
        let mut when_calls = Vec::new();
        if let (None, Some(when)) = (&skipped, &entry.when) {
            let callees = self.analyses.expression_calls(self.index, when);
            self.trail.push(entry.trigger.clone());
            for callee in callees.iter() {
                self.function_node(callee);
                self.graph.edge(GraphEdge::when_calls(&trigger_id, callee));
                when_calls.push(self.visit_function(callee, depth));
            }
            self.trail.pop();
        }
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
            when_calls,
            unless_skipped_by,
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
        // A rule's actions are analysed like a body, but the node is the rule's.
        if key.kind() == ObjectKind::Rule {
            return facts;
        }
        self.graph.node(GraphNode {
            id: key.to_string(),
            kind: NodeKind::Function,
            name: key.name().to_string(),
            table: None,
            missing: facts.is_none(),
            problem,
            reached: None,
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
            sure: Sure::always(),
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
            let sure = facts.call_sures.get(callee).cloned().unwrap_or_default();
            self.function_node(callee);
            self.graph.edge(
                GraphEdge {
                    from: from.clone(),
                    to: callee.to_string(),
                    kind: EdgeKind::Calls,
                    ..GraphEdge::default()
                }
                .with_sure(&sure),
            );
            let mut v = self.visit_function(callee, depth);
            v.sure = sure;
            visit.calls.push(v);
        }
        self.trail.pop();
        self.call_path.pop();
        visit
    }

    /// Ordering hazards among the triggers that fire on one table state.
    fn order_hazards(&mut self, table: &str, event: Event, triggers: &[TriggerVisit]) {
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
    event: Event,
    columns: Option<Vec<String>>,
    opts: &WalkOptions,
) -> Result<Fanout, GraphError> {
    let index = SnapshotIndex::new(snapshot);
    let mut analyses = Analyses::lazy();
    fanout(&index, &mut analyses, table, event, columns, opts)
}
