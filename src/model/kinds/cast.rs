//! Casts (`cast:(SOURCE AS TARGET)`, types as `format_type` prints them with
//! `search_path = pg_catalog`): database-wide, in the catalog root.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "cast",
    key: KeyShape::Pair(" AS "),
    set_scope: None,
    relation: false,
};

impl KindDef for CastDef {
    fn schema(&self) -> Option<&str> {
        None
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CastDef {
    pub source: String,
    pub target: String,
    /// `function` (`WITH FUNCTION`), `inout` (`WITH INOUT`) or `binary` (`WITHOUT FUNCTION`).
    pub method: String,
    /// The cast function's signature, for `method = function`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// `explicit`, `assignment` (`AS ASSIGNMENT`) or `implicit` (`AS IMPLICIT`).
    pub context: String,
}
