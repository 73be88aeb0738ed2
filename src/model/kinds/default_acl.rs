//! Default privileges (`ALTER DEFAULT PRIVILEGES`), keyed `default_acl:ROLE.SCHEMA.OBJECTS`
//! (`default_acl:app_owner.public.tables`), with `*` for the schema of those that apply
//! in every schema (a schema named `*` is quoted, `"*"`, so it cannot be mistaken for it).
//! Those of one schema live in its tree, the others in the catalog root.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "default_acl",
    // Three parts, like objects on a table: role, schema, object type.
    key: KeyShape::OnTable,
    set_scope: None,
    relation: false,
};

impl KindDef for DefaultAclDef {
    fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultAclDef {
    /// The role whose new objects get these privileges (`FOR ROLE`).
    pub role: String,
    /// `IN SCHEMA`; absent for every schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// `tables`, `sequences`, `functions`, `types`, `schemas`, `large_objects` (18+).
    pub objects: String,
}
