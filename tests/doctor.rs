//! `driftgate doctor` against a real throwaway server: a superuser with a store is all ok, a
//! CONNECT-only role is degraded with what it cannot read named, a missing session bus is
//! said in so many words without changing the status, and no server or no store is exit 2
//! with every section still printed.

mod support;

use serde_json::Value;
use std::path::Path;
use support::*;

/// `doctor` with no session bus in the environment (and none at the fallback path), so
/// what the tools section says does not depend on the machine running the tests.
fn doctor(store: &Path, args: &[&str]) -> Run {
    let runtime = tempfile::tempdir().unwrap();
    let mut cmd = driftgate_cmd(store, &[&["doctor"], args].concat());
    cmd.env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", runtime.path());
    run_cmd(cmd)
}

fn doctor_json(store: &Path, args: &[&str]) -> (Run, Value) {
    let r = doctor(store, &[args, &["--format", "json"]].concat());
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r:?}"));
    (r, v)
}

/// A store holding one snapshot of `db`, taken by the superuser.
fn store_with_a_snapshot(db: &TestDb) -> tempfile::TempDir {
    let store = tempfile::tempdir().unwrap();
    let r = driftgate(store.path(), &["snapshot", "--dsn", &db.dsn]);
    assert_eq!(r.code, 0, "{r:?}");
    store
}

#[test]
fn a_superuser_on_a_fresh_fixture_with_a_store_is_all_ok_and_changes_nothing() {
    let db = fixture_db("doctor_ok");
    let store = store_with_a_snapshot(&db);
    let before = store_state(store.path());

    let (r, v) = doctor_json(store.path(), &["--dsn", &db.dsn]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(v["format"], "driftgate.doctor/v1");
    assert_eq!(v["status"], "ok", "{v:#}");
    let c = &v["connection"];
    assert_eq!(c["connected"], true);
    assert_eq!(c["database"], db.name.as_str());
    assert_eq!(
        c["target"],
        format!("postgres@127.0.0.1:{}/{}", db.cluster.port, db.name)
    );
    assert_eq!(c["mode"], "primary");
    assert_eq!(c["read_only"], true);
    assert_eq!(c["supported"], true);
    assert_eq!(c["tls"]["in_use"], false);
    assert_eq!(c["tls"]["certificate_verified"], false);
    assert_eq!(c["tls"]["sslmode"], "prefer");
    let p = &v["privileges"];
    assert_eq!(p["superuser"], true);
    assert_eq!(p["unreadable_catalogs"], serde_json::json!([]));
    assert_eq!(p["unreadable_columns"], serde_json::json!([]));
    assert_eq!(p["uncountable_tables"]["count"], 0);
    assert!(p["tables"].as_u64().unwrap() > 5, "{p:#}");
    let s = &v["store"];
    assert_eq!(s["exists"], true);
    assert_eq!(s["writable"], true);
    assert_eq!(s["source"], "--store");
    assert_eq!(s["fsck"]["snapshots"], 1);
    assert_eq!(s["fsck"]["problems"], serde_json::json!([]));
    for section in ["connection", "privileges", "store"] {
        assert!(
            doctor_findings(&v[section])
                .iter()
                .all(|(level, _)| level == "ok"),
            "{section}: {:#}",
            v[section]
        );
    }

    let r = doctor(store.path(), &["--dsn", &db.dsn]);
    assert_eq!(r.code, 0, "{r:?}");
    for line in [
        "ok    connected as postgres to database",
        ", primary",
        "ok    TLS not in use (sslmode=prefer)",
        "ok    a superuser",
        "ok    fsck: 1 pack(s),",
        "status: ok",
    ] {
        assert!(r.stdout.contains(line), "{line:?} missing:\n{}", r.stdout);
    }
    assert_eq!(
        store_state(store.path()),
        before,
        "the write probe left the store as it was"
    );
}

#[test]
fn a_connect_only_role_is_degraded_and_told_what_it_cannot_read_or_count() {
    let db = fixture_db("doctor_lowpriv");
    let role = format!("doctor_low_{}", std::process::id());
    db.sql(&format!(
        "CREATE SCHEMA hidden;
         CREATE TABLE hidden.secret (id int);
         DROP ROLE IF EXISTS {role};
         CREATE ROLE {role} LOGIN;
         REVOKE ALL ON DATABASE \"{db}\" FROM PUBLIC;
         GRANT CONNECT ON DATABASE \"{db}\" TO {role};
         -- One table it may count; one in a schema it may not use; one behind row-level
         -- security. The rest it has no SELECT on.
         GRANT SELECT ON dot_tools, birth_admission_permit, hidden.secret TO {role};",
        db = db.name
    ));
    let store = store_with_a_snapshot(&db);
    let low = db.dsn_as(&role);

    let (r, v) = doctor_json(store.path(), &["--dsn", &low]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(v["status"], "degraded");
    assert_eq!(v["connection"]["user"], role.as_str());
    let p = &v["privileges"];
    assert_eq!(p["superuser"], false);
    assert_eq!(p["pg_read_all_stats"], false);
    let catalogs: Vec<&str> = p["unreadable_catalogs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for restricted in ["pg_authid", "pg_statistic", "pg_user_mapping"] {
        assert!(catalogs.contains(&restricted), "{restricted}: {p:#}");
    }
    assert!(
        !catalogs.contains(&"pg_class"),
        "PUBLIC reads pg_class: {p:#}"
    );
    // The connection string is hidden on every version; PostgreSQL 13 hides a few more
    // pg_subscription columns (oid, subsynccommit), and the report names what the server says.
    let columns: Vec<&str> = p["unreadable_columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(columns.contains(&"pg_subscription.subconninfo"), "{p:#}");
    assert!(
        columns.iter().all(|c| c.starts_with("pg_subscription.")),
        "only pg_subscription hides columns from PUBLIC: {p:#}"
    );
    let tables = p["tables"].as_u64().unwrap();
    let uncountable = &p["uncountable_tables"];
    assert_eq!(
        uncountable["count"].as_u64().unwrap(),
        tables - 1,
        "all but dot_tools: {p:#}"
    );
    let first: Vec<(&str, &str)> = uncountable["first"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["table"].as_str().unwrap(), t["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        first[..3],
        [
            ("hidden.secret", "no USAGE on the schema"),
            (
                "public.birth_admission_permit",
                "row-level security hides rows"
            ),
            ("public.birth_registry", "no SELECT on the table"),
        ],
        "{p:#}"
    );
    assert!(first.iter().all(|(t, _)| *t != "public.dot_tools"));

    let r = doctor(store.path(), &["--dsn", &low]);
    assert_eq!(r.code, 1, "{r:?}");
    for line in [
        "warn  cannot read pg_authid (role attributes beyond pg_roles)",
        "warn  cannot read column pg_subscription.subconninfo",
        &format!(
            "warn  cannot take an exact count of {} of {tables} table(s)",
            tables - 1
        ),
        "hidden.secret (no USAGE on the schema)",
        "public.birth_registry (no SELECT on the table)",
        "status: degraded",
    ] {
        assert!(r.stdout.contains(line), "{line:?} missing:\n{}", r.stdout);
    }
}

#[test]
fn without_a_session_bus_the_tools_section_says_so_and_the_status_stays_ok() {
    let db = fixture_db("doctor_nobus");
    let store = store_with_a_snapshot(&db);
    let r = doctor(store.path(), &["--dsn", &db.dsn]);
    assert_eq!(r.code, 0, "a missing tool does not degrade: {r:?}");
    let tools = r
        .stdout
        .split("\nTools")
        .nth(1)
        .unwrap_or_else(|| panic!("no tools section:\n{}", r.stdout));
    assert!(
        tools.contains(
            "warn  no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set): --notify will only warn"
        ),
        "{}",
        r.stdout
    );
    assert!(tools.contains("does not change the status"), "{tools}");

    // Something listening at the address given is a bus --notify can reach.
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("bus");
    let _bus = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let mut cmd = driftgate_cmd(store.path(), &["doctor", "--dsn", &db.dsn]);
    cmd.env(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={},guid=0123", socket.display()),
    );
    let r = run_cmd(cmd);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains(&format!("ok    D-Bus session bus at {}", socket.display())),
        "{}",
        r.stdout
    );
}

#[test]
fn an_unreachable_server_is_exit_2_with_the_store_and_tools_still_reported() {
    let db = fixture_db("doctor_noserver");
    let store = store_with_a_snapshot(&db);
    let dsn = format!("postgresql://postgres@127.0.0.1:{}/nowhere", unused_port());

    let r = doctor(store.path(), &["--dsn", &dsn, "--connect-timeout", "5s"]);
    assert_eq!(r.code, 2, "{r:?}");
    for line in [
        "FAIL  cannot connect to postgres@127.0.0.1:",
        "FAIL  not checked: no connection",
        "\nStore: ",
        "ok    writable",
        "ok    fsck: ",
        "\nTools (optional",
        "status: error",
    ] {
        assert!(r.stdout.contains(line), "{line:?} missing:\n{}", r.stdout);
    }

    let (r, v) = doctor_json(store.path(), &["--dsn", &dsn]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(v["status"], "error");
    assert_eq!(v["connection"]["connected"], false);
    assert!(v["connection"]["error"]
        .as_str()
        .unwrap()
        .contains("cannot connect"));
    assert_eq!(v["privileges"]["checked"], false);
    assert_eq!(v["store"]["exists"], true);
    assert!(v["tools"]["findings"].as_array().unwrap().len() >= 2);
}

#[test]
fn a_missing_store_is_exit_2_and_says_how_one_is_made() {
    let db = fixture_db("doctor_nostore");
    let parent = tempfile::tempdir().unwrap();
    let missing = parent.path().join("no-store-here");

    let r = doctor(&missing, &["--dsn", &db.dsn]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.contains(&format!(
            "FAIL  no store at {} (a first `driftgate snapshot` creates it)",
            missing.display()
        )),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("ok    connected as postgres"),
        "{}",
        r.stdout
    );
    assert!(!missing.exists(), "doctor creates no store");

    let (r, v) = doctor_json(&missing, &["--dsn", &db.dsn]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(v["status"], "error");
    assert_eq!(v["store"]["exists"], false);
    assert_eq!(v["store"]["writable"], Value::Null);
    assert_eq!(v["connection"]["connected"], true);
}
