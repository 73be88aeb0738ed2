//! Views and materialized views (`view:SCHEMA.NAME`, `matview:SCHEMA.NAME`): two kinds of
//! one shape. Both are relations set scopes can be about (INSTEAD OF triggers, indexes).

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

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
}
