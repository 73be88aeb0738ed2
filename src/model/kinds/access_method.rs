//! Access methods (`access_method:NAME`) created outside an extension: database-wide.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "access_method",
    key: KeyShape::Name,
    set_scope: None,
    relation: false,
};

impl KindDef for AccessMethodDef {
    fn schema(&self) -> Option<&str> {
        None
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessMethodDef {
    pub name: String,
    /// `table` or `index`.
    #[serde(rename = "type")]
    pub am_type: String,
    /// The handler function, by signature.
    pub handler: String,
}
