//! Indexes (`index:SCHEMA.NAME`; index names are unique per schema), the `indexes:TABLE`
//! set scope of their table or materialized view.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "index",
    key: KeyShape::Qualified,
    set_scope: Some("indexes"),
    relation: false,
};

impl KindDef for IndexDef {
    fn schema(&self) -> Option<&str> {
        Some(&self.schema)
    }
    fn table(&self) -> Option<&str> {
        Some(&self.table)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexDef {
    pub schema: String,
    pub name: String,
    /// The indexed table or materialized view, qualified.
    pub table: String,
    pub definition: String,
    pub unique: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// False for an index left invalid by a failed `CREATE INDEX CONCURRENTLY`.
    pub valid: bool,
    /// The tablespace, when not the database's default (pg_dump sets `default_tablespace`
    /// for it; `pg_get_indexdef` does not print it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tablespace: Option<String>,
    /// `ALTER INDEX … ALTER COLUMN N SET STATISTICS T` of expression columns, as `N=T` in
    /// column order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub column_statistics: Vec<String>,
    /// A partition's index attached to its partitioned table's index (`ALTER INDEX parent
    /// ATTACH PARTITION this`, pg_dump's INDEX ATTACH): the parent index, qualified. An
    /// index made with `ON ONLY` stays invalid until every partition's is attached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attached_to: Option<String>,
}
