//! Transforms (`transform:(TYPE LANGUAGE LANG)`): database-wide, in the catalog root.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "transform",
    key: KeyShape::Pair(" LANGUAGE "),
    set_scope: None,
    relation: false,
};

impl KindDef for TransformDef {
    fn schema(&self) -> Option<&str> {
        None
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransformDef {
    #[serde(rename = "type")]
    pub data_type: String,
    pub language: String,
    /// `FROM SQL WITH FUNCTION`, by signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_sql: Option<String>,
    /// `TO SQL WITH FUNCTION`, by signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_sql: Option<String>,
}
