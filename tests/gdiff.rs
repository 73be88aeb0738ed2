//! `driftgate graph A B TABLE` against a real throwaway PostgreSQL: snapshot, change a
//! trigger function to write another table, add a notifying trigger, reorder by rename and
//! edit a WHEN, snapshot again; the graph diff reports exactly those, by name.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use support::*;

const BASE_SQL: &str = r#"
CREATE TABLE t (id int PRIMARY KEY, code text);
CREATE TABLE log (id int);
CREATE TABLE audit (id int);
CREATE FUNCTION fn_gate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN IF NEW.code IS NULL THEN RAISE EXCEPTION 'no code'; END IF; RETURN NEW; END $$;
CREATE FUNCTION fn_code() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.code := 'X-' || NEW.id; RETURN NEW; END $$;
CREATE FUNCTION fn_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO log VALUES (NEW.id); RETURN NULL; END $$;
CREATE FUNCTION fn_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('t_events', NEW.id::text); RETURN NULL; END $$;
CREATE TRIGGER a_gate BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION fn_gate();
CREATE TRIGGER b_code BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION fn_code();
CREATE TRIGGER m_log AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION fn_log();
CREATE TRIGGER u_log AFTER UPDATE ON t FOR EACH ROW EXECUTE FUNCTION fn_log();
"#;

/// The four changes, each one statement group.
const CHANGE_SQL: &str = r#"
CREATE OR REPLACE FUNCTION fn_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO log VALUES (NEW.id); INSERT INTO audit VALUES (NEW.id); RETURN NULL; END $$;
CREATE TRIGGER z_notify AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION fn_notify();
ALTER TRIGGER b_code ON t RENAME TO "0_code";
DROP TRIGGER m_log ON t;
CREATE TRIGGER m_log AFTER INSERT ON t FOR EACH ROW WHEN (NEW.id > 0) EXECUTE FUNCTION fn_log();
"#;

struct Fixture {
    store: PathBuf,
}

fn fixture() -> Fixture {
    let db = empty_db("gdiff");
    db.sql(BASE_SQL);
    let store = cluster().base.join(format!("gdiff_store_{}", db.name));
    snap(&store, &db, "a");
    db.sql(CHANGE_SQL);
    db.sql("CREATE TABLE newt (id int)");
    snap(&store, &db, "b");
    Fixture { store }
}

fn snap(store: &Path, db: &TestDb, name: &str) {
    let r = driftgate(store, &["snapshot", "--dsn", &db.dsn, "--ref", name]);
    assert_eq!(r.code, 0, "{r:?}");
}

fn json(store: &Path, args: &[&str], code: i32) -> Value {
    let mut full = vec!["graph"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--format", "json"]);
    let r = driftgate(store, &full);
    assert_eq!(r.code, code, "{r:?}");
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

fn edge_names(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} -> {}",
                e["kind"].as_str().unwrap(),
                e["from"].as_str().unwrap(),
                e["to"].as_str().unwrap()
            )
        })
        .collect();
    out.sort();
    out
}

fn places(v: &Value) -> Vec<(String, u64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["trigger"].as_str().unwrap().to_string(),
                p["order"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn graph_diff_reports_exactly_the_changes_made() {
    let f = fixture();
    let v = json(&f.store, &["a", "b", "t", "--event", "insert"], 1);
    assert_eq!(v["format"], "driftgate.graph-diff/v1");
    assert_eq!(v["table"], "public.t");
    assert_eq!(v["changed"], true);
    assert_eq!(v["events"].as_array().unwrap().len(), 1);
    let e = &v["events"][0];
    assert_eq!(e["event"], "insert");

    // Firing order: b_code (#2) renamed to 0_code (#1) and z_notify added last; nobody moved.
    let orders = e["firing_order"].as_array().unwrap();
    assert_eq!(orders.len(), 1, "{orders:#?}");
    let o = &orders[0];
    assert_eq!(o["table"], "public.t");
    assert_eq!(
        o["renamed"],
        serde_json::json!([{"base_trigger": "b_code", "head_trigger": "0_code",
                            "base_order": 2, "head_order": 1, "phase": "before_row"}])
    );
    assert_eq!(o["removed"], serde_json::json!([]));
    assert_eq!(places(&o["added"]), [("z_notify".to_string(), 4)]);
    assert_eq!(o["moved"], serde_json::json!([]));

    // Edges: the new write, the new triggers and notify, the renamed trigger's old edges;
    // m_log's WHEN is a change of its one fires edge.
    assert_eq!(
        edge_names(&e["edges"]["added"]),
        [
            "calls trigger:public.t.\"0_code\" -> function:public.fn_code()",
            "calls trigger:public.t.z_notify -> function:public.fn_notify()",
            "fires table:public.t -> trigger:public.t.\"0_code\"",
            "fires table:public.t -> trigger:public.t.z_notify",
            "notifies function:public.fn_notify() -> channel:t_events",
            "writes function:public.fn_log() -> table:public.audit",
        ]
    );
    assert_eq!(
        edge_names(&e["edges"]["removed"]),
        [
            "calls trigger:public.t.b_code -> function:public.fn_code()",
            "fires table:public.t -> trigger:public.t.b_code",
        ]
    );
    let changed = e["edges"]["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 1, "{changed:#?}");
    assert_eq!(changed[0]["kind"], "fires");
    assert_eq!(changed[0]["to"], "trigger:public.t.m_log");
    let fields: Vec<&String> = changed[0]["changes"].as_object().unwrap().keys().collect();
    // A WHEN added makes the fires edge conditional on it: the certainty and its guard change
    // with it.
    assert_eq!(fields, ["certainty", "guard", "when"]);
    assert_eq!(changed[0]["changes"]["certainty"]["base"], "always");
    assert_eq!(changed[0]["changes"]["certainty"]["head"], "conditional");
    assert_eq!(changed[0]["changes"]["when"]["base"], Value::Null);
    assert!(changed[0]["changes"]["when"]["head"]
        .as_str()
        .unwrap()
        .contains("> 0"));

    assert_eq!(e["tables"]["added"], serde_json::json!(["public.audit"]));
    assert_eq!(e["tables"]["removed"], serde_json::json!([]));
    assert_eq!(e["channels"]["added"], serde_json::json!(["t_events"]));
    // 0_code now assigns NEW.code before a_gate reads it: the hazard is gone.
    let gone = e["hazards"]["removed"].as_array().unwrap();
    assert_eq!(gone.len(), 1, "{gone:#?}");
    assert_eq!(gone[0]["kind"], "read_before_assigned");
    assert_eq!(gone[0]["reader"], "a_gate");
    assert_eq!(e["hazards"]["added"], serde_json::json!([]));
    for empty in ["cycles", "unanalysable", "opaque"] {
        assert_eq!(e[empty]["added"], serde_json::json!([]), "{empty}");
        assert_eq!(e[empty]["removed"], serde_json::json!([]), "{empty}");
    }
    // What the new WHEN guards is now reached conditionally, and nothing else about a
    // node changed.
    let nodes: Vec<(&str, Vec<&String>)> = e["nodes_changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["id"].as_str().unwrap(),
                n["changes"].as_object().unwrap().keys().collect(),
            )
        })
        .collect();
    assert_eq!(
        nodes
            .iter()
            .map(|(id, fields)| (*id, fields.iter().map(|f| f.as_str()).collect::<Vec<_>>()))
            .collect::<Vec<_>>(),
        [
            ("function:public.fn_log()", vec!["reached"]),
            ("table:public.log", vec!["reached"]),
            ("trigger:public.t.m_log", vec!["reached"]),
        ]
    );
    for n in e["nodes_changed"].as_array().unwrap() {
        assert_eq!(n["changes"]["reached"]["head"], "conditional", "{n:#?}");
    }
    assert_eq!(e["incomplete"], serde_json::json!([]));

    // Every event without --event: UPDATE reaches fn_log too (its new write shows), DELETE
    // and TRUNCATE have no triggers and no difference.
    let all = json(&f.store, &["a", "b", "t"], 1);
    let events: Vec<(&str, bool)> = all["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap(),
                e["changed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("insert", true),
            ("update", true),
            ("delete", false),
            ("truncate", false)
        ]
    );
    assert_eq!(
        edge_names(&all["events"][1]["edges"]["added"]),
        ["writes function:public.fn_log() -> table:public.audit"]
    );

    // The text form says the same for people.
    let r = driftgate(&f.store, &["graph", "a", "b", "t", "--event", "insert"]);
    assert_eq!(r.code, 1, "{r:?}");
    for line in [
        "~ b_code renamed 0_code (#2 → #1, before row)",
        "+ #4 z_notify (after row)",
        "+ writes public.fn_log() → public.audit (op insert)",
        "~ fires public.t → public.t.m_log (event insert): certainty: always → conditional; \
         guard: (none) → WHEN (new.id > 0); when: (none) → (new.id > 0)",
        "node trigger:public.t.m_log: reached: always → conditional",
        "tables reached: + public.audit",
        "channels: + t_events",
    ] {
        assert!(r.stdout.contains(line), "{line:?} missing:\n{}", r.stdout);
    }
    // Deterministic: the same bytes twice.
    let again = driftgate(&f.store, &["graph", "a", "b", "t", "--event", "insert"]);
    assert_eq!(again.stdout, r.stdout);

    // DOT: the picture of the changes, removed dashed red, added green.
    let dot = driftgate(&f.store, &["graph", "a", "b", "t", "--format", "dot"]);
    assert_eq!(dot.code, 1, "{dot:?}");
    assert!(dot.stdout.contains("style=dashed"), "{}", dot.stdout);
    assert!(dot.stdout.contains("color=green"), "{}", dot.stdout);
}

#[test]
fn identical_snapshots_are_no_difference_and_bad_tables_fail_closed() {
    let f = fixture();
    let v = json(&f.store, &["a", "a", "t"], 0);
    assert_eq!(v["changed"], false);
    assert!(v["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["changed"] == false));
    let r = driftgate(&f.store, &["graph", "a", "a", "t"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("No fan-out difference."), "{}", r.stdout);

    // A table in neither snapshot: exit 2, said plainly.
    let r = driftgate(&f.store, &["graph", "a", "b", "nosuch"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("either snapshot"), "{r:?}");
    assert!(r.stdout.is_empty(), "{r:?}");

    // A table only in the head: reported as such, a difference.
    let v = json(&f.store, &["a", "b", "newt"], 1);
    assert_eq!(v["base_has_table"], false);
    assert_eq!(v["head_has_table"], true);
    let r = driftgate(&f.store, &["graph", "a", "b", "newt"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("only in the head snapshot"),
        "{}",
        r.stdout
    );

    // Two snapshots and no table: exit 2, and the message says what is missing.
    let r = driftgate(&f.store, &["graph", "a", "b"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("graph a b TABLE"), "{r:?}");

    // A side that does not exist: exit 2.
    let r = driftgate(&f.store, &["graph", "a", "nosuchref", "t"]);
    assert_eq!(r.code, 2, "{r:?}");
}
