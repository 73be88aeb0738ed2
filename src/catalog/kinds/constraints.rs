//! Table constraints (`constraint:schema.table.name`): primary key, foreign key, unique,
//! check, exclusion. Not-null is a column property (PostgreSQL 18 also lists it here, as
//! `n`; it is folded into the column so every version gives the same snapshot), and
//! constraint-trigger entries are captured as triggers.

use super::{comment_of, fetch_in_schemas};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{
    qualify, CatalogObject, ConstraintDef, ForeignKeyDef, ObjectDef, ObjectKey, ObjectKind,
};
use sqlx::postgres::types::Oid;

#[derive(sqlx::FromRow)]
struct Row {
    schema: String,
    table_name: String,
    name: String,
    contype: String,
    definition: String,
    deferrable: bool,
    deferred: bool,
    validated: bool,
    columns: Vec<String>,
    ref_schema: Option<String>,
    ref_table: Option<String>,
    ref_columns: Vec<String>,
    on_delete: String,
    on_update: String,
    match_type: String,
    comment: Option<String>,
}

fn fk_action(code: &str) -> String {
    match code {
        "r" => "restrict",
        "c" => "cascade",
        "n" => "set_null",
        "d" => "set_default",
        _ => "no_action",
    }
    .to_string()
}

pub async fn read_constraints(
    conn: &mut sqlx::PgConnection,
    _caps: &ServerCaps,
    nsp: &[Oid],
) -> Result<Vec<CatalogObject>, CatalogError> {
    let sql = format!(
        "SELECT n.nspname::text AS schema, c.relname::text AS table_name, con.conname::text AS name, \
           con.contype::text AS contype, pg_get_constraintdef(con.oid) AS definition, \
           con.condeferrable AS deferrable, con.condeferred AS deferred, con.convalidated AS validated, \
           ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, i) \
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.i) AS columns, \
           fn.nspname::text AS ref_schema, fc.relname::text AS ref_table, \
           CASE WHEN con.contype = 'f' THEN \
             ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, i) \
                   JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.i) \
           ELSE '{{}}'::text[] END AS ref_columns, \
           con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update, \
           con.confmatchtype::text AS match_type, {comment} AS comment \
         FROM pg_constraint con \
         JOIN pg_class c ON c.oid = con.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_class fc ON fc.oid = con.confrelid \
         LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace \
         WHERE con.contype IN ('p', 'f', 'u', 'c', 'x') AND con.conparentid = 0 \
           AND c.relkind IN ('r', 'p', 'f') AND n.oid = ANY($1)",
        comment = comment_of("pg_constraint", "con.oid"),
    );
    let rows: Vec<Row> = fetch_in_schemas(conn, "reading constraints", &sql, nsp).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let foreign_key = match (r.contype.as_str(), &r.ref_schema, &r.ref_table) {
                ("f", Some(s), Some(t)) => Some(ForeignKeyDef {
                    references: qualify(s, t),
                    ref_columns: r.ref_columns.clone(),
                    on_delete: fk_action(&r.on_delete),
                    on_update: fk_action(&r.on_update),
                    match_type: match r.match_type.as_str() {
                        "f" => "full",
                        "p" => "partial",
                        _ => "simple",
                    }
                    .to_string(),
                }),
                _ => None,
            };
            CatalogObject {
                key: ObjectKey::on_table(ObjectKind::Constraint, &r.schema, &r.table_name, &r.name),
                owner: None,
                acl: None,
                comment: r.comment,
                def: ObjectDef::Constraint(ConstraintDef {
                    table: qualify(&r.schema, &r.table_name),
                    constraint_type: match r.contype.as_str() {
                        "p" => "primary_key",
                        "f" => "foreign_key",
                        "u" => "unique",
                        "c" => "check",
                        _ => "exclusion",
                    }
                    .to_string(),
                    definition: r.definition,
                    deferrable: r.deferrable,
                    initially_deferred: r.deferred,
                    validated: r.validated,
                    columns: r.columns,
                    foreign_key,
                    schema: r.schema,
                    name: r.name,
                }),
            }
        })
        .collect())
}
