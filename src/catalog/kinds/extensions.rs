//! Extensions (`extension:NAME`) with their version. Their member objects are left out of
//! snapshots; the extension's version stands for them.

use super::{comment_of, fetch};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{CatalogObject, ExtensionDef, ObjectDef, ObjectKey, ObjectKind};

/// Database-wide: one task (it reads what the database has, whatever the schemas).
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: false },
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct Row {
    name: String,
    version: String,
    schema: String,
    owner: String,
    comment: Option<String>,
}

pub async fn read_extensions(
    conn: &mut sqlx::PgConnection,
    _caps: &ServerCaps,
) -> Result<Vec<CatalogObject>, CatalogError> {
    let sql = format!(
        "SELECT e.extname::text AS name, e.extversion AS version, n.nspname::text AS schema, \
         pg_get_userbyid(e.extowner)::text AS owner, {comment} AS comment \
         FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace",
        comment = comment_of("pg_extension", "e.oid"),
    );
    let rows: Vec<Row> = fetch(conn, "reading extensions", &sql).await?;
    Ok(rows
        .into_iter()
        .map(|r| CatalogObject {
            key: ObjectKey::new(ObjectKind::Extension, &crate::model::quote_ident(&r.name)),
            owner: Some(r.owner),
            acl: None,
            comment: r.comment,
            def: ObjectDef::Extension(ExtensionDef {
                name: r.name,
                version: r.version,
                schema: r.schema,
            }),
        })
        .collect())
}
