//! Transforms (`transform:(type LANGUAGE lang)`) made by users: database-wide.

use super::refs::{routine, routine_ref, user_made};
use super::{comment_of, fetch};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{CatalogObject, ObjectDef, ObjectKey, ObjectKind, TransformDef};

/// Database-wide: one task.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: false },
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct Row {
    data_type: String,
    language: String,
    from_sql: Option<Vec<String>>,
    to_sql: Option<Vec<String>>,
    comment: Option<String>,
}

pub async fn read_transforms(
    conn: &mut sqlx::PgConnection,
    _caps: &ServerCaps,
) -> Result<Vec<CatalogObject>, CatalogError> {
    let sql = format!(
        "SELECT format_type(t.trftype, NULL) AS data_type, l.lanname::text AS language, \
           {from_sql} AS from_sql, {to_sql} AS to_sql, {comment} AS comment \
         FROM pg_transform t JOIN pg_language l ON l.oid = t.trflang WHERE {user}",
        from_sql = routine_ref("t.trffromsql"),
        to_sql = routine_ref("t.trftosql"),
        comment = comment_of("pg_transform", "t.oid"),
        user = user_made("pg_transform", "t.oid"),
    );
    let rows: Vec<Row> = fetch(conn, "reading transforms", &sql).await?;
    Ok(rows
        .into_iter()
        .map(|r| CatalogObject {
            key: ObjectKey::new(
                ObjectKind::Transform,
                &format!(
                    "({} LANGUAGE {})",
                    r.data_type,
                    crate::model::quote_ident(&r.language)
                ),
            ),
            owner: None,
            acl: None,
            comment: r.comment,
            def: ObjectDef::Transform(TransformDef {
                from_sql: routine(r.from_sql),
                to_sql: routine(r.to_sql),
                data_type: r.data_type,
                language: r.language,
            }),
        })
        .collect())
}
