//! Parallel catalog reads that still see one consistent catalog.
//!
//! The leading session exports its snapshot (`pg_export_snapshot()`); each extra session
//! starts a `REPEATABLE READ READ ONLY` transaction and adopts it with `SET TRANSACTION
//! SNAPSHOT`, as `pg_dump -j` does. The per-kind queries are split into tasks (the heavy
//! per-schema ones into chunks of schemas) and handed, longest first, to whichever session is
//! free. On a catalog of thousands of tables the server-side deparsing (`pg_get_*def`)
//! dominates, and this spreads it over the server's cores.

use super::kinds::{self, TableRow};
use super::{
    connect, query_error, CatalogError, ConnectTarget, ObjectSink, ServerCaps, SessionLimits,
    SinkEvent,
};
use crate::model::CatalogObject;
use sqlx::postgres::types::Oid;
use std::collections::VecDeque;
use std::sync::Mutex;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KindQuery {
    Extensions,
    EventTriggers,
    Types,
    Tables,
    Constraints,
    Indexes,
    Views,
    Sequences,
    Routines,
    Triggers,
    Policies,
    /// The catalog stamp inside the shared snapshot (see `stamp`): queued first, so with
    /// several sessions it runs beside the reads instead of before them.
    Stamp,
}

impl KindQuery {
    /// Rough relative cost per schema chunk, for longest-first scheduling.
    fn weight(self) -> u32 {
        match self {
            KindQuery::Constraints => 12,
            KindQuery::Triggers => 7,
            KindQuery::Tables => 6,
            KindQuery::Indexes => 4,
            KindQuery::Routines | KindQuery::Sequences => 2,
            KindQuery::Stamp => 0,
            _ => 1,
        }
    }

    /// Kinds whose cost grows with the catalog: split into schema chunks when parallel.
    fn splits(self) -> bool {
        !matches!(
            self,
            KindQuery::Extensions
                | KindQuery::EventTriggers
                | KindQuery::Views
                | KindQuery::Policies
        )
    }
}

pub struct Task {
    pub query: KindQuery,
    pub nsp: Vec<Oid>,
}

pub enum TaskOutput {
    Objects(Vec<CatalogObject>),
    Tables(Vec<CatalogObject>, Vec<TableRow>),
    Stamp(Vec<String>),
}

/// What one session's share of the work produced besides objects.
#[derive(Default)]
pub struct WorkOutput {
    pub table_rows: Vec<TableRow>,
    pub stamp: Option<Vec<String>>,
}

/// The tasks for `jobs` sessions, heaviest first.
pub fn plan(nsp: &[Oid], jobs: usize) -> Vec<Task> {
    use KindQuery::*;
    let chunks: Vec<Vec<Oid>> = if jobs > 1 && nsp.len() > 1 {
        let n = (jobs * 2).min(nsp.len());
        let size = nsp.len().div_ceil(n);
        nsp.chunks(size).map(|c| c.to_vec()).collect()
    } else {
        vec![nsp.to_vec()]
    };
    let mut tasks = Vec::new();
    for query in [
        Constraints,
        Triggers,
        Tables,
        Indexes,
        Routines,
        Sequences,
        Types,
        Views,
        Policies,
        Extensions,
        EventTriggers,
    ] {
        if query.splits() {
            for chunk in &chunks {
                tasks.push(Task {
                    query,
                    nsp: chunk.clone(),
                });
            }
        } else {
            tasks.push(Task {
                query,
                nsp: nsp.to_vec(),
            });
        }
    }
    tasks.sort_by_key(|t| std::cmp::Reverse(t.query.weight() as usize * t.nsp.len().max(1)));
    tasks
}

pub async fn run_task(
    conn: &mut sqlx::PgConnection,
    caps: &ServerCaps,
    task: &Task,
) -> Result<TaskOutput, CatalogError> {
    let nsp = &task.nsp;
    Ok(match task.query {
        KindQuery::Extensions => TaskOutput::Objects(kinds::read_extensions(conn, caps).await?),
        KindQuery::EventTriggers => {
            TaskOutput::Objects(kinds::read_event_triggers(conn, caps).await?)
        }
        KindQuery::Types => TaskOutput::Objects(kinds::read_types(conn, caps, nsp).await?),
        KindQuery::Tables => {
            let (objects, rows) = kinds::read_tables(conn, caps, nsp).await?;
            TaskOutput::Tables(objects, rows)
        }
        KindQuery::Constraints => {
            TaskOutput::Objects(kinds::read_constraints(conn, caps, nsp).await?)
        }
        KindQuery::Indexes => TaskOutput::Objects(kinds::read_indexes(conn, caps, nsp).await?),
        KindQuery::Views => TaskOutput::Objects(kinds::read_views(conn, caps, nsp).await?),
        KindQuery::Sequences => TaskOutput::Objects(kinds::read_sequences(conn, caps, nsp).await?),
        KindQuery::Routines => TaskOutput::Objects(kinds::read_routines(conn, caps, nsp).await?),
        KindQuery::Triggers => TaskOutput::Objects(kinds::read_triggers(conn, caps, nsp).await?),
        KindQuery::Policies => TaskOutput::Objects(kinds::read_policies(conn, caps, nsp).await?),
        KindQuery::Stamp => TaskOutput::Stamp(super::stamp::catalog_stamp(conn).await?),
    })
}

/// Take tasks from the shared queue until it is empty, handing each object to the sink as
/// its task completes. Returns the tables' count rows (and the stamp, if it ran here).
pub async fn work(
    conn: &mut sqlx::PgConnection,
    caps: &ServerCaps,
    queue: &Mutex<VecDeque<Task>>,
    sink: &Mutex<&mut ObjectSink<'_>>,
) -> Result<WorkOutput, CatalogError> {
    let mut out = WorkOutput::default();
    loop {
        let next = queue.lock().expect("task queue lock").pop_front();
        let Some(task) = next else {
            return Ok(out);
        };
        let objects = match run_task(conn, caps, &task).await? {
            TaskOutput::Objects(list) => list,
            TaskOutput::Tables(list, rows) => {
                out.table_rows.extend(rows);
                list
            }
            TaskOutput::Stamp(stamp) => {
                out.stamp = Some(stamp);
                continue;
            }
        };
        // No await while the sink is held: the lock is never contended across tasks.
        let mut sink = sink.lock().expect("sink lock");
        for o in objects {
            sink(SinkEvent::Object(o));
        }
    }
}

/// Open a helper session on the leader's exported snapshot, read-only checked.
pub async fn helper_session(
    target: &ConnectTarget,
    limits: &SessionLimits,
    snapshot_id: &str,
) -> Result<sqlx::PgConnection, CatalogError> {
    // The id comes from the server; refuse anything but its documented shape before it
    // goes into SQL text (SET TRANSACTION SNAPSHOT takes no parameters).
    if snapshot_id.is_empty()
        || !snapshot_id
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == '-')
    {
        return Err(CatalogError::Query {
            what: "sharing the snapshot".into(),
            reason: format!("unexpected snapshot id {snapshot_id:?}"),
        });
    }
    let mut conn = connect::connect(target, limits).await?;
    sqlx::raw_sql(&format!(
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '{snapshot_id}'"
    ))
    .execute(&mut conn)
    .await
    .map_err(|e| query_error("adopting the shared snapshot", e))?;
    let ro: String = sqlx::query_scalar("SELECT current_setting('transaction_read_only')")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| query_error("checking the session", e))?;
    if ro != "on" {
        return Err(CatalogError::NotReadOnly {
            target: target.describe(),
            value: ro,
        });
    }
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_job_reads_every_kind_once_over_all_schemas() {
        let nsp: Vec<Oid> = (1..=5).map(Oid).collect();
        let tasks = plan(&nsp, 1);
        assert_eq!(tasks.len(), 11);
        assert!(tasks.iter().all(|t| t.nsp == nsp));
    }

    #[test]
    fn parallel_plans_cover_every_schema_once_per_kind_heaviest_first() {
        let nsp: Vec<Oid> = (1..=100).map(Oid).collect();
        let tasks = plan(&nsp, 3);
        for kind in [KindQuery::Constraints, KindQuery::Tables, KindQuery::Types] {
            let mut covered: Vec<Oid> = tasks
                .iter()
                .filter(|t| t.query == kind)
                .flat_map(|t| t.nsp.clone())
                .collect();
            covered.sort_by_key(|o| o.0);
            assert_eq!(covered, nsp, "{kind:?}");
        }
        assert_eq!(
            tasks.iter().filter(|t| t.query == KindQuery::Views).count(),
            1
        );
        assert_eq!(tasks[0].query, KindQuery::Constraints);
    }
}
