//! Schemas (`schema:NAME`), and which schemas a snapshot covers.

use super::{comment_of, ext_member, fetch, sorted};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{CatalogObject, ObjectDef, ObjectKey, ObjectKind, SchemaDef};
use sqlx::postgres::types::Oid;

#[derive(sqlx::FromRow)]
struct Row {
    oid: Oid,
    name: String,
    owner: String,
    acl: Option<Vec<String>>,
    comment: Option<String>,
}

/// Read user schemas; `selected` applies `--include-schema`/`--exclude-schema`. Returns the
/// objects and the oids every other reader is restricted to.
pub async fn read_schemas(
    conn: &mut sqlx::PgConnection,
    _caps: &ServerCaps,
    selected: impl Fn(&str) -> bool,
) -> Result<(Vec<CatalogObject>, Vec<Oid>), CatalogError> {
    let sql = format!(
        "SELECT n.oid, n.nspname::text AS name, pg_get_userbyid(n.nspowner)::text AS owner, \
         n.nspacl::text[] AS acl, {comment} AS comment \
         FROM pg_namespace n \
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') \
           AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%' \
           AND NOT {ext}",
        comment = comment_of("pg_namespace", "n.oid"),
        ext = ext_member("pg_namespace", "n.oid"),
    );
    let rows: Vec<Row> = fetch(conn, "reading schemas", &sql).await?;
    let mut objects = Vec::new();
    let mut oids = Vec::new();
    for r in rows.into_iter().filter(|r| selected(&r.name)) {
        oids.push(r.oid);
        objects.push(CatalogObject {
            key: ObjectKey::new(ObjectKind::Schema, &crate::model::quote_ident(&r.name)),
            owner: Some(r.owner),
            acl: sorted(r.acl),
            comment: r.comment,
            def: ObjectDef::Schema(SchemaDef { name: r.name }),
        });
    }
    Ok((objects, oids))
}
