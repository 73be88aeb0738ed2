//! Tables (`table:schema.name`): ordinary, partitioned and foreign, with their columns.
//!
//! `pg_get_expr(expr, relid)` takes a brief ACCESS SHARE lock on `relid` to name columns, so
//! defaults that reference no column (nearly all: `now()`, `nextval(…)`, constants) and
//! partition bounds are deparsed with relid 0, which locks nothing.

use super::deparse::{Attr, AttrMap};
use super::{
    column_compression_sql, comment_of, compression_name, ext_member, fetch_by_oids,
    make_object_name, sorted, storage_name,
};
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
    of_type: Option<String>,
    access_method: Option<String>,
    tablespace: Option<String>,
    replica_identity: String,
    replica_identity_index: Option<String>,
    clustered_on: Option<String>,
    foreign_server: Option<String>,
    foreign_options: Option<Vec<String>>,
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
    statistics: Option<i32>,
    storage: Option<String>,
    compression: Option<String>,
    options: Option<Vec<String>>,
    fdw_options: Option<Vec<String>>,
    inherited_only: bool,
    relname: String,
    /// PostgreSQL 18's not-null constraint of the column, if any.
    nn_name: Option<String>,
    /// It is inherited under its parent's name (which the child cannot change).
    nn_parent_named: bool,
    nn_not_valid: bool,
    nn_no_inherit: bool,
    nn_comment: Option<String>,
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
           {options} AS options, \
           CASE WHEN c.reloftype <> 0 THEN format_type(c.reloftype, NULL) END AS of_type, \
           CASE WHEN am.amname <> 'heap' THEN am.amname::text END AS access_method, \
           (SELECT sp.spcname::text FROM pg_tablespace sp WHERE sp.oid = c.reltablespace) AS tablespace, \
           CASE WHEN c.relkind IN ('r', 'p') THEN c.relreplident::text ELSE 'd' END AS replica_identity, \
           (SELECT ic.relname::text FROM pg_index ri JOIN pg_class ic ON ic.oid = ri.indexrelid \
             WHERE ri.indrelid = c.oid AND ri.indisreplident AND c.relreplident = 'i') AS replica_identity_index, \
           (SELECT ic.relname::text FROM pg_index ci JOIN pg_class ic ON ic.oid = ci.indexrelid \
             WHERE ci.indrelid = c.oid AND ci.indisclustered) AS clustered_on, \
           fs.srvname::text AS foreign_server, ft.ftoptions::text[] AS foreign_options, \
           CASE WHEN c.reltuples < 0 THEN -1::int8 ELSE round(c.reltuples)::int8 END AS estimate, \
           format('%I.%I', n.nspname, c.relname) AS sql_name, \
           {SCHEMA_USAGE} AND {TABLE_SELECT} AS can_select, \
           {RLS_ACTIVE} AS rls_active \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_am am ON am.oid = c.relam \
         LEFT JOIN pg_foreign_table ft ON ft.ftrelid = c.oid \
         LEFT JOIN pg_foreign_server fs ON fs.oid = ft.ftserver \
         WHERE c.relkind IN {TABLE_RELKINDS} AND c.oid = ANY($1) AND NOT {ext}",
        acl = super::acl_sql("c.relacl", "r", "c.relowner"),
        comment = comment_of("pg_class", "c.oid"),
        ext = ext_member("pg_class", "c.oid"),
        options = super::reloptions_sql("c"),
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
           NULLIF(a.attacl::text[], '{{}}') AS acl, \
           CASE WHEN a.attstattarget >= 0 THEN a.attstattarget::int4 END AS statistics, \
           CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text END AS storage, \
           {compression} AS compression, \
           a.attoptions::text[] AS options, a.attfdwoptions::text[] AS fdw_options, \
           (a.attinhcount > 0 AND NOT a.attislocal AND NOT rc.relispartition) AS inherited_only, \
           rc.relname::text AS relname, {not_null} \
         FROM pg_attribute a \
         JOIN pg_type t ON t.oid = a.atttypid \
         JOIN pg_class rc ON rc.oid = a.attrelid \
         {not_null_join} \
         LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
         LEFT JOIN pg_collation co ON co.oid = a.attcollation \
         LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace \
         LEFT JOIN pg_description ds ON ds.objoid = a.attrelid AND ds.objsubid = a.attnum \
              AND ds.classoid = 'pg_class'::regclass \
         WHERE a.attnum > 0 AND NOT a.attisdropped \
           AND a.attrelid = ANY($1) \
         ORDER BY a.attrelid, a.attnum",
        compression = column_compression_sql(caps),
        not_null = if caps.version_num >= 180000 {
            format!(
                "nn.conname::text AS nn_name, \
                 (nn.coninhcount > 0 AND EXISTS (SELECT 1 FROM pg_inherits i \
                    JOIN pg_constraint pn ON pn.conrelid = i.inhparent AND pn.contype = 'n' \
                    JOIN pg_attribute pa ON pa.attrelid = i.inhparent AND pa.attnum = pn.conkey[1] \
                    WHERE i.inhrelid = a.attrelid AND pa.attname = a.attname \
                      AND pn.conname = nn.conname)) IS TRUE AS nn_parent_named, \
                 coalesce(NOT nn.convalidated, false) AS nn_not_valid, \
                 coalesce(nn.connoinherit, false) AS nn_no_inherit, {} AS nn_comment",
                comment_of("pg_constraint", "nn.oid")
            )
        } else {
            "NULL::text AS nn_name, false AS nn_parent_named, false AS nn_not_valid, \
             false AS nn_no_inherit, NULL::text AS nn_comment"
                .to_string()
        },
        not_null_join = if caps.version_num >= 180000 {
            "LEFT JOIN pg_constraint nn ON nn.conrelid = a.attrelid AND nn.contype = 'n' \
             AND nn.conkey[1] = a.attnum"
        } else {
            ""
        },
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
        let not_null_name = c
            .nn_name
            .filter(|n| !c.nn_parent_named && !is_default_not_null_name(n, &c.relname, &name));
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
                statistics: c.statistics,
                storage: c.storage.as_deref().map(storage_name),
                compression: c.compression.as_deref().map(compression_name),
                options: sorted_vec(c.options),
                fdw_options: sorted_vec(c.fdw_options),
                inherited_only: c.inherited_only,
                not_null_name,
                not_null_not_valid: c.nn_not_valid,
                not_null_no_inherit: c.nn_no_inherit,
                not_null_comment: c.nn_comment,
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
        let replica_identity = match r.replica_identity.as_str() {
            "d" => None,
            "f" => Some("full"),
            "n" => Some("nothing"),
            "i" => Some("index"),
            other => Some(other),
        }
        .map(str::to_string);
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
                of_type: r.of_type,
                access_method: r.access_method,
                tablespace: r.tablespace,
                replica_identity,
                replica_identity_index: r.replica_identity_index,
                clustered_on: r.clustered_on,
                foreign_server: r.foreign_server,
                foreign_options: sorted_vec(r.foreign_options),
                schema: r.schema,
                name: r.name,
            }),
        });
    }
    Ok((objects, table_rows, attrs))
}

/// A text array from the server, sorted; `NULL` is empty.
fn sorted_vec(v: Option<Vec<String>>) -> Vec<String> {
    let mut v = v.unwrap_or_default();
    v.sort();
    v
}

/// Whether `name` is the name PostgreSQL 18 gives the not-null constraint of `column` of
/// `table` when none is given (`ChooseConstraintName(table, column, "not_null")`, before a
/// collision adds a number): pg_dump's test is the untruncated `TABLE_COLUMN_not_null`, the
/// server truncates long names as `makeObjectName` does; either is the default.
fn is_default_not_null_name(name: &str, table: &str, column: &str) -> bool {
    name == format!("{table}_{column}_not_null")
        || name == make_object_name(table, Some(column), "not_null")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_not_null_names_follow_the_server_truncation() {
        assert!(is_default_not_null_name("t_a_not_null", "t", "a"));
        assert!(!is_default_not_null_name("a_nn", "t", "a"));
        // Seen on PostgreSQL 18.4: a 56-byte table name and a 27-byte column name.
        let table = "longname".repeat(7);
        let column = "colcolcolcolcolcolcolcolcol";
        assert_eq!(
            make_object_name(&table, Some(column), "not_null"),
            "longnamelongnamelongnamelon_colcolcolcolcolcolcolcolco_not_null"
        );
        assert!(is_default_not_null_name(
            "longnamelongnamelongnamelon_colcolcolcolcolcolcolcolco_not_null",
            &table,
            column
        ));
        // A multibyte character is not split.
        let name = make_object_name(&"é".repeat(40), Some("c"), "not_null");
        assert!(name.len() <= 63 && name.ends_with("_c_not_null"), "{name}");
    }
}
