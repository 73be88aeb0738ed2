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

fn json_of(f: Option<&Fanout>) -> Value {
    f.map(|f| serde_json::to_value(f).expect("a fan-out serialises"))
        .unwrap_or_else(|| serde_json::json!({"nodes": [], "edges": [], "hazards": [], "cycles": [], "unanalysable": []}))
}

fn array(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// The identity of an edge, as a sortable string (its identity fields in JSON).
fn identity(e: &Value, fields: &[&str]) -> Map<String, Value> {
    fields
        .iter()
        .filter_map(|f| e.get(*f).map(|v| (f.to_string(), v.clone())))
        .collect()
}

fn edge_groups(v: &Value) -> BTreeMap<String, Vec<Value>> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for e in array(&v["edges"]) {
        let id = Value::Object(identity(e, &EDGE_IDENTITY)).to_string();
        out.entry(id).or_default().push(e.clone());
    }
    out
}

fn without(v: &Value, fields: &[&str]) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        for f in fields {
            m.remove(*f);
        }
    }
    v
}

/// The fields of `x` and `y` (same identity) that differ, skipping `ignored`.
fn field_changes(x: &Value, y: &Value, ident: &[&str], ignored: &[&str]) -> Option<FieldChanges> {
    let (Some(mx), Some(my)) = (x.as_object(), y.as_object()) else {
        return None;
    };
    let mut changes = BTreeMap::new();
    for k in mx.keys().chain(my.keys()).collect::<BTreeSet<_>>() {
        if ident.contains(&k.as_str()) || ignored.contains(&k.as_str()) {
            continue;
        }
        let (a, b) = (
            mx.get(k).cloned().unwrap_or(Value::Null),
            my.get(k).cloned().unwrap_or(Value::Null),
        );
        if a != b {
            changes.insert(k.clone(), BaseHead { base: a, head: b });
        }
    }
    (!changes.is_empty()).then(|| FieldChanges {
        identity: identity(x, ident),
        changes,
    })
}

fn nodes(v: &Value) -> BTreeMap<String, Value> {
    array(&v["nodes"])
        .iter()
        .map(|n| (n["id"].as_str().unwrap_or_default().to_string(), n.clone()))
        .collect()
}

fn added_removed_by_key(
    b: &BTreeMap<String, String>,
    h: &BTreeMap<String, String>,
) -> AddedRemoved<String> {
    AddedRemoved {
        added: h
            .iter()
            .filter(|(k, _)| !b.contains_key(*k))
            .map(|(_, n)| n.clone())
            .collect(),
        removed: b
            .iter()
            .filter(|(k, _)| !h.contains_key(*k))
            .map(|(_, n)| n.clone())
            .collect(),
    }
}

/// Set difference of two lists, comparing their JSON without `ignored` fields; each
/// reported item is whole, from its side, in the order of its side.
fn added_removed<T: Serialize>(b: Vec<T>, h: Vec<T>, ignored: &[&str]) -> AddedRemoved<T> {
    let key = |x: &T| without(&serde_json::to_value(x).expect("serialises"), ignored);
    let sb: Vec<Value> = b.iter().map(key).collect();
    let sh: Vec<Value> = h.iter().map(key).collect();
    AddedRemoved {
        added: h
            .into_iter()
            .zip(&sh)
            .filter(|(_, s)| !sb.contains(s))
            .map(|(x, _)| x)
            .collect(),
        removed: b
            .into_iter()
            .zip(&sb)
            .filter(|(_, s)| !sh.contains(s))
            .map(|(x, _)| x)
            .collect(),
    }
}

/// One side's firing orders, from its `fires` edges: (table id, event) → (trigger id,
/// name, order, phase, what the trigger is apart from its name) in firing order.
type Orders = BTreeMap<(String, String), Vec<(String, String, usize, Value, Value)>>;

/// A trigger apart from its name and position: its `fires` edge without ends and order,
/// and the routines it calls with their arguments. Equal on both sides: a rename.
fn signature(v: &Value, fires: &Value, trigger_id: &str) -> Value {
    let mut calls: Vec<Value> = array(&v["edges"])
        .iter()
        .filter(|e| e["kind"] == "calls" && e["from"] == trigger_id)
        .map(|e| without(e, &["from"]))
        .collect();
    calls.sort_by_key(|c| c.to_string());
    serde_json::json!({"fires": without(fires, &["from", "to", "order"]), "calls": calls})
}

fn orders(v: &Value) -> Orders {
    let names = nodes(v);
    let mut out: Orders = BTreeMap::new();
    for e in array(&v["edges"]).iter().filter(|e| e["kind"] == "fires") {
        let (Some(from), Some(to), Some(event)) =
            (e["from"].as_str(), e["to"].as_str(), e["event"].as_str())
        else {
            continue;
        };
        let list = out
            .entry((from.to_string(), event.to_string()))
            .or_default();
        // The same trigger is drawn once per column set an UPDATE is walked with.
        if list.iter().any(|(id, ..)| id == to) {
            continue;
        }
        let name = names
            .get(to)
            .and_then(|n| n["name"].as_str())
            .unwrap_or(to)
            .to_string();
        let order = e["order"].as_u64().unwrap_or(0) as usize;
        let sig = signature(v, e, to);
        list.push((to.to_string(), name, order, e["phase"].clone(), sig));
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| (a.2, &a.0).cmp(&(b.2, &b.0)));
    }
    out
}

fn order_diffs(vb: &Value, vh: &Value, root: Option<&str>) -> Vec<OrderDiff> {
    let (ob, oh) = (orders(vb), orders(vh));
    let mut keys: Vec<&(String, String)> = ob.keys().chain(oh.keys()).collect();
    keys.sort_by_key(|(t, e)| (Some(t.as_str()) != root, t.clone(), e.clone()));
    keys.dedup();
    let mut out = Vec::new();
    for key in keys {
        let empty = Vec::new();
        let (xs, ys) = (ob.get(key).unwrap_or(&empty), oh.get(key).unwrap_or(&empty));
        let in_ys = |id: &str| ys.iter().any(|y| y.0 == id);
        let in_xs = |id: &str| xs.iter().any(|x| x.0 == id);
        let place = |(_, name, order, phase, _): &(String, String, usize, Value, Value)| Place {
            trigger: name.clone(),
            order: *order,
            phase: phase.clone(),
        };
        let mut gone: Vec<_> = xs.iter().filter(|x| !in_ys(&x.0)).collect();
        let mut new: Vec<_> = ys.iter().filter(|y| !in_xs(&y.0)).collect();
        // A removed and an added trigger that are the same but for the name: a rename,
        // each removed one paired with the first such added one.
        let mut renamed = Vec::new();
        gone.retain(|x| match new.iter().position(|y| y.4 == x.4) {
            Some(i) => {
                let y = new.remove(i);
                renamed.push(Rename {
                    base_trigger: x.1.clone(),
                    head_trigger: y.1.clone(),
                    base_order: x.2,
                    head_order: y.2,
                    phase: y.3.clone(),
                });
                false
            }
            None => true,
        });
        let removed: Vec<Place> = gone.into_iter().map(place).collect();
        let added: Vec<Place> = new.into_iter().map(place).collect();
        let cb: Vec<&str> = xs
            .iter()
            .map(|x| x.0.as_str())
            .filter(|i| in_ys(i))
            .collect();
        let ch: Vec<&str> = ys
            .iter()
            .map(|y| y.0.as_str())
            .filter(|i| in_xs(i))
            .collect();
        let kept = lcs(&cb, &ch);
        let mut moved = Vec::new();
        for x in xs.iter().filter(|x| in_ys(&x.0)) {
            let y = ys.iter().find(|y| y.0 == x.0).expect("on both sides");
            if !kept.contains(x.0.as_str()) || x.3 != y.3 {
                moved.push(Move {
                    trigger: x.1.clone(),
                    base_order: x.2,
                    head_order: y.2,
                    base_phase: x.3.clone(),
                    head_phase: y.3.clone(),
                });
            }
        }
        if !(added.is_empty() && removed.is_empty() && moved.is_empty() && renamed.is_empty()) {
            let event = Event::parse(&key.1).expect("a fires edge's event is an event");
            out.push(OrderDiff {
                table: key.0.trim_start_matches("table:").to_string(),
                event,
                added,
                removed,
                renamed,
                moved,
            });
        }
    }
    out
}

/// The items of one longest common subsequence of `a` and `b` (ties broken the same way
/// every run, so the moves reported are deterministic).
fn lcs<'a>(a: &[&'a str], b: &[&str]) -> BTreeSet<&'a str> {
    let (n, m) = (a.len(), b.len());
    let mut t = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            t[i][j] = if a[i] == b[j] {
                t[i + 1][j + 1] + 1
            } else {
                t[i + 1][j].max(t[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, BTreeSet::new());
    while i < n && j < m {
        if a[i] == b[j] {
            out.insert(a[i]);
            i += 1;
            j += 1;
        } else if t[i + 1][j] >= t[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests;
