//! One catalog object: the fields every object has (key, owner, grants, comment) and the
//! kind-specific definition. Field names here are the JSON field names users see in
//! `show --format json` and in `diff` output, so they are chosen for people.

use super::key::{ObjectKey, ObjectKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogObject {
    pub key: ObjectKey,
    /// Owning role, for objects that have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// ACL items as PostgreSQL prints them (`role=arwdDxt/grantor`), sorted; absent means the
    /// default privileges (a NULL ACL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(flatten)]
    pub def: ObjectDef,
}

impl CatalogObject {
    pub fn kind(&self) -> ObjectKind {
        self.def.kind()
    }

    /// The schema the object lives in; `None` for database-wide objects (schemas themselves,
    /// extensions, event triggers).
    pub fn schema(&self) -> Option<&str> {
        match &self.def {
            ObjectDef::Schema(_) | ObjectDef::Extension(_) | ObjectDef::EventTrigger(_) => None,
            ObjectDef::Type(d) => Some(&d.schema),
            ObjectDef::Table(d) => Some(&d.schema),
            ObjectDef::Constraint(d) => Some(&d.schema),
            ObjectDef::Index(d) => Some(&d.schema),
            ObjectDef::View(d) | ObjectDef::Matview(d) => Some(&d.schema),
            ObjectDef::Sequence(d) => Some(&d.schema),
            ObjectDef::Function(d) | ObjectDef::Procedure(d) | ObjectDef::Aggregate(d) => {
                Some(&d.schema)
            }
            ObjectDef::Trigger(d) => Some(&d.schema),
            ObjectDef::Policy(d) => Some(&d.schema),
        }
    }

    /// For objects that belong to a table (constraints, indexes, triggers, policies), the
    /// table's qualified name as in its `table:` key.
    pub fn table(&self) -> Option<&str> {
        match &self.def {
            ObjectDef::Constraint(d) => Some(&d.table),
            ObjectDef::Index(d) => Some(&d.table),
            ObjectDef::Trigger(d) => Some(&d.table),
            ObjectDef::Policy(d) => Some(&d.table),
            _ => None,
        }
    }

    pub fn as_routine(&self) -> Option<&RoutineDef> {
        match &self.def {
            ObjectDef::Function(d) | ObjectDef::Procedure(d) | ObjectDef::Aggregate(d) => Some(d),
            _ => None,
        }
    }

    pub fn as_trigger(&self) -> Option<&TriggerDef> {
        match &self.def {
            ObjectDef::Trigger(d) => Some(d),
            _ => None,
        }
    }

    pub fn as_table(&self) -> Option<&TableDef> {
        match &self.def {
            ObjectDef::Table(d) => Some(d),
            _ => None,
        }
    }

    pub fn as_constraint(&self) -> Option<&ConstraintDef> {
        match &self.def {
            ObjectDef::Constraint(d) => Some(d),
            _ => None,
        }
    }
}

/// The kind-specific part, tagged by `kind` in JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ObjectDef {
    Schema(SchemaDef),
    Extension(ExtensionDef),
    Type(TypeDef),
    Table(TableDef),
    Constraint(ConstraintDef),
    Index(IndexDef),
    View(ViewDef),
    Matview(ViewDef),
    Sequence(SequenceDef),
    Function(RoutineDef),
    Procedure(RoutineDef),
    Aggregate(RoutineDef),
    Trigger(TriggerDef),
    EventTrigger(EventTriggerDef),
    Policy(PolicyDef),
}

impl ObjectDef {
    pub fn kind(&self) -> ObjectKind {
        match self {
            ObjectDef::Schema(_) => ObjectKind::Schema,
            ObjectDef::Extension(_) => ObjectKind::Extension,
            ObjectDef::Type(_) => ObjectKind::Type,
            ObjectDef::Table(_) => ObjectKind::Table,
            ObjectDef::Constraint(_) => ObjectKind::Constraint,
            ObjectDef::Index(_) => ObjectKind::Index,
            ObjectDef::View(_) => ObjectKind::View,
            ObjectDef::Matview(_) => ObjectKind::Matview,
            ObjectDef::Sequence(_) => ObjectKind::Sequence,
            ObjectDef::Function(_) => ObjectKind::Function,
            ObjectDef::Procedure(_) => ObjectKind::Procedure,
            ObjectDef::Aggregate(_) => ObjectKind::Aggregate,
            ObjectDef::Trigger(_) => ObjectKind::Trigger,
            ObjectDef::EventTrigger(_) => ObjectKind::EventTrigger,
            ObjectDef::Policy(_) => ObjectKind::Policy,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaDef {
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionDef {
    pub name: String,
    pub version: String,
    pub schema: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeDef {
    pub schema: String,
    pub name: String,
    /// `enum`, `composite`, `domain`, `range`, `base` or `multirange`.
    pub type_kind: String,
    /// Enum labels in their sort order (the order is part of the type).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Composite attributes in column order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<TypeAttribute>,
    /// Domain: the base type; range: the subtype.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_type: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_null: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// Domain CHECK constraints: name → definition.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub constraints: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeAttribute {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Storage parameters (`fillfactor=70`), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexDef {
    pub schema: String,
    pub name: String,
    /// The indexed table or materialized view, qualified.
    pub table: String,
    pub definition: String,
    pub unique: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// False for an index left invalid by a failed `CREATE INDEX CONCURRENTLY`.
    pub valid: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewDef {
    pub schema: String,
    pub name: String,
    pub definition: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceDef {
    pub schema: String,
    pub name: String,
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cache: i64,
    pub cycle: bool,
    /// `schema.table.column` for sequences owned by a column (serial, identity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutineDef {
    pub schema: String,
    pub name: String,
    /// Identity argument types as in the key, e.g. `text, integer`.
    pub identity_args: String,
    /// Full argument list with names, modes and defaults.
    pub arguments: String,
    /// Result type (`trigger`, `SETOF record`, …); absent for procedures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    pub language: String,
    /// `immutable`, `stable` or `volatile`.
    pub volatility: String,
    pub strict: bool,
    pub security_definer: bool,
    pub leakproof: bool,
    /// `safe`, `restricted` or `unsafe`.
    pub parallel: String,
    /// `SET` clauses (`search_path=public, pg_temp`), in catalog order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<String>,
    /// Planner cost estimate (`COST`), as the server prints it. Empty only in objects
    /// stored before it was captured, which then keep their bytes and hash.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cost: String,
    /// Estimated result rows (`ROWS`) of a set-returning function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<String>,
    /// Planner support function (`SUPPORT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support: Option<String>,
    /// A window function (`WINDOW`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub window: bool,
    /// `TRANSFORM FOR TYPE` types, in catalog order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transforms: Vec<String>,
    /// `pg_get_functiondef` output; absent for aggregates, which it cannot print.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
    /// The body exactly as stored (`prosrc`, or the SQL-standard body).
    pub source: String,
    /// BLAKE3 of `source`, byte for byte.
    pub body_hash: String,
    /// BLAKE3 of the body's token stream: insensitive to whitespace and comments, sensitive
    /// to every literal and identifier.
    pub token_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<AggregateDef>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregateDef {
    pub transition_function: String,
    pub state_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_function: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combine_function: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_operator: Option<String>,
    /// `normal`, `ordered_set` or `hypothetical`.
    pub aggregate_kind: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerDef {
    pub schema: String,
    /// The table (or view) the trigger is on, qualified.
    pub table: String,
    pub name: String,
    /// `before`, `after` or `instead_of`.
    pub timing: String,
    /// Subset of `insert`, `update`, `delete`, `truncate`, in that order.
    pub events: Vec<String>,
    /// `UPDATE OF` columns, by name, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub update_columns: Vec<String>,
    /// `row` or `statement`.
    pub level: String,
    /// The trigger function as its key name, e.g. `public.fn_birth_registry_auto()`.
    pub function: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<String>,
    /// The WHEN condition as PostgreSQL prints it (without the outer `WHEN ( )`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// `origin`, `disabled`, `replica` or `always` (`ALTER TABLE … ENABLE/DISABLE TRIGGER`).
    pub enabled: String,
    /// A `CREATE CONSTRAINT TRIGGER`.
    pub constraint_trigger: bool,
    pub deferrable: bool,
    pub initially_deferred: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_table: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_table: Option<String>,
    /// `pg_get_triggerdef` output.
    pub definition: String,
}

impl TriggerDef {
    pub fn fires_on(&self, event: &str) -> bool {
        self.events.iter().any(|e| e == event)
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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyDef {
    pub schema: String,
    pub table: String,
    pub name: String,
    /// `all`, `select`, `insert`, `update` or `delete`.
    pub command: String,
    pub permissive: bool,
    /// Roles the policy applies to, sorted (`public` for all).
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub using: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_check: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::canonical::canonical_bytes;

    fn trigger() -> CatalogObject {
        CatalogObject {
            key: ObjectKey::on_table(ObjectKind::Trigger, "public", "t", "trg"),
            owner: None,
            acl: None,
            comment: None,
            def: ObjectDef::Trigger(TriggerDef {
                schema: "public".into(),
                table: "public.t".into(),
                name: "trg".into(),
                timing: "before".into(),
                events: vec!["insert".into()],
                update_columns: vec![],
                level: "row".into(),
                function: "public.f()".into(),
                arguments: vec![],
                when: None,
                enabled: "origin".into(),
                constraint_trigger: false,
                deferrable: false,
                initially_deferred: false,
                old_table: None,
                new_table: None,
                definition: "CREATE TRIGGER trg …".into(),
            }),
        }
    }

    #[test]
    fn json_is_flat_with_a_kind_tag_and_round_trips() {
        let obj = trigger();
        let bytes = canonical_bytes(&obj);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains(r#""kind":"trigger""#), "{text}");
        assert!(text.contains(r#""key":"trigger:public.t.trg""#), "{text}");
        assert!(
            !text.contains("owner"),
            "absent options are omitted: {text}"
        );
        let back: CatalogObject = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, obj);
        assert_eq!(back.kind(), ObjectKind::Trigger);
        assert_eq!(back.table(), Some("public.t"));
    }
}
