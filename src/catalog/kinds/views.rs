//! Views and materialized views (`view:`, `matview:`) with their definitions.
//!
//! `pg_get_viewdef` parses the view, which takes ACCESS SHARE on the relations it reads:
//! the one catalog read that can wait on a lock held on a user table (bounded by
//! `lock_timeout`).

use super::{comment_of, ext_member, fetch_by_oids, sorted};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{CatalogObject, ObjectDef, ObjectKey, ObjectKind, ViewDef};
use sqlx::postgres::types::Oid;

/// One task over every selected schema.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: false },
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct Row {
    schema: String,
    name: String,
    relkind: String,
    definition: String,
    options: Option<Vec<String>>,
    owner: String,
    acl: Option<Vec<String>>,
    comment: Option<String>,
}

pub async fn read_views(
    conn: &mut sqlx::PgConnection,
    caps: &ServerCaps,
    nsp: &[Oid],
) -> Result<Vec<CatalogObject>, CatalogError> {
    let sql = format!(
        "SELECT n.nspname::text AS schema, c.relname::text AS name, c.relkind::text AS relkind, \
           pg_get_viewdef(c.oid) AS definition, c.reloptions::text[] AS options, \
           pg_get_userbyid(c.relowner)::text AS owner, {acl} AS acl, {comment} AS comment \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('v', 'm') AND n.oid = ANY($1) AND NOT {ext}",
        acl = super::acl_sql("c.relacl", "r", "c.relowner"),
        comment = comment_of("pg_class", "c.oid"),
        ext = ext_member("pg_class", "c.oid"),
    );
    let rows: Vec<Row> = fetch_by_oids(conn, "reading view definitions", &sql, nsp).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let kind = if r.relkind == "m" {
                ObjectKind::Matview
            } else {
                ObjectKind::View
            };
            let mut options = r.options.unwrap_or_default();
            options.sort();
            let def = ViewDef {
                schema: r.schema.clone(),
                name: r.name.clone(),
                definition: caps.view_definition(r.definition),
                options,
            };
            CatalogObject {
                key: ObjectKey::qualified(kind, &r.schema, &r.name),
                acl: sorted(caps.relation_acl(&r.owner, r.acl)),
                owner: Some(r.owner),
                comment: r.comment,
                def: if kind == ObjectKind::Matview {
                    ObjectDef::Matview(def)
                } else {
                    ObjectDef::View(def)
                },
            }
        })
        .collect())
}
