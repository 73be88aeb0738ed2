//! Subscriptions of the connected database (`subscription:name`). Every role may read
//! `pg_subscription` but for `subconninfo` (and, on 13, `oid` and `subsynccommit`),
//! column privileges only superusers hold by default: they are asked first
//! (`has_column_privilege`), and a query names a column only when it is readable (naming
//! it without the privilege fails the whole query, whatever a CASE around it says); an
//! unreadable one is "not readable by this role" (the comment too, when `oid` is).
//! Options by server version, as `model::kinds::subscription` documents.

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
    // Column privileges of the columns not every version grants to every role: the
    // connection string (superusers only, by default), and on 13 also `oid` (which the
    // comment is found by) and `subsynccommit`.
    let readable: Vec<(bool, bool, bool)> = fetch(
        conn,
        "asking which subscription columns are readable",
        "SELECT has_column_privilege('pg_catalog.pg_subscription', 'subconninfo', 'SELECT'), \
           has_column_privilege('pg_catalog.pg_subscription', 'subsynccommit', 'SELECT'), \
           has_column_privilege('pg_catalog.pg_subscription', 'oid', 'SELECT')",
    )
    .await?;
    let (conninfo_ok, synccommit_ok, oid_ok) = readable.first().copied().unwrap_or_default();
    let or_not_readable = |ok: bool, expr: &str| {
        if ok {
            expr.to_string()
        } else {
            format!("'{NOT_READABLE}'::text")
        }
    };
    let conninfo = or_not_readable(conninfo_ok, "s.subconninfo::text");
    let synchronous_commit = or_not_readable(synccommit_ok, "s.subsynccommit::text");
    let comment = or_not_readable(oid_ok, &comment_of("pg_subscription", "s.oid"));
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
           s.subslotname::text AS slot_name, {synchronous_commit} AS synchronous_commit, \
           {binary} AS binary, {streaming}::text AS streaming, {two_phase} AS two_phase, \
           {disable_on_error} AS disable_on_error, {password_required} AS password_required, \
           {run_as_owner} AS run_as_owner, {origin} AS origin, {failover} AS failover, \
           pg_get_userbyid(s.subowner)::text AS owner, {comment} AS comment \
         FROM pg_subscription s \
         WHERE s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
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
