//! Comparing two fan-outs as their JSON: edges grouped by identity and compared field by
//! field, nodes by id, lists as added/removed, and firing orders by the longest common
//! subsequence of trigger names.

use super::*;

pub(super) fn json_of(f: Option<&Fanout>) -> Value {
    f.map(|f| serde_json::to_value(f).expect("a fan-out serialises"))
        .unwrap_or_else(|| serde_json::json!({"nodes": [], "edges": [], "hazards": [], "cycles": [], "unanalysable": []}))
}

pub(super) fn array(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// The identity of an edge, as a sortable string (its identity fields in JSON).
pub(super) fn identity(e: &Value, fields: &[&str]) -> Map<String, Value> {
    fields
        .iter()
        .filter_map(|f| e.get(*f).map(|v| (f.to_string(), v.clone())))
        .collect()
}

pub(super) fn edge_groups(v: &Value) -> BTreeMap<String, Vec<Value>> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for e in array(&v["edges"]) {
        let id = Value::Object(identity(e, &EDGE_IDENTITY)).to_string();
        out.entry(id).or_default().push(e.clone());
    }
    out
}

pub(super) fn without(v: &Value, fields: &[&str]) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        for f in fields {
            m.remove(*f);
        }
    }
    v
}

/// The fields of `x` and `y` (same identity) that differ, skipping `ignored`.
pub(super) fn field_changes(
    x: &Value,
    y: &Value,
    ident: &[&str],
    ignored: &[&str],
) -> Option<FieldChanges> {
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

pub(super) fn nodes(v: &Value) -> BTreeMap<String, Value> {
    array(&v["nodes"])
        .iter()
        .map(|n| (n["id"].as_str().unwrap_or_default().to_string(), n.clone()))
        .collect()
}

pub(super) fn added_removed_by_key(
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
pub(super) fn added_removed<T: Serialize>(
    b: Vec<T>,
    h: Vec<T>,
    ignored: &[&str],
) -> AddedRemoved<T> {
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
pub(super) type Orders = BTreeMap<(String, String), Vec<(String, String, usize, Value, Value)>>;

/// A trigger apart from its name and position: its `fires` edge without ends and order,
/// and the routines it calls with their arguments. Equal on both sides: a rename.
pub(super) fn signature(v: &Value, fires: &Value, trigger_id: &str) -> Value {
    let mut calls: Vec<Value> = array(&v["edges"])
        .iter()
        .filter(|e| e["kind"] == "calls" && e["from"] == trigger_id)
        .map(|e| without(e, &["from"]))
        .collect();
    calls.sort_by_key(|c| c.to_string());
    serde_json::json!({"fires": without(fires, &["from", "to", "order"]), "calls": calls})
}

pub(super) fn orders(v: &Value) -> Orders {
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

pub(super) fn order_diffs(vb: &Value, vh: &Value, root: Option<&str>) -> Vec<OrderDiff> {
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
pub(super) fn lcs<'a>(a: &[&'a str], b: &[&str]) -> BTreeSet<&'a str> {
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
