//! Views and materialized views (`view:SCHEMA.NAME`, `matview:SCHEMA.NAME`): two kinds of
//! one shape. Both are relations set scopes can be about (INSTEAD OF triggers, indexes).

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const VIEW: KindSpec = KindSpec {
    name: "view",
    key: KeyShape::Qualified,
    set_scope: None,
    relation: true,
};

pub const MATVIEW: KindSpec = KindSpec {
    name: "matview",
    ..VIEW
};

impl KindDef for ViewDef {
    fn schema(&self) -> Option<&str> {
        Some(&self.schema)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewDef {
    pub schema: String,
    pub name: String,
    pub definition: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// The columns with something of their own pg_dump prints (a comment, a default, a
    /// grant), by name; the others are all in the definition.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, ViewColumn>,
    /// A materialized view's access method when not `heap`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_method: Option<String>,
    /// A materialized view's tablespace, when not the database's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tablespace: Option<String>,
}

/// What a view's column holds beyond the definition's output.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewColumn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// `ALTER VIEW … ALTER COLUMN … SET DEFAULT` (what an INSERT through the view gets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Column privileges (`GRANT SELECT (c) ON v`), sorted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<Vec<String>>,
    /// A materialized view column's statistics target, storage, compression and options,
    /// as a table column's (`ALTER MATERIALIZED VIEW … ALTER COLUMN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistics: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}
