//! Routine analyses, parsed once each and shared by every walk.

use crate::graph::body::{self, BodyFacts};
use crate::graph::certainty::Sure;
use crate::graph::firing::{Enabled, Event, FiringEntry};
use crate::graph::index::SnapshotIndex;
use crate::model::{quote_ident, ObjectKey};
use std::collections::HashMap;
use std::rc::Rc;

/// Routine analyses, computed once each: lazily for one table's walk, all at once (on
/// every core) for the whole database.
pub struct Analyses {
    map: HashMap<ObjectKey, Rc<BodyFacts>>,
    /// Routines each expression (a WHEN condition, a default, …) calls, by its text.
    expression_calls: HashMap<String, Rc<Vec<ObjectKey>>>,
    /// The user routines a write's row expressions call, per (table, event).
    row_calls: HashMap<(String, Event), Rc<Vec<RowCall>>>,
}

impl Analyses {
    pub fn lazy() -> Self {
        Analyses {
            map: HashMap::new(),
            expression_calls: HashMap::new(),
            row_calls: HashMap::new(),
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
            expression_calls: HashMap::new(),
            row_calls: HashMap::new(),
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
        // A rewrite rule's actions are analysed like a body: what they write, call, notify.
        let facts = if key.kind() == crate::model::ObjectKind::Rule {
            Rc::new(body::analyse_rule(index, index.snapshot.objects.get(key)?))
        } else {
            Rc::new(body::analyse(index, index.routine(key)?))
        };
        self.map.insert(key.clone(), facts.clone());
        Some(facts)
    }

    /// The routines of the snapshot an expression calls: a trigger's WHEN condition (it
    /// runs for every row the trigger is considered for, before the trigger's function), a
    /// column default, a CHECK. PostgreSQL prints expressions with `search_path` at
    /// `pg_catalog` (driftgate's session), so a user routine is always schema-qualified;
    /// built-in ones are not in the snapshot.
    pub(crate) fn expression_calls(
        &mut self,
        index: &SnapshotIndex<'_>,
        expression: &str,
    ) -> Rc<Vec<ObjectKey>> {
        if let Some(c) = self.expression_calls.get(expression) {
            return c.clone();
        }
        let mut facts = crate::graph::sqlfacts::SqlFacts::default();
        if let Ok(parsed) = pg_query::parse(&format!("SELECT {expression}")) {
            facts.add_parse_result(&parsed.protobuf);
        }
        let path = ["public".to_string()];
        let mut calls: Vec<ObjectKey> = facts
            .calls
            .iter()
            .flat_map(|parts| index.resolve_routine(parts, &path))
            .cloned()
            .collect();
        calls.sort();
        calls.dedup();
        let calls = Rc::new(calls);
        self.expression_calls
            .insert(expression.to_string(), calls.clone());
        calls
    }

    /// The user routines that `event` on `table` calls for every row through its row
    /// expressions ([`SnapshotIndex::row_expressions`]).
    pub(crate) fn row_calls(
        &mut self,
        index: &SnapshotIndex<'_>,
        table: &str,
        event: Event,
    ) -> Rc<Vec<RowCall>> {
        let key = (table.to_string(), event);
        if let Some(c) = self.row_calls.get(&key) {
            return c.clone();
        }
        let mut out = Vec::new();
        for e in index.row_expressions(table, event) {
            for callee in self.expression_calls(index, e.expression).iter() {
                out.push(RowCall {
                    via: e.via,
                    name: e.name.clone(),
                    callee: callee.clone(),
                    only_if_set: e.only_if_set.map(str::to_string),
                });
            }
        }
        let out = Rc::new(out);
        self.row_calls.insert(key, out.clone());
        out
    }

    /// Every analysis computed so far, by key.
    pub fn iter(&self) -> impl Iterator<Item = (&ObjectKey, &BodyFacts)> {
        self.map.iter().map(|(k, v)| (k, v.as_ref()))
    }
}

/// A user routine a row expression of a write calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RowCall {
    /// `default`, `generated`, `check` or `policy`.
    pub via: &'static str,
    /// The column, constraint or policy.
    pub name: String,
    pub callee: ObjectKey,
    /// A domain CHECK on UPDATE: it runs only when this column is set.
    pub only_if_set: Option<String>,
}

/// A foreign-key action that writes a child table when its parent is deleted or updated.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Cascade {
    /// `child_table.constraint_name`.
    pub constraint: String,
    pub child: String,
    /// `cascade`, `set_null` or `set_default`.
    pub action: String,
    pub child_event: Event,
    /// The child's UPDATE sets these (the FK columns), for SET NULL/DEFAULT and ON UPDATE.
    pub child_columns: Option<Vec<String>>,
    /// Taken only under this condition (`TRUNCATE … CASCADE`, a row moved between
    /// partitions); otherwise it may find no child rows.
    pub guard: Option<String>,
}

impl Cascade {
    /// How sure the action is to run when its parent's event happens.
    pub fn sure(&self) -> Sure {
        match &self.guard {
            Some(g) => Sure::guarded(std::slice::from_ref(g)),
            None => Sure::maybe_no_rows(),
        }
    }
}

/// The FK actions `event` on `table` sets off (`columns`: what an UPDATE sets, if known).
pub(crate) fn cascades(
    index: &SnapshotIndex<'_>,
    table: &str,
    event: Event,
    columns: Option<&[String]>,
) -> Vec<Cascade> {
    let mut out = Vec::new();
    for c in index.foreign_keys_to(table) {
        let Some(fk) = &c.foreign_key else { continue };
        // `TRUNCATE … CASCADE` truncates every table referencing this one, whatever the
        // key's actions (a plain TRUNCATE of a referenced table fails).
        if event == Event::Truncate {
            out.push(Cascade {
                constraint: format!("{}.{}", c.table, quote_ident(&c.name)),
                child: c.table.clone(),
                action: "truncate".to_string(),
                child_event: Event::Truncate,
                child_columns: None,
                guard: Some("only with TRUNCATE … CASCADE".to_string()),
            });
            continue;
        }
        // Before PostgreSQL 15, a row an UPDATE moves to another partition is deleted from
        // the referenced table as far as its foreign keys know: their ON DELETE action runs.
        let acting = matches!(
            fk.on_delete.as_str(),
            "cascade" | "set_null" | "set_default"
        );
        if event == Event::Update
            && acting
            && index.move_fires_delete_actions()
            && index.update_may_move_rows(table, columns)
        {
            let (child_event, child_columns) = if fk.on_delete == "cascade" {
                (Event::Delete, None)
            } else {
                let mut cols = c.columns.clone();
                cols.sort();
                (Event::Update, Some(cols))
            };
            out.push(Cascade {
                constraint: format!("{}.{}", c.table, quote_ident(&c.name)),
                child: c.table.clone(),
                action: fk.on_delete.clone(),
                child_event,
                child_columns,
                guard: Some(
                    "only when the UPDATE moves a row to another partition (before PostgreSQL 15 that is an ON DELETE)"
                        .to_string(),
                ),
            });
        }
        let action = match event {
            Event::Delete => &fk.on_delete,
            Event::Update => {
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
            "cascade" if event == Event::Delete => (Event::Delete, None),
            "cascade" | "set_null" | "set_default" => {
                let mut cols = c.columns.clone();
                cols.sort();
                (Event::Update, Some(cols))
            }
            _ => continue,
        };
        out.push(Cascade {
            constraint: format!("{}.{}", c.table, quote_ident(&c.name)),
            child: c.table.clone(),
            action: action.clone(),
            child_event,
            child_columns,
            guard: None,
        });
    }
    out.sort();
    out
}

/// Why a trigger on the walked event does not fire, if it does not: disabled, replica-only,
/// or an `UPDATE OF` list none of whose columns the UPDATE sets.
pub(crate) fn skip_reason(
    entry: &FiringEntry,
    event: Event,
    columns: Option<&[String]>,
) -> Option<String> {
    if !entry.fires_normally() {
        Some(match entry.enabled {
            Enabled::Replica => {
                "replica-only (fires only with session_replication_role = replica)".to_string()
            }
            other => other.to_string(),
        })
    } else if entry.fires_as.unwrap_or(event) == Event::Update && !entry.fires_for_columns(columns)
    {
        Some(format!(
            "UPDATE OF {}: none of them is set",
            entry.update_columns.join(", ")
        ))
    } else {
        None
    }
}
