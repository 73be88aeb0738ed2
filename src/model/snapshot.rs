//! A whole catalog snapshot: metadata, the objects by key, and row counts.
//!
//! The catalog (objects) and the counts are hashed apart from the metadata, so two snapshots
//! of an identical catalog taken at different times share one catalog hash.

use super::canonical::{hash_of, ContentHash};
use super::fingerprint::CatalogTree;
use super::key::{ObjectKey, ObjectKind};
use super::object::CatalogObject;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SNAPSHOT_FORMAT: &str = "driftgate.snapshot/v1";

/// The capture format: which kinds and fields a snapshot's catalog holds, and how they are
/// read. Raised by every change of the capture that can make one catalog snapshot
/// differently (a kind or field added, a value read or normalized another way), so that a
/// diff of snapshots of two formats says so (`capture-format-changed`) instead of taking
/// what one side never captured for drift, or for no change.
///
/// 1: the kinds and fields of driftgate 0.1. A snapshot stored before the format was
/// recorded lacks the field and counts as 1 (captures before it were not told apart).
/// 2: an ACL equal to the owner's default read as none; a partition's copy of a parent
/// trigger in a state of its own (`clone_of`); constraints' enforcement-trigger states.
/// 3: privileges changed on built-in and extension objects (`builtin_acl`), on parameters
/// (`parameter_acl`); a range type's casts to its multirange left out (part of the type);
/// table details (access method, tablespace, replica identity, CLUSTER ON, a foreign
/// table's server and options, TOAST storage parameters, OF type); column details
/// (statistics target, storage, compression, options, FDW options, inherited only,
/// PostgreSQL 18's not-null constraint name, NOT VALID, NO INHERIT and comment); the
/// tablespaces of indexes, constraint indexes and matviews, a matview's access method and
/// column details, index column statistics targets, CHECK constraints inherited only; view
/// columns' comments, defaults and grants, composite type attributes' and domain
/// constraints' comments, a domain's NOT NULL name and comment (17+);
/// operator classes and families, foreign data wrappers, servers, user mappings,
/// subscriptions and tablespaces (issue 13's remaining kinds); a partition's copies of its
/// parent's constraints, indexes' `attached_to`, constraint indexes' comments; a routine
/// body over 4 MiB gets the exact hash as its `token_hash` (it is not tokenized; see
/// `sqltext::MAX_TOKENIZED_BODY_BYTES`).
/// 4: security labels (`security_label`), on the database's objects and on roles,
/// tablespaces and the database.
/// 5: `information_schema` privileges compared with what initdb granted (SELECT and USAGE
/// to PUBLIC), so revoking them from PUBLIC is a `builtin_acl` (earlier it passed unseen).
pub const CAPTURE_FORMAT: u32 = 5;

/// The format of a snapshot that does not record one.
fn unrecorded_capture_format() -> u32 {
    1
}

/// Where a snapshot was taken from. Never holds a password.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    pub database: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Whether the server read was a standby (`pg_is_in_recovery()`); absent in snapshots
    /// made before driftgate recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_recovery: Option<bool>,
}

impl SourceInfo {
    pub fn describe(&self) -> String {
        let mut s = String::new();
        if let Some(user) = &self.user {
            s.push_str(user);
            s.push('@');
        }
        if let Some(host) = &self.host {
            s.push_str(host);
            if let Some(port) = self.port {
                s.push_str(&format!(":{port}"));
            }
            s.push('/');
        }
        s.push_str(&self.database);
        if self.in_recovery == Some(true) {
            s.push_str(" (standby)");
        }
        s
    }
}

/// What was asked for and seen when the snapshot was taken; not part of the catalog hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotMeta {
    pub format: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub source: SourceInfo,
    pub server_version: String,
    pub server_version_num: u32,
    pub driftgate_version: String,
    /// [`CAPTURE_FORMAT`] of the driftgate that took it.
    #[serde(default = "unrecorded_capture_format")]
    pub capture_format: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include_schemas: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_schemas: Vec<String>,
    /// Milliseconds spent reading the catalog.
    pub capture_ms: u64,
}

/// Row counts of one table: the planner estimate always, the exact count when asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowCount {
    /// `pg_class.reltuples` rounded; -1 when the table was never vacuumed or analyzed.
    pub estimate: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<i64>,
    /// Why an exact count that was asked for could not be taken (e.g. permission denied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact_error: Option<String>,
}

/// Table name (as in its `table:` key, without the prefix) → counts.
pub type RowCounts = BTreeMap<String, RowCount>;

/// The stored, hashed record that names a snapshot: its id is the hash of this record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRecord {
    #[serde(flatten)]
    pub meta: SnapshotMeta,
    /// Root hash of the catalog tree (the `catalog` fingerprint).
    pub catalog: ContentHash,
    /// Hash of the canonical row-count map.
    pub counts: ContentHash,
    pub object_count: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogSnapshot {
    pub meta: SnapshotMeta,
    pub objects: BTreeMap<ObjectKey, CatalogObject>,
    pub counts: RowCounts,
}

impl CatalogSnapshot {
    pub fn tree(&self) -> CatalogTree {
        CatalogTree::build(self.objects.values())
    }

    pub fn catalog_hash(&self) -> ContentHash {
        self.tree().root_hash()
    }

    pub fn counts_hash(&self) -> ContentHash {
        hash_of(&self.counts)
    }

    pub fn record(&self) -> SnapshotRecord {
        SnapshotRecord {
            meta: self.meta.clone(),
            catalog: self.catalog_hash(),
            counts: self.counts_hash(),
            object_count: self.objects.len(),
        }
    }

    pub fn objects_of(&self, kind: ObjectKind) -> impl Iterator<Item = &CatalogObject> {
        self.objects.values().filter(move |o| o.kind() == kind)
    }

    pub fn get(&self, key: &ObjectKey) -> Option<&CatalogObject> {
        self.objects.get(key)
    }
}
