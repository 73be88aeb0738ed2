//! Table constraints (`constraint:schema.table.name`): primary key, foreign key, unique,
//! check, exclusion; a partition's copies of its parent's (`clone_of`). Not-null is a column property (PostgreSQL 18 also lists it here, as
//! `n`; it is folded into the column so every version gives the same snapshot), and
//! constraint-trigger entries are captured as triggers.

use super::deparse::{constraint_def, AttrMap, ConstraintShape};
use super::tables::read_attrs;
use super::{comment_of, fetch_by_oids, names, server_defs};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{
    qualify, CatalogObject, ConstraintDef, ForeignKeyDef, ObjectDef, ObjectKey, ObjectKind,
};
use sqlx::postgres::types::Oid;

#[derive(sqlx::FromRow)]
struct Row {
    oid: Oid,
    schema: String,
    table_name: String,
    name: String,
    contype: String,
    relid: Oid,
    keys: Vec<i16>,
    /// From the server only where the client does not build it (CHECK, EXCLUDE).
    definition: Option<String>,
    deferrable: bool,
    deferred: bool,
    validated: bool,
    unusual: bool,
    ref_relid: Oid,
    ref_keys: Vec<i16>,
    ref_schema: Option<String>,
    ref_table: Option<String>,
    ref_quoted: Option<String>,
    on_delete: String,
    on_update: String,
    match_type: String,
    comment: Option<String>,
    /// JSON `[[schema, table, state], …]` of the constraint's triggers not in their
    /// normal state; `NULL` when there are none.
    trigger_states: Option<String>,
    tablespace: Option<String>,
    inherited_only: bool,
    /// For a partition's copy of its parent's constraint, the parent's table.
    clone_of: Option<String>,
    index_comment: Option<String>,
    index_attached_to: Option<String>,
}

/// `table state` for each enforcement trigger not in its normal state, distinct, sorted.
/// What the server sent is the query's own JSON; one that does not parse is an error,
/// never read as "every trigger in its normal state".
fn trigger_states(json: Option<&str>) -> Result<Vec<String>, CatalogError> {
    let rows: Vec<(String, String, String)> = match json {
        None => Vec::new(),
        Some(j) => serde_json::from_str(j).map_err(|e| CatalogError::Query {
            what: "reading constraint triggers".into(),
            reason: format!("unexpected answer: {e}"),
        })?,
    };
    let mut out: Vec<String> = rows
        .into_iter()
        .map(|(schema, table, state)| format!("{} {state}", qualify(&schema, &table)))
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

fn fk_action(code: &str) -> String {
    match code {
        "r" => "restrict",
        "c" => "cascade",
        "n" => "set_null",
        "d" => "set_default",
        _ => "no_action",
    }
    .to_string()
}

/// SQL: true when a primary key, unique or foreign key has a part the client does not
/// print (see `deparse::ConstraintShape::unusual`), by server version.
fn unusual_sql(caps: &ServerCaps) -> String {
    let mut parts =
        vec!["(con.contype IN ('p', 'u') AND ix.indnatts > cardinality(con.conkey))".to_string()];
    if caps.version_num >= 150000 {
        parts.push("(con.contype = 'u' AND ix.indnullsnotdistinct)".into());
        parts.push("con.confdelsetcols IS NOT NULL".into());
    }
    if caps.version_num >= 180000 {
        parts.push("con.conperiod".into());
        parts.push("NOT con.conenforced".into());
    }
    format!("coalesce({}, false)", parts.join(" OR "))
}

pub async fn read_constraints(
    conn: &mut sqlx::PgConnection,
    caps: &ServerCaps,
    rels: &[Oid],
    attrs: &mut AttrMap,
) -> Result<Vec<CatalogObject>, CatalogError> {
    let sql = format!(
        "SELECT con.oid, n.nspname::text AS schema, c.relname::text AS table_name, con.conname::text AS name, \
           con.contype::text AS contype, con.conrelid AS relid, coalesce(con.conkey::int2[], '{{}}') AS keys, \
           CASE WHEN con.contype NOT IN ('p', 'u', 'f') THEN pg_get_constraintdef(con.oid) END AS definition, \
           con.condeferrable AS deferrable, con.condeferred AS deferred, con.convalidated AS validated, \
           {unusual} AS unusual, \
           con.confrelid AS ref_relid, coalesce(con.confkey::int2[], '{{}}') AS ref_keys, \
           fn.nspname::text AS ref_schema, fc.relname::text AS ref_table, \
           CASE WHEN fn.nspname <> 'pg_catalog' THEN format('%I.%I', fn.nspname, fc.relname) END AS ref_quoted, \
           con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update, \
           con.confmatchtype::text AS match_type, {comment} AS comment, \
           (SELECT json_agg(json_build_array(tn.nspname, tc.relname, \
                    CASE t.tgenabled WHEN 'D' THEN 'disabled' WHEN 'R' THEN 'replica' \
                                     ELSE 'always' END))::text \
                 FROM pg_trigger t JOIN pg_class tc ON tc.oid = t.tgrelid \
                 JOIN pg_namespace tn ON tn.oid = tc.relnamespace \
                 WHERE t.tgconstraint = con.oid AND t.tgisinternal AND t.tgenabled <> 'O') \
             AS trigger_states, \
           (SELECT sp.spcname::text FROM pg_class ic JOIN pg_tablespace sp ON sp.oid = ic.reltablespace \
             WHERE ic.oid = con.conindid AND con.contype IN ('p', 'u', 'x')) AS tablespace, \
           (con.coninhcount > 0 AND NOT con.conislocal AND NOT c.relispartition) AS inherited_only, \
           CASE WHEN pcl.oid IS NOT NULL THEN format('%I.%I', pn.nspname, pcl.relname) END AS clone_of, \
           CASE WHEN con.contype IN ('p', 'u', 'x') THEN {index_comment} END AS index_comment, \
           CASE WHEN con.contype IN ('p', 'u', 'x') AND con.conparentid = 0 \
             THEN {index_attached_to} END AS index_attached_to \
         FROM pg_constraint con \
         JOIN pg_class c ON c.oid = con.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_index ix ON ix.indexrelid = con.conindid AND con.contype IN ('p', 'u') \
         LEFT JOIN pg_class fc ON fc.oid = con.confrelid \
         LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace \
         LEFT JOIN pg_constraint pcon ON pcon.oid = con.conparentid \
         LEFT JOIN pg_class pcl ON pcl.oid = pcon.conrelid AND pcon.conrelid <> con.conrelid \
         LEFT JOIN pg_namespace pn ON pn.oid = pcl.relnamespace \
         WHERE con.contype IN ('p', 'f', 'u', 'c', 'x') \
           AND (con.conparentid = 0 OR pcon.conrelid <> con.conrelid) \
           AND c.relkind IN ('r', 'p', 'f') AND con.conrelid = ANY($1)",
        unusual = unusual_sql(caps),
        comment = comment_of("pg_constraint", "con.oid"),
        index_comment = comment_of("pg_class", "con.conindid"),
        index_attached_to = super::refs::attached_index("con.conindid"),
    );
    let mut rows: Vec<Row> = fetch_by_oids(conn, "reading constraints", &sql, rels).await?;
    // Foreign keys to tables outside these relations: their columns, in one more query.
    let mut missing: Vec<Oid> = rows
        .iter()
        .filter(|r| r.contype == "f")
        .filter(|r| {
            r.ref_keys
                .iter()
                .any(|k| !attrs.contains_key(&(r.ref_relid.0, *k)))
        })
        .map(|r| r.ref_relid)
        .collect();
    missing.sort_by_key(|o| o.0);
    missing.dedup();
    if !missing.is_empty() {
        read_attrs(conn, &missing, attrs).await?;
    }
    let attrs = &*attrs;
    let mut ask = Vec::new();
    for (n, r) in rows.iter_mut().enumerate() {
        if r.definition.is_some() {
            continue;
        }
        let shape = ConstraintShape {
            contype: &r.contype,
            relid: r.relid.0,
            keys: &r.keys,
            deferrable: r.deferrable,
            deferred: r.deferred,
            validated: r.validated,
            unusual: r.unusual,
            ref_relid: r.ref_relid.0,
            ref_keys: &r.ref_keys,
            ref_table: r.ref_quoted.as_deref(),
            match_type: &r.match_type,
            on_update: &r.on_update,
            on_delete: &r.on_delete,
        };
        match constraint_def(&shape, attrs) {
            Some(def) => r.definition = Some(def),
            None => ask.push((n, r.oid)),
        }
    }
    let asked = server_defs(
        conn,
        "reading constraint definitions",
        "SELECT oid, pg_get_constraintdef(oid) FROM pg_constraint WHERE oid = ANY($1)",
        &ask,
    )
    .await?;
    for (n, def) in asked {
        rows[n].definition = def;
    }
    rows.into_iter()
        .map(|r| {
            let trigger_states = trigger_states(r.trigger_states.as_deref())?;
            let foreign_key = match (r.contype.as_str(), &r.ref_schema, &r.ref_table) {
                ("f", Some(s), Some(t)) => Some(ForeignKeyDef {
                    references: qualify(s, t),
                    ref_columns: names(attrs, r.ref_relid, &r.ref_keys),
                    on_delete: fk_action(&r.on_delete),
                    on_update: fk_action(&r.on_update),
                    match_type: match r.match_type.as_str() {
                        "f" => "full",
                        "p" => "partial",
                        _ => "simple",
                    }
                    .to_string(),
                }),
                _ => None,
            };
            Ok(CatalogObject {
                key: ObjectKey::on_table(ObjectKind::Constraint, &r.schema, &r.table_name, &r.name),
                owner: None,
                acl: None,
                comment: r.comment,
                def: ObjectDef::Constraint(ConstraintDef {
                    table: qualify(&r.schema, &r.table_name),
                    constraint_type: match r.contype.as_str() {
                        "p" => "primary_key",
                        "f" => "foreign_key",
                        "u" => "unique",
                        "c" => "check",
                        _ => "exclusion",
                    }
                    .to_string(),
                    definition: r.definition.unwrap_or_default(),
                    deferrable: r.deferrable,
                    initially_deferred: r.deferred,
                    validated: r.validated,
                    columns: names(attrs, r.relid, &r.keys),
                    foreign_key,
                    trigger_states,
                    tablespace: r.tablespace,
                    inherited_only: r.inherited_only,
                    clone_of: r.clone_of,
                    index_comment: r.index_comment,
                    index_attached_to: r.index_attached_to,
                    schema: r.schema,
                    name: r.name,
                }),
            })
        })
        .collect()
}
