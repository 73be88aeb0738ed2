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

/// One catalog's part of the query. Each branch first selects the candidates with their
/// ACL and initial ACL (`pg_init_privs` joined, else `default`) and keeps those that
/// differ (as `aclitem[]`, unconverted); only those few get their names and argument
/// types formatted, their ACLs printed and their
/// extension looked up (formatting every built-in function's arguments cost more than the
/// rest of a small snapshot).
struct Branch<'a> {
    /// SQL for the object type shown in the key, over the inner query's columns (`q.`).
    object_type: &'a str,
    /// The catalog (for `pg_init_privs.classoid` and `pg_depend.classid`).
    catalog: &'a str,
    /// The inner query's FROM (tables and joins) and WHERE (the candidates).
    from: &'a str,
    filter: &'a str,
    oid: &'a str,
    /// `pg_init_privs.objsubid` to match.
    sub: &'a str,
    /// Inner columns carried to the outer select for the name (`q.…`).
    carry: &'a str,
    /// SQL over `q.` for the name parts (text array).
    parts: &'a str,
    acl: &'a str,
    /// SQL for the ACL it started with when `pg_init_privs` has no row for it.
    default: &'a str,
}

impl Branch<'_> {
    fn sql(&self) -> String {
        format!(
            "SELECT {object_type} AS object_type, {parts} AS parts, {ext} AS extension, \
               q.acl::text[] AS acl, q.initial::text[] AS initial \
             FROM (SELECT {oid} AS oid, {carry}, {acl} AS acl, \
                     coalesce(ip.initprivs, {default}) AS initial \
                   FROM {from} \
                   LEFT JOIN pg_init_privs ip ON ip.classoid = '{catalog}'::regclass \
                     AND ip.objoid = {oid} AND ip.objsubid = {sub} \
                   WHERE {filter}) q \
             WHERE NOT (q.acl @> q.initial AND q.acl <@ q.initial)",
            object_type = self.object_type,
            parts = self.parts,
            ext = extension_of(self.catalog, "q.oid"),
            oid = self.oid,
            carry = self.carry,
            acl = self.acl,
            default = self.default,
            from = self.from,
            filter = self.filter,
            catalog = self.catalog,
            sub = self.sub,
        )
    }
}

// initdb makes `information_schema` after it records `pg_init_privs`, then grants USAGE on
// it, and SELECT on its relations but those below, to PUBLIC: that, not the owner's
// default, is where they started. So a revoke from PUBLIC is a change, and so is a grant on
// one of these (the same on 13 to 18; `tests/objkinds.rs` checks the list against a fresh
// cluster of each version).

/// The `information_schema` relations initdb grants nothing on.
pub const INFORMATION_SCHEMA_UNGRANTED: &[&str] = &[
    "_pg_foreign_data_wrappers",
    "_pg_foreign_servers",
    "_pg_foreign_table_columns",
    "_pg_foreign_tables",
    "_pg_user_mappings",
    "sql_parts",
    "transforms",
];

/// SQL: in a schema snapshots take: PostgreSQL's own, or one selected (`$1`).
const IN_SCOPE: &str = "(n.nspname IN ('pg_catalog', 'information_schema') OR n.oid = ANY($1))";

fn query() -> String {
    let rel_default =
        "acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\", c.relowner)";
    let rel_filter = format!(
        "c.relkind IN ('r', 'v', 'm', 'S', 'f', 'p') AND {cand} AND {IN_SCOPE}",
        cand = candidate("pg_class", "c.oid"),
    );
    let ungranted = INFORMATION_SCHEMA_UNGRANTED
        .iter()
        .map(|r| format!("'{r}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let rel_start = format!(
        "CASE WHEN n.nspname = 'information_schema' AND c.relname NOT IN ({ungranted}) \
           THEN {rel_default} || makeaclitem(0, c.relowner, 'SELECT', false) \
           ELSE {rel_default} END"
    );
    // Columns have no default privileges beyond their table's: none is the default. Only
    // columns with an ACL or initial privileges can differ: those few are found first, not
    // every attribute of the database tested.
    let col_filter = format!(
        "(a.attrelid, a.attnum) IN (SELECT attrelid, attnum FROM pg_attribute \
             WHERE attacl IS NOT NULL AND attnum > 0 \
           UNION SELECT objoid, objsubid::int2 FROM pg_init_privs \
             WHERE classoid = 'pg_class'::regclass AND objsubid > 0) \
         AND NOT a.attisdropped AND c.relkind IN ('r', 'v', 'm', 'f', 'p') \
         AND {cand} AND {IN_SCOPE}",
        cand = candidate("pg_class", "a.attrelid"),
    );
    let proc_filter = format!("{} AND {IN_SCOPE}", candidate("pg_proc", "p.oid"));
    let type_filter = format!("{} AND {IN_SCOPE}", candidate("pg_type", "t.oid"));
    let lang_filter = candidate("pg_language", "l.oid");
    let fdw_filter = candidate("pg_foreign_data_wrapper", "w.oid");
    let srv_filter = candidate("pg_foreign_server", "s.oid");
    let branches = [
        Branch {
            object_type: "CASE WHEN q.relkind = 'S' THEN 'sequence' ELSE 'table' END",
            catalog: "pg_class",
            from: "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace",
            filter: &rel_filter,
            oid: "c.oid",
            sub: "0",
            carry: "c.relkind, n.nspname, c.relname",
            parts: "ARRAY[q.nspname::text, q.relname::text]",
            acl: &format!("coalesce(c.relacl, {rel_default})"),
            default: &rel_start,
        },
        Branch {
            object_type: "'column'",
            catalog: "pg_class",
            from: "pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
                   JOIN pg_namespace n ON n.oid = c.relnamespace",
            filter: &col_filter,
            oid: "c.oid",
            sub: "a.attnum",
            carry: "n.nspname, c.relname, a.attname",
            parts: "ARRAY[q.nspname::text, q.relname::text, q.attname::text]",
            acl: "coalesce(a.attacl, '{}'::aclitem[])",
            default: "'{}'::aclitem[]",
        },
        Branch {
            object_type: "CASE WHEN q.prokind = 'p' THEN 'procedure' ELSE 'function' END",
            catalog: "pg_proc",
            from: "pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace",
            filter: &proc_filter,
            oid: "p.oid",
            sub: "0",
            carry: "p.prokind, n.nspname, p.proname, p.proargtypes",
            parts:
                "ARRAY[q.nspname::text, q.proname::text] || ARRAY(SELECT format_type(u.t, NULL) \
                    FROM unnest(q.proargtypes::oid[]) WITH ORDINALITY u(t, i) ORDER BY u.i)",
            acl: "coalesce(p.proacl, acldefault('f', p.proowner))",
            default: "acldefault('f', p.proowner)",
        },
        Branch {
            object_type: "'type'",
            catalog: "pg_type",
            from: "pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace",
            filter: &type_filter,
            oid: "t.oid",
            sub: "0",
            carry: "n.nspname, t.typname",
            parts: "ARRAY[q.nspname::text, q.typname::text]",
            acl: "coalesce(t.typacl, acldefault('T', t.typowner))",
            default: "acldefault('T', t.typowner)",
        },
        Branch {
            object_type: "'schema'",
            catalog: "pg_namespace",
            from: "pg_namespace n",
            // `public` and every other user schema are the schema reader's, with their ACL.
            filter: "n.nspname IN ('pg_catalog', 'information_schema')",
            oid: "n.oid",
            sub: "0",
            carry: "n.nspname",
            parts: "ARRAY[q.nspname::text]",
            acl: "coalesce(n.nspacl, acldefault('n', n.nspowner))",
            default: "CASE WHEN n.nspname = 'information_schema' \
                   THEN acldefault('n', n.nspowner) || makeaclitem(0, n.nspowner, 'USAGE', false) \
                   ELSE acldefault('n', n.nspowner) END",
        },
        Branch {
            object_type: "'language'",
            catalog: "pg_language",
            from: "pg_language l",
            filter: &lang_filter,
            oid: "l.oid",
            sub: "0",
            carry: "l.lanname",
            parts: "ARRAY[q.lanname::text]",
            acl: "coalesce(l.lanacl, acldefault('l', l.lanowner))",
            default: "acldefault('l', l.lanowner)",
        },
        Branch {
            object_type: "'foreign_data_wrapper'",
            catalog: "pg_foreign_data_wrapper",
            from: "pg_foreign_data_wrapper w",
            filter: &fdw_filter,
            oid: "w.oid",
            sub: "0",
            carry: "w.fdwname",
            parts: "ARRAY[q.fdwname::text]",
            acl: "coalesce(w.fdwacl, acldefault('F', w.fdwowner))",
            default: "acldefault('F', w.fdwowner)",
        },
        Branch {
            object_type: "'server'",
            catalog: "pg_foreign_server",
            from: "pg_foreign_server s",
            filter: &srv_filter,
            oid: "s.oid",
            sub: "0",
            carry: "s.srvname",
            parts: "ARRAY[q.srvname::text]",
            acl: "coalesce(s.srvacl, acldefault('S', s.srvowner))",
            default: "acldefault('S', s.srvowner)",
        },
    ];
    branches
        .iter()
        .map(Branch::sql)
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
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
