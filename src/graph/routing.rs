//! Which triggers one statement fires across a table's partition and inheritance tree, as
//! PostgreSQL does (checked against it by `tests/graphexec.rs`):
//!
//! - on a partitioned table, the partitions' own row triggers for the rows routed to them;
//! - on an inheritance parent (a statement without `ONLY`), UPDATE and DELETE reach the
//!   children's rows and fire the children's row triggers, not their statement triggers;
//!   the parent's own row triggers fire only for rows stored in the parent; INSERT goes to
//!   the parent alone;
//! - TRUNCATE truncates every partition and inheritance child too and fires their TRUNCATE
//!   triggers, after the parent's in each phase;
//! - an UPDATE that may change a partition key may move a row: the source partition's row
//!   triggers fire as for a DELETE, the destination's as for an INSERT (after the BEFORE
//!   UPDATE row triggers of the source), and the AFTER UPDATE row triggers do not fire for
//!   that row. Foreign keys referencing the table see the move as a DELETE before
//!   PostgreSQL 15 and as an UPDATE from 15 on ([`SnapshotIndex::move_fires_delete_actions`]).

use crate::graph::firing::{
    order_triggers, statement_order, Event, FiringEntry, FiringPhase, Level,
};
use crate::graph::index::SnapshotIndex;
use crate::model::{split_qualified, ObjectKey, ObjectKind, TriggerDef};

/// The first PostgreSQL release where a row moved between partitions is an UPDATE to the
/// foreign keys referencing the partitioned table (before it, a DELETE and an INSERT).
const MOVE_IS_UPDATE_FOR_FKS: u32 = 150_000;

impl<'s> SnapshotIndex<'s> {
    /// The firing order of `event` on `table` (an UPDATE setting `columns`, when known),
    /// over the table's partition and inheritance tree.
    pub fn statement_firing_order(
        &self,
        table: &str,
        event: Event,
        columns: Option<&[String]>,
    ) -> Vec<FiringEntry> {
        let mut routed: Vec<&'s TriggerDef> = self.routed_triggers(table);
        let inherited = self.inheritance_descendants(table);
        match event {
            Event::Update | Event::Delete => {
                for child in &inherited {
                    routed.extend(
                        self.triggers_on(child)
                            .iter()
                            .filter(|t| t.table == *child && t.level == Level::Row),
                    );
                }
            }
            Event::Truncate => {
                // Row triggers never fire on TRUNCATE; the descendants' statement ones do.
                routed.clear();
                for d in self.descendants(table) {
                    routed.extend(
                        self.triggers_on(&d)
                            .iter()
                            .filter(|t| t.table == d && t.level == Level::Statement),
                    );
                }
            }
            Event::Insert => {}
        }
        let mut order = statement_order(self.triggers_on(table), &routed, table, event);
        let is_row = |e: &FiringEntry| {
            !matches!(
                e.phase,
                FiringPhase::BeforeStatement | FiringPhase::AfterStatement
            )
        };
        for e in &mut order {
            match (&e.routed_to, event) {
                // Every truncated table fires its TRUNCATE triggers.
                (Some(_), Event::Truncate) => e.conditions.clear(),
                (Some(child), _) if inherited.contains(child) => {
                    e.conditions = vec![format!("only rows stored in inheritance child {child}")];
                }
                (None, Event::Update | Event::Delete) if !inherited.is_empty() && is_row(e) => {
                    e.conditions.push(format!(
                        "only rows stored in {table} itself, not in its inheritance children"
                    ));
                }
                _ => {}
            }
        }
        // A clone held on a partition differs from its origin (disabled there, or enabled
        // where the origin is not): the origin's trigger does not speak for the rows routed
        // there, the clone does.
        let held: Vec<(String, String)> = order
            .iter()
            .filter_map(|e| Some((e.trigger.clone(), e.routed_to.clone()?)))
            .collect();
        for e in order.iter_mut().filter(|e| e.routed_to.is_none()) {
            for (name, part) in &held {
                if *name == e.trigger && is_row(e) {
                    e.conditions.push(format!(
                        "not for rows routed to {part}, whose clone differs"
                    ));
                }
            }
        }
        if event == Event::Update && self.update_may_move_rows(table, columns) {
            for e in &mut order {
                if e.phase == FiringPhase::AfterRow {
                    e.conditions
                        .push("unless the UPDATE moves the row to another partition".into());
                }
            }
            for leaf in self.leaf_partitions(table) {
                let on_leaf = self.triggers_on(&leaf);
                for (as_event, how) in [
                    (
                        Event::Delete,
                        format!("only when the UPDATE moves a row out of {leaf}"),
                    ),
                    (
                        Event::Insert,
                        format!("only when the UPDATE moves a row into {leaf}"),
                    ),
                ] {
                    for mut m in order_triggers(on_leaf.iter().copied(), as_event) {
                        if !is_row(&m) {
                            continue;
                        }
                        m.routed_to = Some(leaf.clone());
                        m.fires_as = Some(as_event);
                        m.conditions = vec![format!("{how} (fires as {})", as_event.label())];
                        order.push(m);
                    }
                }
            }
        }
        // Within a phase: the walked table's triggers and then each truncated table's in
        // turn on TRUNCATE (PostgreSQL goes table by table, in OID order, which the
        // snapshot does not keep: by name here); for a moved row the source's UPDATE
        // triggers, then its DELETE ones, then the destination's INSERT ones. By name
        // within each (the order already sorted).
        let tables = self.descendants(table);
        order.sort_by_key(|e| {
            let table_rank = match (event, &e.routed_to) {
                (Event::Truncate, Some(t)) => 1 + tables.iter().position(|d| d == t).unwrap_or(0),
                _ => 0,
            };
            let moved = match e.fires_as {
                None => 0,
                Some(Event::Delete) => 1,
                Some(_) => 2,
            };
            (e.phase, table_rank, moved)
        });
        for (i, e) in order.iter_mut().enumerate() {
            e.order = i + 1;
        }
        order
    }

    /// Whether an UPDATE of `table` setting `columns` (any column when unknown) may change
    /// a partition key of the table or of a partitioned table under it, and so move a row.
    pub fn update_may_move_rows(&self, table: &str, columns: Option<&[String]>) -> bool {
        let mut tree = vec![table.to_string()];
        tree.extend(self.descendants(table));
        tree.iter().any(|t| {
            let Some(key) = self.table_def(t).and_then(|d| d.partition_key.as_deref()) else {
                return false;
            };
            match (partition_key_columns(key), columns) {
                (_, None) => true,
                // An expression key: any UPDATE may change it.
                (None, Some(_)) => true,
                (Some(keys), Some(set)) => keys.iter().any(|k| set.contains(k)),
            }
        })
    }

    /// Whether a row moved between partitions of `table` fires the ON DELETE actions of
    /// the foreign keys referencing it (PostgreSQL 13 and 14); from 15 on it is an UPDATE
    /// of the referenced key.
    pub fn move_fires_delete_actions(&self) -> bool {
        self.snapshot.meta.server_version_num < MOVE_IS_UPDATE_FOR_FKS
    }

    fn table_def(&self, table: &str) -> Option<&'s crate::model::TableDef> {
        self.snapshot
            .objects
            .get(&ObjectKey::new(ObjectKind::Table, table))
            .and_then(|o| o.as_table())
    }

    /// The leaf partitions under `table` (none if it is not partitioned), sorted.
    fn leaf_partitions(&self, table: &str) -> Vec<String> {
        let mut leaves: Vec<String> = self
            .descendants(table)
            .into_iter()
            .filter(|d| self.table_def(d).is_some_and(|t| t.partition_key.is_none()))
            .filter(|d| {
                self.table_def(d)
                    .is_some_and(|t| t.partition_bound.is_some())
            })
            .collect();
        leaves.sort();
        leaves
    }
}

/// The columns of a partition key (`RANGE (a, b)`, `LIST ("My Col")`); `None` when a part
/// is an expression.
fn partition_key_columns(key: &str) -> Option<Vec<String>> {
    let inner = key.split_once('(')?.1.strip_suffix(')')?;
    inner
        .split(',')
        .map(|part| {
            let part = part.trim();
            // A column may carry an operator class or collation: `a text_pattern_ops`.
            let name = match part.strip_prefix('"') {
                Some(rest) => &part[..rest.find('"')? + 2],
                None => part.split_whitespace().next()?,
            };
            let parts = split_qualified(name);
            (parts.len() == 1 && !name.contains('(')).then(|| parts[0].clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::partition_key_columns;

    #[test]
    fn partition_key_columns_are_read_and_expressions_are_not_guessed() {
        assert_eq!(
            partition_key_columns("RANGE (k)"),
            Some(vec!["k".to_string()])
        );
        assert_eq!(
            partition_key_columns("LIST (a, \"My Col\")"),
            Some(vec!["a".to_string(), "My Col".to_string()])
        );
        assert_eq!(
            partition_key_columns("RANGE (a text_pattern_ops)"),
            Some(vec!["a".to_string()])
        );
        assert_eq!(partition_key_columns("RANGE (lower(a))"), None);
        assert_eq!(partition_key_columns("HASH ((a + 1))"), None);
    }
}
