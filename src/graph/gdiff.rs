//! The graph diff: what the fan-out of one table and event gains and loses between two
//! snapshots — firing order, edges, reached tables, channels, hazards, cycles, opaque
//! (dynamic SQL) edges — the review people want before a deploy.
//!
//! Identity is by name, never by position or id: an edge is its kind, its ends (object keys
//! and `channel:`/`dynamic:` ids built from names) and the qualifiers that make it a
//! different edge (event, write op, `via`, constraint); everything else an edge carries is an
//! attribute, compared field by field, so a WHEN edited in place is a change, not a
//! remove + add. The one attribute left out is `order` (a trigger's position): adding one
//! trigger shifts every later one, and positions are reported once, in the firing-order
//! section, as added / removed / moved (a move is a trigger outside the longest common
//! subsequence of the two orders). Attributes are compared as their JSON fields, so a field
//! a later version adds to an edge is compared without this module knowing it.

use crate::graph::fanout::{
    table_fanout, Cycle, Fanout, GraphError, Hazard, Unanalysable, WalkOptions,
};
use crate::graph::firing::Event;
use crate::graph::resolve_table;
use crate::model::{CatalogSnapshot, ObjectKey, ObjectKind};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

mod compare;
use compare::*;

/// Edge fields that make an edge a different edge; the rest are attributes.
const EDGE_IDENTITY: [&str; 7] = ["kind", "from", "to", "event", "op", "via", "constraint"];
/// Edge fields not compared: positions, reported by the firing-order section instead.
const EDGE_POSITION: [&str; 1] = ["order"];
/// Hazard fields that are positions (they shift when an unrelated trigger is added).
const HAZARD_POSITION: [&str; 2] = ["reader_order", "writer_order"];

#[derive(Debug, thiserror::Error)]
pub enum GraphDiffError {
    #[error("no table {name:?} in either snapshot{}", hint(candidates))]
    UnknownTable {
        name: String,
        candidates: Vec<String>,
    },
    #[error("table name {name:?} means {base} in the base snapshot but {head} in the head: qualify it with its schema")]
    DifferentTables {
        name: String,
        base: String,
        head: String,
    },
    #[error(transparent)]
    Graph(#[from] GraphError),
}

fn hint(candidates: &[String]) -> String {
    if candidates.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", candidates.join(", "))
    }
}

/// The graph diff of one table over one or more events.
#[derive(Clone, Debug, Serialize)]
pub struct GraphDiff {
    pub table: String,
    pub base_has_table: bool,
    pub head_has_table: bool,
    pub events: Vec<EventDiff>,
    /// Any difference (or a side that could not be walked completely).
    pub changed: bool,
}

/// What changed in the fan-out of one (table, event).
#[derive(Clone, Debug, Default, Serialize)]
pub struct EventDiff {
    pub event: Option<Event>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    pub changed: bool,
    /// Per reached (table, event) whose firing order differs; the walked table first.
    pub firing_order: Vec<OrderDiff>,
    pub edges: EdgeChanges,
    /// Opaque edges (dynamic SQL, channels computed at run time) among the added / removed.
    pub opaque: AddedRemoved<Value>,
    /// Tables the fan-out reaches (the walked one aside).
    pub tables: AddedRemoved<String>,
    /// `pg_notify` channels; `?` is a channel computed at run time.
    pub channels: AddedRemoved<String>,
    /// Nodes on both sides whose fields differ (a function dropped, a body no longer
    /// analysable).
    pub nodes_changed: Vec<FieldChanges>,
    pub hazards: AddedRemoved<Hazard>,
    pub cycles: AddedRemoved<Cycle>,
    pub unanalysable: AddedRemoved<Unanalysable>,
    /// Routines unanalysable on both sides whose definition changed: what they do may have
    /// changed without any edge showing it.
    pub unanalysable_changed: Vec<String>,
    /// Why a side's walk is incomplete (its budget ran out): differences may be missing.
    pub incomplete: Vec<String>,
    /// `--depth` left states unexpanded on a side: the diff covers the walked depth only.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub depth_limited: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct AddedRemoved<T> {
    pub added: Vec<T>,
    pub removed: Vec<T>,
}

impl<T> Default for AddedRemoved<T> {
    fn default() -> Self {
        AddedRemoved {
            added: Vec::new(),
            removed: Vec::new(),
        }
    }
}

impl<T> AddedRemoved<T> {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct EdgeChanges {
    pub added: Vec<Value>,
    pub removed: Vec<Value>,
    pub changed: Vec<FieldChanges>,
}

/// One edge or node on both sides with the fields that differ.
#[derive(Clone, Debug, Serialize)]
pub struct FieldChanges {
    /// The identity fields (an edge's kind, ends and qualifiers; a node's id and kind).
    #[serde(flatten)]
    pub identity: Map<String, Value>,
    /// field → `{"base": …, "head": …}` (null: absent on that side).
    pub changes: BTreeMap<String, BaseHead>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BaseHead {
    pub base: Value,
    pub head: Value,
}

/// The firing order of one (table, event) on both sides, as far as it differs.
#[derive(Clone, Debug, Serialize)]
pub struct OrderDiff {
    pub table: String,
    pub event: Event,
    /// Triggers only in the head, at their head position.
    pub added: Vec<Place>,
    /// Triggers only in the base, at their base position.
    pub removed: Vec<Place>,
    /// A removed and an added trigger alike in all but name (timing, level, events, WHEN,
    /// function and arguments): a rename, often made to reorder. Not also listed as added
    /// and removed; their edges are (a trigger's edges are identified by its name).
    pub renamed: Vec<Rename>,
    /// Triggers on both sides whose place relative to the others changed.
    pub moved: Vec<Move>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rename {
    pub base_trigger: String,
    pub head_trigger: String,
    pub base_order: usize,
    pub head_order: usize,
    pub phase: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Place {
    pub trigger: String,
    pub order: usize,
    pub phase: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Move {
    pub trigger: String,
    pub base_order: usize,
    pub head_order: usize,
    pub base_phase: Value,
    pub head_phase: Value,
}

/// Walk `table` (as a user typed it) on both snapshots for each of `events` and compare.
/// A table in neither snapshot is an error; in one only, the other side is empty.
pub fn graph_diff(
    base: &CatalogSnapshot,
    head: &CatalogSnapshot,
    table: &str,
    events: &[Event],
    columns: Option<Vec<String>>,
    opts: &WalkOptions,
) -> Result<GraphDiff, GraphDiffError> {
    let resolve = |snap: &CatalogSnapshot| match resolve_table(snap, table) {
        Ok(t) => Ok(Some(t)),
        Err(GraphError::UnknownTable { .. }) => Ok(None),
        Err(e) => Err(GraphDiffError::from(e)),
    };
    let (b, h) = (resolve(base)?, resolve(head)?);
    let name = match (&b, &h) {
        (None, None) => {
            let mut candidates = BTreeSet::new();
            for snap in [base, head] {
                if let Err(GraphError::UnknownTable { candidates: c, .. }) =
                    resolve_table(snap, table)
                {
                    candidates.extend(c);
                }
            }
            return Err(GraphDiffError::UnknownTable {
                name: table.to_string(),
                candidates: candidates.into_iter().take(5).collect(),
            });
        }
        (Some(b), Some(h)) if b != h => {
            return Err(GraphDiffError::DifferentTables {
                name: table.to_string(),
                base: b.clone(),
                head: h.clone(),
            })
        }
        (Some(t), _) | (_, Some(t)) => t.clone(),
    };
    let mut out = GraphDiff {
        table: name.clone(),
        base_has_table: b.is_some(),
        head_has_table: h.is_some(),
        events: Vec::new(),
        changed: b.is_none() || h.is_none(),
    };
    for &event in events {
        let walk = |snap: &CatalogSnapshot, present: bool| {
            present
                .then(|| table_fanout(snap, &name, event, columns.clone(), opts))
                .transpose()
        };
        let fb = walk(base, b.is_some())?;
        let fh = walk(head, h.is_some())?;
        let mut d = diff_fanouts(fb.as_ref(), fh.as_ref(), base, head);
        d.event = Some(event);
        out.changed |= d.changed;
        out.events.push(d);
    }
    Ok(out)
}

/// Compare two walks of the same (table, event); `None`: the table is not on that side.
pub fn diff_fanouts(
    base: Option<&Fanout>,
    head: Option<&Fanout>,
    base_snap: &CatalogSnapshot,
    head_snap: &CatalogSnapshot,
) -> EventDiff {
    let root = base.or(head).map(|f| format!("table:{}", f.table));
    let (vb, vh) = (json_of(base), json_of(head));
    let mut d = EventDiff {
        event: base.or(head).map(|f| f.event),
        columns: base.or(head).and_then(|f| f.columns.clone()),
        ..EventDiff::default()
    };

    // Edges: grouped by identity; one edge a side with the same identity is a change of
    // its attributes, anything else a set difference of whole edges.
    let (eb, eh) = (edge_groups(&vb), edge_groups(&vh));
    for id in eb.keys().chain(eh.keys()).collect::<BTreeSet<_>>() {
        let empty = Vec::new();
        let (xs, ys) = (eb.get(id).unwrap_or(&empty), eh.get(id).unwrap_or(&empty));
        if let ([x], [y]) = (xs.as_slice(), ys.as_slice()) {
            if let Some(c) = field_changes(x, y, &EDGE_IDENTITY, &EDGE_POSITION) {
                d.edges.changed.push(c);
            }
            continue;
        }
        let strip = |e: &Value| without(e, &EDGE_POSITION);
        let sb: Vec<Value> = xs.iter().map(strip).collect();
        let sh: Vec<Value> = ys.iter().map(strip).collect();
        for (x, s) in xs.iter().zip(&sb) {
            if !sh.contains(s) {
                d.edges.removed.push(x.clone());
            }
        }
        for (y, s) in ys.iter().zip(&sh) {
            if !sb.contains(s) {
                d.edges.added.push(y.clone());
            }
        }
    }
    let opaque = |e: &&Value| e["opaque"] == Value::Bool(true);
    d.opaque.added = d.edges.added.iter().filter(opaque).cloned().collect();
    d.opaque.removed = d.edges.removed.iter().filter(opaque).cloned().collect();
    for c in &d.edges.changed {
        if let Some(o) = c.changes.get("opaque") {
            let edge = Value::Object(c.identity.clone());
            if o.head == Value::Bool(true) {
                d.opaque.added.push(edge);
            } else if o.base == Value::Bool(true) {
                d.opaque.removed.push(edge);
            }
        }
    }

    // Nodes: reached tables and channels by id; fields of nodes on both sides.
    let (nb, nh) = (nodes(&vb), nodes(&vh));
    let of_kind = |n: &BTreeMap<String, Value>, kind: &str| -> BTreeMap<String, String> {
        n.iter()
            .filter(|(id, v)| v["kind"] == kind && Some(*id) != root.as_ref())
            .map(|(id, v)| (id.clone(), v["name"].as_str().unwrap_or(id).to_string()))
            .collect()
    };
    d.tables = added_removed_by_key(&of_kind(&nb, "table"), &of_kind(&nh, "table"));
    let channel = |n: &BTreeMap<String, Value>| -> BTreeMap<String, String> {
        n.iter()
            .filter(|(_, v)| v["kind"] == "channel")
            .map(|(id, _)| (id.clone(), id.trim_start_matches("channel:").to_string()))
            .collect()
    };
    d.channels = added_removed_by_key(&channel(&nb), &channel(&nh));
    for (id, x) in &nb {
        if let Some(y) = nh.get(id) {
            if let Some(c) = field_changes(x, y, &["id", "kind"], &[]) {
                d.nodes_changed.push(c);
            }
        }
    }

    // Hazards by what they say, not at which positions; cycles and unanalysable routines
    // as they are.
    let side = |f: Option<&Fanout>| {
        f.map(|f| (f.hazards.clone(), f.cycles.clone(), f.unanalysable.clone()))
            .unwrap_or_default()
    };
    let ((hb, cb, ub), (hh, ch, uh)) = (side(base), side(head));
    d.hazards = added_removed(hb, hh, &HAZARD_POSITION);
    d.cycles = added_removed(cb, ch, &[]);
    d.unanalysable = added_removed(ub, uh, &[]);
    if let (Some(b), Some(h)) = (base, head) {
        for u in &b.unanalysable {
            if h.unanalysable.contains(u) {
                let key = ObjectKey::new(ObjectKind::Function, &u.function);
                let (b, h) = (base_snap.objects.get(&key), head_snap.objects.get(&key));
                if b.map(|o| &o.def) != h.map(|o| &o.def) {
                    d.unanalysable_changed.push(u.function.clone());
                }
            }
        }
    }

    d.firing_order = order_diffs(&vb, &vh, root.as_deref());
    for (side, f) in [("base", base), ("head", head)] {
        if let Some(f) = f {
            if f.truncated {
                d.incomplete.push(format!(
                    "the {side} walk stopped early (the call graph multiplies paths beyond its budget)"
                ));
            }
            d.depth_limited |= f.depth_limited;
        }
    }
    d.changed = base.is_some() != head.is_some()
        || !d.firing_order.is_empty()
        || !d.edges.added.is_empty()
        || !d.edges.removed.is_empty()
        || !d.edges.changed.is_empty()
        || !d.tables.is_empty()
        || !d.channels.is_empty()
        || !d.nodes_changed.is_empty()
        || !d.hazards.is_empty()
        || !d.cycles.is_empty()
        || !d.unanalysable.is_empty()
        || !d.unanalysable_changed.is_empty()
        || !d.incomplete.is_empty();
    d
}

#[cfg(test)]
mod tests;
