//! Table constraints (`constraint:SCHEMA.TABLE.NAME`), the `constraints:TABLE` set scope.

use super::{KeyShape, KindDef, KindSpec};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "constraint",
    key: KeyShape::OnTable,
    set_scope: Some("constraints"),
    relation: false,
};

impl KindDef for ConstraintDef {
    fn schema(&self) -> Option<&str> {
        Some(&self.schema)
    }
    fn table(&self) -> Option<&str> {
        Some(&self.table)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConstraintDef {
    pub schema: String,
    /// The constrained table, qualified as in its `table:` key.
    pub table: String,
    pub name: String,
    /// `primary_key`, `foreign_key`, `unique`, `check`, `exclusion` or `trigger`.
    pub constraint_type: String,
    pub definition: String,
    pub deferrable: bool,
    pub initially_deferred: bool,
    pub validated: bool,
    /// Constrained columns by name, in key order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foreign_key: Option<ForeignKeyDef>,
    /// The enforcement triggers PostgreSQL made for the constraint (a foreign key's checks
    /// and actions, a deferrable key's recheck) that are not in their normal state, as
    /// `table state` (`public.child disabled`): `ALTER TABLE … DISABLE TRIGGER ALL` turns
    /// enforcement off without changing the constraint. pg_dump does not keep this.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trigger_states: Vec<String>,
    /// The tablespace of a primary key's, unique or exclusion constraint's index, when not
    /// the database's default (`USING INDEX TABLESPACE`; `pg_get_constraintdef` does not
    /// print it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tablespace: Option<String>,
    /// A CHECK constraint that comes from an inheritance parent and was not declared on this
    /// table too: pg_dump leaves it out of the child, and it goes with the parent's. Not for
    /// partitions (see the same field of a table's column).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inherited_only: bool,
    /// A partition's copy of its partitioned table's primary key, unique, exclusion or
    /// foreign key constraint: the parent table. pg_dump prints each (the copy's name is
    /// its own: `ALTER INDEX part_pkey RENAME` renames it), so they are captured; the
    /// fan-out follows the parent's. A foreign key's copies for each partition it
    /// references are PostgreSQL's bookkeeping, named like their parent, and left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clone_of: Option<String>,
    /// The comment on a primary key's, unique or exclusion constraint's index (`COMMENT ON
    /// INDEX`, which pg_dump prints; the index is part of its constraint here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_comment: Option<String>,
    /// A partition's own key whose index is attached to an index of the partitioned table
    /// (`ALTER INDEX parent_idx ATTACH PARTITION part_pkey`, pg_dump's INDEX ATTACH): that
    /// index, qualified. A copy of the parent's key (`clone_of`) is attached by being one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_attached_to: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKeyDef {
    /// The referenced table, qualified.
    pub references: String,
    pub ref_columns: Vec<String>,
    /// `no_action`, `restrict`, `cascade`, `set_null` or `set_default`.
    pub on_delete: String,
    pub on_update: String,
    /// `simple`, `full` or `partial`.
    pub match_type: String,
}
