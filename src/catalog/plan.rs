//! Parallel catalog reads that still see one consistent catalog.
//!
//! The leading session exports its snapshot (`pg_export_snapshot()`); each extra session
//! starts a `REPEATABLE READ READ ONLY` transaction and adopts it with `SET TRANSACTION
//! SNAPSHOT`, as `pg_dump -j` does. The readers of every kind in the model (`kinds::reader_of`
//! over `ObjectKind::ALL`) are split into tasks as each reader's `Schedule` says (the heavy
//! per-schema ones into chunks of schemas) and handed, longest first, to whichever session is
//! free. On a catalog of thousands of tables the server-side deparsing (`pg_get_*def`)
//! dominates, and this spreads it over the server's cores.

use super::kinds::{reader_of, Input, ReadOutput, Reader, TableRow};
use super::{
    connect, query_error, CatalogError, ConnectTarget, ObjectSink, ServerCaps, SessionLimits,
    SinkEvent,
};
use crate::model::ObjectKind;
use sqlx::postgres::types::Oid;
use std::collections::{BTreeSet, VecDeque};
use std::sync::Mutex;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskQuery {
    /// One reader of the registry (`kinds::Reader`).
    Read(Reader),
    /// A part of the catalog stamp inside the shared snapshot (see `stamp`): queued first, so with
    /// several sessions it runs beside the reads instead of before them.
    Stamp(usize),
}

pub struct Task {
    pub query: TaskQuery,
    /// Relation oids for the relations' reader; schema oids for the others.
    pub oids: Vec<Oid>,
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

/// The readers of every kind in the model, in `Reader` order: derived from the registry,
/// never listed, so a kind in the model is a kind that is read.
fn readers() -> BTreeSet<Reader> {
    ObjectKind::ALL.into_iter().map(reader_of).collect()
}

/// The tasks for `jobs` sessions, heaviest first: the relations of schemas `nsp` (`rels`)
/// in chunks of equal count, found by oid through the catalogs' indexes, two per session
/// (so the sessions end close together, while each chunk's fixed cost, a few scans of
/// catalogs without a usable index, is paid few times); the other readers by schema, as
/// their `Schedule` says. The reader that runs first (the schemas) is not a task.
pub fn plan(nsp: &[Oid], rels: &[Oid], jobs: usize) -> Vec<Task> {
    let parts = if jobs > 1 { jobs * 2 } else { 1 };
    let mut tasks = Vec::new();
    let mut others = Vec::new();
    for reader in readers() {
        let schedule = reader.schedule();
        let lists = match schedule.input {
            Input::First => continue,
            Input::Relations => {
                tasks.extend(
                    chunks(rels, parts)
                        .into_iter()
                        .filter(|c| !c.is_empty())
                        .map(|oids| Task {
                            query: TaskQuery::Read(reader),
                            oids,
                        }),
                );
                continue;
            }
            Input::Schemas { split: true } => chunks(nsp, parts),
            Input::Schemas { split: false } => vec![nsp.to_vec()],
        };
        for oids in lists {
            others.push((
                schedule.weight,
                Task {
                    query: TaskQuery::Read(reader),
                    oids,
                },
            ));
        }
    }
    others.sort_by_key(|(weight, t)| std::cmp::Reverse(*weight as usize * t.oids.len().max(1)));
    tasks.extend(others.into_iter().map(|(_, t)| t));
    tasks
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
        let objects = match task.query {
            TaskQuery::Read(reader) => match reader.read(conn, caps, &task.oids).await? {
                ReadOutput::Objects(list) => list,
                ReadOutput::Tables(list, rows) => {
                    out.table_rows.extend(rows);
                    list
                }
            },
            TaskQuery::Stamp(part) => {
                let stamp = super::stamp::catalog_stamp_part(conn, part).await?;
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

    const RELATIONS: TaskQuery = TaskQuery::Read(Reader::Relations);

    #[test]
    fn one_job_reads_every_kind_once() {
        let nsp: Vec<Oid> = (1..=5).map(Oid).collect();
        let rels: Vec<Oid> = (100..=140).map(Oid).collect();
        let tasks = plan(&nsp, &rels, 1);
        // One task per reader the planner schedules (all but the leading session's).
        let readers: std::collections::BTreeSet<Reader> = ObjectKind::ALL
            .iter()
            .map(|k| reader_of(*k))
            .filter(|r| r.schedule().input != Input::First)
            .collect();
        assert_eq!(tasks.len(), readers.len());
        assert_eq!(tasks[0].query, RELATIONS);
        assert_eq!(tasks[0].oids, rels);
        assert!(tasks[1..].iter().all(|t| t.oids == nsp));
    }

    /// The registry's promise: every kind of the model is read, by a planned task or by
    /// the leading session first, whatever the number of sessions.
    #[test]
    fn every_kind_in_the_registry_is_scheduled() {
        let nsp: Vec<Oid> = (1..=10).map(Oid).collect();
        let rels: Vec<Oid> = (100..=140).map(Oid).collect();
        for jobs in [1, 2, 4] {
            let tasks = plan(&nsp, &rels, jobs);
            for kind in ObjectKind::ALL {
                let reader = reader_of(kind);
                let planned = tasks.iter().any(|t| t.query == TaskQuery::Read(reader));
                let first = reader.schedule().input == Input::First;
                assert!(
                    planned != first,
                    "{kind}: read by {reader:?}, planned {planned}, first {first} (jobs {jobs})"
                );
            }
        }
    }

    #[test]
    fn parallel_plans_cover_every_relation_and_schema_once_per_kind_relations_first() {
        let nsp: Vec<Oid> = (1..=100).map(Oid).collect();
        let rels: Vec<Oid> = (1000..=3500).map(Oid).collect();
        let tasks = plan(&nsp, &rels, 3);
        let relation_tasks = tasks.iter().take_while(|t| t.query == RELATIONS).count();
        assert_eq!(relation_tasks, 6);
        for (reader, expected) in [
            (Reader::Relations, &rels),
            (Reader::Routines, &nsp),
            (Reader::Types, &nsp),
        ] {
            let mut covered: Vec<Oid> = tasks
                .iter()
                .filter(|t| t.query == TaskQuery::Read(reader))
                .flat_map(|t| t.oids.clone())
                .collect();
            covered.sort_by_key(|o| o.0);
            assert_eq!(&covered, expected, "{reader:?}");
        }
        assert_eq!(
            tasks
                .iter()
                .filter(|t| t.query == TaskQuery::Read(Reader::Views))
                .count(),
            1
        );
        // No relations (an empty schema list): no relation task.
        assert!(plan(&nsp, &[], 2).iter().all(|t| t.query != RELATIONS));
    }
}
