//! Schemas (`schema:NAME`), and which schemas a snapshot covers.

use super::{comment_of, ext_member, fetch, sorted};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{CatalogObject, ObjectDef, ObjectKey, ObjectKind, SchemaDef};
use sqlx::postgres::types::Oid;

/// Read by the leading session before the plan: the selected schemas are every other reader's input.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::First,
    weight: 0,
};

#[derive(sqlx::FromRow)]
struct Row {
    oid: Oid,
    name: String,
    owner: String,
    acl: Option<Vec<String>>,
    comment: Option<String>,
}

/// SQL: namespace `{alias}` is a user schema (not a system, temporary or extension's one),
/// one a snapshot covers unless a schema filter leaves it out.
pub(crate) fn user_schema(alias: &str) -> String {
    format!(
        "{alias}.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') \
         AND {alias}.nspname NOT LIKE 'pg\\_temp\\_%' AND {alias}.nspname NOT LIKE 'pg\\_toast\\_temp\\_%' \
         AND NOT {ext}",
        ext = ext_member("pg_namespace", &format!("{alias}.oid")),
    )
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
         {acl} AS acl, {comment} AS comment \
         FROM pg_namespace n WHERE {user}",
        acl = super::acl_sql("n.nspacl", "n", "n.nspowner"),
        comment = comment_of("pg_namespace", "n.oid"),
        user = user_schema("n"),
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
