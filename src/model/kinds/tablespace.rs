//! Tablespaces (`tablespace:NAME`), the cluster's, in the catalog root with the other
//! globals (scope `tablespaces`; left out by `--no-globals`). `pg_default` and `pg_global`
//! are initdb's and left out. Owner, ACL and comment are the object's common fields.
//!
//! The location is the directory as `pg_tablespace_location` prints it: two clusters whose
//! tablespaces live in different directories differ there, as `pg_dumpall` would show.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "tablespace",
    key: KeyShape::Name,
    set_scope: None,
    relation: false,
};

impl KindDef for TablespaceDef {
    fn schema(&self) -> Option<&str> {
        None
    }
}

/// What `pg_dumpall --tablespaces-only` prints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TablespaceDef {
    pub name: String,
    pub location: String,
    /// `WITH (…)` options (`seq_page_cost=2`), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}
