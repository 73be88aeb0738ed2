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
    /// `before`, `after` or `instead_of`.
    pub timing: String,
    /// Subset of `insert`, `update`, `delete`, `truncate`, in that order.
    pub events: Vec<String>,
    /// `UPDATE OF` columns, by name, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub update_columns: Vec<String>,
    /// `row` or `statement`.
    pub level: String,
    /// The trigger function as its key name, e.g. `public.fn_birth_registry_auto()`.
    pub function: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<String>,
    /// The WHEN condition as PostgreSQL prints it (without the outer `WHEN ( )`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// `origin`, `disabled`, `replica` or `always` (`ALTER TABLE … ENABLE/DISABLE TRIGGER`).
    pub enabled: String,
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
    pub fn fires_on(&self, event: &str) -> bool {
        self.events.iter().any(|e| e == event)
    }
}
