//! Field-level comparison of two versions of one object, on their JSON values: the JSON field
//! names are the ones users see in `show --format json`, so a change reads as
//! `columns.status.default`, not as a Rust path.

use crate::model::quote_ident;
use serde::Serialize;
use serde_json::{Map, Value};

/// One field that differs. `old`/`new` are absent when the field (or map entry, e.g. a column)
/// exists on one side only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// Dotted path of JSON field names; map entries below the top level (column names,
    /// domain constraint names) are quoted like identifiers when they need it.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

impl FieldChange {
    /// The top-level field this change is in (`columns` for `columns.status.default`).
    pub fn top_field(&self) -> &str {
        self.path.split('.').next().unwrap_or_default()
    }
}

/// Every differing leaf between two JSON objects. Objects are descended into (so a column
/// is compared field by field); arrays and scalars are compared whole, since their order
/// carries meaning (enum labels, events) or they are already sorted by the model.
pub fn changed_fields(old: &Value, new: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => walk(&mut out, "", a, b),
        _ if old != new => out.push(FieldChange {
            path: String::new(),
            old: Some(old.clone()),
            new: Some(new.clone()),
        }),
        _ => {}
    }
    out
}

fn walk(out: &mut Vec<FieldChange>, prefix: &str, a: &Map<String, Value>, b: &Map<String, Value>) {
    // serde_json's Map is a BTreeMap here (no preserve_order), so both walks are sorted and
    // the merged result is deterministic.
    let mut names: Vec<&String> = a.keys().chain(b.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{}", quote_ident(name))
        };
        match (a.get(name), b.get(name)) {
            (Some(Value::Object(x)), Some(Value::Object(y))) => walk(out, &path, x, y),
            (Some(x), Some(y)) if x == y => {}
            (x, y) => out.push(FieldChange {
                path,
                old: x.cloned(),
                new: y.cloned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_maps_are_compared_entry_by_entry() {
        let a = json!({"name": "t", "columns": {"status": {"default": "'draft'::text", "type": "text"}, "gone": {"type": "int4"}}});
        let b = json!({"name": "t", "columns": {"status": {"default": "'new'::text", "type": "text"}, "Added": {"type": "int4"}}});
        let paths: Vec<String> = changed_fields(&a, &b).into_iter().map(|c| c.path).collect();
        assert_eq!(
            paths,
            vec![
                "columns.\"Added\"",
                "columns.gone",
                "columns.status.default"
            ]
        );
    }

    #[test]
    fn arrays_are_compared_whole_and_absent_fields_show_as_missing() {
        let a = json!({"events": ["insert"], "when": "x"});
        let b = json!({"events": ["insert", "update"]});
        let changes = changed_fields(&a, &b);
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].path, "events");
        assert_eq!(changes[1].path, "when");
        assert_eq!(changes[1].new, None);
        assert_eq!(changes[1].old, Some(json!("x")));
    }

    #[test]
    fn equal_values_have_no_changes() {
        let a = json!({"a": {"b": [1, 2]}});
        assert!(changed_fields(&a, &a.clone()).is_empty());
    }
}
