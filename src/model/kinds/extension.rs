//! Extensions (`extension:NAME`) with their version; their member objects are left out of
//! snapshots, the version stands for them.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "extension",
    key: KeyShape::Name,
    set_scope: None,
    relation: false,
};

impl KindDef for ExtensionDef {
    // Database-wide: the schema it installs into is a field of it, not where it lives.
    fn schema(&self) -> Option<&str> {
        None
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionDef {
    pub name: String,
    pub version: String,
    pub schema: String,
}
