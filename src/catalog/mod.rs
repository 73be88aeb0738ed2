//! Reading a PostgreSQL catalog: the only module that talks to the server.
//!
//! One session, one `REPEATABLE READ READ ONLY` transaction, read-only checked before any
//! catalog query, every statement bounded by `statement_timeout` and `lock_timeout`. Catalog
//! reads take no lock on user tables; the exceptions are `pg_get_viewdef` (it locks the
//! relations a view reads, like any parse) and exact `count(*)`, and a held lock ends in a
//! [`CatalogError::LockTimeout`] naming the relation. One query per object kind, aggregated
//! on the server, so the cost grows with the catalog, not with round trips.

pub mod connect;
mod counts;
mod kinds;
pub use kinds::INFORMATION_SCHEMA_UNGRANTED;
mod pgpass;
mod plan;
pub mod probe;
pub mod service;
mod stamp;
mod tls;
mod version;

pub use connect::{ConnFlags, ConnectTarget, SessionLimits};
pub use probe::{probe, ServerProbe};
pub use tls::Verify;
pub use version::ServerCaps;

use crate::model::snapshot::RowCounts;
use crate::model::{CatalogObject, CatalogSnapshot, ObjectKey, SnapshotMeta};
use sqlx::postgres::types::Oid;
use sqlx::{Connection, Row};
use std::collections::BTreeMap;
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("invalid connection string: {0}")]
    BadDsn(String),
    #[error("connection service {name:?}: {reason}")]
    Service { name: String, reason: String },
    #[error("cannot connect to {target}: {reason}")]
    Connect { target: String, reason: String },
    #[error("refusing to read {target}: the transaction is not read-only (transaction_read_only = {value}); driftgate never reads outside a READ ONLY transaction")]
    NotReadOnly { target: String, value: String },
    #[error(
        "refusing to read database {actual:?}: it does not match --expect-database {pattern:?}"
    )]
    WrongDatabase { actual: String, pattern: String },
    #[error("PostgreSQL {version} is not supported (driftgate reads PostgreSQL 13 to 18)")]
    UnsupportedVersion { version: String },
    #[error("lock timeout ({timeout_ms} ms) while {what}: {holders}; nothing was stored. Retry when the lock is released, or raise --lock-timeout")]
    LockTimeout {
        what: String,
        timeout_ms: u128,
        holders: String,
    },
    #[error("statement timeout while {what}; nothing was stored. Raise --statement-timeout if the catalog is very large")]
    StatementTimeout { what: String },
    #[error("the server ended the session while {what} ({reason}); nothing was stored")]
    SessionLost { what: String, reason: String },
    #[error("reading the catalog failed while {what}: {reason}")]
    Query { what: String, reason: String },
    #[error("the catalog kept changing while it was read ({attempts} attempts; DDL committed to {catalogs} each time); nothing was stored. Retry when the DDL is done")]
    CatalogKeptChanging { attempts: usize, catalogs: String },
    #[error("{what} (schemas are matched by name, e.g. public or tenant_*); nothing was stored")]
    SchemaFilterMatchesNothing { what: String },
    #[error("--exact-counts names {table:?}, which is not a table in the snapshot (tables are named like public.dot_tools)")]
    UnknownCountTable { table: String },
    #[error("invalid schema pattern {pattern:?}: {reason}")]
    BadPattern { pattern: String, reason: String },
}

/// Which tables get an exact `count(*)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ExactCounts {
    #[default]
    None,
    All,
    Tables(Vec<String>),
}

impl ExactCounts {
    pub fn parse(spec: &str) -> ExactCounts {
        if spec.trim() == "all" {
            return ExactCounts::All;
        }
        let tables: Vec<String> = spec
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(crate::model::fingerprint::normalize_table_name)
            .collect();
        if tables.is_empty() {
            ExactCounts::None
        } else {
            ExactCounts::Tables(tables)
        }
    }
}

/// Sessions a snapshot reads with unless told otherwise. Each session leaves the server idle
/// while driftgate builds the objects of its last answer (about a third of its time on a
/// 10,000-table catalog); a third session fills those gaps, so two server cores stay busy:
/// 8 % less wall time than two sessions there (scripts/bench.sh catalog, PostgreSQL 15,
/// 2 cores), while a fourth added nothing measurable.
pub const DEFAULT_JOBS: u16 = 3;

#[derive(Clone, Debug)]
pub struct CaptureOptions {
    pub limits: SessionLimits,
    pub exact_counts: ExactCounts,
    /// Glob patterns (`*`, `?`) on schema names; empty means every schema.
    pub include_schemas: Vec<String>,
    pub exclude_schemas: Vec<String>,
    /// SQL LIKE pattern the database name must match.
    pub expect_database: Option<String>,
    pub label: Option<String>,
    /// Sessions reading in parallel on one shared snapshot (1 = a single session).
    pub jobs: usize,
    /// Read the cluster and database around the schema (roles, settings, the database's
    /// properties, tablespaces: `model::globals`); `false` is `snapshot --no-globals`.
    pub globals: bool,
    /// Names whose values are removed before anything is stored.
    pub secrets: crate::model::redact::SecretPatterns,
}

/// Turn a sqlx error into a message fit for a person, never containing a password.
pub fn describe_sqlx_error(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => {
            let code = db
                .code()
                .map(|c| format!(" (SQLSTATE {c})"))
                .unwrap_or_default();
            format!("{}{code}", db.message())
        }
        sqlx::Error::Io(io) => format!("network error: {io}"),
        sqlx::Error::Tls(t) => format!("TLS error: {t}"),
        sqlx::Error::PoolTimedOut => "timed out".into(),
        other => other.to_string(),
    }
}

fn sqlstate(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(db) => db.code().map(|c| c.to_string()),
        _ => None,
    }
}

/// Classify a failed statement.
pub(crate) fn query_error(what: &str, e: sqlx::Error) -> CatalogError {
    let what = what.to_string();
    match sqlstate(&e).as_deref() {
        Some("55P03") => CatalogError::LockTimeout {
            what,
            timeout_ms: 0,
            holders: String::new(),
        },
        Some("57014") => CatalogError::StatementTimeout { what },
        Some("57P01" | "57P02" | "57P03" | "08006" | "08003") => CatalogError::SessionLost {
            what,
            reason: describe_sqlx_error(&e),
        },
        _ if matches!(e, sqlx::Error::Io(_) | sqlx::Error::Protocol(_)) => {
            CatalogError::SessionLost {
                what,
                reason: describe_sqlx_error(&e),
            }
        }
        _ => CatalogError::Query {
            what,
            reason: describe_sqlx_error(&e),
        },
    }
}

/// What the catalog reader hands its sink.
// Events are moved straight into the sink and never stored: boxing the object would only
// add an allocation per catalog object.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum SinkEvent {
    /// The objects of one read task, as soon as it completes.
    Objects(Vec<CatalogObject>),
    /// DDL committed while the catalog was read: forget every object handed over so far;
    /// the read starts again on a new snapshot.
    Restart,
}

/// Receives the catalog as it is read.
pub type ObjectSink<'a> = dyn FnMut(SinkEvent) + Send + 'a;

/// Reads thrown away because DDL committed during them, before giving up.
const MAX_ATTEMPTS: usize = 3;

/// Capture, and when a table named for exact counts is gone, capture again without it: the
/// diff then reports the table as removed instead of the whole snapshot failing.
pub async fn capture_counting_what_exists(
    target: &ConnectTarget,
    mut opts: CaptureOptions,
) -> Result<CatalogSnapshot, CatalogError> {
    loop {
        match capture(target, &opts).await {
            Err(CatalogError::UnknownCountTable { table }) => match &mut opts.exact_counts {
                ExactCounts::Tables(list) if list.contains(&table) => {
                    tracing::warn!("table {table} (exact_counts) is gone; counting the others");
                    list.retain(|t| *t != table);
                    if list.is_empty() {
                        opts.exact_counts = ExactCounts::None;
                    }
                }
                _ => return Err(CatalogError::UnknownCountTable { table }),
            },
            other => return other,
        }
    }
}

/// Take a snapshot of the catalog at `target`, held in memory.
pub async fn capture(
    target: &ConnectTarget,
    opts: &CaptureOptions,
) -> Result<CatalogSnapshot, CatalogError> {
    let mut objects: BTreeMap<ObjectKey, CatalogObject> = BTreeMap::new();
    let (meta, counts) = capture_with(target, opts, &mut |event| match event {
        SinkEvent::Objects(list) => {
            for o in list {
                objects.insert(o.key.clone(), o);
            }
        }
        SinkEvent::Restart => objects.clear(),
    })
    .await?;
    Ok(CatalogSnapshot {
        meta,
        objects,
        counts,
    })
}

/// Take a snapshot, handing every object to `sink` as it is read (nothing is kept here), and
/// return the metadata and row counts. When DDL commits during the read, `sink` is told to
/// [`SinkEvent::Restart`] and the catalog is read again. On error, `sink` may have seen part
/// of the catalog: callers must discard what they gathered.
pub async fn capture_with(
    target: &ConnectTarget,
    opts: &CaptureOptions,
    sink: &mut ObjectSink<'_>,
) -> Result<(SnapshotMeta, RowCounts), CatalogError> {
    let include = compile_patterns(&opts.include_schemas)?;
    let exclude = compile_patterns(&opts.exclude_schemas)?;
    let started = Instant::now();
    // One pass over each batch before any sink sees it: secrets go (nothing downstream can
    // store them), and an extension — read database-wide though it lives in a schema — is
    // kept under a schema filter only when its schema is selected. Without a filter every
    // extension is kept, plpgsql's pg_catalog included.
    let filtered = include.is_some() || exclude.is_some();
    let mut keep = |event: SinkEvent| match event {
        SinkEvent::Objects(mut list) => {
            if filtered {
                list.retain(|o| match &o.def {
                    crate::model::ObjectDef::Extension(e) => {
                        schema_selected(&e.schema, &include, &exclude)
                    }
                    _ => true,
                });
            }
            list.iter_mut().for_each(|o| opts.secrets.redact_object(o));
            sink(SinkEvent::Objects(list))
        }
        other => sink(other),
    };
    let sink = std::sync::Mutex::new(&mut keep as &mut ObjectSink<'_>);
    let mut changed = Vec::new();
    for attempt in 1..=MAX_ATTEMPTS {
        if attempt > 1 {
            (sink.lock().expect("sink lock"))(SinkEvent::Restart);
        }
        let mut conn = connect::connect(target, &opts.limits).await?;
        let result = read_catalog(&mut conn, target, opts, &include, &exclude, &sink).await;
        let (counts, caps, before, helpers) = match result {
            Ok(read) => read,
            Err(e) => return Err(fail(conn, target, opts, e).await),
        };
        // A fresh snapshot now that every read is done: what the catalog caches could have
        // shown the deparse functions is no newer than this.
        let after = match final_stamp(&mut conn, helpers).await {
            Ok(after) => after,
            Err(e) => return Err(fail(conn, target, opts, e).await),
        };
        let _ = conn.close().await;
        if after == before {
            let meta = SnapshotMeta {
                format: crate::model::snapshot::SNAPSHOT_FORMAT.to_string(),
                created_at: crate::now_rfc3339(),
                source: crate::model::SourceInfo {
                    in_recovery: Some(caps.in_recovery),
                    ..target.source_info()
                },
                server_version: caps.version,
                server_version_num: caps.version_num,
                driftgate_version: env!("CARGO_PKG_VERSION").to_string(),
                capture_format: crate::model::snapshot::CAPTURE_FORMAT,
                label: opts.label.clone(),
                include_schemas: opts.include_schemas.clone(),
                exclude_schemas: opts.exclude_schemas.clone(),
                capture_ms: started.elapsed().as_millis() as u64,
            };
            return Ok((meta, counts));
        }
        changed = stamp::changed_catalogs(&before, &after);
        tracing::info!(
            attempt,
            catalogs = %changed.join(", "),
            "DDL committed while the catalog was read; reading it again"
        );
    }
    Err(CatalogError::CatalogKeptChanging {
        attempts: MAX_ATTEMPTS,
        catalogs: changed.join(", "),
    })
}

/// End a failed read: its session goes, and a lock timeout learns who holds the lock.
/// The stamp after the read, in fresh snapshots: its parts taken side by side on the
/// leader and a helper session (the helpers are closed after).
async fn final_stamp(
    conn: &mut sqlx::PgConnection,
    mut helpers: Vec<sqlx::PgConnection>,
) -> Result<Vec<String>, CatalogError> {
    let mut parts: Vec<Vec<String>> = Vec::with_capacity(stamp::STAMP_PARTS);
    if let Some(helper) = helpers.first_mut() {
        sqlx::raw_sql("COMMIT")
            .execute(&mut *helper)
            .await
            .map_err(|e| query_error("ending a parallel read", e))?;
        let (mine, theirs) = futures_util::future::try_join(
            stamp::catalog_stamp_part(conn, 1),
            stamp::catalog_stamp_part(helper, 0),
        )
        .await?;
        parts.push(theirs);
        parts.push(mine);
    } else {
        for part in 0..stamp::STAMP_PARTS {
            parts.push(stamp::catalog_stamp_part(conn, part).await?);
        }
    }
    for helper in helpers {
        let _ = helper.close().await;
    }
    Ok(stamp::merge_parts(&parts).expect("every stamp part was taken"))
}

async fn fail(
    conn: sqlx::PgConnection,
    target: &ConnectTarget,
    opts: &CaptureOptions,
    error: CatalogError,
) -> CatalogError {
    match error {
        CatalogError::LockTimeout { what, .. } => {
            // The failing statement may have been on a helper session, and a query dropped
            // mid-flight leaves its session unusable: ask a fresh session who holds the lock.
            let _ = conn.close().await;
            let holders = match connect::connect(target, &opts.limits).await {
                Ok(mut probe) => {
                    let found = counts::describe_lock_holders(&mut probe).await;
                    let _ = probe.close().await;
                    found
                }
                Err(_) => None,
            }
            .unwrap_or_else(|| "another session holds a conflicting lock".into());
            CatalogError::LockTimeout {
                what,
                timeout_ms: opts.limits.lock_timeout.as_millis(),
                holders,
            }
        }
        other => {
            // Ending the session ends its transaction; no ROLLBACK round trip on a session
            // that may be mid-statement.
            drop(conn);
            other
        }
    }
}

type SharedSink<'s, 'a> = std::sync::Mutex<&'s mut ObjectSink<'a>>;

async fn read_catalog(
    conn: &mut sqlx::PgConnection,
    target: &ConnectTarget,
    opts: &CaptureOptions,
    include: &Option<globset::GlobSet>,
    exclude: &Option<globset::GlobSet>,
    sink: &SharedSink<'_, '_>,
) -> Result<(RowCounts, ServerCaps, Vec<String>, Vec<sqlx::PgConnection>), CatalogError> {
    sqlx::raw_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *conn)
        .await
        .map_err(|e| query_error("starting the read-only transaction", e))?;

    let row = sqlx::query(
        "SELECT current_setting('transaction_read_only') AS ro, current_database()::text AS db, \
         current_setting('server_version_num')::int4 AS vnum, current_setting('server_version') AS version, \
         current_setting('standard_conforming_strings') = 'on' AS standard_strings, \
         current_setting('server_encoding') = 'UTF8' AS utf8, pg_is_in_recovery() AS in_recovery",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| query_error("checking the session", e))?;
    let read_only: String = row.get("ro");
    if read_only != "on" {
        return Err(CatalogError::NotReadOnly {
            target: target.describe(),
            value: read_only,
        });
    }
    let database: String = row.get("db");
    let mut caps = ServerCaps::new(row.get::<i32, _>("vnum") as u32, row.get("version"))?;
    // Settings of the server, database and role: the same on every session of the read.
    caps.standard_strings = row.get("standard_strings");
    caps.utf8 = row.get("utf8");
    caps.in_recovery = row.get("in_recovery");

    if let Some(pattern) = &opts.expect_database {
        let ok: bool = sqlx::query_scalar("SELECT current_database() LIKE $1")
            .bind(pattern)
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| query_error("checking --expect-database", e))?;
        if !ok {
            return Err(CatalogError::WrongDatabase {
                actual: database,
                pattern: pattern.clone(),
            });
        }
    }

    let (schema_objects, schema_oids) =
        kinds::read_schemas(conn, &caps, |name| schema_selected(name, include, exclude)).await?;
    let nsp: Vec<Oid> = schema_oids;
    check_schema_filters(opts, &schema_objects)?;

    // Extra sessions share this transaction's snapshot; a standby cannot export one, so
    // there the read stays on this one session.
    let mut jobs = opts.jobs.max(1);
    let mut helpers = Vec::new();
    if jobs > 1 {
        let exported: Option<String> = sqlx::query_scalar(
            "SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_export_snapshot() END",
        )
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| query_error("exporting the snapshot for parallel reads", e))?;
        match exported {
            Some(id) => {
                helpers = futures_util::future::try_join_all(
                    (1..jobs).map(|_| plan::helper_session(target, &opts.limits, &id)),
                )
                .await?;
            }
            None => jobs = 1,
        }
    }
    let rels: Vec<Oid> = kinds::fetch_by_oids::<(Oid,)>(
        conn,
        "listing relations",
        "SELECT c.oid FROM pg_class c WHERE c.relnamespace = ANY($1) \
           AND c.relkind IN ('r', 'p', 'f', 'm', 'v') ORDER BY c.oid",
        &nsp,
    )
    .await?
    .into_iter()
    .map(|(oid,)| oid)
    .collect();
    let mut tasks = plan::plan(&nsp, &rels, jobs);
    if !opts.globals {
        tasks.retain(|t| t.query != plan::TaskQuery::Read(kinds::GLOBALS_READER));
    }
    let mut tasks = std::collections::VecDeque::from(tasks);
    for part in 0..stamp::STAMP_PARTS {
        tasks.push_front(plan::Task {
            query: plan::TaskQuery::Stamp(part),
            oids: Vec::new(),
        });
    }
    let queue = std::sync::Mutex::new(tasks);
    let mut workers = vec![plan::work(&mut *conn, &caps, &queue, sink)];
    for helper in helpers.iter_mut() {
        workers.push(plan::work(helper, &caps, &queue, sink));
    }
    let outputs = futures_util::future::try_join_all(workers).await;

    (sink.lock().expect("sink lock"))(SinkEvent::Objects(schema_objects));
    let mut table_rows: Vec<kinds::TableRow> = Vec::new();
    let mut parts = vec![Vec::new(); stamp::STAMP_PARTS];
    for output in outputs? {
        table_rows.extend(output.table_rows);
        for (part, values) in output.stamp {
            parts[part] = values;
        }
    }
    let stamp = stamp::merge_parts(&parts).expect("the stamp tasks are queued with the reads");

    let counts = counts::read_counts(conn, &table_rows, &opts.exact_counts).await?;
    tracing::debug!(tables = table_rows.len(), "catalog read");

    sqlx::raw_sql("COMMIT")
        .execute(&mut *conn)
        .await
        .map_err(|e| query_error("ending the read-only transaction", e))?;
    Ok((counts, caps, stamp, helpers))
}

/// Nothing matches nothing silently: an `--include-schema` pattern that selects no schema
/// (a typo such as `pubic`, or one whose schemas are all excluded) is an error, never an
/// empty snapshot that compares equal to another empty one.
fn check_schema_filters(
    opts: &CaptureOptions,
    schemas: &[CatalogObject],
) -> Result<(), CatalogError> {
    let names: Vec<&str> = schemas
        .iter()
        .filter_map(|o| match &o.def {
            crate::model::ObjectDef::Schema(s) => Some(s.name.as_str()),
            _ => None,
        })
        .collect();
    for pattern in &opts.include_schemas {
        let one = compile_patterns(std::slice::from_ref(pattern))?.expect("one pattern");
        if !names.iter().any(|n| one.is_match(n)) {
            return Err(CatalogError::SchemaFilterMatchesNothing {
                what: format!("--include-schema {pattern:?} matches no schema"),
            });
        }
    }
    // Excluding every schema is not a typo: it asks for the database-wide objects only
    // (extensions, event triggers), as `pg_dump -N '*'` does.
    Ok(())
}

fn compile_patterns(patterns: &[String]) -> Result<Option<globset::GlobSet>, CatalogError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut b = globset::GlobSetBuilder::new();
    for p in patterns {
        let glob = globset::GlobBuilder::new(p)
            .literal_separator(false)
            .build()
            .map_err(|e| CatalogError::BadPattern {
                pattern: p.clone(),
                reason: e.kind().to_string(),
            })?;
        b.add(glob);
    }
    b.build().map(Some).map_err(|e| CatalogError::BadPattern {
        pattern: patterns.join(","),
        reason: e.to_string(),
    })
}

impl Default for CaptureOptions {
    fn default() -> Self {
        CaptureOptions {
            limits: SessionLimits::default(),
            exact_counts: ExactCounts::None,
            include_schemas: Vec::new(),
            exclude_schemas: Vec::new(),
            expect_database: None,
            label: None,
            jobs: DEFAULT_JOBS as usize,
            globals: true,
            secrets: crate::model::redact::SecretPatterns::default(),
        }
    }
}

fn schema_selected(
    name: &str,
    include: &Option<globset::GlobSet>,
    exclude: &Option<globset::GlobSet>,
) -> bool {
    include.as_ref().is_none_or(|g| g.is_match(name))
        && !exclude.as_ref().is_some_and(|g| g.is_match(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_patterns_include_then_exclude() {
        let inc = compile_patterns(&["app_*".into(), "public".into()]).unwrap();
        let exc = compile_patterns(&["app_tmp*".into()]).unwrap();
        assert!(schema_selected("public", &inc, &exc));
        assert!(schema_selected("app_core", &inc, &exc));
        assert!(!schema_selected("app_tmp1", &inc, &exc));
        assert!(!schema_selected("audit", &inc, &exc));
        assert!(schema_selected("audit", &None, &None));
        assert!(compile_patterns(&["a[".into()]).is_err());
    }

    #[test]
    fn exact_counts_parse() {
        assert_eq!(ExactCounts::parse("all"), ExactCounts::All);
        assert_eq!(
            ExactCounts::parse("dot_tools, audit.log"),
            ExactCounts::Tables(vec!["public.dot_tools".into(), "audit.log".into()])
        );
        assert_eq!(ExactCounts::parse(""), ExactCounts::None);
    }
}
