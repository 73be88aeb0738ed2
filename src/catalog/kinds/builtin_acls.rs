//! Privileges changed on PostgreSQL's own objects and on extension members
//! (`builtin_acl:TYPE/OBJECT`, see `model::kinds::builtin_acl`): every object the other
//! readers leave out as initdb's or an extension's, whose ACL now differs from the one it
//! started with. pg_dump's rule: `pg_init_privs` holds what initdb and extension scripts
//! left; an object without a row there started with its owner's default.
//!
//! PostgreSQL's own objects are read whatever the schema filter (they are the database's,
//! like its roles); extension members only in the selected schemas.

use super::fetch_by_oids;
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{
    qualify, quote_ident, routine_signature, BuiltinAclDef, CatalogObject, ObjectDef, ObjectKey,
    ObjectKind,
};
use sqlx::postgres::types::Oid;

/// Database-wide and small (a few thousand candidates, one query): one task.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: false },
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct Row {
    object_type: String,
    /// Schema, name and (functions) argument types; a column's table then column.
    parts: Vec<String>,
    extension: Option<String>,
    acl: Vec<String>,
    initial: Vec<String>,
}

/// SQL: `{oid}` of `{catalog}` is initdb's (below `FirstNormalObjectId`) or an extension's.
fn candidate(catalog: &str, oid: &str) -> String {
    format!(
        "({oid} < 16384 OR {oid} IN (SELECT objid FROM pg_depend \
           WHERE classid = '{catalog}'::regclass AND deptype = 'e'))"
    )
}

/// SQL: the extension `{oid}` of `{catalog}` belongs to, if any.
fn extension_of(catalog: &str, oid: &str) -> String {
    format!(
        "(SELECT e.extname::text FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid \
           WHERE d.classid = '{catalog}'::regclass AND d.objid = {oid} \
             AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' LIMIT 1)"
    )
}

/// SQL: the initial privileges of `{oid}` (sub-id `{sub}`) of `{catalog}`, else `{default}`.
fn initial(catalog: &str, oid: &str, sub: &str, default: &str) -> String {
    format!(
        "coalesce((SELECT ip.initprivs FROM pg_init_privs ip \
           WHERE ip.classoid = '{catalog}'::regclass AND ip.objoid = {oid} AND ip.objsubid = {sub}), \
           {default})::text[]"
    )
}

// initdb makes `information_schema` after it records `pg_init_privs`, then grants SELECT
// on most of its relations, and USAGE on it, to PUBLIC: for those, either that or the
// owner's default is where they started (`also`). A grant to a role, or a revoke from
// PUBLIC, is still a change.

/// SQL: in a schema snapshots take: PostgreSQL's own, or one selected (`$1`).
const IN_SCOPE: &str = "(n.nspname IN ('pg_catalog', 'information_schema') OR n.oid = ANY($1))";

fn query() -> String {
    let rel_default =
        "acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\", c.relowner)";
    let relations = format!(
        "SELECT CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END AS object_type, \
           ARRAY[n.nspname::text, c.relname::text] AS parts, {ext} AS extension, \
           coalesce(c.relacl, {rel_default})::text[] AS acl, {init} AS initial, \
           CASE WHEN n.nspname = 'information_schema' \
             THEN ({rel_default} || makeaclitem(0, c.relowner, 'SELECT', false))::text[] END AS also \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'v', 'm', 'S', 'f', 'p') AND {cand} AND {IN_SCOPE}",
        ext = extension_of("pg_class", "c.oid"),
        init = initial("pg_class", "c.oid", "0", rel_default),
        cand = candidate("pg_class", "c.oid"),
    );
    // Columns have no default privileges beyond their table's: none is the default.
    let columns = format!(
        "SELECT 'column', ARRAY[n.nspname::text, c.relname::text, a.attname::text], {ext}, \
           coalesce(a.attacl, '{{}}')::text[], {init}, NULL \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
           JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'v', 'm', 'f', 'p') \
           AND {cand} AND {IN_SCOPE} \
           AND (a.attacl IS NOT NULL OR EXISTS (SELECT 1 FROM pg_init_privs ip \
             WHERE ip.classoid = 'pg_class'::regclass AND ip.objoid = c.oid AND ip.objsubid = a.attnum))",
        ext = extension_of("pg_class", "c.oid"),
        init = initial("pg_class", "c.oid", "a.attnum", "'{}'::aclitem[]"),
        cand = candidate("pg_class", "a.attrelid"),
    );
    let functions = format!(
        "SELECT CASE WHEN p.prokind = 'p' THEN 'procedure' ELSE 'function' END, \
           ARRAY[n.nspname::text, p.proname::text] || {args}, {ext}, \
           coalesce(p.proacl, acldefault('f', p.proowner))::text[], {init}, NULL \
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE {cand} AND {IN_SCOPE}",
        args = super::arg_types_of("p"),
        ext = extension_of("pg_proc", "p.oid"),
        init = initial("pg_proc", "p.oid", "0", "acldefault('f', p.proowner)"),
        cand = candidate("pg_proc", "p.oid"),
    );
    let types = format!(
        "SELECT 'type', ARRAY[n.nspname::text, t.typname::text], {ext}, \
           coalesce(t.typacl, acldefault('T', t.typowner))::text[], {init}, NULL \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
         WHERE {cand} AND {IN_SCOPE}",
        ext = extension_of("pg_type", "t.oid"),
        init = initial("pg_type", "t.oid", "0", "acldefault('T', t.typowner)"),
        cand = candidate("pg_type", "t.oid"),
    );
    // `public` and every other user schema are the schema reader's, with their ACL.
    let schemas = format!(
        "SELECT 'schema', ARRAY[n.nspname::text], NULL, \
           coalesce(n.nspacl, acldefault('n', n.nspowner))::text[], {init}, \
           CASE WHEN n.nspname = 'information_schema' \
             THEN (acldefault('n', n.nspowner) || makeaclitem(0, n.nspowner, 'USAGE', false))::text[] END \
         FROM pg_namespace n WHERE n.nspname IN ('pg_catalog', 'information_schema')",
        init = initial("pg_namespace", "n.oid", "0", "acldefault('n', n.nspowner)"),
    );
    let languages = format!(
        "SELECT 'language', ARRAY[l.lanname::text], {ext}, \
           coalesce(l.lanacl, acldefault('l', l.lanowner))::text[], {init}, NULL \
         FROM pg_language l WHERE {cand}",
        ext = extension_of("pg_language", "l.oid"),
        init = initial("pg_language", "l.oid", "0", "acldefault('l', l.lanowner)"),
        cand = candidate("pg_language", "l.oid"),
    );
    let wrappers = format!(
        "SELECT 'foreign_data_wrapper', ARRAY[w.fdwname::text], {ext}, \
           coalesce(w.fdwacl, acldefault('F', w.fdwowner))::text[], {init}, NULL \
         FROM pg_foreign_data_wrapper w WHERE {cand}",
        ext = extension_of("pg_foreign_data_wrapper", "w.oid"),
        init = initial(
            "pg_foreign_data_wrapper",
            "w.oid",
            "0",
            "acldefault('F', w.fdwowner)"
        ),
        cand = candidate("pg_foreign_data_wrapper", "w.oid"),
    );
    let servers = format!(
        "SELECT 'server', ARRAY[s.srvname::text], {ext}, \
           coalesce(s.srvacl, acldefault('S', s.srvowner))::text[], {init}, NULL \
         FROM pg_foreign_server s WHERE {cand}",
        ext = extension_of("pg_foreign_server", "s.oid"),
        init = initial(
            "pg_foreign_server",
            "s.oid",
            "0",
            "acldefault('S', s.srvowner)"
        ),
        cand = candidate("pg_foreign_server", "s.oid"),
    );
    format!(
        "SELECT * FROM ({relations} UNION ALL {columns} UNION ALL {functions} \
           UNION ALL {types} UNION ALL {schemas} UNION ALL {languages} \
           UNION ALL {wrappers} UNION ALL {servers}) x \
         WHERE NOT (x.acl @> x.initial AND x.acl <@ x.initial) \
           AND NOT coalesce(x.acl @> x.also AND x.acl <@ x.also, false)"
    )
}

pub async fn read_builtin_acls(
    conn: &mut sqlx::PgConnection,
    _caps: &ServerCaps,
    nsp: &[Oid],
) -> Result<Vec<CatalogObject>, CatalogError> {
    let rows: Vec<Row> = fetch_by_oids(
        conn,
        "reading privileges of built-in and extension objects",
        &query(),
        nsp,
    )
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let object = match (r.object_type.as_str(), r.parts.as_slice()) {
            ("function" | "procedure", [schema, name, args @ ..]) => {
                routine_signature(schema, name, args)
            }
            ("column", [schema, table, column]) => {
                format!("{}.{}", qualify(schema, table), quote_ident(column))
            }
            (_, [schema, name]) => qualify(schema, name),
            (_, [name]) => quote_ident(name),
            (kind, parts) => {
                return Err(CatalogError::Query {
                    what: "reading privileges of built-in and extension objects".into(),
                    reason: format!("unexpected answer for a {kind}: {parts:?}"),
                })
            }
        };
        let mut acl = r.acl;
        acl.sort();
        let mut initial_acl = r.initial;
        initial_acl.sort();
        out.push(CatalogObject {
            key: ObjectKey::new(
                ObjectKind::BuiltinAcl,
                &format!("{}/{object}", r.object_type),
            ),
            owner: None,
            acl: Some(acl),
            comment: None,
            def: ObjectDef::BuiltinAcl(BuiltinAclDef {
                object_type: r.object_type,
                object,
                extension: r.extension,
                initial_acl,
            }),
        });
    }
    Ok(out)
}
