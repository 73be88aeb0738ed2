//! Detect-only, proven on a real server: every statement driftgate sends is read from the
//! server's own statement log and must be read-only; a session whose transaction is not
//! read-only is refused before any catalog read; and a role with nothing but CONNECT sees
//! the same catalog as a superuser, with the counts it may not take reported as such.

mod support;

use pg_query::NodeEnum;
use serde_json::Value;
use support::proxy::RewritingProxy;
use support::*;

/// Functions that write, or act on the server beyond reading it. A catalog read calls none.
const ACTING_FUNCTIONS: &[&str] = &[
    "nextval",
    "setval",
    "set_config",
    "pg_notify",
    "txid_current",
    "pg_current_xact_id",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_promote",
    "pg_logical_emit_message",
    "pg_import_system_collations",
];
const ACTING_FUNCTION_PREFIXES: &[&str] = &[
    "pg_advisory",
    "pg_try_advisory",
    "lo_",
    "dblink",
    "pg_stat_reset",
    "pg_create_",
    "pg_drop_replication",
    "pg_replication_origin",
    "pg_file_",
];

/// Why `sql` is not a read-only statement, if it is not: only SELECT (no INTO, no row
/// locks, no data-modifying CTE, no acting function), SHOW, SET (including SET TRANSACTION
/// SNAPSHOT) and BEGIN/START/COMMIT/ROLLBACK pass.
fn not_read_only(sql: &str) -> Option<String> {
    let parsed = match pg_query::parse(sql) {
        Ok(p) => p,
        Err(e) => return Some(format!("unparsable: {e}")),
    };
    for raw in &parsed.protobuf.stmts {
        let node = raw.stmt.as_ref().and_then(|s| s.node.as_ref());
        match node {
            Some(NodeEnum::SelectStmt(s)) => {
                if s.into_clause.is_some() {
                    return Some("SELECT INTO creates a table".into());
                }
                if !s.locking_clause.is_empty() {
                    return Some("FOR UPDATE/SHARE locks rows".into());
                }
            }
            Some(NodeEnum::VariableSetStmt(_) | NodeEnum::VariableShowStmt(_)) => {}
            Some(NodeEnum::TransactionStmt(t)) => {
                use pg_query::protobuf::TransactionStmtKind as K;
                let ok = [
                    K::TransStmtBegin,
                    K::TransStmtStart,
                    K::TransStmtCommit,
                    K::TransStmtRollback,
                ]
                .iter()
                .any(|k| *k as i32 == t.kind);
                if !ok {
                    return Some(format!("transaction statement kind {}", t.kind));
                }
            }
            other => {
                return Some(format!(
                    "{} is not a read",
                    other
                        .map(|n| format!("{:?}", n).chars().take(40).collect::<String>())
                        .unwrap_or_default()
                ))
            }
        }
    }
    if !parsed.dml_tables().is_empty() || !parsed.ddl_tables().is_empty() {
        return Some(format!(
            "writes {:?} {:?}",
            parsed.dml_tables(),
            parsed.ddl_tables()
        ));
    }
    for f in parsed.functions() {
        let name = f.rsplit('.').next().unwrap_or(&f).to_ascii_lowercase();
        if ACTING_FUNCTIONS.contains(&name.as_str())
            || ACTING_FUNCTION_PREFIXES.iter().any(|p| name.starts_with(p))
        {
            return Some(format!("calls {f}"));
        }
    }
    None
}

#[test]
fn the_read_only_classifier_knows_a_write_when_it_sees_one() {
    for ok in [
        "SELECT current_setting('transaction_read_only')",
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '00000003-1'",
        "SELECT pg_export_snapshot()",
        "SELECT count(*) FROM \"public\".\"dot_tools\"",
        "SHOW server_version",
        "COMMIT",
        "ROLLBACK",
    ] {
        assert_eq!(not_read_only(ok), None, "{ok}");
    }
    for bad in [
        "INSERT INTO t VALUES (1)",
        "UPDATE t SET a = 1",
        "DELETE FROM t",
        "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x",
        "SELECT * INTO t2 FROM t",
        "SELECT * FROM t FOR UPDATE",
        "SELECT nextval('s')",
        "SELECT pg_advisory_lock(1)",
        "SELECT pg_catalog.set_config('a.b', 'c', false)",
        "CREATE TABLE t (a int)",
        "TRUNCATE t",
        "LOCK TABLE t",
        "VACUUM t",
        "PREPARE TRANSACTION 'x'",
        "COPY t FROM STDIN",
        "DO $$ BEGIN END $$",
        "CALL p()",
        "NOTIFY ch",
        "SET SESSION AUTHORIZATION x; RESET ALL; DISCARD ALL",
    ] {
        assert!(not_read_only(bad).is_some(), "{bad} passed as read-only");
    }
}

fn enable_statement_log(db: &TestDb) {
    db.sql(&format!(
        "ALTER DATABASE \"{}\" SET log_statement = 'all'",
        db.name
    ));
}

/// Must-show 3: snapshot (with exact counts and parallel sessions), show, fingerprint,
/// verify, diff, gate, graph and export against `live`, `baseline accept` and `check`: the
/// server log holds nothing from driftgate but reads.
#[test]
fn only_read_only_statements_reach_the_server() {
    let db = fixture_db("stmtlog");
    enable_statement_log(&db);
    let store = tempfile::tempdir().unwrap();
    let s = store.path();
    let files = tempfile::tempdir().unwrap();
    let export = files.path().join("live.json");
    let export = export.to_str().unwrap();
    let config = files.path().join("driftgate.toml");
    std::fs::write(
        &config,
        format!(
            "[[target]]\nname = \"gov\"\ndsn = \"{}\"\nexact_counts = \"all\"\njobs = 3\n",
            db.dsn
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let runs: Vec<Vec<&str>> = vec![
        vec![
            "snapshot",
            "--ref",
            "base",
            "--exact-counts",
            "all",
            "--jobs",
            "3",
        ],
        vec!["snapshot", "--ref", "one", "--jobs", "1"],
        vec!["show", "live", "--kind", "trigger"],
        vec![
            "fingerprint",
            "live",
            "--scope",
            "triggers:public.dot_tools",
        ],
        vec!["verify", "base", "--scope", "catalog"],
        vec!["diff", "base", "live"],
        vec!["gate", "base", "live"],
        vec!["graph", "live", "dot_tools"],
        vec!["export", "live", "-o", export],
        vec!["baseline", "accept", "gov", "--config", config],
        vec!["check", "--config", config],
    ];
    for args in &runs {
        let mut full = args.clone();
        if !full.contains(&"--config") {
            full.extend_from_slice(&["--dsn", &db.dsn]);
        }
        let r = driftgate(s, &full);
        assert_eq!(r.code, 0, "{args:?}: {r:?}");
    }

    let statements = db.driftgate_statements();
    let sessions: std::collections::BTreeSet<u32> = statements.iter().map(|s| s.pid).collect();
    // Every command opened at least one session; the parallel ones opened more.
    assert!(
        sessions.len() >= runs.len() + 2,
        "{} sessions logged: is log_statement on? {statements:#?}",
        sessions.len()
    );
    let all: Vec<&str> = statements.iter().map(|s| s.sql.as_str()).collect();
    eprintln!(
        "{} statements from {} driftgate sessions, all checked",
        all.len(),
        sessions.len()
    );
    for expected in [
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        "SET TRANSACTION SNAPSHOT",
        "pg_export_snapshot()",
        "SELECT count(*) FROM",
        "pg_get_functiondef",
        "current_setting('transaction_read_only')",
    ] {
        assert!(
            all.iter().any(|s| s.contains(expected)),
            "no logged statement contains {expected:?}"
        );
    }
    let offending: Vec<String> = statements
        .iter()
        .filter_map(|s| not_read_only(&s.sql).map(|why| format!("{why}: {}", s.sql)))
        .collect();
    assert!(
        offending.is_empty(),
        "driftgate sent statements that are not read-only:\n{}",
        offending.join("\n---\n")
    );
    // Every session checks that its transaction is read-only before reading the catalog.
    for pid in sessions {
        let mine: Vec<&str> = statements
            .iter()
            .filter(|s| s.pid == pid)
            .map(|s| s.sql.as_str())
            .collect();
        let begin = mine.iter().position(|s| s.starts_with("BEGIN"));
        let check = mine
            .iter()
            .position(|s| s.contains("current_setting('transaction_read_only')"));
        let first_catalog_read = mine.iter().position(|s| s.contains("FROM pg_"));
        if let Some(read) = first_catalog_read {
            assert!(
                begin.is_some() && check.is_some_and(|c| c < read),
                "session {pid} read the catalog before checking read-only: {mine:#?}"
            );
        }
    }
}

/// A middlebox that turns `READ ONLY` into `READ WRITE`: driftgate sees the transaction
/// is writable, refuses before reading anything, stores nothing, and the gate blocks.
#[test]
fn a_transaction_that_is_not_read_only_is_refused_before_any_catalog_read() {
    let db = fixture_db("writable");
    enable_statement_log(&db);
    let port = db.cluster.port;
    let faithful = RewritingProxy::start(port, |sql| sql.to_string());
    let rewriting = RewritingProxy::start(port, |sql| sql.replace("READ ONLY", "READ WRITE"));
    let via =
        |p: &RewritingProxy| format!("postgresql://postgres@127.0.0.1:{}/{}", p.port, db.name);

    // Through a proxy that changes nothing, a snapshot works (the proxy itself is sound).
    let store = tempfile::tempdir().unwrap();
    let r = driftgate(
        store.path(),
        &["snapshot", "--dsn", &via(&faithful), "--ref", "ok"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let before = store_state(store.path());
    let seen_before = db.driftgate_statements().len();

    let r = driftgate(
        store.path(),
        &["snapshot", "--dsn", &via(&rewriting), "--ref", "ok"],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("transaction is not read-only")
            && r.stderr.contains("transaction_read_only = off"),
        "{r:?}"
    );
    assert_eq!(
        store_state(store.path()),
        before,
        "nothing written, no ref moved"
    );

    let r = driftgate(
        store.path(),
        &[
            "gate",
            "ok",
            "live",
            "--dsn",
            &via(&rewriting),
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["verdict"], "BLOCK", "{r:?}");
    assert!(r.stderr.contains("not read-only"), "{r:?}");

    // The server saw the writable BEGIN and the check, and no catalog read.
    let refused: Vec<String> = db.driftgate_statements()[seen_before..]
        .iter()
        .map(|s| s.sql.clone())
        .collect();
    assert!(
        refused.iter().any(|s| s.contains("READ WRITE")),
        "the rewrite reached the server: {refused:#?}"
    );
    assert!(
        refused
            .iter()
            .all(|s| s.starts_with("BEGIN")
                || s.contains("current_setting('transaction_read_only')")),
        "nothing but BEGIN and the check was sent: {refused:#?}"
    );
}

fn show_json(store: &std::path::Path, snap: &str, kind: &str) -> Vec<Value> {
    let r = driftgate(store, &["show", snap, "--kind", kind, "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    serde_json::from_str(&r.stdout).unwrap()
}

fn fingerprints(store: &std::path::Path, snap: &str) -> Vec<(String, String)> {
    show_json(store, snap, "schema")
        .into_iter()
        .chain(
            [
                "table",
                "view",
                "function",
                "trigger",
                "constraint",
                "index",
                "sequence",
                "type",
                "policy",
                "event_trigger",
                "extension",
            ]
            .iter()
            .flat_map(|k| show_json(store, snap, k)),
        )
        .map(|o| {
            (
                o["key"].as_str().unwrap().to_string(),
                o["hash"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A role with CONNECT and nothing else gets the superuser's catalog, object for object;
/// exact counts it may not take say why instead of saying 0, and a count row-level
/// security would shrink is refused too.
#[test]
fn a_connect_only_role_sees_the_superusers_catalog_and_counts_it_may_not_take_say_so() {
    let db = fixture_db("lowpriv");
    let role = format!("lowpriv_{}", std::process::id());
    db.sql(&format!(
        "CREATE SCHEMA hidden;
         CREATE TABLE hidden.secret (id int PRIMARY KEY, v text CHECK (v <> ''));
         CREATE FUNCTION hidden.f() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
           SET search_path = hidden AS $$ BEGIN NEW.v := upper(NEW.v); RETURN NEW; END $$;
         CREATE TRIGGER t BEFORE INSERT ON hidden.secret FOR EACH ROW EXECUTE FUNCTION hidden.f();
         CREATE VIEW hidden.v AS SELECT id FROM hidden.secret WHERE v > 'a';
         REVOKE ALL ON FUNCTION hidden.f() FROM PUBLIC;
         INSERT INTO hidden.secret VALUES (1, 'x'), (2, 'y');
         INSERT INTO birth_admission_permit (collection_name, entity_code, status, idempotency_key)
           VALUES ('c', 'e1', 'CANCELLED', 'k1'), ('c', 'e2', 'REQUESTED', 'k2');
         DROP ROLE IF EXISTS {role};
         CREATE ROLE {role} LOGIN;
         REVOKE ALL ON DATABASE \"{db}\" FROM PUBLIC;
         GRANT CONNECT ON DATABASE \"{db}\" TO {role};
         -- What it may count: one plain table. A table behind row-level security and one in
         -- a schema it may not use are granted too, and must still not be counted.
         GRANT SELECT ON dot_tools, birth_admission_permit, hidden.secret TO {role};",
        db = db.name
    ));
    let store = tempfile::tempdir().unwrap();
    let s = store.path();
    let r = driftgate(
        s,
        &[
            "snapshot",
            "--dsn",
            &db.dsn,
            "--ref",
            "su",
            "--exact-counts",
            "all",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let low_dsn = db.dsn_as(&role);
    let r = driftgate(
        s,
        &[
            "snapshot",
            "--dsn",
            &low_dsn,
            "--ref",
            "low",
            "--exact-counts",
            "all",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");

    let catalog = |snap: &str| {
        let r = driftgate(s, &["fingerprint", snap, "--scope", "catalog"]);
        assert_eq!(r.code, 0, "{r:?}");
        r.stdout
    };
    assert_eq!(
        fingerprints(s, "low"),
        fingerprints(s, "su"),
        "every object the same for the CONNECT-only role"
    );
    // The whole catalog differs in one way only: which file set a server setting is
    // recorded as not readable by this role. Said as such by the diff, never as drift.
    let d = driftgate(s, &["diff", "su", "low", "--format", "json"]);
    let d: serde_json::Value = serde_json::from_str(&d.stdout).unwrap();
    // Roles are the cluster's: another test of this binary may create one between the
    // two snapshots. Nothing else may differ.
    for c in d["changes"].as_array().unwrap() {
        assert!(
            c["kind"] == "role" || c["kind"] == "role_membership",
            "{c:#}"
        );
    }
    for r in d["readability"].as_array().expect("readability differs") {
        assert!(
            r["key"].as_str().unwrap().starts_with("server_setting:"),
            "{r}"
        );
        assert_eq!(r["path"], "source", "{r}");
    }
    assert_ne!(catalog("low"), catalog("su"));
    let f = show_json(s, "low", "function")
        .into_iter()
        .find(|o| o["key"] == "function:hidden.f()")
        .expect("the revoked function is captured");
    assert!(
        f["definition"].as_str().unwrap().contains("upper(NEW.v)"),
        "{f:#}"
    );

    let counts = |snap: &str| -> std::collections::BTreeMap<String, Value> {
        show_json(s, snap, "count")
            .into_iter()
            .map(|c| (c["table"].as_str().unwrap().to_string(), c))
            .collect()
    };
    let (su, low) = (counts("su"), counts("low"));
    assert_eq!(su.len(), low.len());
    assert_eq!(
        low["public.dot_tools"]["exact"],
        su["public.dot_tools"]["exact"]
    );
    assert_eq!(su["public.birth_admission_permit"]["exact"], 2);
    for (table, reason) in [
        ("public.birth_registry", "permission denied"),
        ("hidden.secret", "permission denied"),
        ("public.birth_admission_permit", "row-level security"),
    ] {
        let c = &low[table];
        assert!(
            c["exact"].is_null(),
            "{table}: a count it may not take is not a number: {c}"
        );
        assert!(
            c["exact_error"]
                .as_str()
                .unwrap_or_default()
                .contains(reason),
            "{table}: {c}"
        );
    }
    for (table, c) in &low {
        assert!(
            c["exact"].is_number() || c["exact_error"].is_string(),
            "{table}: neither a count nor the reason: {c}"
        );
    }
}
