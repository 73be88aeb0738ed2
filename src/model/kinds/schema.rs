//! Schemas (`schema:NAME`): database-wide, in the catalog root; a schema scope
//! (`schema:NAME`) covers it and every object in it.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "schema",
    key: KeyShape::Name,
    set_scope: None,
    relation: false,
};

impl KindDef for SchemaDef {
    // A schema is stored beside the schemas, not inside its own tree.
    fn schema(&self) -> Option<&str> {
        None
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaDef {
    pub name: String,
}
