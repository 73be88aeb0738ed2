//! Procedural languages (`language:name`) made by users outside an extension (plpgsql is
//! an extension's; `internal`, `c` and `sql` are initdb's): database-wide.

use super::refs::{routine, routine_ref, user_made};
use super::{comment_of, fetch, sorted};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{quote_ident, CatalogObject, LanguageDef, ObjectDef, ObjectKey, ObjectKind};

/// Database-wide: one task.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: false },
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct Row {
    name: String,
    trusted: bool,
    handler: Option<Vec<String>>,
    inline: Option<Vec<String>>,
    validator: Option<Vec<String>>,
    owner: String,
    acl: Option<Vec<String>>,
    comment: Option<String>,
}

pub async fn read_languages(
    conn: &mut sqlx::PgConnection,
    _caps: &ServerCaps,
) -> Result<Vec<CatalogObject>, CatalogError> {
    let sql = format!(
        "SELECT l.lanname::text AS name, l.lanpltrusted AS trusted, {handler} AS handler, \
           {inline} AS inline, {validator} AS validator, pg_get_userbyid(l.lanowner)::text AS owner, \
           l.lanacl::text[] AS acl, {comment} AS comment \
         FROM pg_language l WHERE {user}",
        handler = routine_ref("l.lanplcallfoid"),
        inline = routine_ref("l.laninline"),
        validator = routine_ref("l.lanvalidator"),
        comment = comment_of("pg_language", "l.oid"),
        user = user_made("pg_language", "l.oid"),
    );
    let rows: Vec<Row> = fetch(conn, "reading procedural languages", &sql).await?;
    Ok(rows
        .into_iter()
        .map(|r| CatalogObject {
            key: ObjectKey::new(ObjectKind::Language, &quote_ident(&r.name)),
            owner: Some(r.owner),
            acl: sorted(r.acl),
            comment: r.comment,
            def: ObjectDef::Language(LanguageDef {
                name: r.name,
                trusted: r.trusted,
                handler: routine(r.handler),
                inline: routine(r.inline),
                validator: routine(r.validator),
            }),
        })
        .collect())
}
