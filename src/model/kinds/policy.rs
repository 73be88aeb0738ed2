//! Row-level security policies (`policy:SCHEMA.TABLE.NAME`), the `policies:TABLE` set scope.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "policy",
    key: KeyShape::OnTable,
    set_scope: Some("policies"),
    relation: false,
};

impl KindDef for PolicyDef {
    fn schema(&self) -> Option<&str> {
        Some(&self.schema)
    }
    fn table(&self) -> Option<&str> {
        Some(&self.table)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyDef {
    pub schema: String,
    pub table: String,
    pub name: String,
    /// `all`, `select`, `insert`, `update` or `delete`.
    pub command: String,
    pub permissive: bool,
    /// Roles the policy applies to, sorted (`public` for all).
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub using: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_check: Option<String>,
}
