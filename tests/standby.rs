//! Host lists and `target_session_attrs` against real servers: a primary and a streaming
//! standby (pg_basebackup -R). driftgate picks the server by role as libpq does (decided
//! with `pg_is_in_recovery()`), records which one it read (`source.host`, `source.port`,
//! `source.in_recovery` of the snapshot), reads the same catalog from the standby as from the
//! primary (one session or `-j 2`), falls back or fails when the standby is gone, and skips
//! a dead host of the list. psql checks the harness first: it must find the standby with
//! `target_session_attrs=standby` and the primary with `read-write`.

mod support;

use serde_json::Value;
use std::process::{Command, Stdio};
use support::replica::*;
use support::*;

/// (port, in recovery) of the server psql connects to with `dsn`.
fn psql_lands_on(cluster: &Cluster, home: &std::path::Path, dsn: &str) -> (u16, bool) {
    let mut cmd = Command::new(cluster.psql_path());
    for v in CONN_VARS {
        cmd.env_remove(v);
    }
    let out = cmd
        .env("HOME", home)
        .env("PGCONNECT_TIMEOUT", "10")
        .args(["-X", "-w", "-At", "-d", dsn, "-c"])
        .arg("SELECT inet_server_port() || '|' || pg_is_in_recovery()")
        .stdin(Stdio::null())
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "harness: psql did not connect with {dsn}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let (port, rec) = text.trim().split_once('|').expect("port|recovery");
    (port.parse().unwrap(), rec == "true")
}

struct Ctx {
    store: tempfile::TempDir,
    home: tempfile::TempDir,
}

impl Ctx {
    fn run(&self, args: &[&str]) -> Run {
        let mut cmd = driftgate_cmd(self.store.path(), args);
        for v in CONN_VARS {
            cmd.env_remove(v);
        }
        cmd.env("HOME", self.home.path());
        run_cmd(cmd)
    }

    /// `snapshot -j JOBS --dsn DSN`: the snapshot id, or the failed run. Without the
    /// globals: a standby's server configuration is not its primary's (`primary_conninfo`,
    /// its port), and what must be equal, server by server, is the schema.
    fn snapshot(&self, dsn: &str, jobs: &str) -> Result<String, Run> {
        let r = self.run(&["snapshot", "-j", jobs, "--dsn", dsn, "--no-globals"]);
        if r.code == 0 {
            Ok(r.stdout.trim().to_string())
        } else {
            Err(r)
        }
    }

    /// The `source` object of a stored snapshot, as exported.
    fn source(&self, id: &str) -> Value {
        let r = self.run(&["export", id, "-o", "-"]);
        assert_eq!(r.code, 0, "export {id}: {r:?}");
        let doc: Value = serde_json::from_str(&r.stdout).expect("export is JSON");
        doc["snapshot"]["source"].clone()
    }

    fn fingerprint(&self, id: &str) -> String {
        let r = self.run(&["fingerprint", id]);
        assert_eq!(r.code, 0, "fingerprint {id}: {r:?}");
        r.stdout
    }
}

#[test]
fn target_session_attrs_choose_primary_or_standby_from_a_host_list() {
    let primary = replication_primary();
    let standby = streaming_standby(primary);
    let db = fixture_db_on(primary, "standby");
    wait_for_replay(primary, standby);
    let (p, s) = (primary.port, standby.port);
    let dead = unused_port();
    let name = db.name.clone();
    let ctx = Ctx {
        store: tempfile::tempdir().unwrap(),
        home: tempfile::tempdir().unwrap(),
    };
    let list = |ports: &str, attrs: &str| {
        format!(
            "host=127.0.0.1,127.0.0.1 port={ports} dbname={name} user=postgres \
             target_session_attrs={attrs}"
        )
    };

    // The harness: psql finds each server by role, and the fixture has reached the standby.
    assert_eq!(
        psql_lands_on(
            primary,
            ctx.home.path(),
            &list(&format!("{p},{s}"), "standby")
        ),
        (s, true),
        "harness: psql with target_session_attrs=standby"
    );
    assert_eq!(
        psql_lands_on(
            primary,
            ctx.home.path(),
            &list(&format!("{s},{p}"), "read-write")
        ),
        (p, false),
        "harness: psql with target_session_attrs=read-write"
    );
    let tables = "SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace";
    assert_eq!(
        primary.sql(&name, tables),
        standby.sql(&name, tables),
        "harness: the standby has the fixture"
    );

    // The catalog as read from the primary directly: the reference fingerprint.
    let direct = format!("host=127.0.0.1 port={p} dbname={name} user=postgres");
    let reference = ctx
        .snapshot(&direct, "1")
        .unwrap_or_else(|r| panic!("snapshot of the primary: {r:?}"));
    let want_fp = ctx.fingerprint(&reference);
    let src = ctx.source(&reference);
    assert_eq!(src["port"], Value::from(p), "{src}");

    let mut failures: Vec<String> = Vec::new();
    // (what, dsn, jobs, expected port, expected in_recovery)
    let mut check = |what: &str, dsn: &str, jobs: &str, port: u16, in_recovery: bool| {
        let id = match ctx.snapshot(dsn, jobs) {
            Ok(id) => id,
            Err(r) => {
                failures.push(format!(
                    "{what}: snapshot -j {jobs} failed (exit {}): {}",
                    r.code,
                    r.stderr.trim()
                ));
                return;
            }
        };
        let src = ctx.source(&id);
        if src["port"] != port {
            failures.push(format!("{what}: read port {}, want {port}", src["port"]));
        }
        if src["in_recovery"] != in_recovery {
            failures.push(format!(
                "{what}: source.in_recovery is {}, want {in_recovery} (source {src})",
                src["in_recovery"]
            ));
        }
        let fp = ctx.fingerprint(&id);
        if fp != want_fp {
            failures.push(format!(
                "{what}: fingerprint {} differs from the primary's {}",
                fp.trim(),
                want_fp.trim()
            ));
        }
        eprintln!(
            "{what}: -j {jobs} read port {} in_recovery {}",
            src["port"], src["in_recovery"]
        );
    };
    let ps = format!("{p},{s}");
    let sp = format!("{s},{p}");
    check(
        "prefer-standby, primary listed first",
        &list(&ps, "prefer-standby"),
        "1",
        s,
        true,
    );
    check(
        "prefer-standby, -j 2",
        &list(&ps, "prefer-standby"),
        "2",
        s,
        true,
    );
    check(
        "prefer-standby as a URL host list",
        &format!(
            "postgresql://postgres@127.0.0.1:{p},127.0.0.1:{s}/{name}?target_session_attrs=prefer-standby"
        ),
        "1",
        s,
        true,
    );
    check("standby", &list(&ps, "standby"), "1", s, true);
    check("read-only", &list(&ps, "read-only"), "1", s, true);
    check(
        "primary, standby listed first",
        &list(&sp, "primary"),
        "1",
        p,
        false,
    );
    check(
        "read-write, standby listed first",
        &list(&sp, "read-write"),
        "2",
        p,
        false,
    );
    check("any takes the first host", &list(&sp, "any"), "1", s, true);
    check(
        "any skips a dead first host",
        &list(&format!("{dead},{p}"), "any"),
        "1",
        p,
        false,
    );
    check("the primary directly, -j 2", &direct, "2", p, false);
    // A single host, no host list: the standby itself reads as the primary does.
    let standby_direct = format!("host=127.0.0.1 port={s} dbname={name} user=postgres");
    check("the standby directly", &standby_direct, "1", s, true);
    check("the standby directly, -j 2", &standby_direct, "2", s, true);

    // Without the standby: prefer-standby falls back to the primary; standby fails.
    standby.stop("fast");
    check(
        "prefer-standby with the standby stopped",
        &list(&ps, "prefer-standby"),
        "1",
        p,
        false,
    );
    match ctx.snapshot(&list(&ps, "standby"), "1") {
        Err(r) if r.code == 2 && r.stderr.to_lowercase().contains("recovery") => {}
        Err(r) => failures.push(format!(
            "standby with the standby stopped: want exit 2 saying no server was in recovery: {r:?}"
        )),
        Ok(id) => failures.push(format!(
            "standby with the standby stopped: stored snapshot {id} of {}",
            ctx.source(&id)
        )),
    }
    assert!(
        failures.is_empty(),
        "{} check(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
