//! Triggers (`trigger:schema.table.name`): timing, events, UPDATE OF columns by name, level,
//! function, arguments, WHEN, enabled state, constraint-trigger deferral, transition tables.
//! Internal triggers (foreign keys) are left out: they follow from the constraint. A
//! partition's copy of its parent's trigger is captured only when its enabled state differs
//! from the parent's, as pg_dump does; the others follow from the parent's trigger.

use super::deparse::{
    trigger_def, trigger_when, AttrMap, TriggerShape, TRIGGER_TYPE_BEFORE, TRIGGER_TYPE_DELETE,
    TRIGGER_TYPE_INSERT, TRIGGER_TYPE_INSTEAD, TRIGGER_TYPE_ROW, TRIGGER_TYPE_TRUNCATE,
    TRIGGER_TYPE_UPDATE,
};
use super::{arg_types_of, comment_of, fetch_by_oids, names, server_defs};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{
    qualify, routine_signature, CatalogObject, Enabled, Event, Level, ObjectDef, ObjectKey,
    ObjectKind, Timing, TriggerDef,
};
use crate::sqltext;
use sqlx::postgres::types::Oid;

#[derive(sqlx::FromRow)]
struct Row {
    oid: Oid,
    relid: Oid,
    schema: String,
    table_name: String,
    name: String,
    quoted: String,
    table_quoted: String,
    tgtype: i32,
    enabled: String,
    is_constraint: bool,
    deferrable: bool,
    deferred: bool,
    args: Vec<u8>,
    nargs: i32,
    update_keys: Vec<i16>,
    old_table: Option<String>,
    new_table: Option<String>,
    old_quoted: Option<String>,
    new_quoted: Option<String>,
    from_quoted: Option<String>,
    fn_schema: String,
    fn_name: String,
    fn_quoted: String,
    fn_args: Vec<String>,
    unusual: bool,
    /// From the server only for triggers with a WHEN clause.
    definition: Option<String>,
    /// The WHEN condition, cut out of the server's definition.
    #[sqlx(skip)]
    when: Option<String>,
    comment: Option<String>,
    /// For a partition's copy of a parent trigger: the parent's table.
    parent_schema: Option<String>,
    parent_table: Option<String>,
}

pub async fn read_triggers(
    conn: &mut sqlx::PgConnection,
    caps: &ServerCaps,
    rels: &[Oid],
    attrs: &AttrMap,
) -> Result<Vec<CatalogObject>, CatalogError> {
    // pg_get_triggerdef prints a function or FROM table in pg_catalog unqualified (it is
    // visible on the search path): those are left to the server, as WHEN clauses are.
    let sql = format!(
        "SELECT t.oid, t.tgrelid AS relid, n.nspname::text AS schema, c.relname::text AS table_name, \
           t.tgname::text AS name, quote_ident(t.tgname) AS quoted, \
           format('%I.%I', n.nspname, c.relname) AS table_quoted, \
           t.tgtype::int4 AS tgtype, t.tgenabled::text AS enabled, t.tgconstraint <> 0 AS is_constraint, \
           t.tgdeferrable AS deferrable, t.tginitdeferred AS deferred, t.tgargs AS args, t.tgnargs::int4 AS nargs, \
           (t.tgattr::int2[])[:] AS update_keys, \
           t.tgoldtable::text AS old_table, t.tgnewtable::text AS new_table, \
           quote_ident(t.tgoldtable) AS old_quoted, quote_ident(t.tgnewtable) AS new_quoted, \
           CASE WHEN t.tgconstrrelid <> 0 THEN format('%I.%I', fn.nspname, fc.relname) END AS from_quoted, \
           pn.nspname::text AS fn_schema, p.proname::text AS fn_name, \
           format('%I.%I', pn.nspname, p.proname) AS fn_quoted, {fn_args} AS fn_args, \
           (pn.nspname = 'pg_catalog' OR fn.nspname = 'pg_catalog') IS TRUE AS unusual, \
           CASE WHEN t.tgqual IS NOT NULL THEN pg_get_triggerdef(t.oid) END AS definition, \
           {comment} AS comment, \
           un.nspname::text AS parent_schema, uc.relname::text AS parent_table \
         FROM pg_trigger t \
         JOIN pg_class c ON c.oid = t.tgrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_proc p ON p.oid = t.tgfoid \
         JOIN pg_namespace pn ON pn.oid = p.pronamespace \
         LEFT JOIN pg_class fc ON fc.oid = t.tgconstrrelid \
         LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace \
         LEFT JOIN pg_trigger u ON u.oid = t.tgparentid \
         LEFT JOIN pg_class uc ON uc.oid = u.tgrelid \
         LEFT JOIN pg_namespace un ON un.oid = uc.relnamespace \
         WHERE t.tgrelid = ANY($1) \
           AND ((NOT t.tgisinternal AND t.tgparentid = 0) \
                OR (t.tgparentid <> 0 AND NOT u.tgisinternal AND t.tgenabled <> u.tgenabled))",
        fn_args = arg_types_of("p"),
        comment = comment_of("pg_trigger", "t.oid"),
    );
    let mut rows: Vec<Row> = fetch_by_oids(conn, "reading triggers", &sql, rels).await?;
    let mut ask = Vec::new();
    for (n, r) in rows.iter_mut().enumerate() {
        let args = split_args(&r.args, r.nargs);
        // Argument bytes are in the server's encoding; taken as text only when that is
        // UTF-8 or they are plain ASCII.
        let args_ok = caps.utf8 || r.args.is_ascii();
        let shape = TriggerShape {
            relid: r.relid.0,
            name: &r.quoted,
            table: &r.table_quoted,
            tgtype: r.tgtype,
            update_keys: &r.update_keys,
            constraint: r.is_constraint,
            from: r.from_quoted.as_deref(),
            deferrable: r.deferrable,
            deferred: r.deferred,
            old_table: r.old_quoted.as_deref(),
            new_table: r.new_quoted.as_deref(),
            function: &r.fn_quoted,
            args: &args,
            standard_conforming_strings: caps.standard_strings,
            unusual: r.unusual || !args_ok,
        };
        if let Some(def) = &r.definition {
            // The WHEN condition sits between parts the client knows; the scanner is only
            // needed when they are not (a function in pg_catalog, say).
            r.when = trigger_when(
                def,
                &TriggerShape {
                    unusual: false,
                    ..shape
                },
                attrs,
            )
            .or_else(|| sqltext::trigger_when_clause(def));
            continue;
        }
        match trigger_def(&shape, attrs) {
            Some(def) => r.definition = Some(def),
            None => ask.push((n, r.oid)),
        }
    }
    let asked = server_defs(
        conn,
        "reading trigger definitions",
        "SELECT oid, pg_get_triggerdef(oid) FROM pg_trigger WHERE oid = ANY($1)",
        &ask,
    )
    .await?;
    for (n, def) in asked {
        rows[n].when = def.as_deref().and_then(sqltext::trigger_when_clause);
        rows[n].definition = def;
    }
    Ok(rows.into_iter().map(|r| trigger_object(r, attrs)).collect())
}

/// `tgargs` is each argument followed by a NUL byte.
fn split_args(args: &[u8], nargs: i32) -> Vec<String> {
    args.split(|&b| b == 0)
        .take(nargs.max(0) as usize)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

fn trigger_object(r: Row, attrs: &AttrMap) -> CatalogObject {
    let t = r.tgtype;
    let timing = if t & TRIGGER_TYPE_INSTEAD != 0 {
        Timing::InsteadOf
    } else if t & TRIGGER_TYPE_BEFORE != 0 {
        Timing::Before
    } else {
        Timing::After
    };
    let mut events = Vec::new();
    for (bit, name) in [
        (TRIGGER_TYPE_INSERT, Event::Insert),
        (TRIGGER_TYPE_UPDATE, Event::Update),
        (TRIGGER_TYPE_DELETE, Event::Delete),
        (TRIGGER_TYPE_TRUNCATE, Event::Truncate),
    ] {
        if t & bit != 0 {
            events.push(name);
        }
    }
    let mut update_columns = names(attrs, r.relid, &r.update_keys);
    update_columns.sort();
    CatalogObject {
        key: ObjectKey::on_table(ObjectKind::Trigger, &r.schema, &r.table_name, &r.name),
        owner: None,
        acl: None,
        comment: r.comment,
        def: ObjectDef::Trigger(TriggerDef {
            table: qualify(&r.schema, &r.table_name),
            timing,
            events,
            update_columns,
            level: if t & TRIGGER_TYPE_ROW != 0 {
                Level::Row
            } else {
                Level::Statement
            },
            function: routine_signature(&r.fn_schema, &r.fn_name, &r.fn_args),
            arguments: split_args(&r.args, r.nargs),
            when: r.when,
            enabled: match r.enabled.as_str() {
                "D" => Enabled::Disabled,
                "R" => Enabled::Replica,
                "A" => Enabled::Always,
                _ => Enabled::Origin,
            },
            constraint_trigger: r.is_constraint,
            deferrable: r.deferrable,
            initially_deferred: r.deferred,
            old_table: r.old_table,
            new_table: r.new_table,
            clone_of: match (&r.parent_schema, &r.parent_table) {
                (Some(s), Some(t)) => Some(qualify(s, t)),
                _ => None,
            },
            definition: r.definition.unwrap_or_default(),
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
