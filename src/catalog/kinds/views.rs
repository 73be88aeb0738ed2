//! Views and materialized views (`view:`, `matview:`) with their definitions.
//!
//! `pg_get_viewdef` parses the view, which takes ACCESS SHARE on the relations it reads:
//! the one catalog read that can wait on a lock held on a user table (bounded by
//! `lock_timeout`).

use super::{
    column_compression_sql, comment_of, compression_name, ext_member, fetch_by_oids, sorted,
    storage_name,
};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{CatalogObject, ObjectDef, ObjectKey, ObjectKind, ViewColumn, ViewDef};
use sqlx::postgres::types::Oid;
use std::collections::BTreeMap;

/// One task over every selected schema.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: false },
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct Row {
    schema: String,
    name: String,
    relkind: String,
    definition: String,
    options: Option<Vec<String>>,
    owner: String,
    acl: Option<Vec<String>>,
    comment: Option<String>,
    /// JSON `[[name, comment, default, acl, statistics, storage, compression, options], …]`
    /// of the columns with any of them; `NULL` when none has.
    columns: Option<String>,
    access_method: Option<String>,
    tablespace: Option<String>,
}

type ColumnRow = (
    String,
    Option<String>,
    Option<String>,
    Option<Vec<String>>,
    Option<i32>,
    Option<String>,
    Option<String>,
    Option<Vec<String>>,
);

/// The view's columns with anything of their own, from the query's own JSON; one
/// that does not parse is an error, never read as "no such column".
fn view_columns(json: Option<&str>) -> Result<BTreeMap<String, ViewColumn>, CatalogError> {
    let rows: Vec<ColumnRow> = match json {
        None => Vec::new(),
        Some(j) => serde_json::from_str(j).map_err(|e| CatalogError::Query {
            what: "reading view columns".into(),
            reason: format!("unexpected answer: {e}"),
        })?,
    };
    Ok(rows
        .into_iter()
        .map(
            |(name, comment, default, acl, statistics, storage, compression, options)| {
                let column = ViewColumn {
                    comment,
                    default,
                    acl: sorted(acl),
                    statistics,
                    storage: storage.as_deref().map(storage_name),
                    compression: compression.as_deref().map(compression_name),
                    options: sorted(options).unwrap_or_default(),
                };
                (name, column)
            },
        )
        .collect())
}

pub async fn read_views(
    conn: &mut sqlx::PgConnection,
    caps: &ServerCaps,
    nsp: &[Oid],
) -> Result<Vec<CatalogObject>, CatalogError> {
    let sql = format!(
        "SELECT n.nspname::text AS schema, c.relname::text AS name, c.relkind::text AS relkind, \
           pg_get_viewdef(c.oid) AS definition, {options} AS options, \
           pg_get_userbyid(c.relowner)::text AS owner, {acl} AS acl, {comment} AS comment, \
           (SELECT json_agg(json_build_array(a.attname, ds.description, \
                    pg_get_expr(ad.adbin, 0), NULLIF(a.attacl::text[], '{{}}'), \
                    col.statistics, col.storage, col.compression, a.attoptions::text[]) \
                    ORDER BY a.attnum)::text \
              FROM pg_attribute a \
              JOIN pg_type t ON t.oid = a.atttypid \
              CROSS JOIN LATERAL (SELECT \
                  CASE WHEN a.attstattarget >= 0 THEN a.attstattarget::int4 END AS statistics, \
                  CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text END AS storage, \
                  {compression} AS compression) col \
              LEFT JOIN pg_description ds ON ds.classoid = 'pg_class'::regclass \
                   AND ds.objoid = a.attrelid AND ds.objsubid = a.attnum \
              LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
                AND (ds.description IS NOT NULL OR ad.adbin IS NOT NULL \
                     OR NULLIF(a.attacl::text[], '{{}}') IS NOT NULL OR col.statistics IS NOT NULL \
                     OR col.storage IS NOT NULL OR col.compression IS NOT NULL \
                     OR a.attoptions IS NOT NULL)) AS columns, \
           (SELECT am.amname::text FROM pg_am am WHERE am.oid = c.relam AND am.amname <> 'heap') AS access_method, \
           (SELECT sp.spcname::text FROM pg_tablespace sp WHERE sp.oid = c.reltablespace) AS tablespace \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('v', 'm') AND n.oid = ANY($1) AND NOT {ext}",
        acl = super::acl_sql("c.relacl", "r", "c.relowner"),
        comment = comment_of("pg_class", "c.oid"),
        options = super::reloptions_sql("c"),
        compression = column_compression_sql(caps),
        ext = ext_member("pg_class", "c.oid"),
    );
    let rows: Vec<Row> = fetch_by_oids(conn, "reading view definitions", &sql, nsp).await?;
    rows.into_iter()
        .map(|r| {
            // A view column's default cannot name a column (PostgreSQL refuses it), so it is
            // deparsed with relid 0, which locks nothing.
            let columns = view_columns(r.columns.as_deref())?;
            let kind = if r.relkind == "m" {
                ObjectKind::Matview
            } else {
                ObjectKind::View
            };
            let mut options = r.options.unwrap_or_default();
            options.sort();
            let def = ViewDef {
                schema: r.schema.clone(),
                name: r.name.clone(),
                definition: caps.view_definition(r.definition),
                options,
                columns,
                access_method: r.access_method,
                tablespace: r.tablespace,
            };
            Ok(CatalogObject {
                key: ObjectKey::qualified(kind, &r.schema, &r.name),
                acl: sorted(caps.relation_acl(&r.owner, r.acl)),
                owner: Some(r.owner),
                comment: r.comment,
                def: if kind == ObjectKind::Matview {
                    ObjectDef::Matview(def)
                } else {
                    ObjectDef::View(def)
                },
            })
        })
        .collect()
}
