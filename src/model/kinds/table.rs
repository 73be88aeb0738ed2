//! Tables (`table:SCHEMA.NAME`): ordinary, partitioned and foreign, with their columns by
//! name. The relation the set scopes (`triggers:TABLE`, …) are about.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SPEC: KindSpec = KindSpec {
    name: "table",
    key: KeyShape::Qualified,
    set_scope: None,
    relation: true,
};

impl KindDef for TableDef {
    fn schema(&self) -> Option<&str> {
        Some(&self.schema)
    }
}

/// `Default` for test builders; the reader names every field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDef {
    pub schema: String,
    pub name: String,
    /// `table`, `partitioned_table` or `foreign_table`.
    pub relkind: String,
    /// `permanent`, `unlogged` or `temporary`.
    pub persistence: String,
    pub columns: BTreeMap<String, Column>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_bound: Option<String>,
    /// Inheritance and partition parents, qualified, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
    pub rls_enabled: bool,
    pub rls_forced: bool,
    /// Storage parameters (`fillfactor=70`, the TOAST table's as `toast.NAME=VALUE`), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// A typed table's type (`CREATE TABLE … OF type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of_type: Option<String>,
    /// The table access method (`USING heap2`) when it is not `heap`, the built-in default
    /// pg_dump leaves implied; partitioned tables have one on 17+ only when it was set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_method: Option<String>,
    /// The tablespace, when not the database's default (`reltablespace` 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tablespace: Option<String>,
    /// `full`, `nothing` or `index` (with [`TableDef::replica_identity_index`]) when not
    /// the default (the primary key); pg_dump prints `REPLICA IDENTITY …` then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_identity: Option<String>,
    /// The index of `REPLICA IDENTITY USING INDEX`, in the table's schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_identity_index: Option<String>,
    /// The index of `ALTER TABLE … CLUSTER ON`, in the table's schema. On the table, not
    /// the index: there is one per table, and the index may be a constraint's (a primary
    /// key's index is part of its constraint here, not an index object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clustered_on: Option<String>,
    /// A foreign table's server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foreign_server: Option<String>,
    /// A foreign table's options (`table_name=remote`), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_options: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Position among the live columns (1-based). Not `attnum`: dropped columns leave holes
    /// in `attnum`, and a clone built from clean SQL has none.
    pub ordinal: u32,
    #[serde(rename = "type")]
    pub data_type: String,
    pub not_null: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// `always` or `by_default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// `stored` (or `virtual` on PostgreSQL 18) with the expression in `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<Vec<String>>,
    /// `SET STATISTICS`: the per-column statistics target when set. PostgreSQL 17+ stores
    /// the default as NULL, earlier versions as -1: both are `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistics: Option<i32>,
    /// `SET STORAGE` (`plain`, `external`, `extended`, `main`) when it differs from its
    /// type's default (`typstorage`), as pg_dump prints it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    /// `SET COMPRESSION` (`pglz`, `lz4`) when set (PostgreSQL 14+; unset follows
    /// `default_toast_compression`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    /// Attribute options (`n_distinct=5`), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// The column comes from an inheritance parent and was not declared on this table too:
    /// pg_dump leaves it out of the child's CREATE TABLE, and it goes when the parent's is
    /// dropped. Not for partitions, whose columns are all the parent's however they were
    /// made (pg_dump makes them standalone and attaches them).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inherited_only: bool,
    /// A foreign table column's options (`column_name=remote_id`), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fdw_options: Vec<String>,
    /// PostgreSQL 18's not-null constraint (`pg_constraint` `n`) has a name: kept only when
    /// it is not the name PostgreSQL chooses by default (`TABLE_COLUMN_not_null`, or for an
    /// inherited one, its parent's), which pg_dump leaves out too. So 13–17 and 18 give the
    /// same column for the same SQL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_null_name: Option<String>,
    /// The not-null constraint was added `NOT VALID` (18+): existing rows are not checked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_null_not_valid: bool,
    /// The not-null constraint is `NO INHERIT` (18+).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_null_no_inherit: bool,
    /// `COMMENT ON CONSTRAINT` of the not-null constraint (18+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_null_comment: Option<String>,
}
