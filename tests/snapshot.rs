//! Snapshot capture and the store, against a real throwaway PostgreSQL (issue 2's must-shows).

mod support;

use serde_json::Value;
use std::time::Duration;
use support::*;

fn show_json(store: &std::path::Path, snap: &str, kind: &str) -> Vec<Value> {
    let r = driftgate(store, &["show", snap, "--kind", kind, "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    serde_json::from_str::<Vec<Value>>(&r.stdout).expect("show --format json prints a JSON array")
}

fn fingerprint(store: &std::path::Path, snap: &str) -> String {
    let r = driftgate(store, &["fingerprint", snap, "--scope", "catalog"]);
    assert_eq!(r.code, 0, "{r:?}");
    let line = r.stdout.trim();
    assert!(line.starts_with("catalog "), "{line}");
    line["catalog ".len()..].to_string()
}

#[test]
fn show_json_lists_the_13_dot_tools_triggers_with_their_properties() {
    let db = fixture_db("show_triggers");
    let store = tempfile::tempdir().unwrap();
    let r = driftgate(
        store.path(),
        &[
            "snapshot",
            "--dsn",
            &db.dsn,
            "--ref",
            "baseline",
            "--exact-counts",
            "public.dot_tools",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let id = r.stdout.trim();
    assert_eq!(id.len(), 64, "snapshot prints its 64-hex id: {r:?}");

    let triggers = show_json(store.path(), "baseline", "trigger");
    let on_dot_tools: Vec<&Value> = triggers
        .iter()
        .filter(|t| t["table"] == "public.dot_tools")
        .collect();
    assert_eq!(on_dot_tools.len(), 13, "{on_dot_tools:#?}");
    for t in &on_dot_tools {
        for field in [
            "kind",
            "key",
            "hash",
            "timing",
            "events",
            "level",
            "enabled",
            "function",
            "definition",
        ] {
            assert!(!t[field].is_null(), "trigger lacks {field}: {t}");
        }
        assert_eq!(t["kind"], "trigger");
        assert_eq!(t["enabled"], "origin");
    }
    let by_name = |n: &str| -> &Value {
        on_dot_tools
            .iter()
            .find(|t| t["name"] == n)
            .unwrap_or_else(|| panic!("no trigger {n}"))
    };
    let before_row = on_dot_tools
        .iter()
        .filter(|t| t["timing"] == "before" && t["level"] == "row")
        .count();
    assert_eq!(before_row, 5);
    let stmt = by_name("trg_refresh_registry_count");
    assert_eq!(stmt["level"], "statement");
    assert_eq!(stmt["events"], serde_json::json!(["insert", "delete"]));
    let ctx = by_name("trg_context_pack_dot_register");
    assert_eq!(ctx["when"], "(new.status = 'active'::text)");
    assert_eq!(ctx["update_columns"], serde_json::json!(["status", "tier"]));
    assert_eq!(ctx["events"], serde_json::json!(["insert", "update"]));
    assert_eq!(
        by_name("trg_birth_registry_auto")["arguments"],
        serde_json::json!(["code"])
    );
    assert_eq!(
        by_name("trg_birth_registry_auto_name")["arguments"],
        serde_json::json!(["name"])
    );
    assert_eq!(
        by_name("trg_birth_registry_auto")["function"],
        by_name("trg_birth_registry_auto_name")["function"]
    );

    let layer2 = triggers
        .iter()
        .find(|t| t["key"] == "trigger:public.birth_registry.trg_iu_birth_gate_layer2")
        .expect("constraint trigger on birth_registry");
    assert_eq!(layer2["constraint_trigger"], true);
    assert_eq!(layer2["deferrable"], true);
    assert_eq!(layer2["initially_deferred"], true);

    let functions = show_json(store.path(), "baseline", "function");
    let gate = functions
        .iter()
        .find(|f| f["key"] == "function:public.fn_birth_gate()")
        .expect("fn_birth_gate");
    assert!(gate["source"]
        .as_str()
        .unwrap()
        .contains("fn_pre_birth_check('code_format'"));
    assert!(gate["definition"]
        .as_str()
        .unwrap()
        .starts_with("CREATE OR REPLACE FUNCTION public.fn_birth_gate()"));
    assert_eq!(gate["body_hash"].as_str().unwrap().len(), 64);
    assert_eq!(gate["token_hash"].as_str().unwrap().len(), 64);

    let constraints = show_json(store.path(), "baseline", "constraint");
    let check = constraints
        .iter()
        .find(|c| {
            c["key"]
                == "constraint:public.birth_admission_permit.birth_admission_permit_status_check"
        })
        .expect("7-state CHECK");
    let def = check["definition"].as_str().unwrap();
    for state in [
        "REQUESTED",
        "RESERVED",
        "CONSUMED",
        "FINALIZED",
        "FAILED",
        "EXPIRED",
        "CANCELLED",
    ] {
        assert!(def.contains(state), "{state} missing from {def}");
    }
    let indexes = show_json(store.path(), "baseline", "index");
    let single = indexes
        .iter()
        .find(|i| i["key"] == "index:public.birth_admission_permit_single_active")
        .expect("partial unique index");
    assert_eq!(single["unique"], true);
    assert!(single["predicate"].as_str().unwrap().contains("REQUESTED"));

    let events = show_json(store.path(), "baseline", "event_trigger");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["key"], "event_trigger:trg_ddl_guard");
    assert_eq!(events[0]["event"], "ddl_command_start");
    assert_eq!(
        events[0]["tags"],
        serde_json::json!(["ALTER TABLE", "DROP FUNCTION", "DROP TABLE"])
    );

    let counts = show_json(store.path(), "baseline", "count");
    let dot = counts
        .iter()
        .find(|c| c["table"] == "public.dot_tools")
        .unwrap();
    assert_eq!(dot["exact"], 309);
    let birth = counts
        .iter()
        .find(|c| c["table"] == "public.birth_registry")
        .unwrap();
    assert!(
        birth["exact"].is_null(),
        "exact counts only where asked: {birth}"
    );
    assert_eq!(birth["estimate"], 618);

    let views = show_json(store.path(), "baseline", "view");
    assert_eq!(views.len(), 1);
    assert_eq!(
        views[0]["acl"].as_array().map(|a| a.len()),
        Some(2),
        "{}",
        views[0]
    );
}

#[test]
fn unchanged_catalog_keeps_its_fingerprint_and_a_clone_from_the_same_sql_matches() {
    let db = fixture_db("fp_a");
    let clone = empty_db("fp_b");
    // Give the clone different OIDs: create and drop objects before loading the same SQL.
    clone.sql("CREATE TABLE scratch (a int); DROP TABLE scratch; CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1'; DROP FUNCTION f();");
    clone.sql(&std::fs::read_to_string(FIXTURE).unwrap());
    let store = tempfile::tempdir().unwrap();
    for (db, r) in [(&db, "a1"), (&db, "a2"), (&clone, "b1")] {
        let run = driftgate(store.path(), &["snapshot", "--dsn", &db.dsn, "--ref", r]);
        assert_eq!(run.code, 0, "{run:?}");
    }
    let a1 = fingerprint(store.path(), "a1");
    assert_eq!(
        a1,
        fingerprint(store.path(), "a2"),
        "re-snapshot of an unchanged catalog"
    );
    assert_eq!(
        a1,
        fingerprint(store.path(), "b1"),
        "a database built from the same SQL"
    );
    let oid_a: String = db.query("SELECT 'fn_birth_gate'::regproc::oid");
    let oid_b: String = clone.query("SELECT 'fn_birth_gate'::regproc::oid");
    assert_ne!(
        oid_a, oid_b,
        "the clone must really have other OIDs for this test to mean anything"
    );

    // The second snapshot of the same catalog costs (almost) nothing in the store.
    let log = driftgate(store.path(), &["log", "--format", "json"]);
    let entries: Vec<Value> = serde_json::from_str(&log.stdout).unwrap();
    assert_eq!(entries.len(), 3);
    assert!(entries
        .iter()
        .all(|e| e["catalog"] == entries[0]["catalog"]));

    // And a change moves it.
    db.sql("ALTER TABLE dot_tools ADD COLUMN retired_at timestamptz");
    let run = driftgate(store.path(), &["snapshot", "--dsn", &db.dsn, "--ref", "a3"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_ne!(a1, fingerprint(store.path(), "a3"));
}

#[test]
fn a_held_access_exclusive_lock_fails_within_the_lock_timeout_naming_the_table() {
    let db = fixture_db("lock_held");
    let store = tempfile::tempdir().unwrap();
    let mut holder = db.session();
    holder.send("BEGIN; LOCK TABLE dot_tools IN ACCESS EXCLUSIVE MODE;");
    wait_until(Duration::from_secs(20), "the lock to be held", || {
        db.query(
            "SELECT count(*) FROM pg_locks WHERE granted AND mode = 'AccessExclusiveLock' \
             AND relation = 'dot_tools'::regclass",
        ) == "1"
    });

    // The view over dot_tools has to be parsed (pg_get_viewdef locks what it reads).
    let r = driftgate(
        store.path(),
        &[
            "snapshot",
            "--dsn",
            &db.dsn,
            "--ref",
            "x",
            "--lock-timeout",
            "1s",
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("lock timeout"), "{r:?}");
    assert!(
        r.stderr.contains("public.dot_tools"),
        "the error names the locked table: {r:?}"
    );
    assert!(
        r.elapsed < Duration::from_secs(30),
        "bounded by the lock timeout, not hung: {r:?}"
    );
    assert!(
        files_under(store.path()).is_empty(),
        "nothing partial is stored: {:?}",
        files_under(store.path())
    );

    // With the locked table's schema left out, nothing has to wait.
    let r = driftgate(
        store.path(),
        &[
            "snapshot",
            "--dsn",
            &db.dsn,
            "--exclude-schema",
            "public",
            "--lock-timeout",
            "1s",
        ],
    );
    assert_eq!(
        r.code, 0,
        "with the locked table's schema excluded nothing waits: {r:?}"
    );
    drop(holder);
}

#[test]
fn a_lock_on_a_table_no_view_reads_does_not_block_a_snapshot_without_exact_counts() {
    let db = fixture_db("lock_free");
    let store = tempfile::tempdir().unwrap();
    let mut holder = db.session();
    holder.send("BEGIN; LOCK TABLE orphan_dots IN ACCESS EXCLUSIVE MODE;");
    wait_until(Duration::from_secs(20), "the lock to be held", || {
        db.query(
            "SELECT count(*) FROM pg_locks WHERE granted AND mode = 'AccessExclusiveLock' \
             AND relation = 'orphan_dots'::regclass",
        ) == "1"
    });
    let r = driftgate(
        store.path(),
        &["snapshot", "--dsn", &db.dsn, "--lock-timeout", "2s"],
    );
    assert_eq!(
        r.code, 0,
        "catalog reads take no lock on user tables: {r:?}"
    );

    let r = driftgate(
        store.path(),
        &[
            "snapshot",
            "--dsn",
            &db.dsn,
            "--exact-counts",
            "orphan_dots",
            "--lock-timeout",
            "1s",
            "--ref",
            "counted",
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("counting rows of public.orphan_dots"),
        "{r:?}"
    );
    assert!(
        r.stderr.contains("relation public.orphan_dots is locked"),
        "{r:?}"
    );
    let refs = store.path().join("refs/counted");
    assert!(!refs.exists(), "no ref moves on failure");
    drop(holder);
}

#[test]
fn a_flipped_byte_in_a_stored_object_fails_fsck_and_reads_naming_the_file() {
    let db = fixture_db("flip");
    let store = tempfile::tempdir().unwrap();
    let r = driftgate(
        store.path(),
        &["snapshot", "--dsn", &db.dsn, "--ref", "base"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let r = driftgate(store.path(), &["fsck"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("ok:"), "{r:?}");

    let pack = files_under(store.path())
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "pack"))
        .expect("a pack file");
    let mut bytes = std::fs::read(&pack).unwrap();
    let at = bytes
        .windows(b"fn_birth_gate".len())
        .position(|w| w == b"fn_birth_gate")
        .expect("the function is in the pack");
    bytes[at] ^= 0x01;
    std::fs::write(&pack, &bytes).unwrap();
    let name = pack.file_name().unwrap().to_string_lossy().to_string();

    let r = driftgate(store.path(), &["fsck"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.all().contains(&name), "fsck names the file: {r:?}");
    assert!(r.stdout.starts_with("CORRUPT"), "{r:?}");

    let r = driftgate(store.path(), &["show", "base"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains(&name), "a read names the file: {r:?}");
    assert!(r.stderr.contains("hash mismatch"), "{r:?}");
}

#[test]
fn a_password_in_the_dsn_appears_nowhere() {
    let db = fixture_db("secret");
    let secret = "S3cr3t-Pw-7f9q";
    db.sql(&format!(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pwuser') THEN \
         CREATE ROLE pwuser LOGIN PASSWORD '{secret}'; END IF; END $$; \
         ALTER ROLE pwuser PASSWORD '{secret}';"
    ));
    let store = tempfile::tempdir().unwrap();
    let url = db.dsn_as(&format!("pwuser:{secret}"));
    let r = driftgate(
        store.path(),
        &[
            "snapshot", "--dsn", &url, "--ref", "pw", "--label", "pw test",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.all().contains(secret), "{r:?}");
    for run in [
        driftgate(store.path(), &["show", "pw", "--format", "json"]),
        driftgate(store.path(), &["log", "--format", "json"]),
        driftgate(store.path(), &["log", "pw"]),
    ] {
        assert_eq!(run.code, 0, "{run:?}");
        assert!(!run.all().contains(secret));
        assert!(!run.all().contains(&format!("{secret}@")));
    }
    // A wrong password and a key=value DSN: the error says what failed, not the secret.
    let wrong = db.dsn_as(&format!("pwuser:{secret}-wrong"));
    let r = driftgate(store.path(), &["snapshot", "--dsn", &wrong]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("cannot connect"), "{r:?}");
    assert!(!r.all().contains(secret), "{r:?}");
    let kv = format!(
        "host=127.0.0.1 port={} user=pwuser password='{secret}' dbname={}",
        cluster().port,
        db.name
    );
    let r = driftgate(store.path(), &["snapshot", "--dsn", &kv, "--ref", "kv"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.all().contains(secret), "{r:?}");
    // Nor does it reach the store.
    for file in files_under(store.path()) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{} holds the password",
            file.display()
        );
    }
}

#[test]
fn expect_database_refuses_another_database_and_stores_nothing() {
    let db = fixture_db("not_a_clone");
    let store = tempfile::tempdir().unwrap();
    let r = driftgate(
        store.path(),
        &[
            "snapshot",
            "--dsn",
            &db.dsn,
            "--expect-database",
            "directus_gov_test_%",
            "--ref",
            "x",
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("does not match --expect-database"),
        "{r:?}"
    );
    assert!(files_under(store.path()).is_empty());
    let pattern = format!("{}%", &db.name[..8]);
    let r = driftgate(
        store.path(),
        &["snapshot", "--dsn", &db.dsn, "--expect-database", &pattern],
    );
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn include_and_exclude_schema_patterns_select_what_is_captured() {
    let db = fixture_db("schemas");
    db.sql("CREATE SCHEMA audit; CREATE TABLE audit.events (id int); CREATE SCHEMA scratch_1; CREATE TABLE scratch_1.t (id int);");
    let store = tempfile::tempdir().unwrap();
    let r = driftgate(
        store.path(),
        &["snapshot", "--dsn", &db.dsn, "--ref", "all"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let r = driftgate(
        store.path(),
        &[
            "snapshot",
            "--dsn",
            &db.dsn,
            "--ref",
            "some",
            "--exclude-schema",
            "scratch_*",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let r = driftgate(
        store.path(),
        &[
            "snapshot",
            "--dsn",
            &db.dsn,
            "--ref",
            "only",
            "--include-schema",
            "audit",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let tables = |r: &str| -> Vec<String> {
        show_json(store.path(), r, "table")
            .iter()
            .map(|t| t["key"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(tables("all").contains(&"table:scratch_1.t".to_string()));
    assert!(!tables("some").contains(&"table:scratch_1.t".to_string()));
    assert!(tables("some").contains(&"table:audit.events".to_string()));
    assert_eq!(tables("only"), vec!["table:audit.events".to_string()]);
}

#[test]
fn bad_input_is_exit_2_with_a_clear_message() {
    let store = tempfile::tempdir().unwrap();
    let r = driftgate(store.path(), &["show", "baseline"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("no driftgate store"), "{r:?}");

    let db = fixture_db("badinput");
    let r = driftgate(
        store.path(),
        &["snapshot", "--dsn", &db.dsn, "--ref", "../../x"],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("invalid ref name"), "{r:?}");
    assert!(
        files_under(store.path()).is_empty(),
        "a bad ref name is refused before anything is written"
    );

    let r = driftgate(
        store.path(),
        &[
            "snapshot",
            "--dsn",
            &db.dsn,
            "--exact-counts",
            "no_such_table",
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("public.no_such_table"), "{r:?}");

    let r = driftgate(store.path(), &["snapshot", "--dsn", &db.dsn, "--ref", "ok"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = driftgate(store.path(), &["show", "nosuchref"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("unknown snapshot \"nosuchref\""), "{r:?}");
    assert!(r.stderr.contains("refs here: ok"), "{r:?}");

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let r = driftgate(
        store.path(),
        &[
            "snapshot",
            "--dsn",
            &format!("postgresql://postgres@127.0.0.1:{port}/x"),
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("cannot connect to postgres@127.0.0.1"),
        "{r:?}"
    );
}

#[test]
fn export_writes_a_file_that_reads_back_and_a_hand_edit_is_refused() {
    let db = fixture_db("export");
    let store = tempfile::tempdir().unwrap();
    assert_eq!(
        driftgate(store.path(), &["snapshot", "--dsn", &db.dsn, "--ref", "b"]).code,
        0
    );
    let file = store.path().join("b.json");
    let r = driftgate(store.path(), &["export", "b", "-o", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    let from_file = fingerprint(store.path(), file.to_str().unwrap());
    assert_eq!(from_file, fingerprint(store.path(), "b"));

    let text = std::fs::read_to_string(&file).unwrap();
    let edited = text.replacen("trg_auto_code_dot_tools", "trg_auto_code_dot_toolz", 1);
    std::fs::write(&file, edited).unwrap();
    let r = driftgate(store.path(), &["fingerprint", file.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("catalog hash mismatch"), "{r:?}");

    std::fs::write(&file, &text[..text.len() / 2]).unwrap();
    let r = driftgate(store.path(), &["fingerprint", file.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("not JSON"), "{r:?}");
}

#[test]
fn a_store_path_whose_parents_do_not_exist_yet_is_created() {
    let db = fixture_db("nested_store");
    let base = tempfile::tempdir().unwrap();
    let store = base.path().join("team/nightly/snapshots");
    let r = driftgate(&store, &["snapshot", "--dsn", &db.dsn, "--ref", "b"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(store.join("STORE").is_file());
    let r = driftgate(&store, &["fsck"]);
    assert_eq!(r.code, 0, "{r:?}");

    // A failed capture into a path that does not exist leaves no directory behind.
    let other = base.path().join("elsewhere/snapshots");
    let r = driftgate(
        &other,
        &[
            "snapshot",
            "--dsn",
            &db.dsn,
            "--exact-counts",
            "no_such_table",
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        !base.path().join("elsewhere").exists(),
        "nothing is left behind"
    );
}

/// A range type's constructor functions (and on 14+ its multirange ones) belong to the type,
/// as pg_dump treats them: captured as functions, 13 and 14+ differed by three functions per
/// range type.
#[test]
fn range_constructors_are_part_of_the_type_not_functions() {
    let db = empty_db("rangector");
    db.sql(
        "CREATE TYPE public.span AS RANGE (subtype = int4);
         CREATE FUNCTION public.own(public.span) RETURNS int LANGUAGE sql AS 'SELECT 1';",
    );
    let store = tempfile::tempdir().unwrap();
    let r = driftgate(store.path(), &["snapshot", "--dsn", &db.dsn, "--ref", "s"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = driftgate(
        store.path(),
        &["show", "s", "--kind", "function", "--format", "json"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let functions: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    let keys: Vec<&str> = functions
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["function:public.own(public.span)"], "{keys:?}");
    let r = driftgate(
        store.path(),
        &["show", "s", "--kind", "type", "--format", "json"],
    );
    assert!(r.stdout.contains("type:public.span"), "{r:?}");
}
