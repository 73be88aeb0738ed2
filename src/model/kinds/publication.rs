//! Logical replication publications (`publication:NAME`), database-wide, with what they
//! publish: their tables (pg_dump's PUBLICATION TABLE entries, with column lists and row
//! filters, 15+) and schemas (PUBLICATION TABLES IN SCHEMA, 15+) as fields.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SPEC: KindSpec = KindSpec {
    name: "publication",
    key: KeyShape::Name,
    set_scope: None,
    relation: false,
};

impl KindDef for PublicationDef {
    fn schema(&self) -> Option<&str> {
        None
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicationDef {
    pub name: String,
    /// `FOR ALL TABLES`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all_tables: bool,
    /// The operations published (`publish = '…'`), of insert, update, delete, truncate.
    pub publish: Vec<String>,
    /// `publish_via_partition_root`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub via_root: bool,
    /// `publish_generated_columns` (18+): `none` or `stored`; `none` before 18, which
    /// cannot publish them.
    pub generated_columns: String,
    /// Tables by qualified name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tables: BTreeMap<String, PublishedTable>,
    /// `TABLES IN SCHEMA`, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedTable {
    /// The column list (15+), in column order; empty for all columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// The row filter (`WHERE`, 15+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_filter: Option<String>,
}
