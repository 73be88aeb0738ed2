//! Publications (`publication:name`) with their tables and schemas. Column lists, row
//! filters and schemas exist from 15, generated columns from 18: read where they exist.

use super::{comment_of, fetch};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{
    qualify, quote_ident, CatalogObject, ObjectDef, ObjectKey, ObjectKind, PublicationDef,
    PublishedTable,
};
use std::collections::BTreeMap;

/// Database-wide: one task.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: false },
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct Row {
    name: String,
    all_tables: bool,
    ins: bool,
    upd: bool,
    del: bool,
    trunc: bool,
    via_root: bool,
    gencols: String,
    owner: String,
    comment: Option<String>,
}

#[derive(sqlx::FromRow)]
struct TableRow {
    publication: String,
    schema: String,
    table_name: String,
    columns: Vec<String>,
    row_filter: Option<String>,
}

pub async fn read_publications(
    conn: &mut sqlx::PgConnection,
    caps: &ServerCaps,
) -> Result<Vec<CatalogObject>, CatalogError> {
    let v = caps.version_num;
    let gencols = if v >= 180000 {
        "CASE p.pubgencols WHEN 's' THEN 'stored' ELSE 'none' END"
    } else {
        "'none'"
    };
    let sql = format!(
        "SELECT p.pubname::text AS name, p.puballtables AS all_tables, p.pubinsert AS ins, \
           p.pubupdate AS upd, p.pubdelete AS del, p.pubtruncate AS trunc, p.pubviaroot AS via_root, \
           {gencols}::text AS gencols, pg_get_userbyid(p.pubowner)::text AS owner, {comment} AS comment \
         FROM pg_publication p",
        comment = comment_of("pg_publication", "p.oid"),
    );
    let rows: Vec<Row> = fetch(conn, "reading publications", &sql).await?;
    let (columns, filter) = if v >= 150000 {
        (
            "ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = pr.prrelid \
               AND a.attnum = ANY(pr.prattrs::int2[]) ORDER BY a.attnum)",
            "pg_get_expr(pr.prqual, pr.prrelid)",
        )
    } else {
        ("ARRAY[]::text[]", "NULL::text")
    };
    let sql = format!(
        "SELECT p.pubname::text AS publication, n.nspname::text AS schema, c.relname::text AS table_name, \
           {columns} AS columns, {filter} AS row_filter \
         FROM pg_publication_rel pr \
         JOIN pg_publication p ON p.oid = pr.prpubid \
         JOIN pg_class c ON c.oid = pr.prrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace"
    );
    let table_rows: Vec<TableRow> = fetch(conn, "reading publication tables", &sql).await?;
    let schema_rows: Vec<(String, String)> = if v >= 150000 {
        fetch(
            conn,
            "reading publication schemas",
            "SELECT p.pubname::text, n.nspname::text FROM pg_publication_namespace pn \
             JOIN pg_publication p ON p.oid = pn.pnpubid \
             JOIN pg_namespace n ON n.oid = pn.pnnspid",
        )
        .await?
    } else {
        Vec::new()
    };
    let mut tables: BTreeMap<String, BTreeMap<String, PublishedTable>> = BTreeMap::new();
    for t in table_rows {
        tables.entry(t.publication).or_default().insert(
            qualify(&t.schema, &t.table_name),
            PublishedTable {
                columns: t.columns,
                row_filter: t.row_filter,
            },
        );
    }
    let mut schemas: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (publication, schema) in schema_rows {
        schemas
            .entry(publication)
            .or_default()
            .push(quote_ident(&schema));
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let publish = [
                ("insert", r.ins),
                ("update", r.upd),
                ("delete", r.del),
                ("truncate", r.trunc),
            ]
            .into_iter()
            .filter(|(_, on)| *on)
            .map(|(op, _)| op.to_string())
            .collect();
            let mut in_schemas = schemas.remove(&r.name).unwrap_or_default();
            in_schemas.sort();
            CatalogObject {
                key: ObjectKey::new(ObjectKind::Publication, &quote_ident(&r.name)),
                owner: Some(r.owner),
                acl: None,
                comment: r.comment,
                def: ObjectDef::Publication(PublicationDef {
                    all_tables: r.all_tables,
                    publish,
                    via_root: r.via_root,
                    generated_columns: r.gencols,
                    tables: tables.remove(&r.name).unwrap_or_default(),
                    schemas: in_schemas,
                    name: r.name,
                }),
            }
        })
        .collect())
}
