//! Nothing matches nothing silently: a scope naming no object, or a schema filter selecting
//! no schema, is an error (exit 2) — in `check`, a BLOCK with that reason — never an empty
//! proof that passes. Regression tests for `verify entry --scope triggers:nosuch` printing
//! IDENTICAL with the empty-set hash, and `snapshot --include-schema pubic` storing a
//! two-object snapshot.

mod support;

use serde_json::Value;
use std::path::Path;
use support::*;

fn sample_store() -> tempfile::TempDir {
    // The committed sample, copied so that nothing here can change it.
    let dir = tempfile::tempdir().unwrap();
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(&from)
        .arg(dir.path().join("snapshots"))
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

#[test]
fn a_scope_that_matches_nothing_is_an_error_in_verify_and_fingerprint() {
    let dir = sample_store();
    let store = dir.path().join("snapshots");
    for scope in [
        "triggers:nosuch",
        "constraints:public.nosuch",
        "indexes:nosuch",
        "policies:nosuch",
        "schema:pubic",
        "function:public.nosuch()",
    ] {
        let r = driftgate(
            &store,
            &["verify", "entry", "--against", "exit", "--scope", scope],
        );
        assert_eq!(r.code, 2, "verify --scope {scope}: {r:?}");
        assert!(r.stdout.is_empty(), "no IDENTICAL line: {r:?}");
        assert!(r.stderr.contains("matches no object"), "{r:?}");
        let r = driftgate(&store, &["fingerprint", "entry", "--scope", scope]);
        assert_eq!(r.code, 2, "fingerprint --scope {scope}: {r:?}");
        assert!(r.stderr.contains("matches no object"), "{r:?}");
    }
}

#[test]
fn a_relation_with_an_empty_set_is_fine_and_says_so() {
    let dir = sample_store();
    let store = dir.path().join("snapshots");
    let r = driftgate(
        &store,
        &[
            "verify",
            "entry",
            "--against",
            "exit",
            "--scope",
            "triggers:public.dot_counts",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.starts_with("IDENTICAL triggers:public.dot_counts"),
        "{r:?}"
    );
    assert!(r.stderr.contains("exists and has none"), "{r:?}");
    // A set that is empty on one side and not on the other is drift, never an error.
    let r = driftgate(
        &store,
        &[
            "verify",
            "entry",
            "--against",
            "after-change",
            "--scope",
            "triggers:dot_tools",
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
}

#[test]
fn a_schema_filter_that_matches_nothing_stores_nothing() {
    let db = fixture_db("filters");
    let store = tempfile::tempdir().unwrap();
    for args in [
        vec!["--include-schema", "pubic"],
        vec!["--include-schema", "public", "--include-schema", "tenant_*"],
        vec!["--include-schema", "public", "--exclude-schema", "pub*"],
    ] {
        let mut all = vec!["snapshot", "--dsn", db.dsn.as_str(), "--ref", "f"];
        all.extend(args.iter().copied());
        let r = driftgate(store.path(), &all);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains("matches no schema"), "{r:?}");
        assert!(
            !store.path().join("refs/f").exists(),
            "nothing is stored for {args:?}"
        );
    }
    let r = driftgate(
        store.path(),
        &["snapshot", "--dsn", &db.dsn, "--include-schema", "pub*"],
    );
    assert_eq!(r.code, 0, "a pattern that matches is fine: {r:?}");
}

#[test]
fn a_check_target_whose_filter_matches_nothing_is_block_and_the_run_exits_2() {
    let db = fixture_db("checkfilter");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("driftgate.toml");
    std::fs::write(
        &config,
        format!(
            "[[target]]\nname = \"prod\"\ndsn = \"{}\"\ninclude_schemas = [\"pubic\"]\n",
            db.dsn
        ),
    )
    .unwrap();
    let store = dir.path().join("store");
    let report = dir.path().join("report.json");
    let r = driftgate(
        &store,
        &[
            "check",
            "--config",
            config.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let t = &v["targets"][0];
    assert_eq!(t["verdict"], "BLOCK", "{v:#}");
    assert!(
        t["error"]
            .as_str()
            .unwrap_or_default()
            .contains("matches no schema"),
        "{v:#}"
    );
}

/// `gate --expect`: the rehearsed change set passes; one missing or one extra change blocks;
/// a broken set fails closed.
#[test]
fn gate_expect_passes_exactly_the_approved_change_set() {
    let dir = sample_store();
    let store = dir.path().join("snapshots");
    let set = dir.path().join("approved.json");
    let r = driftgate(
        &store,
        &[
            "approve",
            "entry",
            "after-change",
            "-o",
            set.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let expect = set.to_str().unwrap();
    let r = driftgate(
        &store,
        &["gate", "entry", "after-change", "--expect", expect],
    );
    assert_eq!(r.code, 0, "the rehearsed set passes: {r:?}");
    assert!(r.stdout.starts_with("gate_drift: PASS"), "{r:?}");
    // Both approved changes missing (exit is the rehearsal's start state).
    let r = driftgate(
        &store,
        &[
            "gate", "entry", "exit", "--expect", expect, "--format", "json",
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["verdict"], "BLOCK");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"] == "approved-change-missing"),
        "{v:#}"
    );
    // An empty approved set: both changes are extra.
    let none = dir.path().join("none.json");
    let r = driftgate(
        &store,
        &["approve", "entry", "exit", "-o", none.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let r = driftgate(
        &store,
        &[
            "gate",
            "entry",
            "after-change",
            "--expect",
            none.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 2, "{v:#}");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"] == "unapproved-change"),
        "{v:#}"
    );
    // verify --expect: the same proof for a maintenance window.
    let r = driftgate(
        &store,
        &[
            "verify",
            "entry",
            "--against",
            "after-change",
            "--expect",
            expect,
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("AS APPROVED 2 change(s)"), "{r:?}");
    let r = driftgate(
        &store,
        &["verify", "entry", "--against", "exit", "--expect", expect],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(
        r.stdout.matches("approved-change-missing").count(),
        2,
        "{r:?}"
    );
    let r = driftgate(
        &store,
        &[
            "verify",
            "entry",
            "--against",
            "after-change",
            "--expect",
            expect,
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["format"], "driftgate.verify/v1");
    assert_eq!(v["verdict"], "as-approved");
    assert_eq!(v["approved"], 2);
    let r = driftgate(
        &store,
        &[
            "verify",
            "entry",
            "--against",
            "after-change",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (v["format"].as_str(), v["verdict"].as_str()),
        (Some("driftgate.verify/v1"), Some("drift"))
    );
    assert_eq!(v["scopes"][0]["scope"], "catalog");
    assert_eq!(v["scopes"][0]["identical"], false);
    // A broken set: BLOCK, exit 2.
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"format\": \"driftgate.approved/v1\"").unwrap();
    let r = driftgate(
        &store,
        &[
            "gate",
            "entry",
            "after-change",
            "--expect",
            broken.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.starts_with("gate_drift: BLOCK"), "{r:?}");
}

/// The schema filter applies to extensions too: with `--include-schema goodschema`, an
/// extension that lives in `public` was still reported (and its version drift with it).
#[test]
fn a_schema_filter_leaves_out_the_extensions_of_other_schemas() {
    let db = empty_db("ext_filter");
    let store = tempfile::tempdir().unwrap();
    db.sql(
        "CREATE SCHEMA goodschema; CREATE TABLE goodschema.t (a int);
         CREATE SCHEMA tools; CREATE EXTENSION pg_trgm SCHEMA tools;",
    );
    let kinds = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["snapshot", "--dsn", db.dsn.as_str(), "--ref", "x", "-q"];
        all.extend_from_slice(args);
        let r = driftgate(store.path(), &all);
        assert_eq!(r.code, 0, "{r:?}");
        let r = driftgate(store.path(), &["show", "x", "--format", "json"]);
        assert_eq!(r.code, 0, "{r:?}");
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let mut keys: Vec<String> = v
            .as_array()
            .unwrap_or_else(|| panic!("not an array: {}", r.stdout))
            .iter()
            .map(|o| o["key"].as_str().unwrap().to_string())
            .filter(|k| k.starts_with("extension:"))
            .collect();
        keys.sort();
        keys
    };
    assert_eq!(
        kinds(&["--include-schema", "goodschema"]),
        Vec::<String>::new()
    );
    assert_eq!(
        kinds(&[
            "--include-schema",
            "goodschema",
            "--include-schema",
            "tools"
        ]),
        vec!["extension:pg_trgm"]
    );
    assert_eq!(
        kinds(&["--exclude-schema", "tools"]),
        vec!["extension:plpgsql"],
        "plpgsql lives in pg_catalog, which no filter selects"
    );
    assert_eq!(
        kinds(&[]),
        vec!["extension:pg_trgm", "extension:plpgsql"],
        "no filter: every extension"
    );
}
