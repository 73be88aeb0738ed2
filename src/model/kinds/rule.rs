//! Rewrite rules (`rule:SCHEMA.TABLE.NAME`), the `rules:TABLE` set scope. A rule changes
//! what a write (or read) of its relation does, so it is drift like a trigger is. The
//! `_RETURN` rule of a view or materialized view is its definition, captured there.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "rule",
    key: KeyShape::OnTable,
    set_scope: Some("rules"),
    relation: false,
};

impl KindDef for RuleDef {
    fn schema(&self) -> Option<&str> {
        Some(&self.schema)
    }
    fn table(&self) -> Option<&str> {
        Some(&self.table)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleDef {
    pub schema: String,
    /// The relation the rule is on, qualified as in its `table:` or `view:` key.
    pub table: String,
    pub name: String,
    /// `select`, `insert`, `update` or `delete`.
    pub event: String,
    /// `DO INSTEAD` (true) or `DO ALSO`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub instead: bool,
    /// `origin`, `disabled`, `replica` or `always` (`ALTER TABLE … ENABLE/DISABLE RULE`).
    pub enabled: String,
    /// `pg_get_ruledef`, as pg_dump prints it: condition and actions.
    pub definition: String,
}
