//! Privileges changed on objects snapshots otherwise leave out (`builtin_acl:TYPE/OBJECT`):
//! PostgreSQL's own objects (initdb's, in `pg_catalog` and `information_schema`) and the
//! members of extensions. Their definitions belong to PostgreSQL or to the extension's
//! script, but their privileges are the database's own: `GRANT EXECUTE ON FUNCTION
//! pg_catalog.pg_read_file(text) TO app`, `GRANT SELECT (rolname) ON pg_authid TO x` or
//! `REVOKE EXECUTE ON FUNCTION public.digest(text, text) FROM PUBLIC` (pgcrypto's) change
//! who may do what, and pg_dump prints them (it compares with `pg_init_privs`). So does
//! driftgate: an object is captured only while its ACL differs from the one it started
//! with (`pg_init_privs`, or the owner's default when initdb or the script left none).
//!
//! Keys: `builtin_acl:function/pg_catalog.pg_read_file(text)`,
//! `builtin_acl:table/pg_catalog.pg_authid`, `builtin_acl:column/pg_catalog.pg_authid.rolname`,
//! `builtin_acl:sequence/…`, `builtin_acl:type/…`, `builtin_acl:schema/pg_catalog`,
//! `builtin_acl:language/c`, `builtin_acl:foreign_data_wrapper/postgres_fdw`,
//! `builtin_acl:server/…`. The object's current ACL is the object's `acl`.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "builtin_acl",
    // `TYPE/OBJECT`: the object's type, then its name as in other kinds' keys.
    key: KeyShape::Path,
    set_scope: None,
    relation: false,
};

impl KindDef for BuiltinAclDef {
    /// Database-wide: the catalog root (the privileges of one database, on objects that
    /// are PostgreSQL's or an extension's rather than a schema's).
    fn schema(&self) -> Option<&str> {
        None
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuiltinAclDef {
    /// `table`, `sequence`, `column`, `function`, `type`, `schema`, `language`,
    /// `foreign_data_wrapper` or `server`.
    pub object_type: String,
    /// The object, as in its key: `pg_catalog.pg_read_file(text)`.
    pub object: String,
    /// The extension the object belongs to; absent for PostgreSQL's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    /// The privileges it started with, sorted: `pg_init_privs` (what initdb or the
    /// extension's script left), else the owner's default.
    pub initial_acl: Vec<String>,
}
