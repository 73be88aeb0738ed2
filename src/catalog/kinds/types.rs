//! User-defined types (`type:schema.name`): enums with their labels in order, standalone
//! composites, domains with base type and constraints, ranges, and base types. Array types,
//! table row types and the multiranges that ranges create are implied and left out. Shell
//! types (`CREATE TYPE name`, not yet defined) are `shell`.

use super::{comment_of, ext_member, fetch_by_oids, make_object_name, sorted};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{CatalogObject, ObjectDef, ObjectKey, ObjectKind, TypeAttribute, TypeDef};
use sqlx::postgres::types::Oid;
use std::collections::BTreeMap;

/// Grows with the catalog: split by schema.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: true },
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct Row {
    schema: String,
    name: String,
    typtype: String,
    labels: Vec<String>,
    attributes: Vec<String>,
    base_type: Option<String>,
    not_null: bool,
    not_null_name: Option<String>,
    not_null_comment: Option<String>,
    default_expr: Option<String>,
    collation: Option<String>,
    constraints: Vec<String>,
    constraint_comments: Vec<String>,
    owner: String,
    acl: Option<Vec<String>>,
    comment: Option<String>,
}

pub async fn read_types(
    conn: &mut sqlx::PgConnection,
    caps: &ServerCaps,
    nsp: &[Oid],
) -> Result<Vec<CatalogObject>, CatalogError> {
    // Composite attributes and domain constraints travel as `name \x1f type \x1f collation
    // \x1f comment` strings so one query serves every type (the comment last: whatever it
    // holds stays in it).
    let sql = format!(
        "SELECT n.nspname::text AS schema, t.typname::text AS name, t.typtype::text AS typtype, \
           ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS labels, \
           ARRAY(SELECT format('%s\x1f%s\x1f%s\x1f%s', a.attname, format_type(a.atttypid, a.atttypmod), \
                   CASE WHEN a.attcollation <> at.typcollation AND a.attcollation <> 0 THEN \
                     (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co \
                      JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) ELSE '' END, \
                   coalesce((SELECT ds.description FROM pg_description ds WHERE ds.classoid = 'pg_class'::regclass \
                             AND ds.objoid = a.attrelid AND ds.objsubid = a.attnum), '')) \
                 FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid \
                 WHERE t.typtype = 'c' AND a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped \
                 ORDER BY a.attnum) AS attributes, \
           CASE t.typtype WHEN 'd' THEN format_type(t.typbasetype, t.typtypmod) \
                          WHEN 'r' THEN (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid) END AS base_type, \
           t.typnotnull AS not_null, {not_null}, t.typdefault AS default_expr, \
           CASE WHEN t.typtype = 'd' AND t.typcollation <> 0 AND t.typcollation <> bt.typcollation THEN \
             (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co \
              JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = t.typcollation) END AS collation, \
           ARRAY(SELECT format('%s\x1f%s', con.conname, pg_get_constraintdef(con.oid)) FROM pg_constraint con \
                 WHERE con.contypid = t.oid AND con.contype <> 'n') AS constraints, \
           ARRAY(SELECT format('%s\x1f%s', c.conname, c.description) \
                 FROM (SELECT con.conname, (SELECT ds.description FROM pg_description ds \
                         WHERE ds.classoid = 'pg_constraint'::regclass AND ds.objoid = con.oid \
                           AND ds.objsubid = 0) AS description \
                       FROM pg_constraint con WHERE con.contypid = t.oid AND con.contype <> 'n') c \
                 WHERE c.description IS NOT NULL) AS constraint_comments, \
           pg_get_userbyid(t.typowner)::text AS owner, {acl} AS acl, {comment} AS comment \
         FROM pg_type t \
         JOIN pg_namespace n ON n.oid = t.typnamespace \
         LEFT JOIN pg_type bt ON bt.oid = t.typbasetype \
         {not_null_join} \
         WHERE n.oid = ANY($1) AND (t.typtype IN ('e', 'c', 'd', 'r', 'b') OR (t.typtype = 'p' AND NOT t.typisdefined)) \
           AND (t.typtype <> 'c' OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c') \
           AND NOT (t.typelem <> 0 AND EXISTS (SELECT 1 FROM pg_type el WHERE el.oid = t.typelem AND el.typarray = t.oid)) \
           AND NOT {ext}",
        acl = super::acl_sql("t.typacl", "T", "t.typowner"),
        comment = comment_of("pg_type", "t.oid"),
        ext = ext_member("pg_type", "t.oid"),
        not_null = if caps.version_num >= 170000 {
            format!(
                "nn.conname::text AS not_null_name, {} AS not_null_comment",
                comment_of("pg_constraint", "nn.oid")
            )
        } else {
            "NULL::text AS not_null_name, NULL::text AS not_null_comment".to_string()
        },
        not_null_join = if caps.version_num >= 170000 {
            "LEFT JOIN pg_constraint nn ON nn.contypid = t.oid AND nn.contype = 'n'"
        } else {
            ""
        },
    );
    let rows: Vec<Row> = fetch_by_oids(conn, "reading types", &sql, nsp).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let attributes = r
                .attributes
                .iter()
                .map(|a| {
                    let mut parts = a.splitn(4, '\x1f');
                    let name = parts.next().unwrap_or_default().to_string();
                    let data_type = parts.next().unwrap_or_default().to_string();
                    let collation = parts.next().filter(|c| !c.is_empty()).map(str::to_string);
                    // `COMMENT … IS ''` removes a comment: an empty one is none.
                    let comment = parts.next().filter(|c| !c.is_empty()).map(str::to_string);
                    TypeAttribute {
                        name,
                        data_type,
                        collation,
                        comment,
                    }
                })
                .collect();
            let by_name = |list: &[String]| -> BTreeMap<String, String> {
                list.iter()
                    .map(|c| {
                        let (name, value) = c.split_once('\x1f').unwrap_or((c, ""));
                        (name.to_string(), value.to_string())
                    })
                    .collect()
            };
            let constraints = by_name(&r.constraints);
            let constraint_comments = by_name(&r.constraint_comments);
            CatalogObject {
                key: ObjectKey::qualified(ObjectKind::Type, &r.schema, &r.name),
                owner: Some(r.owner),
                acl: sorted(r.acl),
                comment: r.comment,
                def: ObjectDef::Type(TypeDef {
                    type_kind: match r.typtype.as_str() {
                        "e" => "enum",
                        "c" => "composite",
                        "d" => "domain",
                        "r" => "range",
                        // `CREATE TYPE name` with nothing else, waiting for its definition
                        // (pg_dump's SHELL TYPE).
                        "p" => "shell",
                        _ => "base",
                    }
                    .to_string(),
                    labels: r.labels,
                    attributes,
                    base_type: r.base_type,
                    not_null: r.not_null,
                    not_null_name: r
                        .not_null_name
                        .filter(|n| *n != make_object_name(&r.name, None, "not_null")),
                    not_null_comment: r.not_null_comment,
                    default: r.default_expr,
                    collation: r.collation,
                    constraints,
                    constraint_comments,
                    schema: r.schema,
                    name: r.name,
                }),
            }
        })
        .collect())
}
