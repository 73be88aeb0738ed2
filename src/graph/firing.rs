//! The order in which PostgreSQL fires a table's triggers for one event.
//!
//! For one statement: BEFORE STATEMENT triggers, then for each row the BEFORE ROW (or
//! INSTEAD OF ROW, on views) triggers, the AFTER ROW triggers once the statement's rows are
//! done, the AFTER STATEMENT triggers, and the constraint triggers declared `INITIALLY
//! DEFERRED` at commit. Within one phase PostgreSQL sorts by trigger name with `strcmp`, so
//! names are compared as bytes here, never with a collation.
//!
//! Kept apart from the fan-out walk so `diff` can compare the order of two snapshots.

use crate::model::{CatalogSnapshot, ObjectKind, QualifiedName, TriggerDef};
use serde::{Deserialize, Serialize};

pub use crate::model::{Enabled, Event, Level, Timing};

/// When in a statement's life a trigger fires; the derived order is the firing order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FiringPhase {
    BeforeStatement,
    BeforeRow,
    InsteadOfRow,
    AfterRow,
    AfterStatement,
    /// Constraint triggers declared `INITIALLY DEFERRED`: they run at commit.
    AtCommit,
}

impl FiringPhase {
    pub fn of(t: &TriggerDef) -> FiringPhase {
        match (t.timing, t.level) {
            (Timing::Before, Level::Statement) => FiringPhase::BeforeStatement,
            (_, Level::Statement) => FiringPhase::AfterStatement,
            (Timing::Before, _) => FiringPhase::BeforeRow,
            (Timing::InsteadOf, _) => FiringPhase::InsteadOfRow,
            _ if t.constraint_trigger && t.initially_deferred => FiringPhase::AtCommit,
            _ => FiringPhase::AfterRow,
        }
    }

    /// For people: `BEFORE ROW`, `AT COMMIT`, …
    pub fn label(self) -> &'static str {
        match self {
            FiringPhase::BeforeStatement => "BEFORE STATEMENT",
            FiringPhase::BeforeRow => "BEFORE ROW",
            FiringPhase::InsteadOfRow => "INSTEAD OF ROW",
            FiringPhase::AfterRow => "AFTER ROW",
            FiringPhase::AfterStatement => "AFTER STATEMENT",
            FiringPhase::AtCommit => "AT COMMIT (deferred)",
        }
    }
}

/// One trigger in a table's firing order for one event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiringEntry {
    /// 1-based position in the firing order.
    pub order: usize,
    /// The trigger's name (unqualified: it is unique per table).
    pub trigger: String,
    pub timing: Timing,
    pub level: Level,
    /// The trigger function, as the name part of its `function:` key.
    pub function: String,
    pub phase: FiringPhase,
    /// Every event the trigger fires on (`insert`, `update`, …), not only the walked one.
    pub events: Vec<Event>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<String>,
    /// `UPDATE OF` columns: the trigger fires on UPDATE only when one of them is set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub update_columns: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    pub enabled: Enabled,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub constraint_trigger: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deferrable: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub initially_deferred: bool,
    /// A partition's own trigger, walked from its partitioned table: it fires only for the
    /// rows routed to this partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routed_to: Option<String>,
    /// An UPDATE that moves a row between partitions fires the source partition's row
    /// triggers as a DELETE and the destination's as an INSERT: the event it fires as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fires_as: Option<Event>,
    /// When it fires for only some rows of the statement (routed to a partition, stored in
    /// an inheritance child, moved to another partition): why, for people.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
}

impl FiringEntry {
    fn new(order: usize, t: &TriggerDef) -> FiringEntry {
        FiringEntry {
            order,
            trigger: t.name.clone(),
            timing: t.timing,
            level: t.level,
            function: t.function.clone(),
            phase: FiringPhase::of(t),
            events: t.events.clone(),
            arguments: t.arguments.clone(),
            update_columns: t.update_columns.clone(),
            when: t.when.clone(),
            enabled: t.enabled,
            constraint_trigger: t.constraint_trigger,
            deferrable: t.deferrable,
            initially_deferred: t.initially_deferred,
            routed_to: None,
            fires_as: None,
            conditions: Vec::new(),
        }
    }

    /// `INSERT OR UPDATE OF status, tier`: the trigger's events as in its definition.
    pub fn events_clause(&self) -> String {
        self.events
            .iter()
            .map(|&e| {
                if e == Event::Update && !self.update_columns.is_empty() {
                    format!("UPDATE OF {}", self.update_columns.join(", "))
                } else {
                    e.label().to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" OR ")
    }

    /// Whether the trigger fires in an ordinary session (`session_replication_role =
    /// origin`, the default): `disabled` never does and `replica` only on replicas.
    pub fn fires_normally(&self) -> bool {
        self.enabled.fires_normally()
    }

    /// Whether an UPDATE that sets `columns` (None: not known) fires this trigger's
    /// `UPDATE OF` list. Triggers without one fire on every UPDATE.
    pub fn fires_for_columns(&self, columns: Option<&[String]>) -> bool {
        match columns {
            Some(set) if !self.update_columns.is_empty() => {
                self.update_columns.iter().any(|c| set.contains(c))
            }
            _ => true,
        }
    }
}

/// The triggers of `table` that fire on `event`, in PostgreSQL's firing order.
///
/// `table` is qualified as in a `table:` key (`public.dot_tools`); an unqualified name
/// means `public`. `event` is `insert`, `update`, `delete` or `truncate`. Every trigger on
/// the event is listed, including disabled, replica-only and `UPDATE OF` triggers; their
/// entries say so.
pub fn firing_order(snapshot: &CatalogSnapshot, table: &str, event: Event) -> Vec<FiringEntry> {
    let table = QualifiedName::parse_or_in(table, "public")
        .map(|q| q.to_string())
        .unwrap_or_else(|| table.to_string());
    let triggers = snapshot
        .objects_of(ObjectKind::Trigger)
        .filter_map(|o| o.as_trigger())
        .filter(|t| t.table == table);
    order_triggers(triggers, event)
}

/// The firing order of a statement on `table`: its own triggers (with the clones of its
/// partitioned ancestors' row triggers) and, on a partitioned table, its partitions' own
/// row triggers, marked with the partition the row must be routed to. PostgreSQL orders a
/// row's triggers by name among all those of its partition, so one order serves them all.
pub fn statement_order(
    own: &[&TriggerDef],
    routed: &[&TriggerDef],
    table: &str,
    event: Event,
) -> Vec<FiringEntry> {
    // Each entry remembers which list it came from: a partition's clone of the walked
    // table's trigger has the same name and function, but fires only where it is held.
    let mut on_event: Vec<(&TriggerDef, bool)> = own
        .iter()
        .map(|t| (*t, false))
        .chain(routed.iter().map(|t| (*t, t.table != table)))
        .filter(|(t, _)| t.fires_on(event))
        .collect();
    on_event.sort_by(|(a, _), (b, _)| {
        (FiringPhase::of(a), a.name.as_bytes()).cmp(&(FiringPhase::of(b), b.name.as_bytes()))
    });
    on_event
        .into_iter()
        .enumerate()
        .map(|(i, (t, is_routed))| {
            let mut e = FiringEntry::new(i + 1, t);
            if is_routed {
                e.routed_to = Some(t.table.clone());
                e.conditions
                    .push(format!("only rows routed to {}", t.table));
            }
            e
        })
        .collect()
}

/// [`firing_order`] over triggers already known to be on one table.
pub fn order_triggers<'a>(
    triggers: impl IntoIterator<Item = &'a TriggerDef>,
    event: Event,
) -> Vec<FiringEntry> {
    let mut on_event: Vec<&TriggerDef> =
        triggers.into_iter().filter(|t| t.fires_on(event)).collect();
    on_event.sort_by(|a, b| {
        (FiringPhase::of(a), a.name.as_bytes()).cmp(&(FiringPhase::of(b), b.name.as_bytes()))
    });
    on_event
        .into_iter()
        .enumerate()
        .map(|(i, t)| FiringEntry::new(i + 1, t))
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A row trigger for tests: `trigger("t_a", Timing::Before, &[Event::Insert])`.
    pub(crate) fn trigger(name: &str, timing: Timing, events: &[Event]) -> TriggerDef {
        TriggerDef {
            schema: "public".into(),
            table: "public.t".into(),
            name: name.into(),
            timing,
            events: events.to_vec(),
            update_columns: vec![],
            level: Level::Row,
            function: format!("public.fn_{name}()"),
            arguments: vec![],
            when: None,
            enabled: Enabled::Origin,
            constraint_trigger: false,
            deferrable: false,
            initially_deferred: false,
            old_table: None,
            new_table: None,
            definition: String::new(),
            clone_of: None,
        }
    }

    fn names(entries: &[FiringEntry]) -> Vec<&str> {
        entries.iter().map(|e| e.trigger.as_str()).collect()
    }

    #[test]
    fn phases_come_before_names() {
        let mut stmt_after = trigger("a_stmt_after", Timing::After, &[Event::Insert]);
        stmt_after.level = Level::Statement;
        let mut stmt_before = trigger("z_stmt_before", Timing::Before, &[Event::Insert]);
        stmt_before.level = Level::Statement;
        let mut deferred = trigger("a_deferred", Timing::After, &[Event::Insert]);
        deferred.constraint_trigger = true;
        deferred.deferrable = true;
        deferred.initially_deferred = true;
        let mut immediate = trigger("b_constraint_immediate", Timing::After, &[Event::Insert]);
        immediate.constraint_trigger = true;
        immediate.deferrable = true;
        let ts = [
            deferred,
            stmt_after,
            trigger("m_after", Timing::After, &[Event::Insert]),
            trigger("b_before", Timing::Before, &[Event::Insert]),
            immediate,
            stmt_before,
            trigger("a_before", Timing::Before, &[Event::Insert]),
        ];
        let order = order_triggers(&ts, Event::Insert);
        assert_eq!(
            names(&order),
            [
                "z_stmt_before",
                "a_before",
                "b_before",
                "b_constraint_immediate",
                "m_after",
                "a_stmt_after",
                "a_deferred"
            ]
        );
        assert_eq!(
            order.iter().map(|e| e.order).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 6, 7]
        );
        assert_eq!(order[6].phase, FiringPhase::AtCommit);
    }

    #[test]
    fn names_sort_by_bytes_not_collation() {
        // strcmp order: upper case before lower case, '_' (0x5f) before letters.
        let ts = [
            trigger("trg_auto_code", Timing::Before, &[Event::Insert]),
            trigger("trg_a_gate", Timing::Before, &[Event::Insert]),
            trigger("Trg_upper", Timing::Before, &[Event::Insert]),
        ];
        assert_eq!(
            names(&order_triggers(&ts, Event::Insert)),
            ["Trg_upper", "trg_a_gate", "trg_auto_code"]
        );
    }

    #[test]
    fn only_triggers_on_the_event_are_listed() {
        let ts = [
            trigger("ins", Timing::Before, &[Event::Insert]),
            trigger("ins_upd", Timing::Before, &[Event::Insert, Event::Update]),
            trigger("del", Timing::After, &[Event::Delete]),
        ];
        assert_eq!(names(&order_triggers(&ts, Event::Update)), ["ins_upd"]);
        assert_eq!(names(&order_triggers(&ts, Event::Delete)), ["del"]);
        assert!(order_triggers(&ts, Event::Truncate).is_empty());
    }

    #[test]
    fn update_of_columns_and_enabled_state() {
        let mut t = trigger("upd_of", Timing::After, &[Event::Update]);
        t.update_columns = vec!["status".into(), "tier".into()];
        t.enabled = Enabled::Replica;
        let e = &order_triggers([&t], Event::Update)[0];
        assert!(e.fires_for_columns(None));
        assert!(e.fires_for_columns(Some(&["tier".to_string()])));
        assert!(!e.fires_for_columns(Some(&["name".to_string()])));
        assert!(!e.fires_normally());
        assert_eq!(e.events_clause(), "UPDATE OF status, tier");
        let mut both = trigger("both", Timing::Before, &[Event::Insert, Event::Update]);
        both.update_columns = vec!["script_path".into()];
        assert_eq!(
            order_triggers([&both], Event::Insert)[0].events_clause(),
            "INSERT OR UPDATE OF script_path"
        );
    }
}
