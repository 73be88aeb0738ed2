//! Extended statistics (`statistics:SCHEMA.NAME`, in the statistics object's own schema,
//! which may differ from its table's).

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "statistics",
    key: KeyShape::Qualified,
    set_scope: None,
    relation: false,
};

impl KindDef for StatisticsDef {
    fn schema(&self) -> Option<&str> {
        Some(&self.schema)
    }
    fn table(&self) -> Option<&str> {
        Some(&self.table)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatisticsDef {
    pub schema: String,
    pub name: String,
    /// The table, qualified as in its `table:` key.
    pub table: String,
    /// `ndistinct`, `dependencies`, `mcv`, `expressions` (14+), sorted.
    pub kinds: Vec<String>,
    /// `ALTER STATISTICS … SET STATISTICS n`; absent for the default (-1 up to 16, NULL
    /// from 17).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistics_target: Option<i32>,
    /// `pg_get_statisticsobjdef`, as pg_dump prints it.
    pub definition: String,
}
