//! Privileges on configuration parameters (`parameter_acl:NAME`, PostgreSQL 15+):
//! `GRANT SET ON PARAMETER log_statement TO auditor`, `GRANT ALTER SYSTEM ON PARAMETER …`.
//! Cluster-wide, like roles (`pg_parameter_acl` is a shared catalog), in the catalog root and
//! the `settings` scope. A parameter is listed while it holds any privilege; the grants are
//! the object's `acl`. Older servers have no such privileges and list none.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "parameter_acl",
    // A parameter's name as PostgreSQL spells it (`app.mode` has a dot, not a schema).
    key: KeyShape::Path,
    set_scope: None,
    relation: false,
};

impl KindDef for ParameterAclDef {
    fn schema(&self) -> Option<&str> {
        None
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParameterAclDef {
    /// The parameter, lower case as `pg_parameter_acl` stores it.
    pub name: String,
}
