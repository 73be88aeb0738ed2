//! Event triggers (`event_trigger:NAME`): database-wide, in the catalog root.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "event_trigger",
    key: KeyShape::Name,
    set_scope: None,
    relation: false,
};

impl KindDef for EventTriggerDef {
    fn schema(&self) -> Option<&str> {
        None
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTriggerDef {
    pub name: String,
    /// `ddl_command_start`, `ddl_command_end`, `sql_drop`, `table_rewrite`, `login`.
    pub event: String,
    /// Command tags filtered on, sorted; empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    pub function: String,
    pub enabled: String,
}
