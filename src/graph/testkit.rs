//! Small catalog objects for the graph module's unit tests.

use crate::model::*;

/// A plpgsql function object in an otherwise empty snapshot index.
/// A PL/pgSQL trigger function `public.NAME()` with no settings.
pub fn plpgsql(name: &str, body: &str) -> CatalogObject {
    routine(name, "plpgsql", &[], body)
}

pub fn routine(name: &str, language: &str, config: &[&str], body: &str) -> CatalogObject {
    let definition = format!(
        "CREATE OR REPLACE FUNCTION public.{name}()\n RETURNS trigger\n LANGUAGE {language}\n{}AS $function$\n{body}\n$function$\n",
        config.iter().map(|c| format!(" SET {}\n", c.replacen('=', " TO ", 1))).collect::<String>()
    );
    CatalogObject {
        key: ObjectKey::new(ObjectKind::Function, &format!("public.{name}()")),
        owner: Some("alice".into()),
        acl: None,
        comment: None,
        def: ObjectDef::Function(RoutineDef {
            schema: "public".into(),
            name: name.into(),
            identity_args: String::new(),
            arguments: String::new(),
            result: Some("trigger".into()),
            language: language.into(),
            volatility: "volatile".into(),
            strict: false,
            security_definer: false,
            leakproof: false,
            parallel: "unsafe".into(),
            config: config.iter().map(|c| c.to_string()).collect(),
            cost: "100".into(),
            rows: None,
            support: None,
            window: false,
            transforms: vec![],
            definition: Some(definition),
            source: body.into(),
            body_hash: String::new(),
            token_hash: String::new(),
            aggregate: None,
        }),
    }
}

pub fn snapshot_with(objects: Vec<CatalogObject>) -> crate::model::CatalogSnapshot {
    crate::model::CatalogSnapshot {
        meta: crate::model::SnapshotMeta {
            format: String::new(),
            created_at: String::new(),
            source: Default::default(),
            server_version: String::new(),
            server_version_num: 170000,
            driftgate_version: String::new(),
            capture_format: crate::model::snapshot::CAPTURE_FORMAT,
            label: None,
            include_schemas: vec![],
            exclude_schemas: vec![],
            capture_ms: 0,
        },
        objects: objects.into_iter().map(|o| (o.key.clone(), o)).collect(),
        counts: Default::default(),
    }
}

pub fn table(schema: &str, name: &str) -> CatalogObject {
    CatalogObject {
        key: ObjectKey::qualified(ObjectKind::Table, schema, name),
        owner: None,
        acl: None,
        comment: None,
        def: ObjectDef::Table(crate::model::TableDef {
            schema: schema.into(),
            name: name.into(),
            relkind: "table".into(),
            persistence: "permanent".into(),
            columns: Default::default(),
            partition_key: None,
            partition_bound: None,
            parents: vec![],
            rls_enabled: false,
            rls_forced: false,
            options: vec![],
            ..Default::default()
        }),
    }
}

/// A trigger object from a [`TriggerDef`] (see `firing::tests::trigger`).
pub fn trigger_object(def: TriggerDef) -> CatalogObject {
    let table = QualifiedName::parse(&def.table).expect("qualified table");
    CatalogObject {
        key: ObjectKey::on_table(ObjectKind::Trigger, &table.schema, &table.name, &def.name),
        owner: None,
        acl: None,
        comment: None,
        def: ObjectDef::Trigger(def),
    }
}

/// A foreign key `child(column) REFERENCES parent(id) ON DELETE on_delete`.
pub fn foreign_key(child: &str, column: &str, parent: &str, on_delete: &str) -> CatalogObject {
    let name = format!("{child}_{column}_fkey");
    CatalogObject {
        key: ObjectKey::on_table(ObjectKind::Constraint, "public", child, &name),
        owner: None,
        acl: None,
        comment: None,
        def: ObjectDef::Constraint(ConstraintDef {
            schema: "public".into(),
            table: format!("public.{child}"),
            name,
            constraint_type: "foreign_key".into(),
            definition: String::new(),
            deferrable: false,
            initially_deferred: false,
            validated: true,
            columns: vec![column.into()],
            foreign_key: Some(ForeignKeyDef {
                references: format!("public.{parent}"),
                ref_columns: vec!["id".into()],
                on_delete: on_delete.into(),
                on_update: "no_action".into(),
                match_type: "simple".into(),
            }),
            trigger_states: vec![],
            tablespace: None,
            inherited_only: false,
            clone_of: None,
            index_comment: None,
            index_attached_to: None,
        }),
    }
}
