//! The same SQL gives the same catalog on every supported PostgreSQL version, scope by
//! scope, except where the catalog really differs.
//!
//! Needs several server versions at once (`DRIFTGATE_TEST_PG_BINS`, bin directories
//! separated by `:`), so it is ignored in the plain suite; `scripts/test-matrix.sh` fetches
//! 13–18 and runs it. The one documented difference: PostgreSQL 15 changed the `public`
//! schema (owner `pg_database_owner`, no CREATE for PUBLIC), so `schema:public` and hence
//! `catalog` differ between 13–14 and 15–18 — equal within each group. What 13–15 and 16–18
//! merely print differently (view definitions, the owner's MAINTAIN privilege) is
//! normalised in `catalog/version.rs` and must not differ at all.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::*;

const PROBE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/version_probe.sql"
);

/// Scopes whose fingerprint legitimately differs between 13–14 and 15+.
const PUBLIC_SCHEMA_CHANGED_IN_15: &[&str] = &["schema:public", "catalog"];

/// Server settings come from each version's initdb (18 writes `autovacuum_worker_slots`
/// into postgresql.conf), not from the SQL: they are compared between servers of one
/// configuration (`tests/globals.rs`), not across versions. So are the `settings` and
/// `catalog` scopes that hold them; `catalog` is compared on a snapshot without globals.
const INITDB_WRITES: &str = "server_setting:";

/// Every scope of a snapshot: each object, each table's trigger, constraint, index and
/// policy sets, and the roles and database groups (the whole catalog is taken apart).
fn scopes(store: &Path, snap: &str) -> Vec<String> {
    let r = driftgate(store, &["show", snap, "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let objects: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let mut out = vec!["roles".to_string(), "database".to_string()];
    for o in objects
        .iter()
        .filter(|o| o["kind"] != "count")
        .filter(|o| !o["key"].as_str().unwrap().starts_with(INITDB_WRITES))
    {
        let key = o["key"].as_str().unwrap();
        out.push(key.to_string());
        if let Some(table) = key.strip_prefix("table:") {
            for set in ["triggers", "constraints", "indexes", "policies"] {
                out.push(format!("{set}:{table}"));
            }
        }
    }
    out
}

fn fingerprints(store: &Path, snap: &str, scopes: &[String]) -> BTreeMap<String, String> {
    let mut args = vec!["fingerprint".to_string(), snap.to_string()];
    for s in scopes {
        args.push("--scope".into());
        args.push(s.clone());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = driftgate(store, &args);
    assert_eq!(r.code, 0, "{r:?}");
    // `SCOPE HASH` per line; a scope may contain spaces, the hash never does.
    r.stdout
        .lines()
        .map(|l| {
            let (scope, hash) = l.rsplit_once(' ').unwrap();
            (scope.to_string(), hash.to_string())
        })
        .collect()
}

#[test]
#[ignore = "needs several PostgreSQL versions at once: scripts/test-matrix.sh runs it"]
fn the_same_sql_gives_the_same_fingerprints_on_every_version_but_the_public_schema() {
    let bins: Vec<PathBuf> = std::env::var("DRIFTGATE_TEST_PG_BINS")
        .expect("DRIFTGATE_TEST_PG_BINS: the bin directories of the versions to compare")
        .split(':')
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .collect();
    assert!(bins.len() >= 2, "compare at least two versions: {bins:?}");
    let store = tempfile::tempdir().unwrap();
    let probe = std::fs::read_to_string(PROBE).unwrap();

    let mut by_version: Vec<(u32, BTreeMap<String, String>)> = Vec::new();
    for bin in bins {
        let cluster = private_cluster(Some(bin));
        let major = cluster.version_num / 10000;
        let db = fixture_db_on(cluster, "versions");
        db.sql(&probe);
        let snap = format!("pg{major}");
        let r = driftgate(
            store.path(),
            &["snapshot", "--dsn", &db.dsn, "--ref", &snap],
        );
        assert_eq!(r.code, 0, "PostgreSQL {major}: {r:?}");
        let all = scopes(store.path(), &snap);
        let mut fps = fingerprints(store.path(), &snap, &all);
        let schema_only = format!("{snap}-schema");
        let r = driftgate(
            store.path(),
            &[
                "snapshot",
                "--dsn",
                &db.dsn,
                "--ref",
                &schema_only,
                "--no-globals",
            ],
        );
        assert_eq!(r.code, 0, "PostgreSQL {major}: {r:?}");
        fps.extend(fingerprints(
            store.path(),
            &schema_only,
            &["catalog".to_string()],
        ));
        by_version.push((major, fps));
        cluster.stop("fast");
    }
    by_version.sort_by_key(|(v, _)| *v);

    let (newest, reference) = by_version.last().unwrap();
    assert!(reference.len() > 100, "{} scopes", reference.len());
    let mut problems = Vec::new();
    for (version, fps) in &by_version {
        let keys: Vec<&String> = fps.keys().collect();
        if keys != reference.keys().collect::<Vec<_>>() {
            problems.push(format!(
                "{version} has other objects than {newest}: {:?}",
                keys.iter()
                    .filter(|k| !reference.contains_key(**k))
                    .chain(
                        reference
                            .keys()
                            .filter(|k| !fps.contains_key(*k))
                            .collect::<Vec<_>>()
                            .iter()
                    )
                    .collect::<Vec<_>>()
            ));
            continue;
        }
        for (scope, hash) in fps {
            let same_group = (*version >= 15) == (*newest >= 15);
            let expected_equal =
                same_group || !PUBLIC_SCHEMA_CHANGED_IN_15.contains(&scope.as_str());
            if expected_equal && hash != &reference[scope] {
                problems.push(format!(
                    "{scope}: PostgreSQL {version} differs from {newest}"
                ));
            }
        }
    }
    // The documented difference is real, and only there.
    let old: Vec<&(u32, BTreeMap<String, String>)> =
        by_version.iter().filter(|(v, _)| *v < 15).collect();
    if let Some((v, fps)) = old.first() {
        for scope in PUBLIC_SCHEMA_CHANGED_IN_15 {
            if fps[*scope] == reference[*scope] {
                problems.push(format!(
                    "{scope}: PostgreSQL {v} and {newest} agree, but the public schema changed in 15"
                ));
            }
        }
    }
    let versions: Vec<u32> = by_version.iter().map(|(v, _)| *v).collect();
    eprintln!(
        "compared {} scopes across PostgreSQL {versions:?}: {} unexpected difference(s)",
        reference.len(),
        problems.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
