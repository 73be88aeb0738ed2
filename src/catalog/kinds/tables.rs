//! Tables (`table:schema.name`): ordinary, partitioned and foreign, with their columns.
//!
//! `pg_get_expr(expr, relid)` takes a brief ACCESS SHARE lock on `relid` to name columns, so
//! defaults that reference no column (nearly all: `now()`, `nextval(…)`, constants) and
//! partition bounds are deparsed with relid 0, which locks nothing.

use super::deparse::{Attr, AttrMap};
use super::{comment_of, ext_member, fetch_by_oids, sorted};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{qualify, CatalogObject, Column, ObjectDef, ObjectKey, ObjectKind, TableDef};
use sqlx::postgres::types::Oid;
use std::collections::{BTreeMap, HashMap};

/// Tables with their columns, constraints, indexes and triggers (`Reader::Relations`):
/// by chunks of relation oids, queued before every other task.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Relations,
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct Row {
    oid: Oid,
    schema: String,
    name: String,
    relkind: String,
    persistence: String,
    owner: String,
    acl: Option<Vec<String>>,
    comment: Option<String>,
    partition_key: Option<String>,
    partition_bound: Option<String>,
    parents: Vec<String>,
    rls_enabled: bool,
    rls_forced: bool,
    options: Option<Vec<String>>,
    estimate: i64,
    sql_name: String,
    can_select: bool,
    rls_active: bool,
}

#[derive(sqlx::FromRow)]
struct ColumnRow {
    #[sqlx(flatten)]
    attr: AttrRow,
    data_type: String,
    not_null: bool,
    default_expr: Option<String>,
    identity: String,
    generated: String,
    collation: Option<String>,
    comment: Option<String>,
    acl: Option<Vec<String>>,
}

/// What the counts reader needs to know of each table.
#[derive(Clone, Debug)]
pub struct TableRow {
    /// As in the `table:` key (without the prefix).
    pub name: String,
    /// Quoted for use in SQL text.
    pub sql_name: String,
    pub estimate: i64,
    /// This role may run `count(*)` on it (USAGE on the schema, SELECT on a column).
    pub can_select: bool,
    /// Row-level security policies filter what this role sees of it.
    pub rls_active: bool,
}

/// The relkinds a snapshot lists as tables: ordinary, partitioned, foreign.
pub(crate) const TABLE_RELKINDS: &str = "('r', 'p', 'f')";
// What an exact count of table `c` in schema `n` needs of this role, as SQL. `doctor` asks
// the same three questions, so what it says cannot be counted is what a snapshot refuses.
/// USAGE on the table's schema.
pub(crate) const SCHEMA_USAGE: &str = "has_schema_privilege(n.oid, 'USAGE')";
/// SELECT on the table or one of its columns (all `count(*)` needs).
pub(crate) const TABLE_SELECT: &str = "has_any_column_privilege(c.oid, 'SELECT')";
/// Row-level security would filter the rows this role sees.
pub(crate) const RLS_ACTIVE: &str = "row_security_active(c.oid)";

/// The tables among relations `rels`, their count rows, and the columns of every relation their
/// constraints, indexes and triggers name (for definitions built on the client).
pub async fn read_tables(
    conn: &mut sqlx::PgConnection,
    caps: &ServerCaps,
    rels: &[Oid],
) -> Result<(Vec<CatalogObject>, Vec<TableRow>, AttrMap), CatalogError> {
    let sql = format!(
        "SELECT c.oid, n.nspname::text AS schema, c.relname::text AS name, c.relkind::text AS relkind, \
           c.relpersistence::text AS persistence, pg_get_userbyid(c.relowner)::text AS owner, \
           {acl} AS acl, {comment} AS comment, \
           CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key, \
           CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, 0) END AS partition_bound, \
           ARRAY(SELECT format('%s\x1f%s', pn.nspname, pc.relname) FROM pg_inherits i \
                 JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace \
                 WHERE i.inhrelid = c.oid ORDER BY i.inhseqno) AS parents, \
           c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced, \
           c.reloptions::text[] AS options, \
           CASE WHEN c.reltuples < 0 THEN -1::int8 ELSE round(c.reltuples)::int8 END AS estimate, \
           format('%I.%I', n.nspname, c.relname) AS sql_name, \
           {SCHEMA_USAGE} AND {TABLE_SELECT} AS can_select, \
           {RLS_ACTIVE} AS rls_active \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN {TABLE_RELKINDS} AND c.oid = ANY($1) AND NOT {ext}",
        acl = super::acl_sql("c.relacl", "r", "c.relowner"),
        comment = comment_of("pg_class", "c.oid"),
        ext = ext_member("pg_class", "c.oid"),
    );
    let rows: Vec<Row> = fetch_by_oids(conn, "reading tables", &sql, rels).await?;

    // Columns of these relations (materialized views' too, for their indexes), found
    // through pg_attribute's index on attrelid.
    let col_sql = format!(
        "SELECT {ATTR_COLUMNS}, \
           format_type(a.atttypid, a.atttypmod) AS data_type, a.attnotnull AS not_null, \
           CASE WHEN ad.adbin::text LIKE '%{{VAR %' THEN pg_get_expr(ad.adbin, ad.adrelid) \
                ELSE pg_get_expr(ad.adbin, 0) END AS default_expr, \
           a.attidentity::text AS identity, a.attgenerated::text AS generated, \
           CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0 \
                THEN format('%I.%I', cn.nspname, co.collname) END AS collation, \
           ds.description AS comment, \
           NULLIF(a.attacl::text[], '{{}}') AS acl \
         FROM pg_attribute a \
         JOIN pg_type t ON t.oid = a.atttypid \
         LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
         LEFT JOIN pg_collation co ON co.oid = a.attcollation \
         LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace \
         LEFT JOIN pg_description ds ON ds.objoid = a.attrelid AND ds.objsubid = a.attnum \
              AND ds.classoid = 'pg_class'::regclass \
         WHERE a.attnum > 0 AND NOT a.attisdropped \
           AND a.attrelid = ANY($1) \
         ORDER BY a.attrelid, a.attnum"
    );
    let col_rows: Vec<ColumnRow> =
        fetch_by_oids(conn, "reading table columns", &col_sql, rels).await?;
    let listed: std::collections::HashSet<Oid> = rows.iter().map(|r| r.oid).collect();
    let mut columns: HashMap<Oid, BTreeMap<String, Column>> = HashMap::new();
    let mut attrs = AttrMap::with_capacity(col_rows.len());
    for c in col_rows {
        let (table_oid, name) = (c.attr.relid, c.attr.name.clone());
        c.attr.insert_into(&mut attrs);
        // The other relations (views, materialized views) are there for the names of
        // their index and trigger columns.
        if !listed.contains(&table_oid) {
            continue;
        }
        let cols = columns.entry(table_oid).or_default();
        let ordinal = cols.len() as u32 + 1;
        let generated = match c.generated.as_str() {
            "s" => Some("stored".to_string()),
            "v" => Some("virtual".to_string()),
            _ => None,
        };
        cols.insert(
            name,
            Column {
                ordinal,
                data_type: c.data_type,
                not_null: c.not_null,
                default: c.default_expr,
                identity: match c.identity.as_str() {
                    "a" => Some("always".into()),
                    "d" => Some("by_default".into()),
                    _ => None,
                },
                generated,
                collation: c.collation,
                comment: c.comment,
                acl: sorted(c.acl),
            },
        );
    }

    let mut objects = Vec::with_capacity(rows.len());
    let mut table_rows = Vec::with_capacity(rows.len());
    for r in rows {
        let qualified = qualify(&r.schema, &r.name);
        table_rows.push(TableRow {
            name: qualified.clone(),
            sql_name: r.sql_name,
            estimate: r.estimate,
            can_select: r.can_select,
            rls_active: r.rls_active,
        });
        let mut parents: Vec<String> = r
            .parents
            .iter()
            .map(|p| {
                let (s, n) = p.split_once('\x1f').unwrap_or(("", p));
                qualify(s, n)
            })
            .collect();
        parents.sort();
        let mut options = r.options.unwrap_or_default();
        options.sort();
        objects.push(CatalogObject {
            key: ObjectKey::new(ObjectKind::Table, &qualified),
            acl: sorted(caps.relation_acl(&r.owner, r.acl)),
            owner: Some(r.owner),
            comment: r.comment,
            def: ObjectDef::Table(TableDef {
                relkind: match r.relkind.as_str() {
                    "p" => "partitioned_table",
                    "f" => "foreign_table",
                    _ => "table",
                }
                .to_string(),
                persistence: match r.persistence.as_str() {
                    "u" => "unlogged",
                    "t" => "temporary",
                    _ => "permanent",
                }
                .to_string(),
                columns: columns.remove(&r.oid).unwrap_or_default(),
                partition_key: r.partition_key,
                partition_bound: r.partition_bound,
                parents,
                rls_enabled: r.rls_enabled,
                rls_forced: r.rls_forced,
                options,
                schema: r.schema,
                name: r.name,
            }),
        });
    }
    Ok((objects, table_rows, attrs))
}

/// The columns of `pg_attribute a` (joined to its type as `t`) a column's `Attr` needs.
const ATTR_COLUMNS: &str = "a.attrelid AS relid, a.attnum, a.attname::text AS name, \
    quote_ident(a.attname) AS quoted, a.atttypid AS type_oid, \
    a.attcollation AS collation_oid, t.typtype = 'd' AS domain";

#[derive(sqlx::FromRow)]
struct AttrRow {
    relid: Oid,
    attnum: i16,
    name: String,
    quoted: String,
    type_oid: Oid,
    collation_oid: Oid,
    domain: bool,
}

impl AttrRow {
    fn insert_into(self, attrs: &mut AttrMap) {
        attrs.insert(
            (self.relid.0, self.attnum),
            Attr {
                name: self.name,
                quoted: self.quoted,
                type_oid: self.type_oid.0,
                collation: self.collation_oid.0,
                domain: self.domain,
            },
        );
    }
}

/// Add the columns of relations `rels` (tables other kinds refer to: a foreign key's
/// referenced table in another part of the read) to `attrs`.
pub async fn read_attrs(
    conn: &mut sqlx::PgConnection,
    rels: &[Oid],
    attrs: &mut AttrMap,
) -> Result<(), CatalogError> {
    let sql = format!(
        "SELECT {ATTR_COLUMNS} FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
         WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attrelid = ANY($1)"
    );
    let rows: Vec<AttrRow> = fetch_by_oids(conn, "reading referenced columns", &sql, rels).await?;
    for r in rows {
        r.insert_into(attrs);
    }
    Ok(())
}
