//! Subscriptions of the connected database (`subscription:name`). Every role may read
//! `pg_subscription` but for `subconninfo`, a column privilege only superusers hold by
//! default: it is asked first (`has_column_privilege`), and a query that names the column
//! is run only when it is readable (naming it without the privilege fails the whole query,
//! whatever a CASE around it says). Options by server version, as `model::kinds::subscription`
//! documents.

use super::{comment_of, fetch};
use crate::catalog::{CatalogError, ServerCaps};
use crate::model::redact::NOT_READABLE;
use crate::model::{quote_ident, CatalogObject, ObjectDef, ObjectKey, ObjectKind, SubscriptionDef};

/// Database-wide: one light task.
pub const SCHEDULE: super::Schedule = super::Schedule {
    input: super::Input::Schemas { split: false },
    weight: 1,
};

#[derive(sqlx::FromRow)]
struct Row {
    name: String,
    conninfo: String,
    publications: Vec<String>,
    enabled: bool,
    slot_name: Option<String>,
    synchronous_commit: String,
    binary: bool,
    streaming: String,
    two_phase: bool,
    disable_on_error: bool,
    password_required: bool,
    run_as_owner: bool,
    origin: String,
    failover: bool,
    owner: String,
    comment: Option<String>,
}

pub async fn read_subscriptions(
    conn: &mut sqlx::PgConnection,
    caps: &ServerCaps,
) -> Result<Vec<CatalogObject>, CatalogError> {
    let v = caps.version_num;
    let readable: Vec<(bool,)> = fetch(
        conn,
        "asking whether subscription connection strings are readable",
        "SELECT has_column_privilege('pg_catalog.pg_subscription', 'subconninfo', 'SELECT')",
    )
    .await?;
    let conninfo = if readable.first().is_some_and(|r| r.0) {
        "s.subconninfo::text".to_string()
    } else {
        format!("'{NOT_READABLE}'::text")
    };
    let (binary, streaming) = match v {
        160000.. => (
            "s.subbinary",
            "CASE s.substream WHEN 't' THEN 'on' WHEN 'p' THEN 'parallel' ELSE 'off' END",
        ),
        140000.. => (
            "s.subbinary",
            "CASE WHEN s.substream THEN 'on' ELSE 'off' END",
        ),
        _ => ("false", "'off'"),
    };
    let (two_phase, disable_on_error) = if v >= 150000 {
        ("s.subtwophasestate <> 'd'", "s.subdisableonerr")
    } else {
        ("false", "false")
    };
    let (password_required, run_as_owner, origin) = if v >= 160000 {
        (
            "s.subpasswordrequired",
            "s.subrunasowner",
            "s.suborigin::text",
        )
    } else {
        ("true", "false", "'any'")
    };
    let failover = if v >= 170000 {
        "s.subfailover"
    } else {
        "false"
    };
    let sql = format!(
        "SELECT s.subname::text AS name, {conninfo} AS conninfo, \
           s.subpublications::text[] AS publications, s.subenabled AS enabled, \
           s.subslotname::text AS slot_name, s.subsynccommit::text AS synchronous_commit, \
           {binary} AS binary, {streaming}::text AS streaming, {two_phase} AS two_phase, \
           {disable_on_error} AS disable_on_error, {password_required} AS password_required, \
           {run_as_owner} AS run_as_owner, {origin} AS origin, {failover} AS failover, \
           pg_get_userbyid(s.subowner)::text AS owner, {comment} AS comment \
         FROM pg_subscription s \
         WHERE s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
        comment = comment_of("pg_subscription", "s.oid"),
    );
    let rows: Vec<Row> = fetch(conn, "reading subscriptions", &sql).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut publications = r.publications;
            publications.sort();
            CatalogObject {
                key: ObjectKey::new(ObjectKind::Subscription, &quote_ident(&r.name)),
                owner: Some(r.owner),
                acl: None,
                comment: r.comment,
                def: ObjectDef::Subscription(SubscriptionDef {
                    name: r.name,
                    conninfo: r.conninfo,
                    publications,
                    enabled: r.enabled,
                    slot_name: r.slot_name,
                    synchronous_commit: r.synchronous_commit,
                    binary: r.binary,
                    streaming: r.streaming,
                    two_phase: r.two_phase,
                    disable_on_error: r.disable_on_error,
                    password_required: r.password_required,
                    run_as_owner: r.run_as_owner,
                    origin: r.origin,
                    failover: r.failover,
                }),
            }
        })
        .collect())
}
