//! Event triggers (`event_trigger:name`), database-wide: event, tag filter, function, state.

use super::{arg_types_of, comment_of, ext_member, fetch};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::{
    quote_ident, routine_signature, CatalogObject, EventTriggerDef, ObjectDef, ObjectKey,
    ObjectKind,
};

/// Database-wide: one task (it reads what the database has, whatever the schemas).
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: false },
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct Row {
    name: String,
    event: String,
    tags: Option<Vec<String>>,
    enabled: String,
    fn_schema: String,
    fn_name: String,
    fn_args: Vec<String>,
    owner: String,
    comment: Option<String>,
}

pub async fn read_event_triggers(
    conn: &mut sqlx::PgConnection,
    _caps: &ServerCaps,
) -> Result<Vec<CatalogObject>, CatalogError> {
    let sql = format!(
        "SELECT e.evtname::text AS name, e.evtevent::text AS event, e.evttags AS tags, \
           e.evtenabled::text AS enabled, pn.nspname::text AS fn_schema, p.proname::text AS fn_name, \
           {fn_args} AS fn_args, pg_get_userbyid(e.evtowner)::text AS owner, {comment} AS comment \
         FROM pg_event_trigger e \
         JOIN pg_proc p ON p.oid = e.evtfoid \
         JOIN pg_namespace pn ON pn.oid = p.pronamespace \
         WHERE NOT {ext}",
        fn_args = arg_types_of("p"),
        comment = comment_of("pg_event_trigger", "e.oid"),
        ext = ext_member("pg_event_trigger", "e.oid"),
    );
    let rows: Vec<Row> = fetch(conn, "reading event triggers", &sql).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut tags = r.tags.unwrap_or_default();
            tags.sort();
            CatalogObject {
                key: ObjectKey::new(ObjectKind::EventTrigger, &quote_ident(&r.name)),
                owner: Some(r.owner),
                acl: None,
                comment: r.comment,
                def: ObjectDef::EventTrigger(EventTriggerDef {
                    event: r.event,
                    tags,
                    function: routine_signature(&r.fn_schema, &r.fn_name, &r.fn_args),
                    enabled: match r.enabled.as_str() {
                        "D" => "disabled",
                        "R" => "replica",
                        "A" => "always",
                        _ => "origin",
                    }
                    .to_string(),
                    name: r.name,
                }),
            }
        })
        .collect())
}
