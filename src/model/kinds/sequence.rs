//! Sequences (`sequence:SCHEMA.NAME`): parameters and owning column, not the current value.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "sequence",
    key: KeyShape::Qualified,
    set_scope: None,
    relation: false,
};

impl KindDef for SequenceDef {
    fn schema(&self) -> Option<&str> {
        Some(&self.schema)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceDef {
    pub schema: String,
    pub name: String,
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cache: i64,
    pub cycle: bool,
    /// `schema.table.column` for sequences owned by a column (serial, identity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
}
