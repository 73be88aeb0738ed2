//! Tables (`table:SCHEMA.NAME`): ordinary, partitioned and foreign, with their columns by
//! name. The relation the set scopes (`triggers:TABLE`, …) are about.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SPEC: KindSpec = KindSpec {
    name: "table",
    key: KeyShape::Qualified,
    set_scope: None,
    relation: true,
};

impl KindDef for TableDef {
    fn schema(&self) -> Option<&str> {
        Some(&self.schema)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDef {
    pub schema: String,
    pub name: String,
    /// `table`, `partitioned_table` or `foreign_table`.
    pub relkind: String,
    /// `permanent`, `unlogged` or `temporary`.
    pub persistence: String,
    pub columns: BTreeMap<String, Column>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_bound: Option<String>,
    /// Inheritance and partition parents, qualified, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
    pub rls_enabled: bool,
    pub rls_forced: bool,
    /// Storage parameters (`fillfactor=70`), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Position among the live columns (1-based). Not `attnum`: dropped columns leave holes
    /// in `attnum`, and a clone built from clean SQL has none.
    pub ordinal: u32,
    #[serde(rename = "type")]
    pub data_type: String,
    pub not_null: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// `always` or `by_default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// `stored` (or `virtual` on PostgreSQL 18) with the expression in `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<Vec<String>>,
}
