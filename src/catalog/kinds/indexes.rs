//! Indexes (`index:schema.name`) that do not back a constraint; a primary key's or unique
//! constraint's index is part of that constraint, as in pg_dump.

use super::{comment_of, ext_member, fetch_in_schemas};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{qualify, CatalogObject, IndexDef, ObjectDef, ObjectKey, ObjectKind};
use sqlx::postgres::types::Oid;

#[derive(sqlx::FromRow)]
struct Row {
    schema: String,
    name: String,
    table_schema: String,
    table_name: String,
    definition: String,
    is_unique: bool,
    predicate: Option<String>,
    valid: bool,
    comment: Option<String>,
}

pub async fn read_indexes(
    conn: &mut sqlx::PgConnection,
    _caps: &ServerCaps,
    nsp: &[Oid],
) -> Result<Vec<CatalogObject>, CatalogError> {
    let sql = format!(
        "SELECT n.nspname::text AS schema, ic.relname::text AS name, \
           tn.nspname::text AS table_schema, tc.relname::text AS table_name, \
           pg_get_indexdef(i.indexrelid) AS definition, i.indisunique AS is_unique, \
           pg_get_expr(i.indpred, i.indrelid) AS predicate, i.indisvalid AS valid, \
           {comment} AS comment \
         FROM pg_index i \
         JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_namespace n ON n.oid = ic.relnamespace \
         JOIN pg_class tc ON tc.oid = i.indrelid \
         JOIN pg_namespace tn ON tn.oid = tc.relnamespace \
         WHERE tc.relkind IN ('r', 'p', 'm', 'f') AND n.oid = ANY($1) \
           AND i.indexrelid NOT IN (SELECT con.conindid FROM pg_constraint con \
                                    WHERE con.contype IN ('p', 'u', 'x')) \
           AND NOT {ext}",
        comment = comment_of("pg_class", "ic.oid"),
        ext = ext_member("pg_class", "tc.oid"),
    );
    let rows: Vec<Row> = fetch_in_schemas(conn, "reading indexes", &sql, nsp).await?;
    Ok(rows
        .into_iter()
        .map(|r| CatalogObject {
            key: ObjectKey::qualified(ObjectKind::Index, &r.schema, &r.name),
            owner: None,
            acl: None,
            comment: r.comment,
            def: ObjectDef::Index(IndexDef {
                table: qualify(&r.table_schema, &r.table_name),
                definition: r.definition,
                unique: r.is_unique,
                predicate: r.predicate,
                valid: r.valid,
                schema: r.schema,
                name: r.name,
            }),
        })
        .collect())
}
