//! The content-addressed snapshot store (git-like, BLAKE3). The only module that touches
//! the filesystem.
//!
//! Layout under the store root (default `./snapshots`):
//! - `STORE` — format marker.
//! - `packs/<id>.pack` + `.idx` — blobs: catalog objects, schema trees, catalog roots, count
//!   maps, each canonical JSON named by its hash (see [`pack`]).
//! - `snapshots/<id>.json` — snapshot records; the id is the hash of the file.
//! - `refs/<name>` — a ref record: its snapshot and its newest history entry;
//!   `history/<hash>.json` — immutable history entries, each naming the one before; `logs/<name>`
//!   — the history of a ref written by earlier versions (read, never written) (see [`refs`]).
//! - `leases/` — who is writing now (see [`backend`]).
//! - `reports/<run-id>/shard-K-of-N.json` — a sharded check's shard reports, written once
//!   (see [`reports`]).
//!
//! All storage goes through the [`backend::Backend`] seam (one filesystem implementation).
//!
//! [`gc`] drops what no ref or kept history needs.
//!
//! Writes are atomic (temp file, fsync, rename) and ordered blobs → record → history entry →
//! ref swap, so a crash leaves at worst unreferenced blobs. Every read verifies the hash of what it read.

pub mod atomic;
pub mod backend;
pub mod fsck;
pub mod gc;
mod lease;
mod load;
pub mod pack;
pub mod refs;
pub mod reports;
pub mod s3;
mod source;
pub mod writer;

pub use source::StoreSource;

use crate::model::fingerprint::{CatalogRoot, SchemaTree};
use crate::model::snapshot::{RowCounts, SnapshotRecord};
use crate::model::{CatalogObject, CatalogSnapshot, ContentHash, ObjectKey};
use backend::{Backend, FsBackend, RangeReader};
use pack::IdxEntry;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub const STORE_FORMAT: &str = "driftgate.store/v1";
pub const BUNDLE_FORMAT: &str = "driftgate.bundle/v1";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: hash mismatch (expected {expected}, found {actual}): the store is corrupt; run `driftgate fsck`")]
    HashMismatch {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("{path}: corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("no driftgate store at {path} (take a snapshot to create one, or pass --store DIR / set DRIFTGATE_STORE)")]
    NotAStore { path: PathBuf },
    #[error("{path} is not a driftgate store: {reason}")]
    Foreign { path: PathBuf, reason: String },
    #[error(
        "unknown snapshot {spec:?}: not a ref, a snapshot id or prefix (4+ hex digits), or a snapshot file{hint}"
    )]
    UnknownSnapshot { spec: String, hint: String },
    #[error("snapshot prefix {prefix:?} is ambiguous: it matches {}", candidates.join(", "))]
    AmbiguousPrefix {
        prefix: String,
        candidates: Vec<String>,
    },
    #[error("invalid ref name {name:?}: {reason}")]
    BadRefName { name: String, reason: String },
    #[error("blob {hash} is missing from the store (needed by {needed_by}); run `driftgate fsck`")]
    MissingBlob { hash: String, needed_by: String },
    #[error("ref {name:?} is being moved by other driftgate processes that kept winning ({lock}); try again")]
    RefLocked { name: String, lock: PathBuf },
    #[error("ref {name} was not moved (it and its history are as they were): {source}")]
    RefNotMoved {
        name: String,
        #[source]
        source: Box<StoreError>,
    },
    #[error("{path}: {reason}")]
    BadFile { path: PathBuf, reason: String },
    #[error("{path} is a symbolic link: driftgate follows no link inside a store (it could lead reads and writes out of it); replace it with the file or directory itself")]
    Symlink { path: PathBuf },
    #[error("{path}: this write's lease ({ttl_secs} s, renewed while it works) ran out, as when its lease file could not be rewritten; gc no longer waits for it, so it did not finish; run it again")]
    LeaseExpired { path: PathBuf, ttl_secs: u64 },
    #[error("bad S3 store {url}: {reason}")]
    BadStoreUrl { url: String, reason: String },
    #[error("{path}: a gc ({holder}) has been deleting for more than 10 minutes; try again when it is done")]
    GcRunning { path: PathBuf, holder: String },
}

impl StoreError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// What a snapshot write added to the store.
#[derive(Clone, Debug, Default)]
pub struct WriteStats {
    pub new_blobs: usize,
    pub bytes_written: u64,
    /// The catalog hash of what was written (computed once, while writing).
    pub catalog: Option<ContentHash>,
}

pub(crate) struct BlobIndex {
    pub(crate) packs: Vec<(PathBuf, Box<dyn RangeReader>)>,
    pub(crate) entries: HashMap<ContentHash, (usize, IdxEntry)>,
}

pub struct Store {
    root: PathBuf,
    backend: Box<dyn Backend>,
    index: OnceLock<Result<BlobIndex, String>>,
    /// Held from the first write until this handle is dropped (see [`Store::hold_writer_lease`]).
    pub(crate) writer_lease: std::sync::Mutex<Option<Box<dyn backend::Lease>>>,
}

/// How long a writer or gc lease is honoured without renewal. Its holder renews it every
/// third of this while it lives (see [`backend`]), so a write may take longer; a holder
/// that dies is seen at once on the filesystem (its flock goes with it), so the TTL only
/// matters for a holder whose renewals stop.
pub const WRITER_LEASE_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

/// The lease TTL in use: [`WRITER_LEASE_TTL`], or `DRIFTGATE_LEASE_TTL_SECS` (at least 3)
/// so tests can see a writer outlive several TTLs without waiting hours.
pub fn lease_ttl() -> std::time::Duration {
    std::env::var("DRIFTGATE_LEASE_TTL_SECS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(WRITER_LEASE_TTL, |secs| {
            std::time::Duration::from_secs(secs.max(3))
        })
}

/// How many writer leases each store's handles in this process hold now.
fn process_leases() -> std::sync::MutexGuard<'static, BTreeMap<PathBuf, usize>> {
    static HELD: std::sync::Mutex<BTreeMap<PathBuf, usize>> =
        std::sync::Mutex::new(BTreeMap::new());
    HELD.lock().unwrap_or_else(|e| e.into_inner())
}

impl Drop for Store {
    fn drop(&mut self) {
        let held = self
            .writer_lease
            .get_mut()
            .unwrap_or_else(|e| e.into_inner());
        if held.take().is_some() {
            if let Some(n) = process_leases().get_mut(&self.root) {
                *n = n.saturating_sub(1);
            }
        }
    }
}

/// How long a writer waits for a gc's delete phase before giving up.
const GC_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

impl Store {
    /// Open an existing store for reading.
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        if s3::is_s3(root) {
            return Store::open_s3(root);
        }
        let backend = FsBackend::new(root);
        let marker = root.join("STORE");
        match backend.get("STORE") {
            Ok(Some(bytes)) => check_marker(root, &bytes)?,
            Ok(None) => {
                let foreign = root.exists() && !holds_only_a_store_being_created(root);
                if marker.exists() {
                    // Another process created the store while we looked (a marker is never
                    // removed, so this cannot loop).
                    return Store::open(root);
                }
                return Err(if foreign {
                    StoreError::Foreign {
                        path: root.to_path_buf(),
                        reason: "the directory exists but has no STORE marker".into(),
                    }
                } else {
                    StoreError::NotAStore {
                        path: root.to_path_buf(),
                    }
                });
            }
            Err(e) => return Err(e),
        }
        Ok(Store {
            root: root.to_path_buf(),
            backend: Box::new(backend),
            index: OnceLock::new(),
            writer_lease: std::sync::Mutex::new(None),
        })
    }

    /// Open the S3 store at `root` (`s3://bucket/prefix`). No marker: not a store yet, unless
    /// objects the store did not write are there (someone else's data under that prefix).
    fn open_s3(root: &Path) -> Result<Store, StoreError> {
        let backend = s3::S3Backend::open(root)?;
        match backend.get("STORE")? {
            Some(bytes) => check_marker(root, &bytes)?,
            None => {
                let foreign = backend.list("")?.into_iter().find(|key| {
                    let top = key.split('/').next().unwrap_or_default();
                    !(STORE_DIRS.contains(&top) || top.starts_with(".tmp-"))
                });
                return Err(match foreign {
                    Some(key) => StoreError::Foreign {
                        path: root.to_path_buf(),
                        reason: format!("there is no STORE marker, but it holds {key:?}"),
                    },
                    None => StoreError::NotAStore {
                        path: root.to_path_buf(),
                    },
                });
            }
        }
        Ok(Store {
            root: root.to_path_buf(),
            backend: Box::new(backend),
            index: OnceLock::new(),
            writer_lease: std::sync::Mutex::new(None),
        })
    }

    /// Check that `root` is a store or could become one, without creating anything.
    pub fn check_writable(root: &Path) -> Result<(), StoreError> {
        match Store::open(root) {
            Ok(_) | Err(StoreError::NotAStore { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Prove a write into the store would succeed: create a temp file in its root (named
    /// like every temp file the store writes, so one a crash leaves behind is recognised),
    /// write and sync it, and remove it. Permissions alone would not tell: a read-only mount,
    /// a full disk or an ACL can refuse what the mode bits allow.
    pub fn probe_writable(&self) -> Result<(), StoreError> {
        if s3::is_s3(&self.root) {
            // The same on S3: a put and a delete of a temp-named object (the credentials
            // may allow reading only).
            let key = format!(".tmp-{}-0-write-probe", std::process::id());
            self.backend.put(&key, b"driftgate write probe\n")?;
            return self.backend.delete(&key);
        }
        let tmp = atomic::temp_path(&self.root, &self.root.join("write-probe"));
        let result = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .and_then(|mut f| {
                std::io::Write::write_all(&mut f, b"driftgate write probe\n")?;
                f.sync_all()
            })
            .map_err(|e| StoreError::io(&tmp, e));
        let removed = fs::remove_file(&tmp);
        result?;
        removed.map_err(|e| StoreError::io(&tmp, e))
    }

    /// Open a store, creating it if the directory is absent or empty. Several processes
    /// may create one store at once: each writes the same marker atomically, and a
    /// directory holding nothing but a store being created is not mistaken for a foreign one.
    pub fn open_or_init(root: &Path) -> Result<Store, StoreError> {
        match Store::open(root) {
            Err(StoreError::NotAStore { .. }) => Store::init_here(root),
            other => other,
        }
    }

    /// Lay out a store at `root` and write its marker. Only for a directory that is absent,
    /// empty, or was created by this process for the store it is writing.
    pub(crate) fn init_here(root: &Path) -> Result<Store, StoreError> {
        let marker = format!("{{\"format\":\"{STORE_FORMAT}\"}}\n");
        if s3::is_s3(root) {
            // Object storage has no directories to lay out: the marker is the store.
            s3::S3Backend::open(root)?.put("STORE", marker.as_bytes())?;
            return Store::open(root);
        }
        for dir in STORE_DIRS {
            fs::create_dir_all(root.join(dir)).map_err(|e| StoreError::io(&root.join(dir), e))?;
        }
        FsBackend::new(root).put("STORE", marker.as_bytes())?;
        Store::open(root)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Announce a writer before it relies on anything the store holds (a blob it reuses, a
    /// snapshot it points a ref at), and keep announcing it until this handle is dropped.
    /// A gc in its delete phase is waited for first; while the lease lives, no gc deletes
    /// anything (see [`gc`]). The lease is taken before the check for a gc, so a gc that
    /// starts after the check sees it. A writer that finds a gc gives its lease up while
    /// waiting, so gc is not starved by a stream of writers.
    pub fn hold_writer_lease(&self, what: &str) -> Result<(), StoreError> {
        let mut held = self.writer_lease.lock().unwrap_or_else(|e| e.into_inner());
        if held.is_some() {
            return Ok(());
        }
        let body = format!("{what} (pid {})", std::process::id());
        let start = std::time::Instant::now();
        loop {
            let lease =
                self.backend
                    .acquire_lease(backend::LeaseKind::Writer, &body, lease_ttl())?;
            // Another handle of this process on this store holding its lease already keeps
            // every gc from deleting, and may be what a waiting gc waits for: waiting here
            // for that gc would wait for ourselves.
            let covered = process_leases().get(&self.root).is_some_and(|n| *n > 0);
            let gcs = if covered {
                Vec::new()
            } else {
                self.backend.leases(backend::LeaseKind::Gc)?
            };
            if gcs.is_empty() {
                *process_leases().entry(self.root.clone()).or_default() += 1;
                *held = Some(lease);
                return Ok(());
            }
            drop(lease);
            if start.elapsed() > GC_WAIT {
                return Err(StoreError::GcRunning {
                    path: self.root.clone(),
                    holder: gcs[0].body.clone(),
                });
            }
            // Blobs must not be cached across a gc: it rewrites packs.
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Fail when this handle's writer lease has run out, or is about to (within a minute,
    /// or a third of a shorter TTL): gc stops honouring an expired lease, so what the writer
    /// reused may be gone. Checked before a ref is swapped, the point where a writer's
    /// reliance becomes a ref's. A live holder's lease is renewed, so this fails only when
    /// renewals stopped working (the lease file could not be written).
    pub(crate) fn check_writer_lease(&self) -> Result<(), StoreError> {
        let held = self.writer_lease.lock().unwrap_or_else(|e| e.into_inner());
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let ttl = lease_ttl().as_secs();
        let margin = (ttl / 3).min(60) as i64;
        match held.as_ref() {
            Some(lease) if lease.expires_at() <= now + margin => Err(StoreError::LeaseExpired {
                path: self.root.clone(),
                ttl_secs: ttl,
            }),
            _ => Ok(()),
        }
    }

    pub(crate) fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    /// The backend, for tests that act on leases and objects directly (a lease abandoned
    /// as a killed process leaves it).
    #[doc(hidden)]
    pub fn backend_for_tests(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    pub(crate) fn packs_dir(&self) -> PathBuf {
        self.root.join("packs")
    }

    pub(crate) fn index(&self) -> Result<&BlobIndex, StoreError> {
        let loaded = self
            .index
            .get_or_init(|| self.load_index().map_err(|e| e.to_string()));
        loaded.as_ref().map_err(|reason| StoreError::Corrupt {
            path: self.packs_dir(),
            reason: reason.clone(),
        })
    }

    fn load_index(&self) -> Result<BlobIndex, StoreError> {
        let mut packs = Vec::new();
        let mut entries = HashMap::new();
        for id in self.pack_ids()? {
            let (pack_key, idx_key) = pack::pack_keys(&id);
            let idx_path = self.backend.location(&idx_key);
            let idx_bytes = self.get_existing(&idx_key)?;
            let file = self.backend.open_reader(&pack_key)?;
            let pack_path = self.backend.location(&pack_key);
            let pack_no = packs.len();
            for entry in pack::parse_idx(&idx_path, &idx_bytes)? {
                entries.entry(entry.hash).or_insert((pack_no, entry));
            }
            packs.push((pack_path, file));
        }
        Ok(BlobIndex { packs, entries })
    }

    /// Ids of every complete pack (one with its index written), sorted.
    pub fn pack_ids(&self) -> Result<Vec<String>, StoreError> {
        let mut ids = Vec::new();
        for name in self.backend.list("packs")? {
            // A pack's id is its hash; anything else (a temp file of a write in progress,
            // or one a crash left behind) is not a pack.
            if let Some(id) = name
                .strip_suffix(".idx")
                .filter(|id| ContentHash::from_hex(id).is_some())
            {
                ids.push(id.to_string());
            }
        }
        ids.sort();
        Ok(ids)
    }

    pub fn has_blob(&self, hash: &ContentHash) -> Result<bool, StoreError> {
        Ok(self.index()?.entries.contains_key(hash))
    }

    pub fn get_blob(&self, hash: &ContentHash, needed_by: &str) -> Result<Vec<u8>, StoreError> {
        let index = self.index()?;
        let (pack_no, entry) = index
            .entries
            .get(hash)
            .ok_or_else(|| StoreError::MissingBlob {
                hash: hash.to_hex(),
                needed_by: needed_by.to_string(),
            })?;
        let (path, file) = &index.packs[*pack_no];
        pack::read_blob(path, file.as_ref(), entry)
    }

    pub(crate) fn get_json<T: DeserializeOwned>(
        &self,
        hash: &ContentHash,
        needed_by: &str,
    ) -> Result<T, StoreError> {
        let bytes = self.get_blob(hash, needed_by)?;
        let index = self.index()?;
        let path = &index.packs[index.entries[hash].0].0;
        serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
            path: path.clone(),
            reason: format!("blob {} ({needed_by}) is not valid: {e}", hash.short()),
        })
    }

    /// Store a snapshot held in memory: only the blobs the store lacks, then the record.
    /// Returns the id. (`snapshot` streams through [`writer::SnapshotWriter`] instead.)
    pub fn write_snapshot(
        &mut self,
        snap: &CatalogSnapshot,
    ) -> Result<(ContentHash, WriteStats), StoreError> {
        self.hold_writer_lease("snapshot write")?;
        // An index loaded before the lease may predate a gc that rewrote the packs.
        self.index = OnceLock::new();
        let mut writer = writer::SnapshotWriter::new(&self.root, Some(self))?;
        for obj in snap.objects.values() {
            writer.add(obj);
        }
        let written = writer.finish(snap.meta.clone(), &snap.counts)?;
        // Blobs written since the index was loaded must become visible to this handle.
        self.index = OnceLock::new();
        Ok((written.id, written.stats))
    }

    /// The bytes of an object that must exist (an absent one is a missing-file error).
    pub(crate) fn get_existing(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        self.backend.get(key)?.ok_or_else(|| {
            StoreError::io(
                &self.backend.location(key),
                std::io::Error::from(std::io::ErrorKind::NotFound),
            )
        })
    }

    pub fn read_record(&self, id: &ContentHash) -> Result<SnapshotRecord, StoreError> {
        let key = record_key(id);
        let path = self.backend.location(&key);
        let bytes = self
            .backend
            .get(&key)?
            .ok_or_else(|| StoreError::UnknownSnapshot {
                spec: id.to_hex(),
                hint: String::new(),
            })?;
        let actual = ContentHash::of(&bytes);
        if actual != *id {
            return Err(StoreError::HashMismatch {
                path,
                expected: id.to_hex(),
                actual: actual.to_hex(),
            });
        }
        parse_record(&path, &bytes)
    }

    /// Every snapshot record in the store, oldest first.
    pub fn list_snapshots(&self) -> Result<Vec<(ContentHash, SnapshotRecord)>, StoreError> {
        let mut out = Vec::new();
        for id in self.snapshot_ids()? {
            out.push((id, self.read_record(&id)?));
        }
        out.sort_by(|a, b| {
            a.1.meta
                .created_at
                .cmp(&b.1.meta.created_at)
                .then(a.0.cmp(&b.0))
        });
        Ok(out)
    }

    pub fn snapshot_ids(&self) -> Result<Vec<ContentHash>, StoreError> {
        let mut ids = Vec::new();
        for name in self.backend.list("snapshots")? {
            if let Some(hash) = name.strip_suffix(".json").and_then(ContentHash::from_hex) {
                ids.push(hash);
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// The catalog tree of a snapshot (root and schema trees, no objects).
    pub fn load_tree(
        &self,
        record: &SnapshotRecord,
    ) -> Result<(CatalogRoot, BTreeMap<String, SchemaTree>), StoreError> {
        let root: CatalogRoot = self.get_json(&record.catalog, "catalog root")?;
        let mut schemas = BTreeMap::new();
        for (name, hash) in &root.schemas {
            let tree: SchemaTree = self.get_json(hash, &format!("schema tree {name}"))?;
            schemas.insert(name.clone(), tree);
        }
        Ok((root, schemas))
    }

    /// Load one object by its hash.
    pub fn load_object(
        &self,
        key: &ObjectKey,
        hash: &ContentHash,
    ) -> Result<CatalogObject, StoreError> {
        self.get_json(hash, key.as_str())
    }

    /// Resolve a SNAP argument (other than `live`): a ref, a snapshot id or unique prefix
    /// (4+ hex digits), or a path to a snapshot bundle file.
    pub fn resolve(&self, spec: &str) -> Result<Resolved, StoreError> {
        if refs::validate_ref_name(spec).is_ok() {
            if let Some(id) = self.read_ref(spec)? {
                return Ok(Resolved::Stored(id));
            }
        }
        if spec.len() >= 4 && spec.bytes().all(|b| b.is_ascii_hexdigit()) {
            let lower = spec.to_ascii_lowercase();
            let matches: Vec<ContentHash> = self
                .snapshot_ids()?
                .into_iter()
                .filter(|id| id.to_hex().starts_with(&lower))
                .collect();
            match matches.len() {
                0 => {}
                1 => return Ok(Resolved::Stored(matches[0])),
                _ => {
                    return Err(StoreError::AmbiguousPrefix {
                        prefix: spec.to_string(),
                        candidates: matches.iter().map(|m| m.short()).collect(),
                    })
                }
            }
        }
        let path = Path::new(spec);
        if path.is_file() {
            return Ok(Resolved::File(path.to_path_buf()));
        }
        let refs = self.list_refs().unwrap_or_default();
        let names: Vec<&str> = refs.iter().map(|(n, _)| n.as_str()).collect();
        let mut hint = String::new();
        if !spec.is_empty() && spec.len() < 4 && spec.bytes().all(|b| b.is_ascii_hexdigit()) {
            hint.push_str("; a snapshot id prefix needs at least 4 hex digits");
        }
        if let Some(near) = nearest(spec, &names) {
            hint.push_str(&format!("; did you mean {near:?}?"));
        }
        if !names.is_empty() {
            let shown: Vec<&str> = names.iter().copied().take(10).collect();
            let more = if names.len() > 10 { ", …" } else { "" };
            hint.push_str(&format!(" (refs here: {}{more})", shown.join(", ")));
        }
        Err(StoreError::UnknownSnapshot {
            spec: spec.to_string(),
            hint,
        })
    }
}

/// The ref name closest to a mistyped one (a few edits away, as git suggests), if any.
fn nearest<'a>(spec: &str, names: &[&'a str]) -> Option<&'a str> {
    let limit = (spec.chars().count() / 3).max(1);
    names
        .iter()
        .map(|n| (edit_distance(spec, n), *n))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, n)| n)
}

/// Levenshtein distance with adjacent transpositions counted as one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod suggest_tests {
    use super::*;

    #[test]
    fn a_mistyped_ref_suggests_the_nearest_one() {
        let names = ["after-change", "entry", "exit", "prod/nightly"];
        assert_eq!(nearest("entyr", &names), Some("entry"));
        assert_eq!(nearest("prod/nigthly", &names), Some("prod/nightly"));
        assert_eq!(nearest("baseline", &names), None);
    }
}

/// Where a SNAP argument points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    Stored(ContentHash),
    File(PathBuf),
}

/// A config's `store =` value: an `s3://` URL as it is, a directory relative to the
/// config's directory `dir` (joining a URL to it would make a local directory named `s3:`).
pub fn resolve_location(dir: &Path, value: &str) -> PathBuf {
    if value.starts_with("s3://") {
        PathBuf::from(value)
    } else {
        dir.join(value)
    }
}

/// The key of a snapshot record.
pub(crate) fn record_key(id: &ContentHash) -> String {
    format!("snapshots/{}.json", id.to_hex())
}

/// The directories a store holds besides its marker.
pub(crate) const STORE_DIRS: [&str; 7] = [
    "packs",
    "snapshots",
    "refs",
    "logs",
    "history",
    "leases",
    "reports",
];

/// A directory with no marker yet that holds only what a store's creation makes before the
/// marker (another process is writing the first snapshot: store directories, its temp
/// pack, temp files), or nothing.
fn holds_only_a_store_being_created(root: &Path) -> bool {
    let only_temp_files = |dir: &Path| {
        fs::read_dir(dir).is_ok_and(|entries| {
            entries
                .flatten()
                .all(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        })
    };
    let Ok(entries) = fs::read_dir(root) else {
        return false;
    };
    entries.flatten().all(|e| {
        let name = e.file_name().to_string_lossy().to_string();
        (STORE_DIRS.contains(&name.as_str()) && only_temp_files(&e.path()))
            || name.starts_with(".tmp-")
    })
}

/// The names of the entries of `dir`; an absent `dir` has none.
#[cfg(test)]
fn file_names(dir: &Path) -> Result<Vec<String>, StoreError> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io(dir, e)),
    };
    rd.map(|entry| {
        entry
            .map(|e| e.file_name().to_string_lossy().to_string())
            .map_err(|e| StoreError::io(dir, e))
    })
    .collect()
}

fn check_marker(root: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| StoreError::Foreign {
        path: root.to_path_buf(),
        reason: "its STORE marker is not JSON".into(),
    })?;
    match v.get("format").and_then(|f| f.as_str()) {
        Some(STORE_FORMAT) => Ok(()),
        Some(other) => Err(StoreError::Foreign {
            path: root.to_path_buf(),
            reason: format!("store format {other:?} is not supported by this driftgate (it reads {STORE_FORMAT})"),
        }),
        None => Err(StoreError::Foreign {
            path: root.to_path_buf(),
            reason: "its STORE marker names no format".into(),
        }),
    }
}

/// Decode the bytes of a snapshot record read from `path` and check its format.
pub fn parse_record(path: &Path, bytes: &[u8]) -> Result<SnapshotRecord, StoreError> {
    let record: SnapshotRecord =
        serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("not a snapshot record: {e}"),
        })?;
    if record.meta.format != crate::model::snapshot::SNAPSHOT_FORMAT {
        return Err(StoreError::BadFile {
            path: path.to_path_buf(),
            reason: format!(
                "unknown snapshot format {:?} (this driftgate reads {})",
                record.meta.format,
                crate::model::snapshot::SNAPSHOT_FORMAT
            ),
        });
    }
    Ok(record)
}

/// A self-contained snapshot file (`driftgate export`), readable with no store.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Bundle {
    pub format: String,
    pub snapshot: SnapshotRecord,
    pub objects: Vec<CatalogObject>,
    pub counts: RowCounts,
}

pub fn bundle_bytes(snap: &CatalogSnapshot) -> Vec<u8> {
    let bundle = Bundle {
        format: BUNDLE_FORMAT.to_string(),
        snapshot: snap.record(),
        objects: snap.objects.values().cloned().collect(),
        counts: snap.counts.clone(),
    };
    let mut bytes =
        serde_json::to_vec_pretty(&serde_json::to_value(&bundle).expect("bundle serializes"))
            .expect("bundle serializes");
    bytes.push(b'\n');
    bytes
}

/// Read a bundle file and check it: format, and the catalog hash recomputed from its
/// objects must equal the one it claims, so a hand-edited file is refused.
pub fn read_bundle(path: &Path) -> Result<CatalogSnapshot, StoreError> {
    let file = fs::File::open(path).map_err(|e| StoreError::io(path, e))?;
    let bytes = crate::bounded::read_limited(file, crate::bounded::MAX_BUNDLE_BYTES)
        .map_err(|e| StoreError::io(path, e))?
        .ok_or_else(|| StoreError::BadFile {
            path: path.to_path_buf(),
            reason: format!(
                "larger than the {} limit for a snapshot file",
                crate::bounded::describe_limit(crate::bounded::MAX_BUNDLE_BYTES)
            ),
        })?;
    parse_bundle(path, &bytes)
}

/// Check and decode the bytes of a bundle file read from `path` (named in every error).
pub fn parse_bundle(path: &Path, bytes: &[u8]) -> Result<CatalogSnapshot, StoreError> {
    let bad = |reason: String| StoreError::BadFile {
        path: path.to_path_buf(),
        reason,
    };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        bad(format!(
            "not JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        ))
    })?;
    match value.get("format").and_then(|f| f.as_str()) {
        Some(BUNDLE_FORMAT) => {}
        Some(other) => {
            return Err(bad(format!(
                "unknown snapshot file format {other:?} (this driftgate reads {BUNDLE_FORMAT})"
            )))
        }
        None => {
            return Err(bad(
                "not a driftgate snapshot file (no \"format\" field)".into()
            ))
        }
    }
    let bundle: Bundle = match serde_json::from_value(value) {
        Ok(b) => b,
        // Decode again from the bytes for the line and column of the problem.
        Err(e) => {
            return Err(bad(match serde_json::from_slice::<Bundle>(bytes) {
                Err(located) => format!(
                    "malformed snapshot file (line {}, column {}): {located}",
                    located.line(),
                    located.column()
                ),
                Ok(_) => format!("malformed snapshot file: {e}"),
            }))
        }
    };
    let format = &bundle.snapshot.meta.format;
    if format != crate::model::snapshot::SNAPSHOT_FORMAT {
        return Err(bad(format!(
            "unknown snapshot format {format:?} (this driftgate reads {})",
            crate::model::snapshot::SNAPSHOT_FORMAT
        )));
    }
    let mut objects = BTreeMap::new();
    for obj in bundle.objects {
        let key = obj.key.clone();
        if key.kind() != obj.kind() {
            return Err(bad(format!(
                "object {key} has kind {} but its key says {}",
                obj.kind(),
                key.kind()
            )));
        }
        if objects.insert(key.clone(), obj).is_some() {
            return Err(bad(format!("object {key} appears twice")));
        }
    }
    let snap = CatalogSnapshot {
        meta: bundle.snapshot.meta.clone(),
        objects,
        counts: bundle.counts,
    };
    let actual = snap.catalog_hash();
    if actual != bundle.snapshot.catalog {
        return Err(bad(format!(
            "catalog hash mismatch: the file claims {} but its objects hash to {} (edited or truncated?)",
            bundle.snapshot.catalog.short(),
            actual.short()
        )));
    }
    if snap.counts_hash() != bundle.snapshot.counts {
        return Err(bad("row-count hash mismatch: the counts were edited".into()));
    }
    Ok(snap)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a `.tmp-…idx` left by a crash mid-write was taken for a pack, and every
    /// later read of the store failed on its missing `.pack`.
    #[test]
    fn a_leftover_temp_index_is_not_a_pack() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_or_init(dir.path()).unwrap();
        std::fs::write(dir.path().join("packs/.tmp-1-0-abc.idx"), b"half").unwrap();
        assert!(store.pack_ids().unwrap().is_empty());
        assert!(!store.has_blob(&ContentHash([0; 32])).unwrap());
    }

    #[test]
    fn the_write_probe_leaves_nothing_and_fails_where_nothing_can_be_written() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let store = Store::open_or_init(&root).unwrap();
        let before: Vec<String> = file_names(&root).unwrap();
        store.probe_writable().unwrap();
        assert_eq!(file_names(&root).unwrap(), before, "the probe file is gone");
        // Root runs the tests here and ignores mode bits: a vanished directory is a store
        // no write can reach for anyone.
        std::fs::remove_dir_all(&root).unwrap();
        let e = store.probe_writable().unwrap_err();
        assert!(e.to_string().contains(&*root.to_string_lossy()), "{e}");
    }
}
