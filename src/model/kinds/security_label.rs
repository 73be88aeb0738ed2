//! Security labels (`security_label:PROVIDER/TYPE/OBJECT`): `SECURITY LABEL FOR provider ON
//! … IS '…'`, as label providers such as sepgsql or PostgreSQL Anonymizer (`anon`, whose
//! masking rules are labels on columns and roles) store them in `pg_seclabel` and, for roles,
//! tablespaces and databases, `pg_shseclabel`. A changed masking rule changes what a role
//! sees; pg_dump prints every label, and so a snapshot holds them.
//!
//! Keys: `security_label:anon/table_column/public.people.email`,
//! `security_label:selinux/table/public.t`, `security_label:anon/role/analyst`. `TYPE` and
//! `OBJECT` are what `pg_identify_object` calls the object's type (with `_` for its spaces)
//! and identity, so a key names the object as PostgreSQL does and survives a dump and
//! restore.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "security_label",
    // `PROVIDER/TYPE/OBJECT`.
    key: KeyShape::Path,
    set_scope: None,
    relation: false,
};

impl KindDef for SecurityLabelDef {
    /// Database-wide: the catalog root (a label can be on objects of no schema: a schema
    /// itself, a language, a role).
    fn schema(&self) -> Option<&str> {
        None
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityLabelDef {
    /// The label provider (`SECURITY LABEL FOR provider`).
    pub provider: String,
    /// The labelled object's type as `pg_identify_object` names it, `_` for spaces:
    /// `table`, `table_column`, `function`, `role`, ….
    pub object_type: String,
    /// Its identity, as in the key: `public.people.email`.
    pub object: String,
    /// The label itself.
    pub label: String,
}
