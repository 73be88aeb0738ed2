//! One catalog object: the fields every object has (key, owner, grants, comment) and the
//! kind-specific definition (declared with its kind in `kinds/`). Field names here are the
//! JSON field names users see in `show --format json` and in `diff` output, so they are
//! chosen for people.

use super::key::{ObjectKey, ObjectKind};
use super::kinds::{ConstraintDef, ObjectDef, RoutineDef, TableDef, TriggerDef};
use serde::{Deserialize, Serialize};

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
        self.def.as_kind_def().schema()
    }

    /// For objects that belong to a table (constraints, indexes, triggers, policies), the
    /// table's qualified name as in its `table:` key.
    pub fn table(&self) -> Option<&str> {
        self.def.as_kind_def().table()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::canonical::canonical_bytes;
    use crate::model::{Enabled, Event, Level, Timing};

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
                timing: Timing::Before,
                events: vec![Event::Insert],
                update_columns: vec![],
                level: Level::Row,
                function: "public.f()".into(),
                arguments: vec![],
                when: None,
                enabled: Enabled::Origin,
                constraint_trigger: false,
                deferrable: false,
                initially_deferred: false,
                old_table: None,
                new_table: None,
                definition: "CREATE TRIGGER trg …".into(),
                clone_of: None,
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
