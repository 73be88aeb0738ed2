//! The nightly pipeline of `driftgate check`: every target read (a bounded number at a
//! time), stored under `<name>/latest`, compared with its baseline, gated, and the ref
//! moved. What it talks to is injected, so it runs the same on a server and in a test:
//! [`Capture`] reads a catalog ([`LiveCapture`]: PostgreSQL), [`CheckStore`] keeps
//! snapshots and refs (the content-addressed [`Store`]), [`Progress`] shows people what it
//! is doing (`check::progress`). Fail-closed: each step that fails makes the target BLOCK
//! with the step and the reason.

use super::config::TargetConfig;
use super::{last_success_from_reflog, Reading, TargetOutcome, CHECKED_MESSAGE_PREFIX};
use crate::catalog::{capture_counting_what_exists, ConnectTarget};
use crate::diff;
use crate::gate::{GateReport, Policy};
use crate::model::{CatalogSnapshot, ContentHash};
use crate::store::refs::RefLogEntry;
use crate::store::Store;
use futures_util::stream::{self, StreamExt};
use std::future::Future;
use std::sync::Mutex;
use std::time::Instant;

/// Where a target's catalog is read from.
pub trait Capture {
    /// How to reach one target, resolved before it is read.
    type Source;

    /// How to reach `target` (no I/O yet), or why it cannot be (never with a password).
    fn resolve(&self, target: &TargetConfig) -> Result<Self::Source, String>;

    /// `user@host:port/db`, for the progress line.
    fn describe(&self, source: &Self::Source) -> String;

    /// Read the catalog, or why it could not be read.
    fn read(
        &self,
        source: &Self::Source,
        target: &TargetConfig,
    ) -> impl Future<Output = Result<CatalogSnapshot, String>>;
}

/// The catalog of a running server, read-only, as `driftgate snapshot` reads it.
pub struct LiveCapture;

impl Capture for LiveCapture {
    type Source = ConnectTarget;

    fn resolve(&self, target: &TargetConfig) -> Result<ConnectTarget, String> {
        target.connect_target()
    }

    fn describe(&self, source: &ConnectTarget) -> String {
        source.describe()
    }

    async fn read(
        &self,
        source: &ConnectTarget,
        target: &TargetConfig,
    ) -> Result<CatalogSnapshot, String> {
        capture_counting_what_exists(source, target.capture_options())
            .await
            .map_err(|e| e.to_string())
    }
}

/// What the pipeline needs of a store: snapshots in, refs moved with a message, the
/// baseline out, and a ref's history for the last success.
pub trait CheckStore {
    fn write_snapshot(&mut self, snap: &CatalogSnapshot) -> Result<ContentHash, String>;
    fn read_ref(&self, name: &str) -> Result<Option<ContentHash>, String>;
    fn load_snapshot(&self, id: &ContentHash) -> Result<CatalogSnapshot, String>;
    fn update_ref(&mut self, name: &str, id: &ContentHash, message: &str) -> Result<(), String>;
    fn reflog(&self, name: &str) -> Result<Vec<RefLogEntry>, String>;
}

impl CheckStore for Store {
    fn write_snapshot(&mut self, snap: &CatalogSnapshot) -> Result<ContentHash, String> {
        Store::write_snapshot(self, snap)
            .map(|(id, _)| id)
            .map_err(|e| e.to_string())
    }
    fn read_ref(&self, name: &str) -> Result<Option<ContentHash>, String> {
        Store::read_ref(self, name).map_err(|e| e.to_string())
    }
    fn load_snapshot(&self, id: &ContentHash) -> Result<CatalogSnapshot, String> {
        Store::load_snapshot(self, id).map_err(|e| e.to_string())
    }
    fn update_ref(&mut self, name: &str, id: &ContentHash, message: &str) -> Result<(), String> {
        Store::update_ref(self, name, id, message).map_err(|e| e.to_string())
    }
    fn reflog(&self, name: &str) -> Result<Vec<RefLogEntry>, String> {
        Store::reflog(self, name).map_err(|e| e.to_string())
    }
}

/// What people watch while targets are read.
pub trait Progress {
    type Bar: TargetProgress;
    /// A target is about to be read.
    fn start(&self, target: &str) -> Self::Bar;
}

/// The progress of one target.
pub trait TargetProgress {
    fn message(&self, text: &str);
    /// The target is done (its outcome is reported elsewhere).
    fn finish(&self);
}

/// Read, store, compare and gate every target, at most `concurrency` at a time; the
/// outcomes in the order of `targets`.
pub async fn check_all<C: Capture, S: CheckStore, P: Progress>(
    targets: &[&TargetConfig],
    capture: &C,
    store: S,
    policy: &Policy,
    concurrency: usize,
    progress: &P,
) -> Vec<TargetOutcome> {
    let store = Mutex::new(store);
    let mut outcomes: Vec<(usize, TargetOutcome)> = stream::iter(targets.iter().enumerate())
        .map(|(i, t)| {
            let bar = progress.start(&t.name);
            let store = &store;
            async move {
                let outcome = check_target(t, capture, store, policy, &bar).await;
                bar.finish();
                (i, outcome)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    outcomes.sort_by_key(|(i, _)| *i);
    outcomes.into_iter().map(|(_, o)| o).collect()
}

/// One target: read, store under `<name>/latest`, compare with the baseline, gate.
async fn check_target<C: Capture, S: CheckStore, B: TargetProgress>(
    t: &TargetConfig,
    capture: &C,
    store: &Mutex<S>,
    policy: &Policy,
    bar: &B,
) -> TargetOutcome {
    let lock = || store.lock().unwrap_or_else(|e| e.into_inner());
    let last_success = || {
        lock()
            .reflog(&t.latest_ref())
            .ok()
            .and_then(|h| last_success_from_reflog(&h))
    };
    let fail = |what: &str, reason: String| {
        TargetOutcome::failed(&t.name, &t.baseline, what, &reason).with_last_success(last_success())
    };

    let started = Instant::now();
    let source = match capture.resolve(t) {
        Ok(source) => source,
        Err(e) => return fail("live", e),
    };
    bar.message(&format!("reading {}", capture.describe(&source)));
    let snap = match capture.read(&source, t).await {
        Ok(snap) => snap,
        Err(e) => return fail("live", e).with_duration(started.elapsed()),
    };
    let duration = started.elapsed();
    bar.message("comparing with the baseline");
    let reading = |id| Reading {
        snapshot: id,
        source: snap.meta.source.describe(),
        duration,
    };

    // The store lock is held for the writes and reads only, never across an await.
    let stored = store_reading(&mut *lock(), t, &snap);
    let (id, baseline_id, base) = match stored {
        Ok(Stored::Compared {
            id,
            baseline_id,
            base,
        }) => (id, baseline_id, base),
        Ok(Stored::NoBaseline { id }) => {
            return TargetOutcome::no_baseline(&t.name, &t.baseline)
                .with_reading(reading(id))
                .with_last_success(last_success())
        }
        Err(StoreFailure { what, reason, id }) => {
            let outcome = fail(what, reason).with_duration(duration);
            return match id {
                Some(id) => outcome.with_reading(reading(id)),
                None => outcome,
            };
        }
    };
    let d = diff::diff(&base, &snap);
    let gate = GateReport::evaluate(&d, policy, &baseline_id.to_hex(), &id.to_hex());
    let message = format!(
        "{}{} against {}",
        CHECKED_MESSAGE_PREFIX,
        gate.verdict,
        baseline_id.short()
    );
    let latest = t.latest_ref();
    let moved = lock().update_ref(&latest, &id, &message);
    if let Err(e) = moved {
        return fail("store", format!("moving {latest}: {e}")).with_reading(reading(id));
    }
    TargetOutcome::compared(
        &t.name,
        &t.baseline,
        baseline_id,
        reading(id),
        gate,
        time::OffsetDateTime::now_utc().unix_timestamp(),
    )
}

enum Stored {
    Compared {
        id: ContentHash,
        baseline_id: ContentHash,
        base: Box<CatalogSnapshot>,
    },
    NoBaseline {
        id: ContentHash,
    },
}

struct StoreFailure {
    what: &'static str,
    reason: String,
    /// The snapshot, when it was stored before the failure.
    id: Option<ContentHash>,
}

/// Store the snapshot and load the baseline. Without a baseline, `<name>/latest` moves now
/// (so `baseline accept NAME NAME/latest` can accept what was just read).
fn store_reading<S: CheckStore>(
    store: &mut S,
    t: &TargetConfig,
    snap: &CatalogSnapshot,
) -> Result<Stored, StoreFailure> {
    let id = store.write_snapshot(snap).map_err(|e| StoreFailure {
        what: "store",
        reason: format!("storing the snapshot: {e}"),
        id: None,
    })?;
    let failure = |what, reason| StoreFailure {
        what,
        reason,
        id: Some(id),
    };
    let baseline_id = match store.read_ref(&t.baseline) {
        Ok(Some(b)) => b,
        Ok(None) => {
            store
                .update_ref(&t.latest_ref(), &id, "check: no baseline (not compared)")
                .map_err(|e| failure("store", format!("moving {}: {e}", t.latest_ref())))?;
            return Ok(Stored::NoBaseline { id });
        }
        Err(e) => return Err(failure("baseline", format!("reading {}: {e}", t.baseline))),
    };
    let base = store.load_snapshot(&baseline_id).map_err(|e| {
        failure(
            "baseline",
            format!("reading {} ({}): {e}", t.baseline, baseline_id.short()),
        )
    })?;
    Ok(Stored::Compared {
        id,
        baseline_id,
        base: Box::new(base),
    })
}

#[cfg(test)]
mod tests {
    //! The pipeline on real parts: a real directory store in a temp dir, and catalogs read
    //! from the sample store in `snapshots/` (snapshots taken from a real server), so what
    //! is compared and gated is what a server gave. Real servers are `tests/check.rs`.

    use super::*;
    use crate::check::config::CheckConfig;
    use crate::check::progress::Spinners;
    use crate::gate::Verdict;
    use std::collections::BTreeMap;
    use std::path::Path;

    /// Catalogs by target name, read from the sample store; a target without one cannot be
    /// reached, one named `unreadable` is reached but its read fails.
    struct SampleCapture {
        catalogs: BTreeMap<String, CatalogSnapshot>,
    }

    impl SampleCapture {
        fn new(targets: &[(&str, &str)]) -> SampleCapture {
            let sample = Store::open(&Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"))
                .expect("the sample store opens");
            let catalogs = targets
                .iter()
                .map(|(name, spec)| {
                    let id = sample.read_ref(spec).unwrap().expect("a sample ref");
                    (name.to_string(), sample.load_snapshot(&id).unwrap())
                })
                .collect();
            SampleCapture { catalogs }
        }
    }

    impl Capture for SampleCapture {
        type Source = String;

        fn resolve(&self, target: &TargetConfig) -> Result<String, String> {
            if target.name == "unreadable" || self.catalogs.contains_key(&target.name) {
                Ok(target.name.clone())
            } else {
                Err(format!("no server for {}", target.name))
            }
        }

        fn describe(&self, source: &String) -> String {
            format!("sample {source}")
        }

        async fn read(&self, source: &String, _: &TargetConfig) -> Result<CatalogSnapshot, String> {
            self.catalogs
                .get(source)
                .cloned()
                .ok_or_else(|| "permission denied for pg_class".to_string())
        }
    }

    fn config(names: &[&str]) -> CheckConfig {
        let text: String = names
            .iter()
            .map(|n| format!("[[target]]\nname = \"{n}\"\n"))
            .collect();
        CheckConfig::parse(&text, Path::new("driftgate.toml")).unwrap()
    }

    /// A fresh store holding the sample's `entry` snapshot as each target's baseline.
    fn store_with_baselines(dir: &Path, names: &[&str]) -> (Store, ContentHash) {
        let entry = SampleCapture::new(&[("x", "entry")])
            .catalogs
            .remove("x")
            .unwrap();
        let mut store = Store::open_or_init(dir).unwrap();
        let (id, _) = store.write_snapshot(&entry).unwrap();
        for n in names {
            store
                .update_ref(&format!("{n}/baseline"), &id, "accepted")
                .unwrap();
        }
        (store, id)
    }

    fn run_all(
        cfg: &CheckConfig,
        capture: &SampleCapture,
        store: Store,
        concurrency: usize,
    ) -> Vec<TargetOutcome> {
        let targets: Vec<&TargetConfig> = cfg.targets.iter().collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(check_all(
            &targets,
            capture,
            store,
            &Policy::default(),
            concurrency,
            &Spinners::new(true),
        ))
    }

    #[test]
    fn an_unchanged_catalog_passes_a_changed_one_blocks_and_latest_moves_with_the_verdict() {
        let dir = tempfile::tempdir().unwrap();
        let (store, entry_id) = store_with_baselines(dir.path(), &["same", "changed"]);
        let capture = SampleCapture::new(&[("same", "entry"), ("changed", "after-change")]);
        let cfg = config(&["same", "changed"]);
        let outcomes = run_all(&cfg, &capture, store, 2);

        assert_eq!(outcomes.len(), 2);
        let (same, changed) = (&outcomes[0], &outcomes[1]);
        assert_eq!((same.name.as_str(), same.verdict), ("same", Verdict::Pass));
        assert_eq!(
            same.snapshot,
            Some(entry_id),
            "the same catalog is the same snapshot"
        );
        assert_eq!(
            (changed.name.as_str(), changed.verdict),
            ("changed", Verdict::Block)
        );
        assert!(!changed.findings.is_empty());
        assert_eq!(changed.baseline, Some(entry_id));
        assert!(same.last_success.is_some() && changed.last_success.is_some());

        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.read_ref("changed/latest").unwrap(), changed.snapshot);
        let log = store.reflog("changed/latest").unwrap();
        assert_eq!(
            log.last().unwrap().message,
            format!("check: gate_drift BLOCK against {}", entry_id.short())
        );
        assert!(
            last_success_from_reflog(&log).is_some(),
            "the checked entry is the last success"
        );
    }

    #[test]
    fn without_a_baseline_the_reading_is_stored_and_latest_moves_but_it_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_or_init(dir.path()).unwrap();
        let capture = SampleCapture::new(&[("new", "entry")]);
        let outcomes = run_all(&config(&["new"]), &capture, store, 1);
        let o = &outcomes[0];
        assert_eq!(o.verdict, Verdict::Block);
        assert!(
            o.error.as_deref().unwrap().starts_with("no baseline"),
            "{o:?}"
        );
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.read_ref("new/latest").unwrap(), o.snapshot);
        assert!(o.snapshot.is_some());
        assert_eq!(
            store.reflog("new/latest").unwrap()[0].message,
            "check: no baseline (not compared)"
        );
    }

    #[test]
    fn a_target_that_cannot_be_reached_or_read_fails_closed_and_moves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = store_with_baselines(dir.path(), &["gone", "unreadable", "ok"]);
        let capture = SampleCapture::new(&[("ok", "entry")]);
        let outcomes = run_all(&config(&["gone", "unreadable", "ok"]), &capture, store, 3);

        let names: Vec<&str> = outcomes.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(
            names,
            ["gone", "unreadable", "ok"],
            "outcomes keep config order"
        );
        for o in &outcomes[..2] {
            assert_eq!(o.verdict, Verdict::Block);
            assert_eq!(o.snapshot, None);
            assert_eq!(o.dims.get("error"), Some(&1), "{o:?}");
        }
        assert!(outcomes[0]
            .error
            .as_deref()
            .unwrap()
            .contains("no server for gone"));
        assert!(outcomes[1]
            .error
            .as_deref()
            .unwrap()
            .contains("permission denied"));
        assert_eq!(outcomes[2].verdict, Verdict::Pass);

        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.read_ref("gone/latest").unwrap(), None);
        assert_eq!(store.read_ref("unreadable/latest").unwrap(), None);
        assert!(store.read_ref("ok/latest").unwrap().is_some());
    }

    #[test]
    fn a_failure_after_a_success_keeps_the_last_success_time() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = store_with_baselines(dir.path(), &["unreadable"]);
        // First a good reading under the same name, then the target stops answering.
        let good = SampleCapture {
            catalogs: SampleCapture::new(&[("unreadable", "entry")]).catalogs,
        };
        let first = run_all(&config(&["unreadable"]), &good, store, 1);
        assert_eq!(first[0].verdict, Verdict::Pass);
        let bad = SampleCapture {
            catalogs: BTreeMap::new(),
        };
        let second = run_all(
            &config(&["unreadable"]),
            &bad,
            Store::open(dir.path()).unwrap(),
            1,
        );
        assert_eq!(second[0].verdict, Verdict::Block);
        assert_eq!(second[0].last_success, first[0].last_success);
    }
}
