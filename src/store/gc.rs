//! `gc`: drop the snapshots nothing keeps, and the blobs only they used.
//!
//! Kept, always: the snapshot every ref names now. Kept history: every position a ref held
//! (its reflog), trimmed by `--keep-last N` (the last N positions of each ref) and/or
//! `--older-than D` (positions taken within D); given both, a position is kept if either
//! keeps it. A snapshot no ref ever held is dropped, unless `--older-than D` is given and it
//! is younger than D (so the id `driftgate snapshot` just printed stays usable).
//!
//! Order, so a crash at any point leaves a store `fsck` finds clean: histories are rewritten
//! first (no entry may name a dropped record), then records are removed, then packs are
//! rewritten with their live blobs only (new pack and index written atomically before the
//! old index, then the old pack, is removed). Nothing is removed when anything a kept
//! snapshot needs cannot be read: a corrupt store is for `fsck`, not for `gc`.
//!
//! gc and writers exclude each other through leases, not through a grace period (a grace
//! period counted from write time does not protect a blob a writer *reuses*): every writer
//! holds a writer lease from before it first relies on the store until its ref has moved
//! ([`Store::hold_writer_lease`]). gc takes a gc lease, then waits until no writer lease is
//! live (writers that arrive meanwhile see the gc lease and wait for it); only then does it
//! read refs, histories and records and decide, so what it deletes is decided on a store no
//! one is changing. Writers still at work after the wait: nothing is deleted and the report
//! says so. Leases of dead processes are not honoured (their flock is gone), so a killed
//! writer never blocks gc, and a killed gc never blocks a writer.

use super::refs::RefLogEntry;
use super::{pack, Store, StoreError};
use crate::model::fingerprint::{CatalogRoot, SchemaTree};
use crate::model::ContentHash;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

#[derive(Clone, Debug, Default)]
pub struct GcOptions {
    /// Keep the last N positions of every ref's history (default: all of them).
    pub keep_last: Option<usize>,
    /// Keep history positions and unreferenced snapshots younger than this.
    pub older_than: Option<Duration>,
    /// Unix time "now" (so the plan is testable).
    pub now: i64,
    /// Say what would go, remove nothing.
    pub dry_run: bool,
    /// How long to wait for writers at work to finish before deferring.
    pub writer_wait: Duration,
}

#[derive(Clone, Debug, Default)]
pub struct GcReport {
    /// Writers still at work when the wait ran out: nothing was removed.
    pub deferred_by: Vec<String>,
    /// History entries no ref reaches (left by a failed or killed ref move).
    pub orphan_history_removed: usize,
    /// Temp files of writers that died mid-write (a killed first snapshot's pack).
    pub temp_files_removed: usize,
    pub snapshots_kept: usize,
    pub snapshots_removed: Vec<ContentHash>,
    pub history_entries_removed: usize,
    pub blobs_kept: usize,
    pub blobs_removed: usize,
    pub packs_rewritten: usize,
    pub packs_removed: usize,
    /// Bytes of packs, indexes and records before and after.
    pub bytes_before: u64,
    pub bytes_after: u64,
}

/// One ref's state, as the plan sees it.
#[derive(Clone, Debug)]
pub struct RefState {
    pub name: String,
    /// What the ref names now (`None` for the history of a ref that is gone).
    pub current: Option<ContentHash>,
    /// Its history, oldest first: the snapshot and the unix time of each position.
    pub history: Vec<(ContentHash, Option<i64>)>,
}

/// What survives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GcPlan {
    pub keep: BTreeSet<ContentHash>,
    /// Per ref with a history: which entries stay (same order as the history).
    pub keep_entries: BTreeMap<String, Vec<bool>>,
}

/// Decide which snapshots and history entries stay. Pure.
pub fn plan(
    refs: &[RefState],
    snapshots: &[(ContentHash, Option<i64>)],
    opts: &GcOptions,
) -> GcPlan {
    let young = |t: Option<i64>| match (opts.older_than, t) {
        (Some(d), Some(t)) => t > opts.now - d.as_secs() as i64,
        _ => false,
    };
    let trims = opts.keep_last.is_some() || opts.older_than.is_some();
    let mut out = GcPlan::default();
    for r in refs {
        if let Some(cur) = r.current {
            out.keep.insert(cur);
        }
        let n = r.history.len();
        let entries: Vec<bool> = r
            .history
            .iter()
            .enumerate()
            .map(|(i, (id, time))| {
                let from_end = n - 1 - i;
                Some(*id) == r.current
                    || !trims
                    || opts.keep_last.is_some_and(|k| from_end < k)
                    || young(*time)
            })
            .collect();
        for ((id, _), kept) in r.history.iter().zip(&entries) {
            if *kept {
                out.keep.insert(*id);
            }
        }
        if n > 0 {
            out.keep_entries.insert(r.name.clone(), entries);
        }
    }
    for (id, created) in snapshots {
        if young(*created) {
            out.keep.insert(*id);
        }
    }
    out
}

impl Store {
    pub fn gc(&mut self, opts: &GcOptions) -> Result<GcReport, StoreError> {
        if opts.dry_run {
            return self.gc_unguarded(opts);
        }
        let start = std::time::Instant::now();
        let mut jitter = std::process::id() as u64;
        let lease = loop {
            let lease = self.backend().acquire_lease(
                super::backend::LeaseKind::Gc,
                &format!("gc (pid {})", std::process::id()),
                super::lease_ttl(),
            )?;
            // Two gcs must not delete at once (each decides on a store the other is
            // changing). Listed after our own lease is visible: of two gcs, at least one
            // sees the other; whoever sees another backs off and tries again.
            let others: Vec<String> = self
                .backend()
                .leases(super::backend::LeaseKind::Gc)?
                .into_iter()
                .filter(|l| l.key != lease.key())
                .map(|l| l.body)
                .collect();
            if others.is_empty() {
                break lease;
            }
            drop(lease);
            if start.elapsed() >= opts.writer_wait {
                return Ok(GcReport {
                    deferred_by: others,
                    ..GcReport::default()
                });
            }
            jitter = jitter
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            std::thread::sleep(Duration::from_millis(10 + (jitter >> 33) % 90));
        };
        loop {
            let writers = self.backend().leases(super::backend::LeaseKind::Writer)?;
            if writers.is_empty() {
                break;
            }
            if start.elapsed() >= opts.writer_wait {
                drop(lease);
                return Ok(GcReport {
                    deferred_by: writers.into_iter().map(|w| w.body).collect(),
                    ..GcReport::default()
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Everything is read again under the lease: packs may have changed since opening.
        self.index = std::sync::OnceLock::new();
        let mut report = self.gc_unguarded(opts)?;
        report.orphan_history_removed = self.remove_orphan_history()?;
        report.temp_files_removed = self.remove_dead_temp_files()?;
        drop(lease);
        Ok(report)
    }

    /// Temp files whose writer is gone. A temp file's name carries its writer's pid
    /// (`.tmp-<pid>-…`); only files of processes that no longer exist go, and only while no
    /// writer holds a lease, so a write in progress keeps its file.
    fn remove_dead_temp_files(&self) -> Result<usize, StoreError> {
        let mut removed = 0;
        for dir in ["packs", "snapshots", "history", "refs", "leases", "reports"] {
            for name in self.backend().list(dir)? {
                let file = name.rsplit('/').next().unwrap_or(&name);
                let Some(pid) = file
                    .strip_prefix(".tmp-")
                    .and_then(|rest| rest.split('-').next())
                    .and_then(|p| p.parse::<i32>().ok())
                else {
                    continue;
                };
                if pid != std::process::id() as i32 && !process_exists(pid) {
                    self.backend().delete(&format!("{dir}/{name}"))?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    /// History entries no ref's chain reaches: moves that failed or were killed after
    /// writing their entry. Only while no writer is at work (one may be about to swap).
    fn remove_orphan_history(&self) -> Result<usize, StoreError> {
        let mut reachable = HashSet::new();
        for (name, _) in self.list_refs()? {
            if let Some((record, _)) = self.read_ref_record(&name)? {
                reachable.extend(
                    self.history_chain(record.history)?
                        .into_iter()
                        .map(|(h, _)| h),
                );
            }
        }
        let mut removed = 0;
        for file in self.backend().list("history")? {
            let Some(hash) = file.strip_suffix(".json").and_then(ContentHash::from_hex) else {
                continue;
            };
            if !reachable.contains(&hash) {
                self.backend().delete(&super::refs::history_key(&hash))?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn gc_unguarded(&mut self, opts: &GcOptions) -> Result<GcReport, StoreError> {
        let mut report = GcReport {
            bytes_before: self.bytes_on_disk()?,
            ..GcReport::default()
        };

        // What refs and histories keep.
        let mut names: BTreeSet<String> = self.reflog_names()?.into_iter().collect();
        let current: BTreeMap<String, ContentHash> = self.list_refs()?.into_iter().collect();
        names.extend(current.keys().cloned());
        let mut histories: BTreeMap<String, Vec<RefLogEntry>> = BTreeMap::new();
        let mut refs = Vec::new();
        for name in names {
            let history = self.reflog(&name)?;
            refs.push(RefState {
                name: name.clone(),
                current: current.get(&name).copied(),
                history: history
                    .iter()
                    .map(|e| (e.new, crate::unix_time(&e.time)))
                    .collect(),
            });
            histories.insert(name, history);
        }
        let mut snapshots = Vec::new();
        for id in self.snapshot_ids()? {
            let record = self.read_record(&id)?;
            snapshots.push((id, crate::unix_time(&record.meta.created_at)));
        }
        let plan = plan(&refs, &snapshots, opts);

        // A ref naming a snapshot that is not in the store is corruption: stop.
        let present: HashSet<ContentHash> = snapshots.iter().map(|(id, _)| *id).collect();
        if let Some((name, id)) = current.iter().find(|(_, id)| !present.contains(id)) {
            return Err(StoreError::Corrupt {
                path: self.root().join("refs").join(name),
                reason: format!(
                    "ref {name} names snapshot {} which is not in the store; run `driftgate fsck`",
                    id.short()
                ),
            });
        }

        // Every blob a kept snapshot needs; a kept snapshot that cannot be read stops gc.
        let mut live: HashSet<ContentHash> = HashSet::new();
        for id in plan.keep.iter().filter(|id| present.contains(id)) {
            let record = self.read_record(id)?;
            live.insert(record.counts);
            if !live.insert(record.catalog) {
                continue; // the same catalog as a snapshot already walked
            }
            let root: CatalogRoot = self.get_json(&record.catalog, "catalog root")?;
            live.extend(root.globals.values().copied());
            for (schema, hash) in &root.schemas {
                if !live.insert(*hash) {
                    continue;
                }
                let tree: SchemaTree = self.get_json(hash, &format!("schema tree {schema}"))?;
                live.extend(tree.objects.values().copied());
            }
        }
        for needed in &live {
            if !self.has_blob(needed)? {
                return Err(StoreError::MissingBlob {
                    hash: needed.to_hex(),
                    needed_by: "a snapshot gc keeps".into(),
                });
            }
        }
        report.snapshots_kept = present.iter().filter(|id| plan.keep.contains(id)).count();
        report.snapshots_removed = snapshots
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| !plan.keep.contains(id))
            .collect();

        // 1. Histories.
        for (name, keep) in &plan.keep_entries {
            let history = &histories[name];
            let kept: Vec<RefLogEntry> = history
                .iter()
                .zip(keep)
                .filter(|(_, k)| **k)
                .map(|(e, _)| e.clone())
                .collect();
            let removed = history.len() - kept.len();
            if removed > 0 {
                report.history_entries_removed += removed;
                if !opts.dry_run {
                    self.rewrite_reflog(name, &kept)?;
                }
            }
        }

        // 2. Records.
        if !opts.dry_run {
            for id in &report.snapshots_removed {
                self.backend().delete(&super::record_key(id))?;
            }
        }

        // 3. Packs: keep each live blob once.
        let mut placed: HashSet<ContentHash> = HashSet::new();
        for pack_id in self.pack_ids()? {
            let (pack_key, idx_key) = pack::pack_keys(&pack_id);
            let (pack_path, idx_path) = (
                self.backend().location(&pack_key),
                self.backend().location(&idx_key),
            );
            let idx_bytes = self.get_existing(&idx_key)?;
            let entries = pack::parse_idx(&idx_path, &idx_bytes)?;
            let wanted: Vec<&pack::IdxEntry> = entries
                .iter()
                .filter(|e| live.contains(&e.hash) && placed.insert(e.hash))
                .collect();
            report.blobs_kept += wanted.len();
            report.blobs_removed += entries.len() - wanted.len();
            if wanted.len() == entries.len() {
                continue;
            }
            if wanted.is_empty() {
                report.packs_removed += 1;
            } else {
                report.packs_rewritten += 1;
            }
            if opts.dry_run {
                continue;
            }
            if !wanted.is_empty() {
                let file = self.backend().open_reader(&pack_key)?;
                let mut blobs = Vec::with_capacity(wanted.len());
                for e in wanted {
                    blobs.push((e.hash, pack::read_blob(&pack_path, file.as_ref(), e)?));
                }
                let (new_pack, new_idx) = pack::build_pack(&blobs);
                let new_id = ContentHash::of(&new_pack).to_hex();
                if new_id != pack_id {
                    let (p, i) = pack::pack_keys(&new_id);
                    self.backend().put(&p, &new_pack)?;
                    self.backend().put(&i, &new_idx)?;
                }
            }
            // The index first: a pack without its index is invisible.
            self.backend().delete(&idx_key)?;
            self.backend().delete(&pack_key)?;
        }
        if !opts.dry_run {
            self.index = std::sync::OnceLock::new();
        }
        report.bytes_after = if opts.dry_run {
            report.bytes_before
        } else {
            self.bytes_on_disk()?
        };
        Ok(report)
    }

    /// Bytes of packs, indexes and snapshot records.
    fn bytes_on_disk(&self) -> Result<u64, StoreError> {
        let mut total = 0;
        for dir in ["packs", "snapshots"] {
            for name in self.backend().list(dir)? {
                // A file removed between the listing and the look (a temp file) counts 0.
                if let Ok(reader) = self.backend().open_reader(&format!("{dir}/{name}")) {
                    total += reader.size().unwrap_or(0);
                }
            }
        }
        Ok(total)
    }
}

/// Whether a process with this pid exists (signal 0 checks without sending anything).
fn process_exists(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks for the process; it sends nothing.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ContentHash {
        ContentHash([n; 32])
    }

    const DAY: i64 = 86_400;
    const NOW: i64 = 100 * DAY;

    fn opts(keep_last: Option<usize>, older_than_days: Option<u64>) -> GcOptions {
        GcOptions {
            keep_last,
            older_than: older_than_days.map(|d| Duration::from_secs(d * DAY as u64)),
            now: NOW,
            dry_run: false,
            writer_wait: Duration::ZERO,
        }
    }

    /// `nightly` moved 1 → 2 → 3 → 4 (one a day, 4 is today); `baseline` names 1 and held 5
    /// before; 6 was never referenced (yesterday), 7 never referenced (long ago).
    fn world() -> (Vec<RefState>, Vec<(ContentHash, Option<i64>)>) {
        let refs = vec![
            RefState {
                name: "nightly".into(),
                current: Some(id(4)),
                history: (1..=4)
                    .map(|n| (id(n), Some(NOW - (4 - n as i64) * DAY)))
                    .collect(),
            },
            RefState {
                name: "baseline".into(),
                current: Some(id(1)),
                history: vec![(id(5), Some(NOW - 50 * DAY)), (id(1), Some(NOW - 3 * DAY))],
            },
        ];
        let snaps = (1..=7)
            .map(|n| {
                let t = match n {
                    6 => NOW - DAY,
                    7 => NOW - 90 * DAY,
                    _ => NOW - 10 * DAY,
                };
                (id(n), Some(t))
            })
            .collect();
        (refs, snaps)
    }

    fn kept(p: &GcPlan) -> Vec<u8> {
        p.keep.iter().map(|h| h.0[0]).collect()
    }

    #[test]
    fn by_default_refs_and_all_their_history_are_kept_and_nothing_else() {
        let (refs, snaps) = world();
        let p = plan(&refs, &snaps, &opts(None, None));
        assert_eq!(kept(&p), [1, 2, 3, 4, 5]);
        assert!(p.keep_entries.values().all(|v| v.iter().all(|k| *k)));
    }

    #[test]
    fn keep_last_trims_each_history_but_never_a_current_position() {
        let (refs, snaps) = world();
        let p = plan(&refs, &snaps, &opts(Some(2), None));
        assert_eq!(
            kept(&p),
            [1, 3, 4, 5],
            "baseline's two positions are its last two"
        );
        assert_eq!(p.keep_entries["nightly"], [false, false, true, true]);
        assert_eq!(p.keep_entries["baseline"], [true, true]);
        let p1 = plan(&refs, &snaps, &opts(Some(1), None));
        assert_eq!(kept(&p1), [1, 4]);
        assert_eq!(p1.keep_entries["baseline"], [false, true]);
        let p0 = plan(&refs, &snaps, &opts(Some(0), None));
        assert_eq!(
            kept(&p0),
            [1, 4],
            "the current position is kept even with --keep-last 0"
        );
    }

    #[test]
    fn older_than_keeps_young_history_and_young_unreferenced_snapshots() {
        let (refs, snaps) = world();
        let p = plan(&refs, &snaps, &opts(None, Some(2)));
        // nightly: 3 (1 day old) and 4 (today) are young; 2 is exactly 2 days old: dropped.
        assert_eq!(kept(&p), [1, 3, 4, 6]);
        assert_eq!(p.keep_entries["nightly"], [false, false, true, true]);
        let both = plan(&refs, &snaps, &opts(Some(3), Some(2)));
        assert_eq!(kept(&both), [1, 2, 3, 4, 5, 6], "either flag keeps");
    }

    fn store_with_one_unreferenced_snapshot() -> (tempfile::TempDir, ContentHash) {
        use crate::diff::tests::{function, snapshot};
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_or_init(dir.path()).unwrap();
        let (id, _) = store
            .write_snapshot(&snapshot(vec![function("f", "BEGIN END")]))
            .unwrap();
        (dir, id)
    }

    /// Regression (issue 14): a snapshot reusing blobs while gc ran lost them; now gc
    /// removes nothing while a writer holds its lease, even with no grace period at all.
    #[test]
    fn gc_deletes_nothing_while_a_writer_is_at_work() {
        let (dir, id) = store_with_one_unreferenced_snapshot();
        let writer = Store::open(dir.path()).unwrap();
        writer.hold_writer_lease("test writer").unwrap();
        let mut gc = Store::open(dir.path()).unwrap();
        let report = gc.gc(&opts(None, None)).unwrap();
        assert_eq!(report.deferred_by.len(), 1, "{report:?}");
        assert!(
            report.deferred_by[0].starts_with("test writer"),
            "{report:?}"
        );
        assert!(gc.read_record(&id).is_ok(), "nothing removed");
        drop(writer);
        let report = gc.gc(&opts(None, None)).unwrap();
        assert!(report.deferred_by.is_empty());
        assert_eq!(report.snapshots_removed, [id]);
        assert!(gc.fsck().unwrap().is_clean());
    }

    #[test]
    fn a_writer_waits_for_a_gc_in_its_delete_phase() {
        let (dir, _) = store_with_one_unreferenced_snapshot();
        let store = Store::open(dir.path()).unwrap();
        let gc_lease = store
            .backend()
            .acquire_lease(
                super::super::backend::LeaseKind::Gc,
                "gc",
                Duration::from_secs(60),
            )
            .unwrap();
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let writer = Store::open(dir.path()).unwrap();
                writer.hold_writer_lease("writer").unwrap();
                done.store(true, std::sync::atomic::Ordering::SeqCst);
            });
            std::thread::sleep(Duration::from_millis(300));
            assert!(!done.load(std::sync::atomic::Ordering::SeqCst), "waits");
            drop(gc_lease);
        });
        assert!(done.load(std::sync::atomic::Ordering::SeqCst));
    }

    /// Issue 14: a killed first snapshot left `packs/.tmp-*` behind for good.
    #[test]
    fn gc_removes_temp_files_of_dead_writers_only() {
        let (dir, _) = store_with_one_unreferenced_snapshot();
        // A pid no process has: above the kernel's pid_max.
        let dead = dir.path().join("packs/.tmp-2147483646-0-new.pack.tmp");
        let ours = dir
            .path()
            .join(format!("packs/.tmp-{}-0-new.pack.tmp", std::process::id()));
        std::fs::write(&dead, b"half a pack").unwrap();
        std::fs::write(&ours, b"a pack being written").unwrap();
        let mut gc = Store::open(dir.path()).unwrap();
        let report = gc.gc(&opts(None, None)).unwrap();
        assert_eq!(report.temp_files_removed, 1, "{report:?}");
        assert!(!dead.exists());
        assert!(ours.exists(), "a live writer's temp file stays");
    }
}
