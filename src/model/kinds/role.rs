//! Roles (`role:NAME`): the cluster's roles, in the catalog root. Never the password: it is
//! not read at all (`pg_roles` shows it masked, and driftgate does not select it). Built-in
//! `pg_*` roles are left out; the comment is the role's `COMMENT ON ROLE`.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "role",
    key: KeyShape::Name,
    set_scope: None,
    relation: false,
};

impl KindDef for RoleDef {
    fn schema(&self) -> Option<&str> {
        None
    }
}

/// The attributes `pg_dumpall --roles-only` prints for a role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleDef {
    pub name: String,
    pub login: bool,
    pub superuser: bool,
    pub createdb: bool,
    pub createrole: bool,
    pub replication: bool,
    pub bypassrls: bool,
    pub inherit: bool,
    /// `CONNECTION LIMIT`; -1 is no limit.
    pub connection_limit: i32,
    /// `VALID UNTIL`, in UTC (`2030-01-01T00:00:00Z`) or `infinity`; absent when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
}
