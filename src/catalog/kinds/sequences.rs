//! Sequences (`sequence:schema.name`): their parameters and owning column. The current value
//! is data, not catalog, and is not captured.

use super::{comment_of, ext_member, fetch_by_oids, sorted};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{
    qualify, quote_ident, CatalogObject, ObjectDef, ObjectKey, ObjectKind, SequenceDef,
};
use sqlx::postgres::types::Oid;

/// Grows with the catalog (a dependency lookup per sequence): split by schema, weighed double.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: true },
    weight: 2,
};

#[derive(sqlx::FromRow)]
struct Row {
    schema: String,
    name: String,
    data_type: String,
    start: i64,
    increment: i64,
    min: i64,
    max: i64,
    cache: i64,
    cycle: bool,
    owned_schema: Option<String>,
    owned_table: Option<String>,
    owned_column: Option<String>,
    owner: String,
    acl: Option<Vec<String>>,
    comment: Option<String>,
}

pub async fn read_sequences(
    conn: &mut sqlx::PgConnection,
    _caps: &ServerCaps,
    nsp: &[Oid],
) -> Result<Vec<CatalogObject>, CatalogError> {
    let sql = format!(
        "SELECT n.nspname::text AS schema, c.relname::text AS name, \
           format_type(s.seqtypid, NULL) AS data_type, s.seqstart AS start, s.seqincrement AS increment, \
           s.seqmin AS min, s.seqmax AS max, s.seqcache AS cache, s.seqcycle AS cycle, \
           own.nspname::text AS owned_schema, own.relname::text AS owned_table, own.attname::text AS owned_column, \
           pg_get_userbyid(c.relowner)::text AS owner, {acl} AS acl, {comment} AS comment \
         FROM pg_sequence s \
         JOIN pg_class c ON c.oid = s.seqrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN LATERAL ( \
           SELECT tn.nspname, tc.relname, a.attname FROM pg_depend d \
           JOIN pg_class tc ON tc.oid = d.refobjid \
           JOIN pg_namespace tn ON tn.oid = tc.relnamespace \
           JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
           WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid \
             AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i') \
           LIMIT 1) own ON true \
         WHERE n.oid = ANY($1) AND NOT {ext}",
        acl = super::acl_sql("c.relacl", "s", "c.relowner"),
        comment = comment_of("pg_class", "c.oid"),
        ext = ext_member("pg_class", "c.oid"),
    );
    let rows: Vec<Row> = fetch_by_oids(conn, "reading sequences", &sql, nsp).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let owned_by = match (&r.owned_schema, &r.owned_table, &r.owned_column) {
                (Some(s), Some(t), Some(c)) => {
                    Some(format!("{}.{}", qualify(s, t), quote_ident(c)))
                }
                _ => None,
            };
            CatalogObject {
                key: ObjectKey::qualified(ObjectKind::Sequence, &r.schema, &r.name),
                owner: Some(r.owner),
                acl: sorted(r.acl),
                comment: r.comment,
                def: ObjectDef::Sequence(SequenceDef {
                    schema: r.schema,
                    name: r.name,
                    data_type: r.data_type,
                    start: r.start,
                    increment: r.increment,
                    min: r.min,
                    max: r.max,
                    cache: r.cache,
                    cycle: r.cycle,
                    owned_by,
                }),
            }
        })
        .collect())
}
