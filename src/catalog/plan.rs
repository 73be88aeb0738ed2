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
    /// Tables with their columns, constraints, indexes and triggers, read by one session:
    /// the definitions are built from the columns it read, and the server's caches warmed
    /// for a table (to deparse a CHECK or a WHEN clause) serve every kind of that table.
    Relations,
    Views,
    Sequences,
    Routines,
    Policies,
    /// A part of the catalog stamp inside the shared snapshot (see `stamp`): queued first, so with
    /// several sessions it runs beside the reads instead of before them.
    Stamp(usize),
}

impl KindQuery {
    /// Rough relative cost per schema chunk, for longest-first scheduling.
    fn weight(self) -> u32 {
        match self {
            KindQuery::Routines | KindQuery::Sequences => 2,
            KindQuery::Stamp(_) => 0,
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
    /// Relation oids for `Relations`; schema oids for the others.
    pub oids: Vec<Oid>,
}

pub enum TaskOutput {
    Objects(Vec<CatalogObject>),
    Tables(Vec<CatalogObject>, Vec<TableRow>),
    Stamp(usize, Vec<String>),
}

/// What one session's share of the work produced besides objects.
#[derive(Default)]
pub struct WorkOutput {
    pub table_rows: Vec<TableRow>,
    pub stamp: Vec<(usize, Vec<String>)>,
}

fn chunks(list: &[Oid], n: usize) -> Vec<Vec<Oid>> {
    if n <= 1 || list.len() <= 1 {
        return vec![list.to_vec()];
    }
    let size = list.len().div_ceil(n.min(list.len()));
    list.chunks(size).map(|c| c.to_vec()).collect()
}

/// The tasks for `jobs` sessions, heaviest first: the relations of schemas `nsp` (`rels`)
/// in chunks of equal count, found by oid through the catalogs' indexes, two per session
/// (so the sessions end close together, while each chunk's fixed cost, a few scans of
/// catalogs without a usable index, is paid few times); the other kinds by schema.
pub fn plan(nsp: &[Oid], rels: &[Oid], jobs: usize) -> Vec<Task> {
    use KindQuery::*;
    let parts = if jobs > 1 { jobs * 2 } else { 1 };
    let mut tasks: Vec<Task> = chunks(rels, parts)
        .into_iter()
        .filter(|c| !c.is_empty())
        .map(|oids| Task {
            query: Relations,
            oids,
        })
        .collect();
    let mut others = Vec::new();
    for query in [
        Routines,
        Sequences,
        Types,
        Views,
        Policies,
        Extensions,
        EventTriggers,
    ] {
        let lists = if query.splits() {
            chunks(nsp, parts)
        } else {
            vec![nsp.to_vec()]
        };
        for oids in lists {
            others.push(Task { query, oids });
        }
    }
    others.sort_by_key(|t| std::cmp::Reverse(t.query.weight() as usize * t.oids.len().max(1)));
    tasks.extend(others);
    tasks
}

pub async fn run_task(
    conn: &mut sqlx::PgConnection,
    caps: &ServerCaps,
    task: &Task,
) -> Result<TaskOutput, CatalogError> {
    let nsp = &task.oids;
    Ok(match task.query {
        KindQuery::Extensions => TaskOutput::Objects(kinds::read_extensions(conn, caps).await?),
        KindQuery::EventTriggers => {
            TaskOutput::Objects(kinds::read_event_triggers(conn, caps).await?)
        }
        KindQuery::Types => TaskOutput::Objects(kinds::read_types(conn, caps, nsp).await?),
        KindQuery::Relations => {
            let rels = &task.oids;
            let (mut objects, rows, mut attrs) = kinds::read_tables(conn, caps, rels).await?;
            objects.extend(kinds::read_constraints(conn, caps, rels, &mut attrs).await?);
            objects.extend(kinds::read_indexes(conn, caps, rels, &attrs).await?);
            objects.extend(kinds::read_triggers(conn, caps, rels, &attrs).await?);
            TaskOutput::Tables(objects, rows)
        }
        KindQuery::Views => TaskOutput::Objects(kinds::read_views(conn, caps, nsp).await?),
        KindQuery::Sequences => TaskOutput::Objects(kinds::read_sequences(conn, caps, nsp).await?),
        KindQuery::Routines => TaskOutput::Objects(kinds::read_routines(conn, caps, nsp).await?),
        KindQuery::Policies => TaskOutput::Objects(kinds::read_policies(conn, caps, nsp).await?),
        KindQuery::Stamp(part) => {
            TaskOutput::Stamp(part, super::stamp::catalog_stamp_part(conn, part).await?)
        }
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
            TaskOutput::Stamp(part, stamp) => {
                out.stamp.push((part, stamp));
                continue;
            }
        };
        // No await while the sink is held: the lock is never contended across tasks.
        (sink.lock().expect("sink lock"))(SinkEvent::Objects(objects));
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
    fn one_job_reads_every_kind_once() {
        let nsp: Vec<Oid> = (1..=5).map(Oid).collect();
        let rels: Vec<Oid> = (100..=140).map(Oid).collect();
        let tasks = plan(&nsp, &rels, 1);
        assert_eq!(tasks.len(), 8);
        assert_eq!(tasks[0].query, KindQuery::Relations);
        assert_eq!(tasks[0].oids, rels);
        assert!(tasks[1..].iter().all(|t| t.oids == nsp));
    }

    #[test]
    fn parallel_plans_cover_every_relation_and_schema_once_per_kind_relations_first() {
        let nsp: Vec<Oid> = (1..=100).map(Oid).collect();
        let rels: Vec<Oid> = (1000..=3500).map(Oid).collect();
        let tasks = plan(&nsp, &rels, 3);
        let relation_tasks = tasks
            .iter()
            .take_while(|t| t.query == KindQuery::Relations)
            .count();
        assert_eq!(relation_tasks, 6);
        for (kind, expected) in [
            (KindQuery::Relations, &rels),
            (KindQuery::Routines, &nsp),
            (KindQuery::Types, &nsp),
        ] {
            let mut covered: Vec<Oid> = tasks
                .iter()
                .filter(|t| t.query == kind)
                .flat_map(|t| t.oids.clone())
                .collect();
            covered.sort_by_key(|o| o.0);
            assert_eq!(&covered, expected, "{kind:?}");
        }
        assert_eq!(
            tasks.iter().filter(|t| t.query == KindQuery::Views).count(),
            1
        );
        // No relations (an empty schema list): no relation task.
        assert!(plan(&nsp, &[], 2)
            .iter()
            .all(|t| t.query != KindQuery::Relations));
    }
}
