//! Encoding conversions (`conversion:schema.name`) in the selected schemas.

use super::refs::{routine, routine_ref, user_made};
use super::{comment_of, fetch_by_oids};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{CatalogObject, ConversionDef, ObjectDef, ObjectKey, ObjectKind};
use sqlx::postgres::types::Oid;

/// Few per schema: one task.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: false },
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct Row {
    schema: String,
    name: String,
    for_encoding: String,
    to_encoding: String,
    function: Option<Vec<String>>,
    is_default: bool,
    owner: String,
    comment: Option<String>,
}

pub async fn read_conversions(
    conn: &mut sqlx::PgConnection,
    _caps: &ServerCaps,
    nsp: &[Oid],
) -> Result<Vec<CatalogObject>, CatalogError> {
    let sql = format!(
        "SELECT n.nspname::text AS schema, c.conname::text AS name, \
           pg_encoding_to_char(c.conforencoding)::text AS for_encoding, \
           pg_encoding_to_char(c.contoencoding)::text AS to_encoding, {function} AS function, \
           c.condefault AS is_default, pg_get_userbyid(c.conowner)::text AS owner, {comment} AS comment \
         FROM pg_conversion c JOIN pg_namespace n ON n.oid = c.connamespace \
         WHERE n.oid = ANY($1) AND {user}",
        function = routine_ref("c.conproc"),
        comment = comment_of("pg_conversion", "c.oid"),
        user = user_made("pg_conversion", "c.oid"),
    );
    let rows: Vec<Row> = fetch_by_oids(conn, "reading conversions", &sql, nsp).await?;
    Ok(rows
        .into_iter()
        .map(|r| CatalogObject {
            key: ObjectKey::qualified(ObjectKind::Conversion, &r.schema, &r.name),
            owner: Some(r.owner),
            acl: None,
            comment: r.comment,
            def: ObjectDef::Conversion(ConversionDef {
                for_encoding: r.for_encoding,
                to_encoding: r.to_encoding,
                function: routine(r.function).unwrap_or_default(),
                default: r.is_default,
                schema: r.schema,
                name: r.name,
            }),
        })
        .collect())
}
