//! Casts (`cast:(source AS target)`) made by users: database-wide.

use super::refs::{routine, routine_ref, user_made};
use super::{comment_of, fetch};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{CastDef, CatalogObject, ObjectDef, ObjectKey, ObjectKind};

/// Database-wide: one task.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: false },
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct Row {
    source: String,
    target: String,
    method: String,
    function: Option<Vec<String>>,
    context: String,
    comment: Option<String>,
}

pub async fn read_casts(
    conn: &mut sqlx::PgConnection,
    caps: &ServerCaps,
) -> Result<Vec<CatalogObject>, CatalogError> {
    let sql = format!(
        "SELECT format_type(c.castsource, NULL) AS source, format_type(c.casttarget, NULL) AS target, \
           c.castmethod::text AS method, {function} AS function, c.castcontext::text AS context, \
           {comment} AS comment \
         FROM pg_cast c WHERE {user} {multirange}",
        // A range type's casts to its multirange (14+) are made by CREATE TYPE … AS RANGE,
        // part of the range type as pg_dump treats them: not casts of their own.
        multirange = if caps.version_num >= 140000 {
            "AND NOT EXISTS (SELECT 1 FROM pg_range r \
               WHERE r.rngtypid = c.castsource AND r.rngmultitypid = c.casttarget)"
        } else {
            ""
        },
        function = routine_ref("c.castfunc"),
        comment = comment_of("pg_cast", "c.oid"),
        user = user_made("pg_cast", "c.oid"),
    );
    let rows: Vec<Row> = fetch(conn, "reading casts", &sql).await?;
    Ok(rows
        .into_iter()
        .map(|r| CatalogObject {
            key: ObjectKey::new(ObjectKind::Cast, &format!("({} AS {})", r.source, r.target)),
            owner: None,
            acl: None,
            comment: r.comment,
            def: ObjectDef::Cast(CastDef {
                method: match r.method.as_str() {
                    "i" => "inout",
                    "b" => "binary",
                    _ => "function",
                }
                .to_string(),
                function: routine(r.function),
                context: match r.context.as_str() {
                    "i" => "implicit",
                    "a" => "assignment",
                    _ => "explicit",
                }
                .to_string(),
                source: r.source,
                target: r.target,
            }),
        })
        .collect())
}
