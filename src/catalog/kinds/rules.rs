//! Rewrite rules (`rule:schema.table.name`) on the selected schemas' relations, with their
//! definition as pg_dump prints it (`pg_get_ruledef`). Like a view's definition, printing a
//! rule takes ACCESS SHARE on the relations its actions name (bounded by `lock_timeout`).

use super::{comment_of, ext_member, fetch_by_oids};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{qualify, CatalogObject, ObjectDef, ObjectKey, ObjectKind, RuleDef};
use sqlx::postgres::types::Oid;

/// Few per schema, one task.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: false },
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct Row {
    schema: String,
    table_name: String,
    name: String,
    event: String,
    instead: bool,
    enabled: String,
    definition: Option<String>,
    comment: Option<String>,
}

pub async fn read_rules(
    conn: &mut sqlx::PgConnection,
    _caps: &ServerCaps,
    nsp: &[Oid],
) -> Result<Vec<CatalogObject>, CatalogError> {
    // A view's (or materialized view's) ON SELECT DO INSTEAD rule is the view itself, as
    // pg_dump treats it; rules of an extension's relations go with the extension.
    let sql = format!(
        "SELECT n.nspname::text AS schema, c.relname::text AS table_name, r.rulename::text AS name, \
           r.ev_type::text AS event, r.is_instead AS instead, r.ev_enabled::text AS enabled, \
           pg_get_ruledef(r.oid) AS definition, {comment} AS comment \
         FROM pg_rewrite r \
         JOIN pg_class c ON c.oid = r.ev_class \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.oid = ANY($1) \
           AND NOT (r.ev_type = '1' AND r.is_instead AND c.relkind IN ('v', 'm')) \
           AND NOT {ext}",
        comment = comment_of("pg_rewrite", "r.oid"),
        ext = ext_member("pg_class", "c.oid"),
    );
    let rows: Vec<Row> = fetch_by_oids(conn, "reading rules", &sql, nsp).await?;
    Ok(rows
        .into_iter()
        .map(|r| CatalogObject {
            key: ObjectKey::on_table(ObjectKind::Rule, &r.schema, &r.table_name, &r.name),
            owner: None,
            acl: None,
            comment: r.comment,
            def: ObjectDef::Rule(RuleDef {
                table: qualify(&r.schema, &r.table_name),
                event: match r.event.as_str() {
                    "1" => "select",
                    "2" => "update",
                    "3" => "insert",
                    _ => "delete",
                }
                .to_string(),
                instead: r.instead,
                enabled: enabled_state(&r.enabled),
                // NULL only if the rule vanished between the catalog read and the deparse,
                // which the stamps around the read catch and retry.
                definition: r.definition.unwrap_or_default(),
                schema: r.schema,
                name: r.name,
            }),
        })
        .collect())
}

/// `ev_enabled` (and `tgenabled`, `evtenabled`) as a word.
pub(super) fn enabled_state(code: &str) -> String {
    match code {
        "D" => "disabled",
        "R" => "replica",
        "A" => "always",
        _ => "origin",
    }
    .to_string()
}
