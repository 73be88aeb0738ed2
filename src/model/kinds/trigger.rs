//! Triggers (`trigger:SCHEMA.TABLE.NAME`), the `triggers:TABLE` set scope: the whole trigger
//! set of a table, view or foreign table.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "trigger",
    key: KeyShape::OnTable,
    set_scope: Some("triggers"),
    relation: false,
};

impl KindDef for TriggerDef {
    fn schema(&self) -> Option<&str> {
        Some(&self.schema)
    }
    fn table(&self) -> Option<&str> {
        Some(&self.table)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerDef {
    pub schema: String,
    /// The table (or view) the trigger is on, qualified.
    pub table: String,
    pub name: String,
    pub timing: Timing,
    /// Subset of `insert`, `update`, `delete`, `truncate`, in that order.
    pub events: Vec<Event>,
    /// `UPDATE OF` columns, by name, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub update_columns: Vec<String>,
    pub level: Level,
    /// The trigger function as its key name, e.g. `public.fn_birth_registry_auto()`.
    pub function: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<String>,
    /// The WHEN condition as PostgreSQL prints it (without the outer `WHEN ( )`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    pub enabled: Enabled,
    /// A `CREATE CONSTRAINT TRIGGER`.
    pub constraint_trigger: bool,
    pub deferrable: bool,
    pub initially_deferred: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_table: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_table: Option<String>,
    /// `pg_get_triggerdef` output.
    pub definition: String,
    /// A partition's copy of its partitioned table's trigger: the parent table. Such copies
    /// are captured only when their enabled state differs from the parent's (as pg_dump
    /// prints them: `ALTER TABLE partition DISABLE TRIGGER …`); the others follow from the
    /// parent's trigger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clone_of: Option<String>,
}

impl TriggerDef {
    pub fn fires_on(&self, event: Event) -> bool {
        self.events.contains(&event)
    }
}

/// An event a table trigger can fire on. The variants are in the byte order of their
/// names, so that anything sorted by event sorts as it did when events were strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    Delete,
    Insert,
    Truncate,
    Update,
}

impl Event {
    /// The four, in the order `TriggerDef::events` lists them.
    pub const ALL: [Event; 4] = [Event::Insert, Event::Update, Event::Delete, Event::Truncate];

    /// As the snapshot spells it (`TriggerDef::events`): `insert`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Insert => "insert",
            Event::Update => "update",
            Event::Delete => "delete",
            Event::Truncate => "truncate",
        }
    }

    /// For people and SQL: `INSERT`, ….
    pub fn label(self) -> &'static str {
        match self {
            Event::Insert => "INSERT",
            Event::Update => "UPDATE",
            Event::Delete => "DELETE",
            Event::Truncate => "TRUNCATE",
        }
    }

    /// An event name in any case.
    pub fn parse(s: &str) -> Option<Event> {
        Event::ALL
            .into_iter()
            .find(|e| e.as_str().eq_ignore_ascii_case(s))
    }
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `BEFORE`, `AFTER` or `INSTEAD OF` (`pg_trigger.tgtype`), spelt `before`, `after`,
/// `instead_of` in snapshots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timing {
    Before,
    After,
    InsteadOf,
}

impl Timing {
    pub const ALL: [Timing; 3] = [Timing::Before, Timing::After, Timing::InsteadOf];

    /// As the snapshot spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Timing::Before => "before",
            Timing::After => "after",
            Timing::InsteadOf => "instead_of",
        }
    }

    /// As SQL spells it: `BEFORE`, `AFTER`, `INSTEAD OF`.
    pub fn label(self) -> &'static str {
        match self {
            Timing::Before => "BEFORE",
            Timing::After => "AFTER",
            Timing::InsteadOf => "INSTEAD OF",
        }
    }
}

/// `FOR EACH ROW` or `FOR EACH STATEMENT`, spelt `row` and `statement` in snapshots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Row,
    Statement,
}

impl Level {
    pub const ALL: [Level; 2] = [Level::Row, Level::Statement];

    /// As the snapshot spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Row => "row",
            Level::Statement => "statement",
        }
    }

    /// As SQL spells it: `ROW`, `STATEMENT`.
    pub fn label(self) -> &'static str {
        match self {
            Level::Row => "ROW",
            Level::Statement => "STATEMENT",
        }
    }
}

/// `pg_trigger.tgenabled` (`ALTER TABLE … ENABLE/DISABLE TRIGGER`): `origin` (`O`, the
/// default), `disabled` (`D`), `replica` (`R`: fires only with `session_replication_role =
/// replica`) or `always` (`A`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Enabled {
    Origin,
    Disabled,
    Replica,
    Always,
}

impl Enabled {
    pub const ALL: [Enabled; 4] = [
        Enabled::Origin,
        Enabled::Disabled,
        Enabled::Replica,
        Enabled::Always,
    ];

    /// As the snapshot spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Enabled::Origin => "origin",
            Enabled::Disabled => "disabled",
            Enabled::Replica => "replica",
            Enabled::Always => "always",
        }
    }

    /// Whether the trigger fires in an ordinary session (`session_replication_role =
    /// origin`, the default): `disabled` never does and `replica` only on replicas.
    pub fn fires_normally(self) -> bool {
        matches!(self, Enabled::Origin | Enabled::Always)
    }
}

impl std::fmt::Display for Enabled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `FromStr` and `Display` in the snapshot's spelling, for enums with `ALL` and `as_str`.
macro_rules! spelt_as_in_snapshots {
    ($($t:ty),*) => {$(
        impl std::str::FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                <$t>::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| format!("not a trigger {}: {s:?}", stringify!($t).to_lowercase()))
            }
        }
    )*};
}
spelt_as_in_snapshots!(Event, Timing, Level, Enabled);

impl std::fmt::Display for Timing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
