//! The fan-out of what the rewriter and the type system run around a write (issue 18,
//! item 2): rules (`DO ALSO` / `DO INSTEAD`), INSTEAD OF triggers on views, writes through
//! automatically updatable views, domain CHECKs calling user functions, and a body in
//! PostgreSQL 18-only syntax. Each graph claim is held against PostgreSQL itself: the
//! statement runs inside `BEGIN … ROLLBACK` with `track_functions = 'all'`, and
//! `pg_stat_xact_user_functions` / `pg_stat_xact_user_tables` say what really ran.

mod support;

use serde_json::Value;
use std::path::Path;
use support::oracle::what_ran;
use support::*;

fn snapshot(store: &Path, db: &TestDb, name: &str) {
    let r = driftgate(store, &["snapshot", "--dsn", &db.dsn, "--ref", name]);
    assert_eq!(r.code, 0, "{r:?}");
}

fn graph(store: &Path, args: &[&str]) -> String {
    let mut full = vec!["graph"];
    full.extend_from_slice(args);
    let r = driftgate(store, &full);
    assert_eq!(r.code, 0, "{r:?}");
    r.stdout
}

fn graph_json(store: &Path, args: &[&str]) -> Value {
    let mut full = args.to_vec();
    full.extend_from_slice(&["--format", "json"]);
    let out = graph(store, &full);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("graph JSON does not parse: {e}\n{out}"))
}

fn edge<'a>(v: &'a Value, kind: &str, from: &str, to: &str) -> &'a Value {
    v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == kind && e["from"] == from && e["to"] == to)
        .unwrap_or_else(|| panic!("no {kind} edge {from} → {to}: {:#}", v["edges"]))
}

fn has_edge(v: &Value, kind: &str, from: &str, to: &str) -> bool {
    v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == kind && e["from"] == from && e["to"] == to)
}

#[test]
fn rules_are_followed_and_do_instead_replaces_the_write() {
    let db = empty_db("graph_rules");
    let store = tempfile::tempdir().unwrap();
    db.sql(
        "CREATE TABLE t (id int, a int);
         CREATE TABLE log (a int);
         CREATE TABLE audit (a int);
         CREATE TABLE s (a int);
         CREATE FUNCTION note(x int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN x; END $$;
         CREATE FUNCTION t_trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
         CREATE FUNCTION s_trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
         CREATE TRIGGER t_before BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION t_trg();
         CREATE TRIGGER s_before BEFORE INSERT ON s FOR EACH ROW EXECUTE FUNCTION s_trg();
         CREATE RULE t_also AS ON INSERT TO t DO ALSO INSERT INTO log VALUES (note(new.a));
         CREATE RULE t_cond AS ON INSERT TO t WHERE new.a > 10 DO ALSO INSERT INTO audit VALUES (new.a);
         CREATE RULE s_instead AS ON INSERT TO s DO INSTEAD (INSERT INTO log VALUES (new.a); NOTIFY s_chan);",
    );
    snapshot(store.path(), &db, "r");

    // DO ALSO: the rule's write and the call in it are followed; the table is still
    // written, so its trigger fires.
    let v = graph_json(store.path(), &["r", "t", "--event", "insert"]);
    let rule = edge(&v, "rule", "table:public.t", "rule:public.t.t_also");
    assert_eq!(rule["certainty"], "always", "{rule:#}");
    assert!(rule["instead"].is_null(), "DO ALSO: {rule:#}");
    edge(&v, "writes", "rule:public.t.t_also", "table:public.log");
    edge(
        &v,
        "calls",
        "rule:public.t.t_also",
        "function:public.note(integer)",
    );
    let cond = edge(&v, "rule", "table:public.t", "rule:public.t.t_cond");
    assert_eq!(cond["certainty"], "conditional", "{cond:#}");
    assert!(
        cond["guard"].as_str().unwrap().contains("new.a > 10"),
        "the guard is the rule's WHERE: {cond:#}"
    );
    let w = edge(&v, "writes", "rule:public.t.t_cond", "table:public.audit");
    assert_eq!(w["certainty"], "conditional", "{w:#}");
    let fires = edge(&v, "fires", "table:public.t", "trigger:public.t.t_before");
    assert!(fires["skipped"].is_null(), "{fires:#}");
    // PostgreSQL agrees: the trigger, the rule's call and its write ran; the conditional
    // rule did not for a row its WHERE rejects.
    let ran = what_ran(&db, "SELECT 1", "INSERT INTO t VALUES (1, 5)");
    assert!(ran.ran("t_trg") && ran.ran("note"), "{:?}", ran.functions);
    assert_eq!(ran.inserted("public.log"), 1);
    assert_eq!(ran.inserted("public.t"), 1);
    assert_eq!(ran.inserted("public.audit"), 0);
    let ran = what_ran(&db, "SELECT 1", "INSERT INTO t VALUES (1, 50)");
    assert_eq!(ran.inserted("public.audit"), 1, "the guard can be true");

    // DO INSTEAD: the table is not written, its trigger does not fire; the rule's actions
    // (a write and a NOTIFY) run instead.
    let v = graph_json(store.path(), &["r", "s", "--event", "insert"]);
    let rule = edge(&v, "rule", "table:public.s", "rule:public.s.s_instead");
    assert_eq!(rule["instead"], true, "{rule:#}");
    edge(&v, "writes", "rule:public.s.s_instead", "table:public.log");
    edge(&v, "notifies", "rule:public.s.s_instead", "channel:s_chan");
    let fires = edge(&v, "fires", "table:public.s", "trigger:public.s.s_before");
    assert!(
        fires["skipped"]
            .as_str()
            .is_some_and(|s| s.contains("DO INSTEAD rule s_instead")),
        "{fires:#}"
    );
    let ran = what_ran(&db, "SELECT 1", "INSERT INTO s VALUES (7)");
    assert!(!ran.ran("s_trg"), "{:?}", ran.functions);
    assert_eq!(ran.inserted("public.s"), 0);
    assert_eq!(ran.inserted("public.log"), 1);
    let tree = graph(store.path(), &["r", "s", "--event", "insert"]);
    assert!(tree.contains("RULE s_instead DO INSTEAD"), "{tree}");
    assert!(
        tree.contains("not written: DO INSTEAD rule s_instead replaces the write"),
        "{tree}"
    );
    // The whole-database ranking follows rules too: a table whose only fan-out is a rule
    // is ranked, and reaches the rule's table.
    let db_rank = graph_json(store.path(), &["r"]);
    let s_rank = db_rank["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "public.s")
        .unwrap_or_else(|| panic!("public.s is ranked: {db_rank:#}"));
    assert!(s_rank["tables"].as_u64().unwrap() >= 1, "{s_rank:#}");
    assert!(s_rank["channels"].as_u64().unwrap() >= 1, "{s_rank:#}");
    // A rule on another event is not drawn.
    let v = graph_json(store.path(), &["r", "s", "--event", "delete"]);
    assert!(!has_edge(
        &v,
        "rule",
        "table:public.s",
        "rule:public.s.s_instead"
    ));
}

#[test]
fn views_are_written_by_instead_of_triggers_or_through_to_their_base_table() {
    let db = empty_db("graph_views");
    let store = tempfile::tempdir().unwrap();
    db.sql(
        "CREATE TABLE base (id int, v int);
         CREATE TABLE sink (n bigint);
         CREATE FUNCTION base_trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
         CREATE TRIGGER base_ins BEFORE INSERT OR UPDATE ON base
           FOR EACH ROW EXECUTE FUNCTION base_trg();
         CREATE VIEW simple AS SELECT id, v AS value FROM base WHERE v > 0 WITH LOCAL CHECK OPTION;
         CREATE VIEW agg AS SELECT count(*) AS n FROM base;
         CREATE FUNCTION agg_ins() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN INSERT INTO sink VALUES (NEW.n); RETURN NEW; END $$;
         CREATE TRIGGER agg_instead INSTEAD OF INSERT ON agg
           FOR EACH ROW EXECUTE FUNCTION agg_ins();
         CREATE VIEW ruled AS SELECT id, v FROM base;
         CREATE RULE ruled_ins AS ON INSERT TO ruled DO INSTEAD INSERT INTO sink VALUES (new.id);",
    );
    snapshot(store.path(), &db, "v");

    // An automatically updatable view: the write goes to the base table, whose trigger
    // fires.
    let v = graph_json(store.path(), &["v", "simple", "--event", "insert"]);
    let w = edge(&v, "writes", "table:public.simple", "table:public.base");
    assert_eq!(w["via"], "view", "{w:#}");
    assert_eq!(w["check_option"], "local", "{w:#}");
    edge(
        &v,
        "fires",
        "table:public.base",
        "trigger:public.base.base_ins",
    );
    let ran = what_ran(&db, "SELECT 1", "INSERT INTO simple VALUES (1, 5)");
    assert!(ran.ran("base_trg"), "{:?}", ran.functions);
    assert_eq!(ran.inserted("public.base"), 1);
    // UPDATE through the view sets the base columns the view's columns stand for.
    let v = graph_json(
        store.path(),
        &["v", "simple", "--event", "update", "--columns", "value"],
    );
    let w = edge(&v, "writes", "table:public.simple", "table:public.base");
    assert_eq!(w["columns"], serde_json::json!(["v"]), "{w:#}");
    let tree = graph(store.path(), &["v", "simple", "--event", "insert"]);
    assert!(
        tree.contains("writes through the view (automatically updatable) [WITH LOCAL CHECK OPTION]: INSERT on public.base"),
        "{tree}"
    );

    // A view that is not updatable, with an INSTEAD OF trigger: the trigger handles the
    // write and its function is followed.
    let v = graph_json(store.path(), &["v", "agg", "--event", "insert"]);
    let fires = edge(
        &v,
        "fires",
        "table:public.agg",
        "trigger:public.agg.agg_instead",
    );
    assert_eq!(fires["timing"], "instead_of");
    assert!(fires["skipped"].is_null(), "{fires:#}");
    edge(
        &v,
        "writes",
        "function:public.agg_ins()",
        "table:public.sink",
    );
    assert!(!has_edge(
        &v,
        "writes",
        "table:public.agg",
        "table:public.base"
    ));
    let ran = what_ran(&db, "SELECT 1", "INSERT INTO agg VALUES (3)");
    assert!(ran.ran("agg_ins"), "{:?}", ran.functions);
    assert_eq!(ran.inserted("public.sink"), 1);
    assert_eq!(ran.inserted("public.base"), 0);
    // Nothing handles an UPDATE of it: PostgreSQL refuses it, and the tree says so.
    let tree = graph(store.path(), &["v", "agg", "--event", "update"]);
    assert!(
        tree.contains("PostgreSQL refuses this write: the view is not automatically updatable"),
        "{tree}"
    );
    // An updatable view with an unconditional DO INSTEAD rule: the rule, not the
    // automatic update, handles the write.
    let v = graph_json(store.path(), &["v", "ruled", "--event", "insert"]);
    edge(
        &v,
        "rule",
        "table:public.ruled",
        "rule:public.ruled.ruled_ins",
    );
    edge(
        &v,
        "writes",
        "rule:public.ruled.ruled_ins",
        "table:public.sink",
    );
    assert!(!has_edge(
        &v,
        "writes",
        "table:public.ruled",
        "table:public.base"
    ));
    let ran = what_ran(&db, "SELECT 1", "INSERT INTO ruled VALUES (1, 2)");
    assert_eq!(ran.inserted("public.sink"), 1);
    assert_eq!(ran.inserted("public.base"), 0);
    let refused = db.cluster.psql_raw(&db.name, "UPDATE agg SET n = 1", &[]);
    assert!(!refused.status.success(), "PostgreSQL refuses it too");
}

#[test]
fn a_domain_check_calling_a_function_runs_on_insert_and_on_updates_setting_the_column() {
    let db = empty_db("graph_domains");
    let store = tempfile::tempdir().unwrap();
    db.sql(
        "CREATE FUNCTION positive(x int) RETURNS boolean LANGUAGE plpgsql AS $$
         BEGIN RETURN x > 0; END $$;
         CREATE DOMAIN pos AS int CHECK (positive(VALUE));
         CREATE DOMAIN pos_too AS pos;
         CREATE TABLE d (id int, p pos_too, q int);",
    );
    snapshot(store.path(), &db, "d");
    let callee = "function:public.positive(integer)";
    let v = graph_json(store.path(), &["d", "d", "--event", "insert"]);
    let e = edge(&v, "calls", "table:public.d", callee);
    assert_eq!(e["via"], "domain", "{e:#}");
    assert_eq!(e["certainty"], "always", "{e:#}");
    let ran = what_ran(&db, "SELECT 1", "INSERT INTO d VALUES (1, 5, 1)");
    assert!(ran.ran("positive"), "{:?}", ran.functions);

    let v = graph_json(
        store.path(),
        &["d", "d", "--event", "update", "--columns", "q"],
    );
    assert!(
        !has_edge(&v, "calls", "table:public.d", callee),
        "{:#}",
        v["edges"]
    );
    let seed = "INSERT INTO d VALUES (1, 5, 1); SELECT pg_stat_clear_snapshot()";
    let ran = what_ran(&db, seed, "UPDATE d SET q = 2");
    assert!(
        !ran.ran("positive"),
        "not set, not checked: {:?}",
        ran.functions
    );
    let v = graph_json(
        store.path(),
        &["d", "d", "--event", "update", "--columns", "p"],
    );
    edge(&v, "calls", "table:public.d", callee);
    let ran = what_ran(&db, seed, "UPDATE d SET p = 6");
    assert!(ran.ran("positive"), "{:?}", ran.functions);
    // Columns not known: the check is conditional on the column being set.
    let v = graph_json(store.path(), &["d", "d", "--event", "update"]);
    let e = edge(&v, "calls", "table:public.d", callee);
    assert_eq!(e["certainty"], "conditional", "{e:#}");
    let tree = graph(store.path(), &["d", "d", "--event", "update"]);
    assert!(
        tree.contains("DOMAIN CHECK of column p: public.pos.pos_check calls (every row): public.positive(integer) [when column p is set]"),
        "{tree}"
    );
}

/// `RETURNING WITH (OLD AS o)` is PostgreSQL 18 syntax the parser driftgate embeds (the
/// PG17 grammar) rejects: on 18 the body is marked unanalysable with the parser's reason,
/// never dropped; before 18 the server itself rejects the construct.
#[test]
fn a_body_in_18_only_syntax_is_unanalysable_with_the_reason() {
    let db = empty_db("graph_pg18_syntax");
    let store = tempfile::tempdir().unwrap();
    let version: u32 = db.query("SHOW server_version_num").parse().unwrap();
    let body = "CREATE TABLE t (a int); CREATE TABLE log (a int);
         CREATE FUNCTION f18() RETURNS trigger LANGUAGE plpgsql AS $$
         DECLARE x int;
         BEGIN
           UPDATE log SET a = a + 1 RETURNING WITH (OLD AS o) o.a INTO x;
           RETURN NEW;
         END $$;
         CREATE TRIGGER t18 AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f18();";
    if version < 180000 {
        let out = db.cluster.psql_raw(&db.name, body, &[]);
        assert!(
            !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("syntax error"),
            "PostgreSQL {version} rejects RETURNING WITH: {out:?}"
        );
        return;
    }
    db.sql(body);
    snapshot(store.path(), &db, "p18");
    let v = graph_json(store.path(), &["p18", "t"]);
    let u = v["unanalysable"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["function"] == "public.f18()")
        .unwrap_or_else(|| panic!("f18 is unanalysable: {v:#}"));
    assert!(
        u["problem"].as_str().unwrap().contains("syntax error"),
        "{u:#}"
    );
    edge(&v, "calls", "trigger:public.t.t18", "function:public.f18()");
}
