//! diff, verify and the gate_drift verdict against a real throwaway PostgreSQL (issue 3's
//! must-shows), on the seeds-shaped fixture.

mod support;

use serde_json::Value;
use std::path::Path;
use support::*;

fn snapshot(store: &Path, db: &TestDb, name: &str, extra: &[&str]) -> String {
    let mut args = vec!["snapshot", "--dsn", &db.dsn, "--ref", name, "-q"];
    args.extend_from_slice(extra);
    let r = driftgate(store, &args);
    assert_eq!(r.code, 0, "{r:?}");
    r.stdout.trim().to_string()
}

fn json(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {r:?}"))
}

/// `KIND:KEY SCOPE → (status, base hash, head hash)` from verify's output lines.
fn verify_lines(r: &Run) -> Vec<(String, String, String, String)> {
    r.stdout
        .lines()
        .filter(|l| !l.starts_with("  "))
        .map(|l| {
            let parts: Vec<&str> = l.split(' ').collect();
            assert_eq!(
                parts.len(),
                4,
                "verify line is STATUS SCOPE HASH HASH: {l:?}"
            );
            (
                parts[0].to_string(),
                parts[1].to_string(),
                parts[2].to_string(),
                parts[3].to_string(),
            )
        })
        .collect()
}

fn fingerprints(store: &Path, snap: &str, scopes: &[&str]) -> Vec<String> {
    let mut args = vec!["fingerprint", snap];
    for s in scopes {
        args.extend_from_slice(&["--scope", s]);
    }
    let r = driftgate(store, &args);
    assert_eq!(r.code, 0, "{r:?}");
    r.stdout
        .lines()
        .map(|l| l.rsplit(' ').next().unwrap().to_string())
        .collect()
}

/// The fixture's `CREATE FUNCTION name() … END $$;` text, as `CREATE OR REPLACE`.
fn fixture_function(name: &str) -> String {
    let sql = std::fs::read_to_string(FIXTURE).unwrap();
    let start = sql
        .find(&format!("CREATE FUNCTION {name}("))
        .unwrap_or_else(|| panic!("no function {name} in the fixture"));
    let end = start + sql[start..].find("END $$;").unwrap() + "END $$;".len();
    sql[start..end].replacen("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
}

const WARNING_MODE: &str =
    "v_mode text := coalesce(current_setting('app.birth_gate_mode', true), 'warning');";
const BLOCKING_MODE: &str =
    "v_mode text := coalesce(current_setting('app.birth_gate_mode', true), 'blocking');";

/// Must-show 1: a rollback-only rehearsal leaves the catalog exactly as it was.
#[test]
fn verify_after_a_rollback_only_rehearsal_is_identical() {
    let db = fixture_db("diff_rehearsal");
    let store = tempfile::tempdir().unwrap();
    snapshot(store.path(), &db, "entry", &[]);

    db.sql(
        "BEGIN;\n\
         INSERT INTO dot_tools (name, status, tier) VALUES ('rehearsal', 'active', 'A');\n\
         ALTER TABLE dot_tools DISABLE TRIGGER trg_refresh_orphan_dot;\n\
         ROLLBACK;",
    );
    assert_eq!(db.query("SELECT count(*) FROM dot_tools"), "309");

    let scopes = [
        "catalog",
        "triggers:dot_tools",
        "function:public.fn_birth_gate()",
    ];
    let mut args = vec!["verify", "entry", "--dsn", &db.dsn];
    for s in scopes {
        args.extend_from_slice(&["--scope", s]);
    }
    let r = driftgate(store.path(), &args);
    assert_eq!(r.code, 0, "{r:?}");
    let lines = verify_lines(&r);
    assert_eq!(lines.len(), 3, "{r:?}");
    let stored = fingerprints(store.path(), "entry", &scopes);
    for ((status, scope, base, head), want) in lines.iter().zip(&stored) {
        assert_eq!(status, "IDENTICAL", "{r:?}");
        assert_eq!(base, head, "{scope}");
        assert_eq!(base.len(), 64, "{scope}: full hashes are printed");
        assert_eq!(
            base, want,
            "{scope}: verify prints the same hash as fingerprint"
        );
    }
    assert_eq!(lines[1].1, "triggers:public.dot_tools");
}

/// Must-show 2: one committed literal change is caught by verify, gate and diff.
#[test]
fn a_committed_literal_change_fails_verify_blocks_the_gate_and_diff_shows_the_line() {
    let db = fixture_db("diff_literal");
    let store = tempfile::tempdir().unwrap();
    snapshot(store.path(), &db, "entry", &[]);

    let original = fixture_function("fn_birth_gate");
    assert!(original.contains(WARNING_MODE));
    db.sql(&original.replace(WARNING_MODE, BLOCKING_MODE));

    let r = driftgate(store.path(), &["verify", "entry", "--dsn", &db.dsn]);
    assert_eq!(r.code, 1, "{r:?}");
    let lines = verify_lines(&r);
    assert_eq!(lines[0].0, "DRIFT", "{r:?}");
    assert_ne!(lines[0].2, lines[0].3);
    assert!(
        r.stdout
            .contains("  changed function:public.fn_birth_gate() (definition)"),
        "{r:?}"
    );

    snapshot(store.path(), &db, "exit", &[]);
    let r = driftgate(store.path(), &["gate", "entry", "exit", "--format", "json"]);
    assert_eq!(r.code, 1, "BLOCK exits 1: {r:?}");
    let g = json(&r);
    assert_eq!(g["format"], "driftgate.gate/v1");
    assert_eq!(g["gate"], "gate_drift");
    assert_eq!(g["verdict"], "BLOCK");
    let findings = g["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{g:#}");
    assert_eq!(findings[0]["kind"], "function");
    assert_eq!(findings[0]["key"], "function:public.fn_birth_gate()");
    assert_eq!(findings[0]["change"], "changed");
    assert_eq!(findings[0]["severity"], "block");
    assert_eq!(findings[0]["rule"], "catalog-change");
    assert_eq!(findings[0]["fields"], serde_json::json!(["definition"]));
    assert_eq!(g["dims"], serde_json::json!({"function": 1}));
    assert_eq!(g["summary"]["changed"], 1);
    let ids: Vec<String> = ["entry", "exit"]
        .iter()
        .map(|r| {
            let log = driftgate(store.path(), &["log", r, "--format", "json"]);
            let log: Value = serde_json::from_str(&log.stdout).unwrap();
            log[0]["snapshot"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(g["base"], ids[0].as_str(), "base is the snapshot id");
    assert_eq!(g["head"], ids[1].as_str());

    let r = driftgate(store.path(), &["diff", "entry", "exit"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains(&format!("\n-    {WARNING_MODE}\n")),
        "{r:?}"
    );
    assert!(
        r.stdout.contains(&format!("\n+    {BLOCKING_MODE}\n")),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("--- base/function:public.fn_birth_gate()"),
        "{r:?}"
    );

    let r = driftgate(store.path(), &["diff", "entry", "exit", "--format", "json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let d = json(&r);
    assert_eq!(d["format"], "driftgate.diff/v1");
    assert_eq!(d["changes"].as_array().unwrap().len(), 1, "{d:#}");
    let unified = d["changes"][0]["definitions"][0]["unified"]
        .as_str()
        .unwrap();
    assert!(
        unified.contains(&format!("+    {BLOCKING_MODE}")),
        "{unified}"
    );

    let r = driftgate(
        store.path(),
        &["diff", "entry", "exit", "--format", "markdown"],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.starts_with("### driftgate diff: drift"), "{r:?}");
    assert!(r.stdout.contains("```diff\n"), "{r:?}");

    // Putting the literal back restores the entry hash exactly.
    db.sql(&original);
    let r = driftgate(store.path(), &["verify", "entry", "--dsn", &db.dsn]);
    assert_eq!(r.code, 0, "{r:?}");
}

/// Must-show 3: re-indenting a body (and adding a comment) is whitespace-only: WARN.
#[test]
fn a_reindented_function_is_a_whitespace_only_warning() {
    let db = fixture_db("diff_whitespace");
    let store = tempfile::tempdir().unwrap();
    snapshot(store.path(), &db, "entry", &[]);

    let reindented = fixture_function("fn_birth_gate")
        .replace("\n    ", "\n\t\t")
        .replace("RETURN NEW;", "RETURN NEW; -- unchanged behaviour");
    db.sql(&reindented);
    snapshot(store.path(), &db, "exit", &[]);

    let r = driftgate(store.path(), &["gate", "entry", "exit", "--format", "json"]);
    assert_eq!(r.code, 0, "WARN exits 0 unless --fail-on warn: {r:?}");
    let g = json(&r);
    assert_eq!(g["verdict"], "WARN", "{g:#}");
    let findings = g["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{g:#}");
    assert_eq!(findings[0]["key"], "function:public.fn_birth_gate()");
    assert_eq!(findings[0]["change"], "whitespace-only");
    assert_eq!(findings[0]["severity"], "warn");
    assert_eq!(findings[0]["rule"], "whitespace-only");

    let r = driftgate(
        store.path(),
        &["gate", "entry", "exit", "--fail-on", "warn"],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.starts_with("gate_drift: WARN\n"), "{r:?}");

    let policy = store.path().join("cosmetic.toml");
    std::fs::write(
        &policy,
        "[[rules]]\nname = \"cosmetic\"\nkind = \"function\"\nchange = \"whitespace-only\"\nseverity = \"ignore\"\n",
    )
    .unwrap();
    let r = driftgate(
        store.path(),
        &[
            "gate",
            "entry",
            "exit",
            "--format",
            "json",
            "--policy",
            policy.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let g = json(&r);
    assert_eq!(g["verdict"], "PASS", "{g:#}");
    assert_eq!(g["summary"]["ignored"], 1);

    let r = driftgate(store.path(), &["diff", "entry", "exit", "--format", "json"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(json(&r)["changes"][0]["change"], "whitespace-only");
}

/// Must-show 4: disabling a trigger changes the trigger (enabled) and its table's trigger
/// set, and nothing of an untouched table.
#[test]
fn disabling_a_trigger_changes_its_table_trigger_set_and_nothing_else() {
    let db = fixture_db("diff_disable");
    let store = tempfile::tempdir().unwrap();
    snapshot(store.path(), &db, "entry", &[]);
    db.sql("ALTER TABLE dot_tools DISABLE TRIGGER trg_refresh_orphan_dot;");
    snapshot(store.path(), &db, "exit", &[]);

    let scopes = [
        "triggers:dot_tools",
        "constraints:birth_registry",
        "triggers:birth_registry",
        "constraints:dot_tools",
    ];
    let before = fingerprints(store.path(), "entry", &scopes);
    let after = fingerprints(store.path(), "exit", &scopes);
    assert_ne!(before[0], after[0], "triggers:dot_tools must change");
    assert_eq!(before[1], after[1], "constraints:birth_registry must not");
    assert_eq!(before[2], after[2], "triggers:birth_registry must not");
    assert_eq!(before[3], after[3], "constraints:dot_tools must not");

    let r = driftgate(store.path(), &["diff", "entry", "exit", "--format", "json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let d = json(&r);
    let changes = d["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{d:#}");
    assert_eq!(
        changes[0]["key"],
        "trigger:public.dot_tools.trg_refresh_orphan_dot"
    );
    assert_eq!(changes[0]["change"], "changed");
    assert_eq!(
        changes[0]["fields"],
        serde_json::json!([{"path": "enabled", "old": "origin", "new": "disabled"}])
    );

    let r = driftgate(
        store.path(),
        &[
            "verify",
            "entry",
            "--dsn",
            &db.dsn,
            "--scope",
            "triggers:dot_tools",
            "--scope",
            "constraints:birth_registry",
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    let lines = verify_lines(&r);
    assert_eq!(
        (lines[0].0.as_str(), lines[0].1.as_str()),
        ("DRIFT", "triggers:public.dot_tools")
    );
    assert_eq!(
        (lines[1].0.as_str(), lines[1].1.as_str()),
        ("IDENTICAL", "constraints:public.birth_registry")
    );
    assert!(
        r.stdout
            .contains("  changed trigger:public.dot_tools.trg_refresh_orphan_dot (enabled)"),
        "{r:?}"
    );
    let r = driftgate(store.path(), &["gate", "entry", "exit", "--format", "json"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(
        json(&r)["findings"][0]["fields"],
        serde_json::json!(["enabled"])
    );
}

/// Must-show 5: exact count 309 → 310 warns; a tolerance of one row passes it.
#[test]
fn exact_count_drift_warns_and_a_tolerance_of_one_passes() {
    let db = fixture_db("diff_counts");
    let store = tempfile::tempdir().unwrap();
    let counts = ["--exact-counts", "public.dot_tools"];
    snapshot(store.path(), &db, "entry", &counts);
    db.sql("INSERT INTO dot_tools (name, status, tier) VALUES ('Tool 310', 'draft', 'B');");
    assert_eq!(db.query("SELECT count(*) FROM dot_tools"), "310");
    snapshot(store.path(), &db, "exit", &counts);

    let r = driftgate(store.path(), &["diff", "entry", "exit", "--format", "json"]);
    assert_eq!(r.code, 1, "exact count drift is drift: {r:?}");
    let d = json(&r);
    assert_eq!(
        d["changes"],
        serde_json::json!([]),
        "the catalog did not change: {d:#}"
    );
    let dot = d["counts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["table"] == "public.dot_tools")
        .unwrap_or_else(|| panic!("no count change for dot_tools: {d:#}"));
    assert_eq!(
        dot["exact"],
        serde_json::json!({"old": 309, "new": 310, "delta": 1})
    );
    assert_eq!(dot["drift"], true);
    assert_eq!(d["summary"]["count_drift"], 1);

    let r = driftgate(store.path(), &["gate", "entry", "exit", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let g = json(&r);
    assert_eq!(g["verdict"], "WARN", "{g:#}");
    let findings = g["findings"].as_array().unwrap();
    assert_eq!(
        findings.len(),
        1,
        "estimates of the other tables are not drift: {g:#}"
    );
    assert_eq!(findings[0]["kind"], "count");
    assert_eq!(findings[0]["key"], "count:public.dot_tools");
    assert_eq!(findings[0]["change"], "count");
    assert_eq!(findings[0]["rule"], "count-drift");
    assert_eq!(findings[0]["count"]["delta"], 1);

    let policy = store.path().join("tolerant.toml");
    std::fs::write(&policy, "[counts.tables]\ndot_tools = 1\n").unwrap();
    let p = policy.to_str().unwrap();
    let r = driftgate(
        store.path(),
        &["gate", "entry", "exit", "--format", "json", "--policy", p],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let g = json(&r);
    assert_eq!(g["verdict"], "PASS", "{g:#}");
    assert_eq!(g["findings"], serde_json::json!([]));
    assert_eq!(g["summary"]["ignored"], 1);

    std::fs::write(
        &policy,
        "[counts.tables]\n\"public.dot_tools\" = \"0.1%\"\n",
    )
    .unwrap();
    let r = driftgate(
        store.path(),
        &["gate", "entry", "exit", "--format", "json", "--policy", p],
    );
    assert_eq!(
        json(&r)["verdict"],
        "WARN",
        "1 row is more than 0.1% of 309: {r:?}"
    );

    // A live side counts the same tables as the stored side it is compared with.
    let r = driftgate(
        store.path(),
        &[
            "gate", "entry", "live", "--dsn", &db.dsn, "--format", "json",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let g = json(&r);
    assert_eq!(g["verdict"], "WARN", "{g:#}");
    assert_eq!(g["findings"][0]["key"], "count:public.dot_tools");
    assert_eq!(g["head"], "live");
}

/// Must-show 6: production vs a clone built from the same SQL plus one index.
#[test]
fn two_databases_from_the_same_sql_differ_only_by_the_extra_index() {
    let prod = fixture_db("diff_prod");
    let clone = fixture_db("diff_clone");
    clone.sql("CREATE INDEX dot_tools_status_idx ON dot_tools (status);");
    let store = tempfile::tempdir().unwrap();
    snapshot(store.path(), &prod, "prod", &[]);
    snapshot(store.path(), &clone, "clone", &[]);

    let r = driftgate(store.path(), &["diff", "prod", "clone", "--format", "json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let d = json(&r);
    let changes = d["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{d:#}");
    assert_eq!(changes[0]["key"], "index:public.dot_tools_status_idx");
    assert_eq!(changes[0]["kind"], "index");
    assert_eq!(changes[0]["change"], "added");
    assert_eq!(d["summary"]["count_drift"], 0);

    let r = driftgate(store.path(), &["diff", "prod", "live", "--dsn", &clone.dsn]);
    assert_eq!(r.code, 1, "{r:?}");
    let rows: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains(" | ") && !l.contains("CHANGE") && !l.contains("TABLE"))
        .collect();
    assert_eq!(rows.len(), 1, "{r:?}");
    assert!(
        rows[0].contains("added") && rows[0].contains("index:public.dot_tools_status_idx"),
        "{r:?}"
    );

    let r = driftgate(store.path(), &["diff", "prod", "live", "--dsn", &prod.dsn]);
    assert_eq!(r.code, 0, "prod against itself: {r:?}");
    assert!(r.stdout.contains("no catalog changes"), "{r:?}");
}

/// Must-show 7: an unreachable side still prints BLOCK, and exits 2.
#[test]
fn an_unreachable_database_blocks_fail_closed_with_exit_2() {
    let db = fixture_db("diff_unreachable");
    let store = tempfile::tempdir().unwrap();
    snapshot(store.path(), &db, "entry", &[]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("postgresql://postgres@127.0.0.1:{port}/gov");

    let r = driftgate(
        store.path(),
        &["gate", "entry", "live", "--dsn", &dead, "--format", "json"],
    );
    assert_eq!(r.code, 2, "{r:?}");
    let g = json(&r);
    assert_eq!(g["gate"], "gate_drift");
    assert_eq!(g["verdict"], "BLOCK");
    let error = g["error"].as_str().unwrap();
    assert!(error.starts_with("head: "), "{error}");
    assert!(error.contains("cannot connect"), "{error}");
    assert_eq!(g["findings"][0]["rule"], "fail-closed");
    assert!(r.stderr.contains("driftgate: error:"), "{r:?}");

    let r = driftgate(store.path(), &["gate", "live", "entry", "--dsn", &dead]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.starts_with("gate_drift: BLOCK\n"), "{r:?}");
    assert!(r.stdout.contains("fail-closed: base: "), "{r:?}");

    let r = driftgate(
        store.path(),
        &["gate", "entry", "no-such-ref", "--format", "json"],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(json(&r)["verdict"], "BLOCK");

    // verify is not a gate: a plain error, exit 2.
    let r = driftgate(store.path(), &["verify", "entry", "--dsn", &dead]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("cannot connect"), "{r:?}");

    // A corrupt store fails closed too.
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
    let r = driftgate(
        store.path(),
        &[
            "gate", "entry", "live", "--dsn", &db.dsn, "--format", "json",
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    let g = json(&r);
    assert_eq!(g["verdict"], "BLOCK");
    let error = g["error"].as_str().unwrap();
    assert!(
        error.starts_with("base: ") && error.contains("hash mismatch"),
        "{error}"
    );

    // Stored-vs-stored comparisons read only the objects whose hashes differ (fsck reads
    // everything); against live, every stored object is read, so the corruption surfaces.
    let r = driftgate(store.path(), &["diff", "entry", "live", "--dsn", &db.dsn]);
    assert_eq!(
        r.code, 2,
        "diff is not a gate: a plain error, exit 2: {r:?}"
    );
    assert!(r.stderr.contains("hash mismatch"), "{r:?}");
}

#[test]
fn a_broken_policy_blocks_naming_the_file_and_line() {
    let db = fixture_db("diff_policy");
    let store = tempfile::tempdir().unwrap();
    snapshot(store.path(), &db, "entry", &[]);
    let policy = store.path().join("driftgate.toml");
    std::fs::write(
        &policy,
        "[[rules]]\nkind = \"function\"\nseverity = \"fatal\"\n",
    )
    .unwrap();
    let r = driftgate(
        store.path(),
        &[
            "gate",
            "entry",
            "entry",
            "--format",
            "json",
            "--policy",
            policy.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    let g = json(&r);
    assert_eq!(g["verdict"], "BLOCK");
    let error = g["error"].as_str().unwrap();
    assert!(
        error.contains(&format!("{}:3:", policy.display())),
        "names the file and line 3: {error}"
    );
    assert!(error.contains("fatal"), "{error}");
}

#[test]
fn stored_snapshots_compare_offline_and_verify_against_a_snapshot() {
    let db = fixture_db("diff_offline");
    let store = tempfile::tempdir().unwrap();
    snapshot(store.path(), &db, "entry", &[]);
    db.sql("COMMENT ON FUNCTION fn_birth_gate() IS 'reviewed';");
    snapshot(store.path(), &db, "exit", &[]);
    // No --dsn from here on: two stored snapshots need no database.

    let r = driftgate(store.path(), &["verify", "entry", "--against", "exit"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .contains("  changed function:public.fn_birth_gate() (comment)"),
        "{r:?}"
    );
    let r = driftgate(store.path(), &["verify", "exit", "--against", "exit"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = driftgate(
        store.path(),
        &[
            "verify",
            "entry",
            "--against",
            "exit",
            "--scope",
            "function:public.no_such()",
        ],
    );
    assert_eq!(r.code, 2, "an object neither side has is an error: {r:?}");
}

#[test]
fn a_renamed_trigger_that_moves_in_the_firing_order_is_reported() {
    let db = fixture_db("firing_rename");
    let store = tempfile::tempdir().unwrap();
    let r = driftgate(
        store.path(),
        &["snapshot", "--dsn", &db.dsn, "--ref", "before"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    // trg_validate_dot_origin fires 5th of the BEFORE ROW triggers; renamed, it sorts first.
    db.sql(
        "ALTER TRIGGER trg_validate_dot_origin ON dot_tools RENAME TO trg_a_validate_dot_origin",
    );
    let r = driftgate(
        store.path(),
        &["snapshot", "--dsn", &db.dsn, "--ref", "after"],
    );
    assert_eq!(r.code, 0, "{r:?}");

    let r = driftgate(
        store.path(),
        &["diff", "before", "after", "--format", "json"],
    );
    assert_eq!(r.code, 1, "{r:?}");
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let orders = doc["firing_order"].as_array().expect("firing_order array");
    assert_eq!(orders.len(), 1, "only INSERT is affected: {orders:#?}");
    let f = &orders[0];
    assert_eq!(f["table"], "public.dot_tools");
    assert_eq!(f["event"], "insert");
    assert_eq!(f["before"][4], "trg_validate_dot_origin");
    assert_eq!(f["after"][0], "trg_a_validate_dot_origin");
    assert_eq!(
        f["moved"].as_array().unwrap().len(),
        5,
        "the renamed trigger and the four it overtook: {f}"
    );
    assert_eq!(f["moved"][0], "trg_a_validate_dot_origin");

    let r = driftgate(store.path(), &["diff", "before", "after"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains(
            "firing order of INSERT on public.dot_tools changed (moved: trg_a_validate_dot_origin"
        ),
        "{r:?}"
    );
    let r = driftgate(
        store.path(),
        &["diff", "before", "after", "--format", "markdown"],
    );
    assert!(r.stdout.contains("| firing order |"), "{r:?}");

    // A change that keeps the order (a disabled trigger) reports none.
    db.sql(
        "ALTER TRIGGER trg_a_validate_dot_origin ON dot_tools RENAME TO trg_validate_dot_origin; \
            ALTER TABLE dot_tools DISABLE TRIGGER trg_refresh_orphan_dot;",
    );
    let r = driftgate(
        store.path(),
        &[
            "diff", "before", "live", "--dsn", &db.dsn, "--format", "json",
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["firing_order"], serde_json::json!([]), "{doc}");
}

/// An ACL stored explicitly as the owner's default privileges is the same as no ACL: after
/// a REVOKE and a GRANT back (or a dump and restore) PostgreSQL stores the default
/// explicitly, and that was reported as drift. A real change of privileges still is.
#[test]
fn an_acl_equal_to_the_owners_default_is_no_drift_a_real_grant_is() {
    let db = empty_db("acl_default");
    let store = tempfile::tempdir().unwrap();
    db.sql(
        "CREATE SCHEMA s; CREATE TABLE s.t (a int); CREATE SEQUENCE s.q; CREATE VIEW s.v AS SELECT 1 AS x;
         CREATE FUNCTION s.f() RETURNS int LANGUAGE sql AS 'SELECT 1'; CREATE TYPE s.mood AS ENUM ('a');",
    );
    snapshot(store.path(), &db, "null_acls", &[]);
    db.sql(
        "REVOKE ALL ON s.t, s.q, s.v FROM CURRENT_USER; GRANT ALL ON s.t, s.q, s.v TO CURRENT_USER;
         REVOKE ALL ON SCHEMA s FROM CURRENT_USER; GRANT ALL ON SCHEMA s TO CURRENT_USER;
         REVOKE EXECUTE ON FUNCTION s.f() FROM PUBLIC; GRANT EXECUTE ON FUNCTION s.f() TO PUBLIC;
         REVOKE USAGE ON TYPE s.mood FROM PUBLIC; GRANT USAGE ON TYPE s.mood TO PUBLIC;",
    );
    let explicit = db.query(
        "SELECT count(*) FROM pg_class WHERE relnamespace = 's'::regnamespace AND relacl IS NOT NULL",
    );
    assert_eq!(explicit.trim(), "3", "the server now stores explicit ACLs");
    snapshot(store.path(), &db, "explicit_defaults", &[]);
    let r = driftgate(store.path(), &["diff", "null_acls", "explicit_defaults"]);
    assert_eq!(r.code, 0, "explicit default ACLs are no drift: {r:?}");

    db.sql("REVOKE EXECUTE ON FUNCTION s.f() FROM PUBLIC; GRANT SELECT ON s.t TO PUBLIC;");
    snapshot(store.path(), &db, "granted", &[]);
    let r = driftgate(store.path(), &["diff", "explicit_defaults", "granted"]);
    assert_eq!(r.code, 1, "a real change of privileges is drift: {r:?}");
    assert!(
        r.stdout.contains("s.f()") && r.stdout.contains("s.t"),
        "{r:?}"
    );
}

/// `ALTER TABLE a_partition DISABLE TRIGGER t` turns off the parent's trigger for that
/// partition's rows: the partition's copy is captured once its state differs from the
/// parent's (as pg_dump prints it), so the change is drift and BLOCKs; enabling it again
/// is the baseline again.
#[test]
fn disabling_a_parent_trigger_on_one_partition_is_drift() {
    let db = empty_db("partition_trigger");
    let store = tempfile::tempdir().unwrap();
    db.sql(
        "CREATE TABLE m (id int, v text) PARTITION BY RANGE (id);
         CREATE TABLE m_1 PARTITION OF m FOR VALUES FROM (0) TO (10);
         CREATE TABLE m_2 PARTITION OF m FOR VALUES FROM (10) TO (20);
         CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
         CREATE TRIGGER m_stamp BEFORE INSERT ON m FOR EACH ROW EXECUTE FUNCTION stamp();",
    );
    snapshot(store.path(), &db, "base", &[]);
    db.sql("ALTER TABLE m_2 DISABLE TRIGGER m_stamp;");
    snapshot(store.path(), &db, "disabled", &[]);
    let r = driftgate(
        store.path(),
        &["diff", "base", "disabled", "--format", "json"],
    );
    assert_eq!(r.code, 1, "{r:?}");
    let v = json(&r);
    let text = v.to_string();
    assert!(
        text.contains("trigger:public.m_2.m_stamp"),
        "the partition's copy is reported: {text}"
    );
    let g = driftgate(store.path(), &["gate", "base", "disabled"]);
    assert_eq!(g.code, 1, "BLOCK: {g:?}");
    let r = driftgate(store.path(), &["show", "disabled", "--format", "json"]);
    let objects: Value = json(&r);
    let clone = objects
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["key"] == "trigger:public.m_2.m_stamp")
        .expect("the copy is in the snapshot");
    assert_eq!(clone["enabled"], "disabled");
    assert_eq!(clone["clone_of"], "public.m");
    db.sql("ALTER TABLE m_2 ENABLE TRIGGER m_stamp;");
    snapshot(store.path(), &db, "enabled", &[]);
    let r = driftgate(store.path(), &["diff", "base", "enabled"]);
    assert_eq!(r.code, 0, "the same state as the parent again: {r:?}");
}

/// `ALTER TABLE … DISABLE TRIGGER ALL` also turns off the triggers that enforce foreign keys
/// (and deferrable keys): the constraint is unchanged, its enforcement is not. That is
/// drift, and BLOCKs; enabling them again is the baseline again.
#[test]
fn disabling_the_triggers_that_enforce_a_foreign_key_is_drift() {
    let db = empty_db("fk_triggers");
    let store = tempfile::tempdir().unwrap();
    db.sql(
        "CREATE TABLE parent (id int PRIMARY KEY);
         CREATE TABLE child (id int, parent_id int REFERENCES parent (id) ON DELETE CASCADE);",
    );
    snapshot(store.path(), &db, "base", &[]);
    db.sql("ALTER TABLE child DISABLE TRIGGER ALL;");
    snapshot(store.path(), &db, "off", &[]);
    let r = driftgate(store.path(), &["diff", "base", "off", "--format", "json"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        json(&r).to_string().contains("child_parent_id_fkey"),
        "the foreign key is reported: {r:?}"
    );
    let g = driftgate(store.path(), &["gate", "base", "off"]);
    assert_eq!(g.code, 1, "BLOCK: {g:?}");
    let shown = json(&driftgate(
        store.path(),
        &["show", "off", "--format", "json"],
    ));
    let fk = shown
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["key"] == "constraint:public.child.child_parent_id_fkey")
        .unwrap();
    assert_eq!(
        fk["trigger_states"],
        serde_json::json!(["public.child disabled"])
    );
    db.sql("ALTER TABLE child ENABLE TRIGGER ALL;");
    snapshot(store.path(), &db, "on", &[]);
    let r = driftgate(store.path(), &["diff", "base", "on"]);
    assert_eq!(r.code, 0, "{r:?}");
}
