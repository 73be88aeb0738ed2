//! psql habits: for the same flags, connection strings, service files and `PG*` variables,
//! driftgate connects to the same host, port, user and database as psql does (psql is the
//! oracle: its `:HOST`, `:PORT`, `:USER` and `:DBNAME` after connecting). And `-h` is the
//! host, never help.

mod support;

use std::process::{Command, Stdio};
use support::*;

struct Case {
    name: &'static str,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
}

/// (database, user, host or socket directory, port) as psql reports it.
fn psql_says(cluster: &Cluster, case: &Case) -> (String, String, String, String) {
    let mut cmd = Command::new(cluster.psql_path());
    cmd.args(["-X", "-w", "-At"])
        .args(&case.args)
        .args(["-c", r"\echo :DBNAME '|' :USER '|' :HOST '|' :PORT"]);
    for v in CONN_VARS {
        cmd.env_remove(v);
    }
    cmd.envs(case.env.iter().map(|(k, v)| (k, v)));
    let out = cmd.stdin(Stdio::null()).output().expect("psql");
    assert!(
        out.status.success(),
        "case {}: psql refused: {}",
        case.name,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let parts: Vec<String> = text.trim().split(" | ").map(str::to_string).collect();
    assert_eq!(parts.len(), 4, "case {}: {text}", case.name);
    (
        parts[0].clone(),
        parts[1].clone(),
        parts[2].clone(),
        parts[3].clone(),
    )
}

/// The same, from the `user@host:port/database` of driftgate's snapshot summary.
fn driftgate_says(case: &Case) -> (String, String, String, String) {
    let store = tempfile::tempdir().unwrap();
    let mut args: Vec<&str> = vec!["snapshot", "-j", "1"];
    args.extend(case.args.iter().map(String::as_str));
    let mut cmd = driftgate_cmd(store.path(), &args);
    for v in CONN_VARS {
        cmd.env_remove(v);
    }
    cmd.envs(case.env.iter().map(|(k, v)| (k, v)));
    let r = run_cmd(cmd);
    assert_eq!(r.code, 0, "case {}: {r:?}", case.name);
    let summary = r
        .stderr
        .lines()
        .find(|l| l.starts_with("stored snapshot"))
        .unwrap_or_else(|| panic!("case {}: no summary: {r:?}", case.name));
    let target = summary
        .split(" of ")
        .nth(1)
        .and_then(|rest| rest.split(" (").next())
        .unwrap();
    let (user, rest) = target.split_once('@').unwrap();
    let (hostport, db) = rest.rsplit_once('/').unwrap();
    let (host, port) = hostport.rsplit_once(':').unwrap();
    (db.into(), user.into(), host.into(), port.into())
}

#[test]
fn driftgate_connects_where_psql_connects() {
    let cluster = cluster();
    let db = cluster.create_db("conninfo");
    let role = format!("conn_role_{}", std::process::id());
    db.sql(&format!(
        "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN"
    ));
    let port = cluster.port.to_string();
    let sock = cluster.socket_dir.display().to_string();
    let d = db.name.clone();
    let svc_dir = tempfile::tempdir().unwrap();
    let svc_file = svc_dir.path().join("pg_service.conf");
    std::fs::write(
        &svc_file,
        format!("[gov]\nhost=127.0.0.1\nport={port}\ndbname={d}\nuser={role}\n"),
    )
    .unwrap();
    let svc = svc_file.display().to_string();
    let s = |v: &str| v.to_string();
    let cases = vec![
        Case {
            name: "flags",
            args: vec![
                s("-h"),
                s("127.0.0.1"),
                s("-p"),
                port.clone(),
                s("-U"),
                role.clone(),
                s("-d"),
                d.clone(),
            ],
            env: vec![],
        },
        Case {
            name: "long flags",
            args: vec![
                format!("--host=127.0.0.1"),
                format!("--port={port}"),
                format!("--username={role}"),
                format!("--dbname={d}"),
            ],
            env: vec![],
        },
        Case {
            name: "environment",
            args: vec![],
            env: vec![
                ("PGHOST", s("127.0.0.1")),
                ("PGPORT", port.clone()),
                ("PGUSER", role.clone()),
                ("PGDATABASE", d.clone()),
            ],
        },
        Case {
            name: "flags override the environment",
            args: vec![
                s("-h"),
                s("127.0.0.1"),
                s("-U"),
                role.clone(),
                s("-d"),
                d.clone(),
            ],
            env: vec![
                ("PGHOST", sock.clone()),
                ("PGPORT", port.clone()),
                ("PGUSER", s("postgres")),
                ("PGDATABASE", s("postgres")),
            ],
        },
        Case {
            name: "-d conninfo overrides -h and -U",
            args: vec![
                s("-h"),
                sock.clone(),
                s("-U"),
                s("postgres"),
                s("-d"),
                format!("host=127.0.0.1 port={port} dbname={d} user={role}"),
            ],
            env: vec![],
        },
        Case {
            name: "-d URL overrides -p",
            args: vec![
                s("-p"),
                s("1"),
                s("-d"),
                format!("postgresql://{role}@127.0.0.1:{port}/{d}"),
            ],
            env: vec![],
        },
        Case {
            name: "-d conninfo fills in from -p",
            args: vec![
                s("-p"),
                port.clone(),
                s("-d"),
                format!("host=127.0.0.1 dbname={d}"),
            ],
            env: vec![("PGUSER", role.clone())],
        },
        Case {
            name: "socket directory as -h",
            args: vec![
                s("-h"),
                sock.clone(),
                s("-p"),
                port.clone(),
                s("-U"),
                role.clone(),
                s("-d"),
                d.clone(),
            ],
            env: vec![],
        },
        Case {
            name: "socket directory as PGHOST",
            args: vec![s("-d"), d.clone()],
            env: vec![
                ("PGHOST", sock.clone()),
                ("PGPORT", port.clone()),
                ("PGUSER", role.clone()),
            ],
        },
        Case {
            name: "PGSERVICE, -U wins over the service",
            args: vec![s("-U"), s("postgres")],
            env: vec![("PGSERVICEFILE", svc.clone()), ("PGSERVICE", s("gov"))],
        },
        Case {
            name: "service= in -d, PGUSER loses to the service",
            args: vec![s("-d"), s("service=gov")],
            env: vec![("PGSERVICEFILE", svc.clone()), ("PGUSER", s("postgres"))],
        },
    ];
    for case in &cases {
        let psql = psql_says(cluster, case);
        let ours = driftgate_says(case);
        assert_eq!(ours, psql, "case {:?}: driftgate vs psql", case.name);
    }
    println!("{} cases agree with psql", cases.len());
}

/// `driftgate gate entry after-change -h`: a usage error (exit 2), never help and exit 0.
#[test]
fn dash_h_without_a_host_is_a_usage_error_not_help() {
    let store = tempfile::tempdir().unwrap();
    let r = driftgate(store.path(), &["gate", "entry", "after-change", "-h"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.is_empty(), "no help on stdout: {r:?}");
    assert!(r.stderr.starts_with("driftgate: error:"), "{r:?}");
    let r = driftgate(store.path(), &["gate", "--help"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("-h, --host"), "{r:?}");
    let r = driftgate(store.path(), &["gate", "--bogus"]);
    assert_eq!(r.code, 2, "{r:?}");
}

/// A libpq variable driftgate cannot honour (or a bad value of one it can) is refused like
/// the same keyword in a connection string: `PGTARGETSESSIONATTRS=standby` was once ignored
/// and any server was read.
#[test]
fn libpq_variables_are_refused_like_their_keywords_never_ignored() {
    let store = tempfile::tempdir().unwrap();
    for (var, value) in [
        ("PGTARGETSESSIONATTRS", "stanby"),
        ("PGSSLCRL", "/etc/crl.pem"),
        ("PGREQUIREAUTH", "scram-sha-256"),
        ("PGGSSENCMODE", "require"),
        ("PGCHANNELBINDING", "require"),
        ("PGPORT", "not-a-port"),
        ("PGSSLMODE", "verify-fool"),
    ] {
        // Port 1: nothing listens there, so a variable that got through would show as a
        // connection failure instead of a refusal. (No -p: it would hide PGPORT.)
        let mut cmd = driftgate_cmd(store.path(), &["snapshot", "-h", "127.0.0.1", "-d", "x"]);
        for v in CONN_VARS {
            cmd.env_remove(v);
        }
        if var != "PGPORT" {
            cmd.env("PGPORT", "1");
        }
        cmd.env(var, value);
        let r = run_cmd(cmd);
        assert_eq!(r.code, 2, "{var}={value}: {r:?}");
        assert!(r.stderr.contains(var), "{var} is named: {r:?}");
        assert!(
            !r.stderr.contains("cannot connect"),
            "refused before connecting: {r:?}"
        );
    }
}
