//! Encoding conversions (`conversion:SCHEMA.NAME`).

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "conversion",
    key: KeyShape::Qualified,
    set_scope: None,
    relation: false,
};

impl KindDef for ConversionDef {
    fn schema(&self) -> Option<&str> {
        Some(&self.schema)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversionDef {
    pub schema: String,
    pub name: String,
    pub for_encoding: String,
    pub to_encoding: String,
    /// The conversion function, by signature.
    pub function: String,
    /// `CREATE DEFAULT CONVERSION`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default: bool,
}
