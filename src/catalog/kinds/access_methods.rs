//! Access methods (`access_method:name`) made by users outside an extension: database-wide.

use super::refs::{routine, routine_ref, user_made};
use super::{comment_of, fetch};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{quote_ident, AccessMethodDef, CatalogObject, ObjectDef, ObjectKey, ObjectKind};

/// Database-wide: one task.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: false },
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct Row {
    name: String,
    am_type: String,
    handler: Option<Vec<String>>,
    comment: Option<String>,
}

pub async fn read_access_methods(
    conn: &mut sqlx::PgConnection,
    _caps: &ServerCaps,
) -> Result<Vec<CatalogObject>, CatalogError> {
    let sql = format!(
        "SELECT a.amname::text AS name, a.amtype::text AS am_type, {handler} AS handler, \
           {comment} AS comment \
         FROM pg_am a WHERE {user}",
        handler = routine_ref("a.amhandler"),
        comment = comment_of("pg_am", "a.oid"),
        user = user_made("pg_am", "a.oid"),
    );
    let rows: Vec<Row> = fetch(conn, "reading access methods", &sql).await?;
    Ok(rows
        .into_iter()
        .map(|r| CatalogObject {
            key: ObjectKey::new(ObjectKind::AccessMethod, &quote_ident(&r.name)),
            owner: None,
            acl: None,
            comment: r.comment,
            def: ObjectDef::AccessMethod(AccessMethodDef {
                am_type: if r.am_type == "t" { "table" } else { "index" }.to_string(),
                handler: routine(r.handler).unwrap_or_default(),
                name: r.name,
            }),
        })
        .collect())
}
