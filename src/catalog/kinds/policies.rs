//! Row-level security policies (`policy:schema.table.name`).

use super::{comment_of, fetch_by_oids};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{qualify, CatalogObject, ObjectDef, ObjectKey, ObjectKind, PolicyDef};
use sqlx::postgres::types::Oid;

/// One task over every selected schema.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: false },
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct Row {
    schema: String,
    table_name: String,
    name: String,
    command: String,
    permissive: bool,
    roles: Vec<String>,
    using_expr: Option<String>,
    check_expr: Option<String>,
    comment: Option<String>,
}

pub async fn read_policies(
    conn: &mut sqlx::PgConnection,
    _caps: &ServerCaps,
    nsp: &[Oid],
) -> Result<Vec<CatalogObject>, CatalogError> {
    let sql = format!(
        "SELECT n.nspname::text AS schema, c.relname::text AS table_name, pol.polname::text AS name, \
           pol.polcmd::text AS command, pol.polpermissive AS permissive, \
           ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END \
                 FROM unnest(pol.polroles) r) AS roles, \
           pg_get_expr(pol.polqual, pol.polrelid) AS using_expr, \
           pg_get_expr(pol.polwithcheck, pol.polrelid) AS check_expr, {comment} AS comment \
         FROM pg_policy pol \
         JOIN pg_class c ON c.oid = pol.polrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.oid = ANY($1)",
        comment = comment_of("pg_policy", "pol.oid"),
    );
    let rows: Vec<Row> = fetch_by_oids(conn, "reading policies", &sql, nsp).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut roles = r.roles;
            roles.sort();
            CatalogObject {
                key: ObjectKey::on_table(ObjectKind::Policy, &r.schema, &r.table_name, &r.name),
                owner: None,
                acl: None,
                comment: r.comment,
                def: ObjectDef::Policy(PolicyDef {
                    table: qualify(&r.schema, &r.table_name),
                    command: match r.command.as_str() {
                        "r" => "select",
                        "a" => "insert",
                        "w" => "update",
                        "d" => "delete",
                        _ => "all",
                    }
                    .to_string(),
                    permissive: r.permissive,
                    roles,
                    using: r.using_expr,
                    with_check: r.check_expr,
                    schema: r.schema,
                    name: r.name,
                }),
            }
        })
        .collect())
}
