//! Indexes (`index:schema.name`) that do not back a constraint; a primary key's or unique
//! constraint's index is part of that constraint, as in pg_dump.

use super::deparse::{index_def, AttrMap, IndexShape, OpclassMap};
use super::{comment_of, ext_member, fetch, fetch_by_oids, server_defs};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{qualify, CatalogObject, IndexDef, ObjectDef, ObjectKey, ObjectKind};
use sqlx::postgres::types::Oid;

#[derive(sqlx::FromRow)]
struct Row {
    oid: Oid,
    relid: Oid,
    schema: String,
    name: String,
    quoted: String,
    table_schema: String,
    table_name: String,
    table_quoted: String,
    am: String,
    btree: bool,
    partitioned: bool,
    key_count: i16,
    keys: Vec<i16>,
    opclasses: Vec<Oid>,
    collations: Vec<Oid>,
    options: Vec<i16>,
    unusual: bool,
    /// From the server only for indexes on expressions or partial indexes.
    definition: Option<String>,
    is_unique: bool,
    predicate: Option<String>,
    valid: bool,
    tablespace: Option<String>,
    attached_to: Option<String>,
    column_statistics: Vec<String>,
    comment: Option<String>,
}

pub async fn read_indexes(
    conn: &mut sqlx::PgConnection,
    caps: &ServerCaps,
    rels: &[Oid],
    attrs: &AttrMap,
) -> Result<Vec<CatalogObject>, CatalogError> {
    let nulls_not_distinct = if caps.version_num >= 150000 {
        " OR i.indnullsnotdistinct"
    } else {
        ""
    };
    let sql = format!(
        "SELECT i.indexrelid AS oid, i.indrelid AS relid, n.nspname::text AS schema, ic.relname::text AS name, \
           quote_ident(ic.relname) AS quoted, \
           tn.nspname::text AS table_schema, tc.relname::text AS table_name, \
           format('%I.%I', tn.nspname, tc.relname) AS table_quoted, \
           quote_ident(am.amname) AS am, am.amname = 'btree' AS btree, ic.relkind = 'I' AS partitioned, \
           i.indnkeyatts AS key_count, (i.indkey::int2[])[:] AS keys, (i.indclass::oid[])[:] AS opclasses, \
           (i.indcollation::oid[])[:] AS collations, (i.indoption::int2[])[:] AS options, \
           (ic.reloptions IS NOT NULL{nulls_not_distinct} \
            OR (SELECT bool_or(ia.attoptions IS NOT NULL) FROM pg_attribute ia \
                WHERE ia.attrelid = i.indexrelid)) IS TRUE AS unusual, \
           CASE WHEN i.indexprs IS NOT NULL OR i.indpred IS NOT NULL \
                THEN pg_get_indexdef(i.indexrelid) END AS definition, i.indisunique AS is_unique, \
           pg_get_expr(i.indpred, i.indrelid) AS predicate, i.indisvalid AS valid, \
           (SELECT sp.spcname::text FROM pg_tablespace sp WHERE sp.oid = ic.reltablespace) AS tablespace, \
           {attached_to} AS attached_to, \
           ARRAY(SELECT format('%s=%s', ia.attnum, ia.attstattarget) FROM pg_attribute ia \
                 WHERE ia.attrelid = i.indexrelid AND ia.attstattarget >= 0 ORDER BY ia.attnum) \
             AS column_statistics, \
           {comment} AS comment \
         FROM pg_index i \
         JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_am am ON am.oid = ic.relam \
         JOIN pg_namespace n ON n.oid = ic.relnamespace \
         JOIN pg_class tc ON tc.oid = i.indrelid \
         JOIN pg_namespace tn ON tn.oid = tc.relnamespace \
         WHERE tc.relkind IN ('r', 'p', 'm', 'f') AND i.indrelid = ANY($1) \
           AND i.indexrelid NOT IN (SELECT con.conindid FROM pg_constraint con \
                                    WHERE con.contype IN ('p', 'u', 'x') AND con.conrelid = ANY($1)) \
           AND NOT {ext}",
        comment = comment_of("pg_class", "ic.oid"),
        attached_to = super::refs::attached_index("i.indexrelid"),
        ext = ext_member("pg_class", "tc.oid"),
    );
    let mut rows: Vec<Row> = fetch_by_oids(conn, "reading indexes", &sql, rels).await?;
    let mut opclasses = OpclassMap::new();
    if rows.iter().any(|r| r.definition.is_none()) {
        let list: Vec<(Oid, bool, Oid)> = fetch(
            conn,
            "reading operator classes",
            "SELECT oid, opcdefault, opcintype FROM pg_opclass",
        )
        .await?;
        opclasses = list.into_iter().map(|(o, d, t)| (o.0, (d, t.0))).collect();
    }
    let mut ask = Vec::new();
    for (n, r) in rows.iter_mut().enumerate() {
        if r.definition.is_some() {
            continue;
        }
        let opcs: Vec<u32> = r.opclasses.iter().map(|o| o.0).collect();
        let colls: Vec<u32> = r.collations.iter().map(|o| o.0).collect();
        let shape = IndexShape {
            relid: r.relid.0,
            name: &r.quoted,
            table: &r.table_quoted,
            am: &r.am,
            btree: r.btree,
            unique: r.is_unique,
            partitioned: r.partitioned,
            key_count: r.key_count.max(0) as usize,
            keys: &r.keys,
            opclasses: &opcs,
            collations: &colls,
            options: &r.options,
            unusual: r.unusual,
        };
        match index_def(&shape, attrs, &opclasses) {
            Some(def) => r.definition = Some(def),
            None => ask.push((n, r.oid)),
        }
    }
    let asked = server_defs(
        conn,
        "reading index definitions",
        "SELECT indexrelid, pg_get_indexdef(indexrelid) FROM pg_index WHERE indexrelid = ANY($1)",
        &ask,
    )
    .await?;
    for (n, def) in asked {
        rows[n].definition = def;
    }
    Ok(rows
        .into_iter()
        .map(|r| CatalogObject {
            key: ObjectKey::qualified(ObjectKind::Index, &r.schema, &r.name),
            owner: None,
            acl: None,
            comment: r.comment,
            def: ObjectDef::Index(IndexDef {
                table: qualify(&r.table_schema, &r.table_name),
                definition: r.definition.unwrap_or_default(),
                unique: r.is_unique,
                predicate: r.predicate,
                valid: r.valid,
                tablespace: r.tablespace,
                attached_to: r.attached_to,
                column_statistics: r.column_statistics,
                schema: r.schema,
                name: r.name,
            }),
        })
        .collect())
}
