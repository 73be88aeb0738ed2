//! Trigger fan-out on the seeds-shaped fixture, against a real throwaway PostgreSQL (issue 4's
//! must-shows). Where PostgreSQL can say what it really does (the firing order, the permit
//! gate seeing `NEW.code` or not), the test asks it rather than trusting a hand-written list.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use support::oracle::{what_ran, Ran};
use support::*;

/// A store holding snapshot `s` of the untouched fixture, shared by the read-only tests. It
/// lives in the cluster's directory, which the harness removes.
fn fixture_store() -> &'static Path {
    static STORE: OnceLock<PathBuf> = OnceLock::new();
    STORE.get_or_init(|| {
        let db = fixture_db("graph_fixture");
        let dir = cluster().base.join("graph_fixture_store");
        snapshot(&dir, &db, "s");
        dir
    })
}

fn snapshot(store: &Path, db: &TestDb, name: &str) {
    let r = driftgate(store, &["snapshot", "--dsn", &db.dsn, "--ref", name]);
    assert_eq!(r.code, 0, "{r:?}");
}

fn graph(store: &Path, args: &[&str]) -> Run {
    let mut full = vec!["graph"];
    full.extend_from_slice(args);
    let r = driftgate(store, &full);
    assert_eq!(r.code, 0, "{r:?}");
    r
}

fn graph_json(store: &Path, args: &[&str]) -> Value {
    let mut full = args.to_vec();
    full.extend_from_slice(&["--format", "json"]);
    let r = graph(store, &full);
    serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("graph JSON does not parse: {e}\n{}", r.stdout))
}

fn firing_names(v: &Value) -> Vec<String> {
    v["firing_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["trigger"].as_str().unwrap().to_string())
        .collect()
}

fn entry<'a>(v: &'a Value, trigger: &str) -> &'a Value {
    v["firing_order"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["trigger"] == trigger)
        .unwrap_or_else(|| panic!("{trigger} not in the firing order: {:#}", v["firing_order"]))
}

fn edges<'a>(v: &'a Value, kind: &str) -> Vec<&'a Value> {
    v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .collect()
}

fn edge<'a>(v: &'a Value, kind: &str, from: &str, to: &str) -> Option<&'a Value> {
    edges(v, kind)
        .into_iter()
        .find(|e| e["from"] == from && e["to"] == to)
}

fn hazards_of_kind<'a>(v: &'a Value, kind: &str) -> Vec<&'a Value> {
    v["hazards"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["kind"] == kind)
        .collect()
}

#[test]
fn insert_lists_all_13_dot_tools_triggers_in_the_order_postgresql_fires_them() {
    let v = graph_json(fixture_store(), &["s", "dot_tools", "--event", "insert"]);
    assert_eq!(v["table"], "public.dot_tools");
    assert_eq!(v["event"], "insert");
    assert_eq!(firing_names(&v), INSERT_ORDER);
    for (i, e) in v["firing_order"].as_array().unwrap().iter().enumerate() {
        assert_eq!(e["order"], i + 1);
        let (timing, level) = match i {
            0..=4 => ("before", "row"),
            5..=11 => ("after", "row"),
            _ => ("after", "statement"),
        };
        assert_eq!(
            (e["timing"].as_str(), e["level"].as_str()),
            (Some(timing), Some(level)),
            "{e}"
        );
        assert!(
            e["function"].as_str().unwrap().starts_with("public."),
            "{e}"
        );
    }
    assert_eq!(
        entry(&v, "trg_auto_code_dot_tools")["function"],
        "public.gen_code_dot_tools()"
    );

    // Ask PostgreSQL: a LIKE-copy of dot_tools with one logging trigger per original trigger,
    // same name, timing and level, records the order the server really fires them in.
    let db = fixture_db("graph_real_order");
    let observed = db.query(
        "CREATE TABLE fire_log (seq bigserial PRIMARY KEY, name text);
         CREATE FUNCTION log_fire() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             INSERT INTO fire_log (name) VALUES (TG_NAME);
             RETURN CASE WHEN TG_LEVEL = 'ROW' AND TG_WHEN = 'BEFORE' THEN NEW END;
         END $$;
         CREATE TABLE probe (LIKE dot_tools INCLUDING DEFAULTS);
         DO $$
         DECLARE t record;
         BEGIN
             FOR t IN SELECT tgname, tgtype FROM pg_trigger
                      WHERE tgrelid = 'dot_tools'::regclass AND NOT tgisinternal AND tgtype & 4 <> 0
             LOOP
                 EXECUTE format('CREATE TRIGGER %I %s INSERT ON probe FOR EACH %s EXECUTE FUNCTION log_fire()',
                                t.tgname,
                                CASE WHEN t.tgtype & 2 <> 0 THEN 'BEFORE' ELSE 'AFTER' END,
                                CASE WHEN t.tgtype & 1 <> 0 THEN 'ROW' ELSE 'STATEMENT' END);
             END LOOP;
         END $$;
         INSERT INTO probe (name) VALUES ('probe');
         SELECT string_agg(name, ',' ORDER BY seq) FROM fire_log;",
    );
    assert_eq!(
        observed.split(',').collect::<Vec<_>>(),
        firing_names(&v),
        "PostgreSQL fired them in this order"
    );

    // The tree numbers them the same way.
    let tree = graph(fixture_store(), &["s", "dot_tools"]).stdout;
    assert!(
        tree.starts_with("INSERT on public.dot_tools: 13 triggers"),
        "{tree}"
    );
    for (i, name) in INSERT_ORDER.iter().enumerate() {
        let line = tree
            .lines()
            .find(|l| l.contains(&format!(" {name} → ")))
            .unwrap_or_else(|| panic!("{name} missing from the tree:\n{tree}"));
        assert!(line.contains(&format!("{}. ", i + 1)), "{line}");
    }
    assert!(
        tree.contains("13. AFTER STATEMENT trg_refresh_registry_count"),
        "{tree}"
    );
}

#[test]
fn writes_edges_reach_every_table_written_and_the_conditional_notify_channel() {
    let v = graph_json(fixture_store(), &["s", "dot_tools"]);
    let writes: BTreeSet<(String, String, String)> = edges(&v, "writes")
        .iter()
        .map(|e| {
            (
                e["from"].as_str().unwrap().to_string(),
                e["to"].as_str().unwrap().to_string(),
                e["op"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        ("fn_auto_label_assignment()", "label_assignment", "insert"),
        ("fn_auto_label_provenance()", "entity_label", "insert"),
        ("fn_birth_registry_auto()", "birth_registry", "insert"),
        ("fn_refresh_dot_count()", "dot_counts", "insert"),
        ("fn_refresh_dot_count()", "dot_counts", "update"),
        ("trg_fn_refresh_orphan_dot()", "orphan_dots", "delete"),
        ("refresh_registry_count()", "registry_counts", "insert"),
        ("refresh_registry_count()", "registry_counts", "update"),
        ("fn_birth_finalize()", "birth_admission_permit", "update"),
        ("fn_birth_finalize()", "registry_changelog", "insert"),
    ];
    let expected: BTreeSet<(String, String, String)> = expected
        .iter()
        .map(|(f, t, op)| {
            (
                format!("function:public.{f}"),
                format!("table:public.{t}"),
                op.to_string(),
            )
        })
        .collect();
    assert_eq!(writes, expected);
    let upsert = edge(
        &v,
        "writes",
        "function:public.refresh_registry_count()",
        "table:public.registry_counts",
    );
    assert!(
        edges(&v, "writes")
            .iter()
            .any(|e| e["to"] == "table:public.registry_counts" && e["via"] == "on_conflict"),
        "{upsert:?}"
    );

    // Two triggers share fn_birth_registry_auto, each with its own argument.
    for (trigger, arg) in [
        ("trg_birth_registry_auto", "code"),
        ("trg_birth_registry_auto_name", "name"),
    ] {
        let e = edge(
            &v,
            "calls",
            &format!("trigger:public.dot_tools.{trigger}"),
            "function:public.fn_birth_registry_auto()",
        )
        .unwrap_or_else(|| panic!("no calls edge from {trigger}"));
        assert_eq!(e["arguments"], serde_json::json!([arg]), "{e}");
    }
    let twice = hazards_of_kind(&v, "routine_fired_twice");
    assert_eq!(twice.len(), 1, "{:#}", v["hazards"]);
    assert_eq!(
        twice[0]["arguments"],
        serde_json::json!([["code"], ["name"]])
    );

    // The pg_notify inside `IF NEW.status = 'active' …` of a WHEN-guarded trigger.
    let n = edge(
        &v,
        "notifies",
        "function:public.fn_context_pack_on_dot_register()",
        "channel:context_pack_event",
    )
    .expect("notifies edge for context_pack_event");
    assert!(
        n.get("opaque").is_none(),
        "a literal channel is not opaque: {n}"
    );
    let fires = edge(
        &v,
        "fires",
        "table:public.dot_tools",
        "trigger:public.dot_tools.trg_context_pack_dot_register",
    )
    .unwrap();
    assert!(
        fires["when"].as_str().unwrap().contains("'active'"),
        "{fires}"
    );

    let tree = graph(fixture_store(), &["s", "dot_tools"]).stdout;
    for needle in [
        "trg_birth_registry_auto → public.fn_birth_registry_auto() args ('code')",
        "trg_birth_registry_auto_name → public.fn_birth_registry_auto() args ('name')",
        "notifies context_pack_event",
        "WHEN (new.status = 'active'::text)",
        "writes INSERT public.label_assignment",
    ] {
        assert!(tree.contains(needle), "{needle:?} not in:\n{tree}");
    }
}

#[test]
fn second_level_shows_the_written_tables_deferrable_constraint_trigger() {
    let v = graph_json(fixture_store(), &["s", "dot_tools"]);
    let fires = edge(
        &v,
        "fires",
        "table:public.birth_registry",
        "trigger:public.birth_registry.trg_iu_birth_gate_layer2",
    )
    .expect("birth_registry's own trigger is in the fan-out");
    assert_eq!(fires["event"], "insert");
    assert_eq!(fires["phase"], "at_commit");
    assert!(edge(
        &v,
        "calls",
        "trigger:public.birth_registry.trg_iu_birth_gate_layer2",
        "function:public.fn_birth_finalize()"
    )
    .is_some());
    let permit = edge(
        &v,
        "writes",
        "function:public.fn_birth_finalize()",
        "table:public.birth_admission_permit",
    )
    .unwrap();
    assert_eq!(permit["columns"], serde_json::json!(["status"]));

    let tree = graph(fixture_store(), &["s", "dot_tools"]).stdout;
    let line = tree
        .lines()
        .find(|l| l.contains("trg_iu_birth_gate_layer2"))
        .unwrap_or_else(|| panic!("no second level in:\n{tree}"));
    assert!(
        line.starts_with("│ "),
        "nested under the first-level trigger: {line}"
    );
    assert!(
        line.contains("AT COMMIT (deferred)") && line.contains("deferrable, initially deferred"),
        "{line}"
    );

    // --depth 1 stops at the first level and says so.
    let shallow = graph_json(fixture_store(), &["s", "dot_tools", "--depth", "1"]);
    assert_eq!(shallow["depth_limited"], true);
    assert!(edge(
        &shallow,
        "writes",
        "function:public.fn_birth_registry_auto()",
        "table:public.birth_registry"
    )
    .is_some());
    assert!(edges(&shallow, "fires")
        .iter()
        .all(|e| e["from"] == "table:public.dot_tools"));
}

#[test]
fn update_lists_only_update_triggers_and_honours_update_of() {
    let v = graph_json(fixture_store(), &["s", "dot_tools", "--event", "update"]);
    assert_eq!(
        firing_names(&v),
        [
            "trg_description_birth_guard",
            "trg_normalize_dot_filepath",
            "trg_context_pack_dot_register"
        ]
    );
    assert_eq!(
        entry(&v, "trg_normalize_dot_filepath")["update_columns"],
        serde_json::json!(["script_path"])
    );
    assert_eq!(
        entry(&v, "trg_context_pack_dot_register")["update_columns"],
        serde_json::json!(["status", "tier"])
    );
    assert!(v["firing_order"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e.get("skipped").is_none()));

    // An UPDATE that sets only `name` fires none of the UPDATE OF triggers.
    let name_only = graph_json(
        fixture_store(),
        &["s", "dot_tools", "--event", "update", "--columns", "name"],
    );
    assert!(entry(&name_only, "trg_description_birth_guard")
        .get("skipped")
        .is_none());
    for t in [
        "trg_normalize_dot_filepath",
        "trg_context_pack_dot_register",
    ] {
        let skipped = entry(&name_only, t)["skipped"]
            .as_str()
            .unwrap_or_else(|| panic!("{t} should not fire"));
        assert!(skipped.starts_with("UPDATE OF"), "{skipped}");
    }
    assert!(edges(&name_only, "notifies").is_empty());

    // One that sets `tier` fires the context-pack trigger (and its notify), not the filepath one.
    let tier = graph_json(
        fixture_store(),
        &["s", "dot_tools", "--event", "update", "--columns", "tier"],
    );
    assert!(entry(&tier, "trg_context_pack_dot_register")
        .get("skipped")
        .is_none());
    assert!(entry(&tier, "trg_normalize_dot_filepath")
        .get("skipped")
        .is_some());
    assert_eq!(edges(&tier, "notifies").len(), 1);

    let tree = graph(
        fixture_store(),
        &["s", "dot_tools", "--event", "update", "--columns", "name"],
    )
    .stdout;
    assert!(
        tree.starts_with("UPDATE OF name on public.dot_tools: 3 triggers (1 fire)"),
        "{tree}"
    );
    assert!(
        tree.contains("does not fire: UPDATE OF status, tier"),
        "{tree}"
    );
}

#[test]
fn updating_its_own_table_after_insert_is_no_cycle_inserting_into_it_is() {
    let db = fixture_db("graph_cycles");
    let store = tempfile::tempdir().unwrap();
    db.sql(
        "CREATE FUNCTION fn_touch_dot() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             UPDATE dot_tools SET description = coalesce(description, name) WHERE id = NEW.id;
             RETURN NULL;
         END $$;
         CREATE TRIGGER trg_touch_dot AFTER INSERT ON dot_tools FOR EACH ROW EXECUTE FUNCTION fn_touch_dot();",
    );
    snapshot(store.path(), &db, "touch");
    let v = graph_json(store.path(), &["touch", "dot_tools"]);
    let w = edge(
        &v,
        "writes",
        "function:public.fn_touch_dot()",
        "table:public.dot_tools",
    )
    .expect("self write");
    assert_eq!(w["op"], "update");
    assert_eq!(
        v["cycles"],
        serde_json::json!([]),
        "an UPDATE of itself from AFTER INSERT is not a cycle"
    );
    // The UPDATE fires dot_tools' UPDATE triggers (the description guard), not its INSERT ones.
    assert!(edges(&v, "fires").iter().any(|e| e["event"] == "update"
        && e["to"] == "trigger:public.dot_tools.trg_description_birth_guard"));

    db.sql(
        "CREATE FUNCTION fn_clone_dot() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             INSERT INTO dot_tools (name) VALUES (NEW.name || ' (copy)');
             RETURN NULL;
         END $$;
         CREATE TRIGGER trg_clone_dot AFTER INSERT ON dot_tools FOR EACH ROW
             WHEN (pg_trigger_depth() < 2) EXECUTE FUNCTION fn_clone_dot();",
    );
    snapshot(store.path(), &db, "clone");
    let v = graph_json(store.path(), &["clone", "dot_tools"]);
    let cycles = v["cycles"].as_array().unwrap();
    assert_eq!(cycles.len(), 1, "{cycles:#?}");
    let path: Vec<&str> = cycles[0]["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(
        path,
        [
            "public.dot_tools INSERT",
            "trg_clone_dot",
            "public.fn_clone_dot()",
            "public.dot_tools INSERT"
        ]
    );
    let tree = graph(store.path(), &["clone", "dot_tools"]).stdout;
    assert!(
        tree.contains("writes INSERT public.dot_tools — CYCLE"),
        "{tree}"
    );
    assert!(
        tree.contains("⟲ trigger cycle: public.dot_tools INSERT → trg_clone_dot"),
        "{tree}"
    );
    let ranking = graph_json(store.path(), &["clone"]);
    assert_eq!(ranking["tables"][0]["table"], "public.dot_tools");
    assert_eq!(ranking["tables"][0]["cycles"], 1);
}

/// The seeds' permit gate (doc 003), verbatim apart from its trigger's name.
const PERMIT_GATE: &str = "
CREATE FUNCTION fn_dot_tools_permit_gate() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE v_id uuid; v_exp timestamptz;
BEGIN
SELECT permit_id, expires_at INTO v_id, v_exp
FROM birth_admission_permit
WHERE collection_name='dot_tools' AND entity_code=NEW.code
AND status IN ('REQUESTED','RESERVED')
ORDER BY requested_at DESC LIMIT 1;
IF v_id IS NULL THEN RAISE EXCEPTION 'PERMIT_GATE: no active permit for dot_tools/%', NEW.code; END IF;
IF v_exp <= now() THEN RAISE EXCEPTION 'PERMIT_GATE: permit % expired for %', v_id, NEW.code; END IF;
UPDATE birth_admission_permit SET status='CONSUMED', consumed_at=now() WHERE permit_id=v_id;
RETURN NEW;
END $$;
CREATE TRIGGER trg_a_dot_tools_permit_gate BEFORE INSERT ON dot_tools
FOR EACH ROW EXECUTE FUNCTION fn_dot_tools_permit_gate();";

/// Insert a row without a code, holding a permit for the code auto-code will generate.
const TRY_INSERT: &str = "
BEGIN;
CREATE FUNCTION pg_temp.try_insert() RETURNS text LANGUAGE plpgsql AS $$
DECLARE v_code text;
BEGIN
    SELECT 'DOT-' || lpad((last_value + 1)::text, 4, '0') INTO v_code FROM dot_tools_id_seq;
    INSERT INTO birth_admission_permit (collection_name, entity_code, idempotency_key)
    VALUES ('dot_tools', v_code, 'k-' || v_code);
    INSERT INTO dot_tools (name) VALUES ('permit probe');
    RETURN 'inserted';
EXCEPTION WHEN others THEN
    RETURN SQLERRM;
END $$;
SELECT pg_temp.try_insert();
ROLLBACK;";

#[test]
fn permit_gate_hazard_is_reported_when_the_gate_sorts_before_auto_code_and_not_after() {
    let db = fixture_db("graph_permit_gate");
    let store = tempfile::tempdir().unwrap();
    db.sql(PERMIT_GATE);
    // PostgreSQL agrees it is a real hazard: the early gate sees NEW.code still NULL.
    assert_eq!(
        db.query(TRY_INSERT),
        "PERMIT_GATE: no active permit for dot_tools/<NULL>"
    );
    snapshot(store.path(), &db, "early");

    // "trg_a_…" sorts before "trg_auto_code_dot_tools": '_' (0x5f) < 'u' (0x75).
    let v = graph_json(store.path(), &["early", "dot_tools"]);
    assert_eq!(firing_names(&v)[0], "trg_a_dot_tools_permit_gate");
    let found = hazards_of_kind(&v, "read_before_assigned");
    assert_eq!(found.len(), 1, "{:#}", v["hazards"]);
    let h = found[0];
    assert_eq!(h["column"], "code");
    assert_eq!(
        (h["reader"].as_str(), h["reader_order"].as_u64()),
        (Some("trg_a_dot_tools_permit_gate"), Some(1))
    );
    assert_eq!(
        (h["writer"].as_str(), h["writer_order"].as_u64()),
        (Some("trg_auto_code_dot_tools"), Some(2))
    );
    let tree = graph(store.path(), &["early", "dot_tools"]).stdout;
    assert!(
        tree.contains("! trg_a_dot_tools_permit_gate (#1) reads NEW.code before trg_auto_code_dot_tools (#2) assigns it"),
        "{tree}"
    );

    // Renamed to sort after auto-code (the seeds' own name, and a zz_ one): no hazard, and
    // PostgreSQL lets the insert through.
    for (old, new) in [
        ("trg_a_dot_tools_permit_gate", "trg_dt_permit_gate"),
        ("trg_dt_permit_gate", "trg_zz_dot_tools_permit_gate"),
    ] {
        db.sql(&format!(
            "ALTER TRIGGER {old} ON dot_tools RENAME TO {new};"
        ));
        assert_eq!(db.query(TRY_INSERT), "inserted");
        snapshot(store.path(), &db, new);
        let v = graph_json(store.path(), &[new, "dot_tools"]);
        assert!(
            hazards_of_kind(&v, "read_before_assigned").is_empty(),
            "{new}: {:#}",
            v["hazards"]
        );
        let names = firing_names(&v);
        let gate = names.iter().position(|n| n == new).unwrap();
        let auto = names
            .iter()
            .position(|n| n == "trg_auto_code_dot_tools")
            .unwrap();
        assert!(auto < gate, "{names:?}");
    }
}

fn graphviz(dot: &str) -> String {
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Graphviz `dot` must be installed for the graph tests");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), dot.as_bytes()).unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "dot rejected:\n{stderr}\n{dot}"
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn graphviz_accepts_the_dot_output() {
    for args in [
        &["s", "dot_tools"][..],
        &["s", "dot_tools", "--event", "update"],
        &["s", "dot_tools", "--event", "delete"],
        &["s"],
    ] {
        let mut full = args.to_vec();
        full.extend_from_slice(&["--format", "dot"]);
        let dot = graph(fixture_store(), &full).stdout;
        assert!(dot.starts_with("digraph fanout {"), "{dot}");
        let svg = graphviz(&dot);
        assert!(svg.contains("<svg"), "{svg}");
        assert!(svg.contains("public.dot_tools"), "{args:?}");
    }
    let delete = graph(
        fixture_store(),
        &["s", "dot_tools", "--event", "delete", "--format", "dot"],
    )
    .stdout;
    assert!(
        delete.contains("ON DELETE CASCADE") && delete.contains("ON DELETE SET NULL"),
        "{delete}"
    );
}

#[test]
fn hostile_identifiers_are_escaped_in_every_format() {
    let db = fixture_db("graph_hostile");
    let store = tempfile::tempdir().unwrap();
    // Quotes, a newline, HTML, Mermaid arrows and pipes, backticks, comments.
    db.sql(
        r#"CREATE TABLE "t""<script>alert(1)</script>-->|`x
%%#;[]" (id int);
CREATE FUNCTION "f""<b>|`"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ch"<i>-->|`', 'x');
    INSERT INTO label_assignment (entity_code) VALUES ('x');
    RETURN NULL;
END $$;
CREATE TRIGGER "trg""]; click n0 call alert()
-->" AFTER INSERT ON "t""<script>alert(1)</script>-->|`x
%%#;[]" FOR EACH ROW EXECUTE FUNCTION "f""<b>|`"();"#,
    );
    snapshot(store.path(), &db, "h");
    let table = "\"t\"\"<script>alert(1)</script>-->|`x\n%%#;[]\"";
    let table_name = format!("public.{table}");

    let v = graph_json(store.path(), &["h", &table_name]);
    assert_eq!(v["table"], table_name);
    assert_eq!(firing_names(&v).len(), 1);
    assert!(
        edge(
            &v,
            "notifies",
            "function:public.\"f\"\"<b>|`\"()",
            "channel:ch\"<i>-->|`"
        )
        .is_some(),
        "{v:#}"
    );

    let dot = graph(store.path(), &["h", &table_name, "--format", "dot"]).stdout;
    let svg = graphviz(&dot);
    assert!(!svg.contains("<script>"), "{svg}");
    assert!(svg.contains("&lt;script&gt;"), "{svg}");

    let mermaid = graph(store.path(), &["h", &table_name, "--format", "mermaid"]).stdout;
    let lines: Vec<&str> = mermaid.lines().collect();
    // The front matter: the title one JSON string (a YAML double-quoted scalar), whatever
    // the table's name holds.
    assert_eq!(lines[0], "---", "{mermaid}");
    let title = lines[1].strip_prefix("title: ").expect("a title line");
    let title: String = serde_json::from_str(title).expect("the title is one JSON string");
    assert!(title.contains(&table_name), "{title}");
    assert_eq!(lines[2], "---", "{mermaid}");
    assert_eq!(lines[3], "flowchart LR");
    for l in &lines[4..] {
        assert!(
            l.starts_with("  n")
                || l.starts_with("  style n")
                || l.starts_with("  hazard")
                || l.starts_with("  class")
                || l.starts_with("  subgraph legend[")
                || l.starts_with("    legend")
                || *l == "  end",
            "injected line: {l:?}\n{mermaid}"
        );
        // Labels are quoted once: only the delimiting quotes remain.
        assert!(l.matches('"').count() <= 2, "{l}");
        for bad in ["<", ">|\"", "`", "%%", "alert()\n"] {
            let label = l.split('"').nth(1).unwrap_or_default();
            assert!(!label.contains(bad), "{bad:?} in label {label:?}");
        }
    }
    assert!(!mermaid.contains("<script>"), "{mermaid}");

    let tree = graph(store.path(), &["h", &table_name]).stdout;
    assert!(
        tree.lines()
            .all(|l| !l.starts_with("%%#") && !l.starts_with("-->")),
        "newline injected:\n{tree}"
    );
    assert!(tree.contains("`x\\n%%#;[]"), "{tree}");
}

#[test]
fn the_whole_database_is_ranked_by_fan_out() {
    let v = graph_json(fixture_store(), &["s"]);
    let tables = v["tables"].as_array().unwrap();
    let first = &tables[0];
    assert_eq!(first["table"], "public.dot_tools");
    assert_eq!(first["rank"], 1);
    assert_eq!(first["direct_triggers"], 13);
    assert_eq!(
        first["triggers"], 14,
        "13 own triggers and birth_registry's constraint trigger"
    );
    assert_eq!(first["tables"], 8, "{first}");
    assert_eq!(first["channels"], 1);
    assert_eq!(first["cycles"], 0);
    // TRUNCATE … CASCADE empties the tables whose foreign keys reference dot_tools.
    assert_eq!(
        first["events"],
        serde_json::json!(["insert", "update", "delete", "truncate"])
    );
    assert_eq!(tables[1]["table"], "public.birth_registry");
    assert!(v["nodes"].as_array().unwrap().len() > 30);

    let table = graph(fixture_store(), &["s"]).stdout;
    let header = table.lines().next().unwrap();
    assert!(
        header.contains("RANK") && header.contains("TRIGGERS REACHED"),
        "{table}"
    );
    let row = table.lines().nth(2).unwrap();
    assert!(
        row.contains("public.dot_tools") && row.contains(" 14 "),
        "{table}"
    );
}

#[test]
fn unanalysable_bodies_and_dynamic_sql_are_reported_not_dropped() {
    let db = fixture_db("graph_opaque");
    let store = tempfile::tempdir().unwrap();
    db.sql(
        "SET check_function_bodies = off;
         CREATE FUNCTION fn_broken() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN INSRT INTO orphan_dots VALUES (NEW.code); RETURN NULL; END $$;
         CREATE TRIGGER trg_zz_broken AFTER INSERT ON dot_tools FOR EACH ROW EXECUTE FUNCTION fn_broken();
         CREATE FUNCTION fn_dynamic() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             EXECUTE format('DELETE FROM %I WHERE code = $1', TG_ARGV[0]) USING NEW.code;
             PERFORM pg_notify(TG_ARGV[1], NEW.code);
             RETURN NULL;
         END $$;
         CREATE TRIGGER trg_zz_dynamic AFTER INSERT ON dot_tools FOR EACH ROW
             EXECUTE FUNCTION fn_dynamic('orphan_dots', 'dyn_channel');",
    );
    snapshot(store.path(), &db, "o");
    let v = graph_json(store.path(), &["o", "dot_tools"]);
    let un = v["unanalysable"].as_array().unwrap();
    assert_eq!(un.len(), 1, "{un:#?}");
    assert_eq!(un[0]["function"], "public.fn_broken()");
    assert!(
        un[0]["problem"]
            .as_str()
            .unwrap()
            .starts_with("unanalysable: "),
        "{}",
        un[0]
    );
    let node = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == "function:public.fn_broken()")
        .unwrap();
    assert!(node["problem"].is_string(), "{node}");

    let dynamic = edge(
        &v,
        "dynamic",
        "function:public.fn_dynamic()",
        "dynamic:public.fn_dynamic()",
    )
    .expect("dynamic edge");
    assert_eq!(dynamic["opaque"], true);
    assert!(
        dynamic["expression"]
            .as_str()
            .unwrap()
            .starts_with("format("),
        "{dynamic}"
    );
    let computed = edge(&v, "notifies", "function:public.fn_dynamic()", "channel:?")
        .expect("computed channel");
    assert_eq!(computed["opaque"], true);

    let tree = graph(store.path(), &["o", "dot_tools"]).stdout;
    assert!(
        tree.contains("? public.fn_broken(): unanalysable: "),
        "{tree}"
    );
    assert!(tree.contains("dynamic SQL (opaque)"), "{tree}");
    assert!(
        tree.contains("notifies a channel computed at run time (opaque)"),
        "{tree}"
    );
}

#[test]
fn unknown_tables_and_bad_arguments_are_errors() {
    let r = driftgate(fixture_store(), &["graph", "s", "dot_tool"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("no table \"dot_tool\"") && r.stderr.contains("public.dot_tools"),
        "{r:?}"
    );
    let r = driftgate(
        fixture_store(),
        &["graph", "s", "dot_tools", "--columns", "name"],
    );
    assert_eq!(r.code, 2, "{r:?}");
    let r = driftgate(
        fixture_store(),
        &["graph", "s", "dot_tools", "--depth", "0"],
    );
    assert_eq!(r.code, 2, "{r:?}");
}

/// A routine called in a WHEN condition runs for every row the trigger sees: the graph of a
/// real snapshot has it as a node called by the trigger, and follows what it writes (the
/// server prints the condition schema-qualified, so it resolves even outside `public`).
#[test]
fn a_routine_called_in_when_is_a_node_and_its_writes_are_followed() {
    let db = fixture_db("graph_when_calls");
    let store = tempfile::tempdir().unwrap();
    db.sql(
        "CREATE SCHEMA audit;
         CREATE TABLE audit.seen (name text);
         CREATE FUNCTION audit.note(n text) RETURNS boolean LANGUAGE plpgsql AS $$
         BEGIN INSERT INTO audit.seen VALUES (n); RETURN true; END $$;
         CREATE FUNCTION fn_when_noop() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RETURN NEW; END $$;
         CREATE TRIGGER trg_when_note BEFORE INSERT ON dot_tools FOR EACH ROW
             WHEN (audit.note(NEW.name) AND length(NEW.name) > 0) EXECUTE FUNCTION fn_when_noop();",
    );
    snapshot(store.path(), &db, "when");
    let v = graph_json(store.path(), &["when", "dot_tools"]);
    let call = edge(
        &v,
        "calls",
        "trigger:public.dot_tools.trg_when_note",
        "function:audit.note(text)",
    )
    .unwrap_or_else(|| panic!("no WHEN call edge: {:#}", v["edges"]));
    assert_eq!(call["via"], "when");
    assert!(
        edge(
            &v,
            "writes",
            "function:audit.note(text)",
            "table:audit.seen"
        )
        .is_some(),
        "the WHEN routine's write is followed"
    );
    let tree = graph(store.path(), &["when", "dot_tools"]).stdout;
    assert!(
        tree.contains("WHEN calls (every row): audit.note(text)"),
        "{tree}"
    );
}

/// Defaults, stored generated columns, CHECK constraints and row-level security policies
/// that call user routines run for every row a write touches: each is a `calls` edge from
/// the table, on the events that evaluate it, and what the routine writes is followed.
#[test]
fn row_expressions_that_call_routines_are_nodes_on_the_events_that_run_them() {
    let db = fixture_db("graph_row_calls");
    let store = tempfile::tempdir().unwrap();
    db.sql(
        "CREATE TABLE counters (n int);
         CREATE FUNCTION next_code() RETURNS text LANGUAGE plpgsql AS $$
         BEGIN INSERT INTO counters VALUES (1); RETURN 'c'; END $$;
         CREATE FUNCTION code_ok(c text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
         BEGIN RETURN c <> ''; END $$;
         CREATE FUNCTION doubled(n int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT n * 2';
         CREATE FUNCTION may_see(c text) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
         BEGIN RETURN true; END $$;
         CREATE TABLE parts (
             id int,
             code text DEFAULT next_code() CHECK (code_ok(code)),
             twice int GENERATED ALWAYS AS (doubled(id)) STORED
         );
         ALTER TABLE parts ENABLE ROW LEVEL SECURITY;
         CREATE POLICY parts_delete ON parts FOR DELETE USING (may_see(code));",
    );
    snapshot(store.path(), &db, "rows");
    let calls = |event: &str| -> Vec<(String, String, String)> {
        let v = graph_json(store.path(), &["rows", "parts", "--event", event]);
        let mut c: Vec<(String, String, String)> = edges(&v, "calls")
            .into_iter()
            .filter(|e| e["from"] == "table:public.parts")
            .map(|e| {
                (
                    e["via"].as_str().unwrap().to_string(),
                    e["constraint"].as_str().unwrap().to_string(),
                    e["to"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        c.sort();
        c
    };
    let t = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        calls("insert"),
        vec![
            t("check", "parts_code_check", "function:public.code_ok(text)"),
            t("default", "code", "function:public.next_code()"),
            t("generated", "twice", "function:public.doubled(integer)"),
        ]
    );
    assert_eq!(
        calls("update"),
        vec![
            t("check", "parts_code_check", "function:public.code_ok(text)"),
            t("generated", "twice", "function:public.doubled(integer)"),
        ],
        "no default on UPDATE"
    );
    assert_eq!(
        calls("delete"),
        vec![t("policy", "parts_delete", "function:public.may_see(text)")]
    );
    let v = graph_json(store.path(), &["rows", "parts"]);
    assert!(
        edge(
            &v,
            "writes",
            "function:public.next_code()",
            "table:public.counters"
        )
        .is_some(),
        "the default's write is followed: {:#}",
        v["edges"]
    );
    let tree = graph(store.path(), &["rows", "parts"]).stdout;
    assert!(
        tree.contains("DEFAULT of column code calls (every row): public.next_code()"),
        "{tree}"
    );
}

/// A statement on a partition fires the clones of its partitioned ancestors' row triggers
/// (not their statement triggers): the graph showed "0 triggers" there. Checked against
/// PostgreSQL itself: the functions the graph says an INSERT on the partition runs are the
/// ones `pg_stat_xact_user_functions` counts inside a rolled-back transaction.
#[test]
fn a_partition_fires_its_parents_row_triggers_as_postgresql_does() {
    let db = empty_db("graph_partitions");
    let store = tempfile::tempdir().unwrap();
    db.sql(
        "CREATE TABLE audit (what text);
         CREATE TABLE m (id int, v text) PARTITION BY RANGE (id);
         CREATE TABLE m_low PARTITION OF m FOR VALUES FROM (0) TO (100) PARTITION BY RANGE (id);
         CREATE TABLE m_low_a PARTITION OF m_low FOR VALUES FROM (0) TO (50);
         CREATE TABLE m_high PARTITION OF m FOR VALUES FROM (100) TO (200);
         CREATE FUNCTION fn_row() RETURNS trigger LANGUAGE plpgsql AS
             $$BEGIN INSERT INTO audit VALUES ('row'); RETURN NEW; END$$;
         CREATE FUNCTION fn_stmt() RETURNS trigger LANGUAGE plpgsql AS
             $$BEGIN INSERT INTO audit VALUES ('stmt'); RETURN NULL; END$$;
         CREATE FUNCTION fn_own() RETURNS trigger LANGUAGE plpgsql AS
             $$BEGIN RETURN NEW; END$$;
         CREATE TRIGGER m_row AFTER INSERT ON m FOR EACH ROW EXECUTE FUNCTION fn_row();
         CREATE TRIGGER m_stmt AFTER INSERT ON m FOR EACH STATEMENT EXECUTE FUNCTION fn_stmt();
         CREATE TRIGGER a_own BEFORE INSERT ON m_low_a FOR EACH ROW EXECUTE FUNCTION fn_own();
         ALTER TABLE m_high DISABLE TRIGGER m_row;",
    );
    snapshot(store.path(), &db, "parts");
    // What PostgreSQL runs for one INSERT into each partition.
    let ran = |table: &str, id: i32| -> Vec<String> {
        let out = db.sql(&format!(
            "BEGIN; SET LOCAL track_functions = 'all'; INSERT INTO {table} VALUES ({id}, 'x');
             SELECT funcname FROM pg_stat_xact_user_functions ORDER BY 1; ROLLBACK;"
        ));
        out.lines()
            .map(str::trim)
            .filter(|l| l.starts_with("fn_"))
            .map(str::to_string)
            .collect()
    };
    let predicted = |table: &str| -> Vec<String> {
        let v = graph_json(store.path(), &["parts", table]);
        let mut names: Vec<String> = edges(&v, "calls")
            .iter()
            .filter(|e| {
                let fires = edges(&v, "fires");
                fires
                    .iter()
                    .any(|f| f["to"] == e["from"] && f["skipped"].is_null())
            })
            .map(|e| {
                e["to"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("function:public.")
                    .trim_end_matches("()")
                    .to_string()
            })
            .collect();
        names.sort();
        names.dedup();
        names
    };
    assert_eq!(ran("m_low_a", 1), vec!["fn_own", "fn_row"]);
    assert_eq!(predicted("m_low_a"), ran("m_low_a", 1), "two levels down");
    assert_eq!(
        ran("m_high", 150),
        Vec::<String>::new(),
        "disabled on m_high"
    );
    assert_eq!(predicted("m_high"), ran("m_high", 150));
    let v = graph_json(store.path(), &["parts", "m_low_a"]);
    assert!(
        edge(
            &v,
            "writes",
            "function:public.fn_row()",
            "table:public.audit"
        )
        .is_some(),
        "the parent's row trigger's write is followed from the partition"
    );
    // On the partitioned table: its own triggers, and the partitions' own row triggers,
    // marked with the partition a row must be routed to for them to fire.
    assert_eq!(ran("m", 1), vec!["fn_own", "fn_row", "fn_stmt"]);
    assert_eq!(predicted("m"), ran("m", 1));
    let v = graph_json(store.path(), &["parts", "m"]);
    let own = entry(&v, "a_own");
    assert_eq!(own["routed_to"], "public.m_low_a", "{own:#}");
    assert!(entry(&v, "m_row")["routed_to"].is_null());
    assert!(
        edges(&v, "fires")
            .iter()
            .any(|e| e["from"] == "table:public.m" && e["to"] == "trigger:public.m_low_a.a_own"),
        "the trigger node is the partition's"
    );
    let tree = graph(store.path(), &["parts", "m"]).stdout;
    assert!(
        tree.contains("only rows routed to public.m_low_a"),
        "{tree}"
    );
}

fn certainty_rank(c: &Value) -> u8 {
    match c.as_str() {
        Some("always") => 2,
        Some("maybe-no-rows") => 1,
        Some("conditional") => 0,
        other => panic!("unknown certainty {other:?}"),
    }
}

/// Whether the graph node `id` ran, when PostgreSQL can tell: a function was counted, a
/// table had rows of `event` (any rows when None). Triggers, channels and dynamic SQL
/// cannot be observed directly: None.
fn node_ran(ran: &Ran, id: &str, event: Option<&str>) -> Option<bool> {
    if let Some(f) = id.strip_prefix("function:") {
        let name = f.split('(').next().unwrap();
        let name = name.rsplit('.').next().unwrap();
        return Some(ran.functions.contains(name));
    }
    let t = id.strip_prefix("table:")?;
    let (i, u, d) = ran.tables.get(t).copied().unwrap_or_default();
    Some(match event {
        Some("insert") => i > 0,
        Some("update") => u > 0,
        Some("delete") => d > 0,
        Some(_) => return None,
        None => i + u + d > 0,
    })
}

/// One observable step: (source, its event, target, the target's event, certainty rank).
type Step = (String, Option<String>, String, Option<String>, u8);

/// Issue 18's oracle: every step the graph marks `always` (a trigger's fires and calls
/// edges taken together, since a trigger is not observable on its own) whose source ran
/// must have its target run, and every node the graph says is reached `always` must have
/// run. Returns the violations.
fn always_violations(v: &Value, ran: &Ran) -> Vec<String> {
    let edges = v["edges"].as_array().unwrap();
    let live = |e: &&Value| e["skipped"].is_null();
    let mut steps: Vec<Step> = Vec::new();
    for e in edges.iter().filter(live) {
        let (from, to) = (e["from"].as_str().unwrap(), e["to"].as_str().unwrap());
        let event = e["event"].as_str().map(str::to_string);
        if from.starts_with("trigger:") {
            continue;
        }
        if to.starts_with("trigger:") {
            for c in edges
                .iter()
                .filter(live)
                .filter(|c| c["from"] == to && c["kind"] == "calls" && c["via"].is_null())
            {
                steps.push((
                    from.to_string(),
                    event.clone(),
                    c["to"].as_str().unwrap().to_string(),
                    None,
                    certainty_rank(&e["certainty"]).min(certainty_rank(&c["certainty"])),
                ));
            }
            continue;
        }
        let target_event = match e["kind"].as_str() {
            Some("writes") => e["op"].as_str().map(str::to_string),
            _ => None,
        };
        steps.push((
            from.to_string(),
            event,
            to.to_string(),
            target_event,
            certainty_rank(&e["certainty"]),
        ));
    }
    // The walked table's statement ran, whether or not a BEFORE trigger kept its row.
    let root = format!("table:{}", v["table"].as_str().unwrap());
    let mut bad = Vec::new();
    for (from, ev, to, tev, rank) in &steps {
        if *rank < 2 {
            continue;
        }
        let src = if *from == root {
            Some(true)
        } else {
            node_ran(ran, from, ev.as_deref())
        };
        let dst = node_ran(ran, to, tev.as_deref());
        if src == Some(true) && dst == Some(false) {
            bad.push(format!("always edge {from} → {to} did not run"));
        }
    }
    for n in v["nodes"].as_array().unwrap() {
        let id = n["id"].as_str().unwrap();
        if id != root && n["reached"] == "always" && node_ran(ran, id, None) == Some(false) {
            bad.push(format!("{id} is reached always but did not run"));
        }
    }
    bad
}

fn edge_certainty(v: &Value, kind: &str, from: &str, to: &str) -> (String, Option<String>) {
    let e = edge(v, kind, from, to).unwrap_or_else(|| panic!("no {kind} edge {from} → {to}"));
    (
        e["certainty"].as_str().unwrap().to_string(),
        e["guard"].as_str().map(str::to_string),
    )
}

/// Issue 18: edges say how sure they are, checked against what PostgreSQL runs. With every
/// guard false, what is marked `always` still all runs, and what did not run is marked
/// `conditional` or `maybe-no-rows`; with the guards true, those edges run too (they are
/// real, not noise). DOT, Mermaid and the tree show the marks.
#[test]
fn edges_marked_always_run_whenever_their_source_runs_and_guarded_ones_may_not() {
    let db = empty_db("graph_certainty");
    let store = tempfile::tempdir().unwrap();
    db.sql(
        "CREATE TABLE t (id int, kind text);
         CREATE TABLE a_log (id int); CREATE TABLE b_log (id int); CREATE TABLE e_log (id int);
         CREATE TABLE d_target (id int, v int);
         CREATE FUNCTION fn_helper_always() RETURNS void LANGUAGE plpgsql AS
             $$BEGIN INSERT INTO e_log VALUES (1); END$$;
         CREATE FUNCTION fn_helper_guarded() RETURNS void LANGUAGE plpgsql AS
             $$BEGIN RETURN; END$$;
         CREATE FUNCTION fn_main() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             INSERT INTO a_log VALUES (NEW.id);
             PERFORM fn_helper_always();
             IF NEW.kind = 'x' THEN
                 INSERT INTO b_log VALUES (NEW.id);
                 PERFORM fn_helper_guarded();
             END IF;
             UPDATE d_target SET v = NEW.id WHERE id = NEW.id;
             RETURN NULL;
         END$$;
         CREATE FUNCTION fn_skip() RETURNS trigger LANGUAGE plpgsql AS
             $$BEGIN IF NEW.id < 0 THEN RETURN NULL; END IF; RETURN NEW; END$$;
         CREATE FUNCTION fn_when() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
         CREATE FUNCTION fn_alog() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
         CREATE FUNCTION fn_blog() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
         CREATE FUNCTION fn_d() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
         CREATE TRIGGER a_skip BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION fn_skip();
         CREATE TRIGGER main AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION fn_main();
         CREATE TRIGGER w AFTER INSERT ON t FOR EACH ROW WHEN (NEW.kind = 'y')
             EXECUTE FUNCTION fn_when();
         CREATE TRIGGER alog AFTER INSERT ON a_log FOR EACH ROW EXECUTE FUNCTION fn_alog();
         CREATE TRIGGER blog AFTER INSERT ON b_log FOR EACH ROW EXECUTE FUNCTION fn_blog();
         CREATE TRIGGER d AFTER UPDATE ON d_target FOR EACH ROW EXECUTE FUNCTION fn_d();",
    );
    snapshot(store.path(), &db, "c");
    let v = graph_json(store.path(), &["c", "t", "--event", "insert"]);
    let main = "function:public.fn_main()";
    // The marks.
    assert_eq!(
        edge_certainty(&v, "writes", main, "table:public.a_log"),
        ("always".into(), None)
    );
    assert_eq!(
        edge_certainty(&v, "calls", main, "function:public.fn_helper_always()"),
        ("always".into(), None)
    );
    let guarded = (
        "conditional".to_string(),
        Some("IF NEW.kind = 'x'".to_string()),
    );
    assert_eq!(
        edge_certainty(&v, "writes", main, "table:public.b_log"),
        guarded
    );
    assert_eq!(
        edge_certainty(&v, "calls", main, "function:public.fn_helper_guarded()"),
        guarded
    );
    assert_eq!(
        edge_certainty(&v, "writes", main, "table:public.d_target"),
        ("maybe-no-rows".into(), None)
    );
    let (c, g) = edge_certainty(&v, "fires", "table:public.t", "trigger:public.t.w");
    assert_eq!(c, "conditional");
    let g = g.unwrap();
    assert!(
        g.contains("WHEN (new.kind = 'y'::text)") && g.contains("a_skip skips the row"),
        "{g}"
    );
    let node = |id: &str| {
        v["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == id)
            .unwrap_or_else(|| panic!("no node {id}"))["reached"]
            .clone()
    };
    assert_eq!(node("function:public.fn_skip()"), "always");
    // fn_main's own edges are always, but a_skip may skip the row before it fires.
    assert_eq!(node(main), "conditional");
    assert_eq!(node("function:public.fn_blog()"), "conditional");
    // Through fn_main (conditional) and a maybe-no-rows UPDATE: the weakest wins.
    assert_eq!(node("function:public.fn_d()"), "conditional");
    assert_eq!(node("table:public.a_log"), "conditional");

    // Every guard false, d_target empty: the always part runs, the rest may not and does
    // not.
    let ran = what_ran(&db, "SELECT 1", "INSERT INTO t VALUES (1, 'z')");
    assert_eq!(
        ran.functions,
        ["fn_alog", "fn_helper_always", "fn_main", "fn_skip"]
            .map(String::from)
            .into(),
    );
    assert_eq!(always_violations(&v, &ran), Vec::<String>::new());
    for not_run in ["fn_when", "fn_helper_guarded", "fn_blog", "fn_d"] {
        let id = format!("function:public.{not_run}()");
        assert_ne!(node(&id), "always", "{not_run} did not run");
    }
    // The BEFORE trigger skips the row: only it runs, and nothing else was `always`.
    let ran = what_ran(&db, "SELECT 1", "INSERT INTO t VALUES (-1, 'x')");
    assert_eq!(ran.functions, ["fn_skip"].map(String::from).into());
    assert_eq!(always_violations(&v, &ran), Vec::<String>::new());
    // Guards true, a row to update: the guarded edges are real.
    db.sql("INSERT INTO d_target VALUES (2, 0)");
    let ran = what_ran(&db, "SELECT 1", "INSERT INTO t VALUES (2, 'x')");
    for f in ["fn_blog", "fn_helper_guarded", "fn_d"] {
        assert!(ran.functions.contains(f), "{f} ran: {:?}", ran.functions);
    }
    assert_eq!(always_violations(&v, &ran), Vec::<String>::new());
    let ran = what_ran(&db, "SELECT 1", "INSERT INTO t VALUES (3, 'y')");
    assert!(ran.functions.contains("fn_when"));

    // Every format shows it.
    let tree = graph(store.path(), &["c", "t"]).stdout;
    assert!(
        tree.contains("writes INSERT public.b_log [IF NEW.kind = 'x']"),
        "{tree}"
    );
    assert!(
        tree.contains("writes UPDATE public.d_target SET v (maybe no rows)"),
        "{tree}"
    );
    assert!(
        tree.contains("calls public.fn_helper_guarded() [IF NEW.kind = 'x']"),
        "{tree}"
    );
    assert!(
        tree.contains("main → public.fn_main() [unless BEFORE trigger a_skip skips the row]"),
        "{tree}"
    );
    let dot = graph(store.path(), &["c", "t", "--format", "dot"]).stdout;
    let line = dot
        .lines()
        .find(|l| l.contains("-> \"table:public.b_log\""))
        .unwrap();
    assert!(
        line.contains("style=dashed") && line.contains("[IF NEW.kind = 'x']"),
        "{line}"
    );
    let always = dot
        .lines()
        .find(|l| l.contains("-> \"table:public.a_log\""))
        .unwrap();
    assert!(!always.contains("dashed"), "{always}");
    let mermaid = graph(store.path(), &["c", "t", "--format", "mermaid"]).stdout;
    assert!(
        mermaid
            .lines()
            .any(|l| l.contains("-.->") && l.contains("maybe no rows")),
        "{mermaid}"
    );
}

/// The same oracle on the governance sample: an INSERT into `dot_tools` runs everything the
/// graph marks `always`.
#[test]
fn the_governance_insert_runs_everything_marked_always() {
    let db = fixture_db("graph_certainty_gov");
    let store = tempfile::tempdir().unwrap();
    snapshot(store.path(), &db, "g");
    let v = graph_json(store.path(), &["g", "dot_tools", "--event", "insert"]);
    assert_eq!(firing_names(&v), INSERT_ORDER.map(String::from));
    let ran = what_ran(
        &db,
        "SELECT 1",
        "INSERT INTO dot_tools (name, status, tier) VALUES ('certainty probe', 'draft', 'B')",
    );
    assert!(
        ran.functions.contains("fn_birth_registry_auto"),
        "{:?}",
        ran.functions
    );
    assert_eq!(always_violations(&v, &ran), Vec::<String>::new());
    // status 'draft': the WHEN of trg_context_pack_dot_register is false, and its function
    // did not run; the graph marks it conditional.
    assert!(!ran.functions.contains("fn_context_pack_on_dot_register"));
    let (c, g) = edge_certainty(
        &v,
        "fires",
        "table:public.dot_tools",
        "trigger:public.dot_tools.trg_context_pack_dot_register",
    );
    assert_eq!(c, "conditional");
    assert_eq!(g.as_deref(), Some("WHEN (new.status = 'active'::text)"));
}
