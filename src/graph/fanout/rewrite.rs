//! What the rewriter does to a write before any trigger fires: the relation's rules (`DO
//! ALSO` actions added, an unconditional `DO INSTEAD` replacing the write) and, on an
//! automatically updatable view, the write moved onto the base relation.

use super::{GraphEdge, GraphNode, NodeKind, RuleVisit, TableVisit, ViewWrite, Walker};
use crate::graph::body::rule_condition;
use crate::graph::certainty::Sure;
use crate::graph::fanout::EdgeKind;
use crate::graph::firing::{Event, FiringEntry, FiringPhase};
use crate::graph::index::SnapshotIndex;
use crate::graph::sqlfacts::WriteOp;
use crate::graph::views::{auto_updatable_base, check_option};
use crate::model::{Enabled, ObjectKey, ObjectKind, RuleDef, ViewDef};

/// Whether a rule applies in an ordinary session (as triggers: `disabled` never does,
/// `replica` only with `session_replication_role = replica`).
pub(crate) fn rule_skip_reason(rule: &RuleDef) -> Option<String> {
    match rule.enabled.parse::<Enabled>() {
        Ok(e) if e.fires_normally() => None,
        Ok(Enabled::Replica) => {
            Some("replica-only (applies only with session_replication_role = replica)".into())
        }
        Ok(e) => Some(e.to_string()),
        // An enabled state this version does not know: assume it applies, so nothing it
        // does is hidden.
        Err(_) => None,
    }
}

/// The rule that replaces the write: the first applying `DO INSTEAD` rule without a
/// `WHERE` (with one, PostgreSQL still runs the write for the rows it rejects). A rule
/// whose definition cannot be read is taken as conditional, so the write stays shown.
pub(crate) fn replacing_rule(rules: &[(&ObjectKey, &RuleDef)]) -> Option<String> {
    rules
        .iter()
        .find(|(_, r)| r.instead && rule_skip_reason(r).is_none() && unconditional(r))
        .map(|(_, r)| r.name.clone())
}

/// Parsed, the rule has no `WHERE`.
fn unconditional(r: &RuleDef) -> bool {
    let Ok(parsed) = pg_query::parse(&r.definition) else {
        return false;
    };
    parsed.protobuf.stmts.iter().any(|s| {
        matches!(
            s.stmt.as_ref().and_then(|n| n.node.as_ref()),
            Some(pg_query::NodeEnum::RuleStmt(st)) if st.where_clause.is_none()
        )
    })
}

/// Whether a firing order has an INSTEAD OF row trigger that fires: then the trigger, not
/// the auto-update, handles a write on a view.
pub(crate) fn has_instead_of_trigger(order: &[FiringEntry]) -> bool {
    order
        .iter()
        .any(|e| e.phase == FiringPhase::InsteadOfRow && e.fires_normally())
}

/// Where a write on a view that nothing else handles goes: the base relation, the base
/// columns an UPDATE sets (when known) and the view's check option; `Err` with why
/// PostgreSQL refuses the write.
pub(crate) struct BaseWrite {
    pub target: String,
    pub columns: Option<Vec<String>>,
    pub check_option: Option<String>,
}

pub(crate) fn view_base_write(
    index: &SnapshotIndex<'_>,
    view: &ViewDef,
    event: Event,
    columns: Option<&[String]>,
) -> Result<BaseWrite, String> {
    if event == Event::Truncate {
        return Err("TRUNCATE does not apply to views".into());
    }
    let aggregates = |name: &str| {
        index
            .snapshot
            .objects_of(ObjectKind::Aggregate)
            .any(|o| o.as_routine().is_some_and(|r| r.name == name))
    };
    let base = auto_updatable_base(&view.definition, &aggregates)
        .map_err(|why| format!("the view is not automatically updatable ({why})"))?;
    let path = ["public".to_string()];
    let Some(target) = index.resolve_relation(base.schema.as_deref(), &base.name, &path) else {
        return Err(format!(
            "its base relation {} is not in the snapshot",
            base.name
        ));
    };
    // An UPDATE sets the base columns the view's columns stand for; one not known (an
    // expression column cannot be set) leaves the set unknown.
    let columns = columns.and_then(|cols| {
        cols.iter()
            .map(|c| base.columns.get(c).cloned())
            .collect::<Option<Vec<_>>>()
    });
    Ok(BaseWrite {
        target,
        columns,
        check_option: check_option(&view.options),
    })
}

/// The `view —writes→ base` edge of a write through a view.
pub(crate) fn view_write_edge(view_name: &str, event: Event, w: &BaseWrite) -> GraphEdge {
    let op = match event {
        Event::Insert => WriteOp::Insert,
        Event::Update => WriteOp::Update,
        _ => WriteOp::Delete,
    };
    GraphEdge {
        from: format!("table:{view_name}"),
        to: format!("table:{}", w.target),
        kind: EdgeKind::Writes,
        op: Some(op),
        columns: w.columns.clone(),
        via: Some("view"),
        check_option: w.check_option.clone(),
        ..GraphEdge::default()
    }
}

/// The node and edge of a rule on `table`.
pub(crate) fn draw_rule(
    graph: &mut super::FanoutGraph,
    table: &str,
    event: Event,
    key: &ObjectKey,
    rule: &RuleDef,
) {
    let condition = rule_condition(&rule.definition);
    let id = key.to_string();
    graph.node(GraphNode {
        table: Some(table.to_string()),
        ..GraphNode::named(&id, NodeKind::Rule, rule.name.clone())
    });
    let sure = match &condition {
        Some(c) => Sure::guarded(&[format!("rule WHERE {c}")]),
        None => Sure::always(),
    };
    graph.edge(
        GraphEdge {
            from: format!("table:{table}"),
            to: id,
            kind: EdgeKind::Rule,
            event: Some(event),
            instead: rule.instead,
            when: condition,
            skipped: rule_skip_reason(rule),
            ..GraphEdge::default()
        }
        .with_sure(&sure),
    );
}

impl Walker<'_, '_> {
    /// Draw and follow the rules of `table` for `event`.
    pub(super) fn visit_rules(
        &mut self,
        table: &str,
        event: Event,
        rules: &[(&ObjectKey, &RuleDef)],
        depth: usize,
    ) -> Vec<RuleVisit> {
        let mut out = Vec::new();
        for (key, rule) in rules {
            let skipped = rule_skip_reason(rule);
            let condition = rule_condition(&rule.definition);
            draw_rule(&mut self.graph, table, event, key, rule);
            let actions = if skipped.is_none() {
                self.trail.push(format!("rule {}", rule.name));
                let v = self.visit_function(key, depth);
                self.trail.pop();
                Some(v)
            } else {
                None
            };
            out.push(RuleVisit {
                name: rule.name.clone(),
                instead: rule.instead,
                condition,
                skipped,
                actions,
            });
        }
        out
    }

    /// A write on a view that no INSTEAD OF trigger and no unconditional INSTEAD rule
    /// handles: onto its base relation when the view is automatically updatable, else the
    /// reason PostgreSQL refuses the write.
    pub(super) fn visit_view_base(
        &mut self,
        view_name: &str,
        view: &ViewDef,
        event: Event,
        columns: Option<&[String]>,
        depth: usize,
    ) -> Result<ViewWrite, String> {
        let w = view_base_write(self.index, view, event, columns)?;
        self.graph.node(GraphNode::table(&w.target, false));
        self.graph.edge(view_write_edge(view_name, event, &w));
        self.trail.push(format!("through view {view_name}"));
        let base: TableVisit = self.visit_table(&w.target, event, w.columns, depth + 1);
        self.trail.pop();
        Ok(ViewWrite {
            check_option: w.check_option,
            base,
        })
    }
}
