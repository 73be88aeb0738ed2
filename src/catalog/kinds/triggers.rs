//! Triggers (`trigger:schema.table.name`): timing, events, UPDATE OF columns by name, level,
//! function, arguments, WHEN, enabled state, constraint-trigger deferral, transition tables.
//! Internal triggers (foreign keys) and partition clones are left out: they follow from the
//! constraint or the parent's trigger.

use super::{arg_types_of, comment_of, fetch_in_schemas};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{
    qualify, routine_signature, CatalogObject, ObjectDef, ObjectKey, ObjectKind, TriggerDef,
};
use crate::sqltext;
use sqlx::postgres::types::Oid;

#[derive(sqlx::FromRow)]
struct Row {
    schema: String,
    table_name: String,
    name: String,
    tgtype: i32,
    enabled: String,
    is_constraint: bool,
    deferrable: bool,
    deferred: bool,
    args: Vec<u8>,
    nargs: i32,
    update_columns: Vec<String>,
    old_table: Option<String>,
    new_table: Option<String>,
    fn_schema: String,
    fn_name: String,
    fn_args: Vec<String>,
    definition: String,
    comment: Option<String>,
}

// pg_trigger.tgtype bits (src/include/catalog/pg_trigger.h).
const TRIGGER_TYPE_ROW: i32 = 1 << 0;
const TRIGGER_TYPE_BEFORE: i32 = 1 << 1;
const TRIGGER_TYPE_INSERT: i32 = 1 << 2;
const TRIGGER_TYPE_DELETE: i32 = 1 << 3;
const TRIGGER_TYPE_UPDATE: i32 = 1 << 4;
const TRIGGER_TYPE_TRUNCATE: i32 = 1 << 5;
const TRIGGER_TYPE_INSTEAD: i32 = 1 << 6;

pub async fn read_triggers(
    conn: &mut sqlx::PgConnection,
    _caps: &ServerCaps,
    nsp: &[Oid],
) -> Result<Vec<CatalogObject>, CatalogError> {
    let sql = format!(
        "SELECT n.nspname::text AS schema, c.relname::text AS table_name, t.tgname::text AS name, \
           t.tgtype::int4 AS tgtype, t.tgenabled::text AS enabled, t.tgconstraint <> 0 AS is_constraint, \
           t.tgdeferrable AS deferrable, t.tginitdeferred AS deferred, t.tgargs AS args, t.tgnargs::int4 AS nargs, \
           ARRAY(SELECT a.attname::text FROM unnest(t.tgattr::int2[]) k(attnum) \
                 JOIN pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = k.attnum) AS update_columns, \
           t.tgoldtable::text AS old_table, t.tgnewtable::text AS new_table, \
           pn.nspname::text AS fn_schema, p.proname::text AS fn_name, {fn_args} AS fn_args, \
           pg_get_triggerdef(t.oid) AS definition, {comment} AS comment \
         FROM pg_trigger t \
         JOIN pg_class c ON c.oid = t.tgrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_proc p ON p.oid = t.tgfoid \
         JOIN pg_namespace pn ON pn.oid = p.pronamespace \
         WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND n.oid = ANY($1)",
        fn_args = arg_types_of("p"),
        comment = comment_of("pg_trigger", "t.oid"),
    );
    let rows: Vec<Row> = fetch_in_schemas(conn, "reading triggers", &sql, nsp).await?;
    Ok(rows.into_iter().map(trigger_object).collect())
}

/// `tgargs` is each argument followed by a NUL byte.
fn split_args(args: &[u8], nargs: i32) -> Vec<String> {
    args.split(|&b| b == 0)
        .take(nargs.max(0) as usize)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

fn trigger_object(r: Row) -> CatalogObject {
    let t = r.tgtype;
    let timing = if t & TRIGGER_TYPE_INSTEAD != 0 {
        "instead_of"
    } else if t & TRIGGER_TYPE_BEFORE != 0 {
        "before"
    } else {
        "after"
    };
    let mut events = Vec::new();
    for (bit, name) in [
        (TRIGGER_TYPE_INSERT, "insert"),
        (TRIGGER_TYPE_UPDATE, "update"),
        (TRIGGER_TYPE_DELETE, "delete"),
        (TRIGGER_TYPE_TRUNCATE, "truncate"),
    ] {
        if t & bit != 0 {
            events.push(name.to_string());
        }
    }
    let mut update_columns = r.update_columns;
    update_columns.sort();
    CatalogObject {
        key: ObjectKey::on_table(ObjectKind::Trigger, &r.schema, &r.table_name, &r.name),
        owner: None,
        acl: None,
        comment: r.comment,
        def: ObjectDef::Trigger(TriggerDef {
            table: qualify(&r.schema, &r.table_name),
            timing: timing.to_string(),
            events,
            update_columns,
            level: if t & TRIGGER_TYPE_ROW != 0 {
                "row"
            } else {
                "statement"
            }
            .to_string(),
            function: routine_signature(&r.fn_schema, &r.fn_name, &r.fn_args),
            arguments: split_args(&r.args, r.nargs),
            when: sqltext::trigger_when_clause(&r.definition),
            enabled: match r.enabled.as_str() {
                "D" => "disabled",
                "R" => "replica",
                "A" => "always",
                _ => "origin",
            }
            .to_string(),
            constraint_trigger: r.is_constraint,
            deferrable: r.deferrable,
            initially_deferred: r.deferred,
            old_table: r.old_table,
            new_table: r.new_table,
            definition: r.definition,
            schema: r.schema,
            name: r.name,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tgargs_split_on_nul() {
        assert_eq!(split_args(b"code\0x y\0", 2), vec!["code", "x y"]);
        assert_eq!(split_args(b"", 0), Vec::<String>::new());
        assert_eq!(split_args(b"\0", 1), vec![""]);
    }
}
