//! `driftgate check`, `baseline accept` and `gc` against a real throwaway PostgreSQL (issue 6's
//! must-shows), on the seeds-shaped fixture.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

const DROPPED: &str = "trg_refresh_orphan_dot";
const DROPPED_KEY: &str = "trigger:public.dot_tools.trg_refresh_orphan_dot";

/// A port on 127.0.0.1 nobody listens on.
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    port
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn target(name: &str, dsn: &str) -> String {
    format!("[[target]]\nname = \"{name}\"\ndsn = \"{dsn}\"\n\n")
}

fn json_file(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{} was not written: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON ({e}): {text}", path.display()))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn accept(store: &Path, config: &Path, name: &str) -> String {
    let r = driftgate(
        store,
        &["baseline", "accept", name, "--config", s(config), "-q"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let id = r.stdout.trim().to_string();
    assert_eq!(
        id.len(),
        64,
        "baseline accept prints the snapshot id: {r:?}"
    );
    id
}

/// The report's entry for a target.
fn entry<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no target {name} in {report}"))
}

/// The terminal row of a target.
fn row<'a>(r: &'a Run, name: &str) -> &'a str {
    r.stdout
        .lines()
        .find(|l| l.split('|').next().is_some_and(|c| c.trim() == name))
        .unwrap_or_else(|| panic!("no row for {name}: {r:?}"))
}

/// driftgate in `dir`, with no `--store`: the config decides.
fn driftgate_in(dir: &Path, args: &[&str]) -> Run {
    let mut c = Command::new(env!("CARGO_BIN_EXE_driftgate"));
    c.current_dir(dir).args(args);
    for var in [
        "DATABASE_URL",
        "PGHOST",
        "PGPORT",
        "PGUSER",
        "PGDATABASE",
        "PGPASSWORD",
        "PGSERVICE",
        "DRIFTGATE_STORE",
        "DRIFTGATE_CONFIG",
        "XDG_CONFIG_HOME",
    ] {
        c.env_remove(var);
    }
    c.env("NO_COLOR", "1").stdin(std::process::Stdio::null());
    run_cmd(c)
}

/// Must-show 1: one clean, one drifted (a trigger dropped after its baseline was accepted),
/// one unreachable target: exit 2, and every output says which is which.
#[test]
fn three_targets_clean_drifted_and_unreachable_exit_2_with_report_metrics_and_markdown() {
    let clean = fixture_db("check_clean");
    let drifted = fixture_db("check_drifted");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let config = write(
        dir.path(),
        "driftgate.toml",
        &format!(
            "{}{}[[target]]\nname = \"down\"\ndsn = \"postgresql://postgres@127.0.0.1:{}/nowhere\"\nconnect_timeout = \"5s\"\n",
            target("clean", &clean.dsn)
                .replace("\n\n", "\nexact_counts = [\"public.dot_tools\"]\n\n"),
            target("drifted", &drifted.dsn),
            dead_port()
        ),
    );
    let clean_base = accept(&store, &config, "clean");
    let drifted_base = accept(&store, &config, "drifted");
    drifted.sql(&format!("DROP TRIGGER {DROPPED} ON dot_tools"));

    let (report, markdown, prom) = (
        dir.path().join("out/report.json"),
        dir.path().join("out/summary.md"),
        dir.path().join("driftgate.prom"),
    );
    let r = driftgate(
        &store,
        &[
            "check",
            "--config",
            s(&config),
            "--report",
            s(&report),
            "--markdown",
            s(&markdown),
            "--prometheus",
            s(&prom),
        ],
    );
    assert_eq!(
        r.code, 2,
        "an unreachable target makes the run exit 2: {r:?}"
    );

    // Terminal: one row per target.
    assert!(row(&r, "clean").contains("PASS"), "{r:?}");
    assert!(row(&r, "drifted").contains("BLOCK"), "{r:?}");
    assert!(row(&r, "drifted").contains(DROPPED_KEY), "{r:?}");
    assert!(row(&r, "down").contains("BLOCK"), "{r:?}");
    assert!(row(&r, "down").contains("cannot connect"), "{r:?}");
    assert!(
        r.stderr.contains("target down: "),
        "the failure is on stderr too: {r:?}"
    );

    // The JSON report.
    let v = json_file(&report);
    assert_eq!(v["format"], "driftgate.check/v1");
    assert_eq!(v["exit_code"], 2);
    let names: Vec<&str> = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["clean", "drifted", "down"], "config order");
    let c = entry(&v, "clean");
    assert_eq!(c["verdict"], "PASS", "{c}");
    assert!(c["error"].is_null(), "{c}");
    assert_eq!(c["baseline"], clean_base.as_str());
    assert_eq!(c["snapshot"].as_str().unwrap().len(), 64);
    assert_eq!(c["findings"].as_array().unwrap().len(), 0, "{c}");
    let d = entry(&v, "drifted");
    assert_eq!(d["verdict"], "BLOCK", "{d}");
    assert_eq!(d["baseline"], drifted_base.as_str());
    assert!(d["error"].is_null(), "{d}");
    assert_eq!(d["summary"]["removed"], 1, "{d}");
    let finding = &d["findings"][0];
    assert_eq!(
        (
            finding["key"].as_str(),
            finding["change"].as_str(),
            finding["severity"].as_str()
        ),
        (Some(DROPPED_KEY), Some("removed"), Some("block")),
        "{d}"
    );
    let down = entry(&v, "down");
    assert_eq!(down["verdict"], "BLOCK", "{down}");
    assert!(down["snapshot"].is_null(), "nothing was stored: {down}");
    let err = down["error"].as_str().unwrap();
    assert!(
        err.contains("cannot connect") && err.contains("127.0.0.1"),
        "{err}"
    );

    // Prometheus: per-target lines.
    let p = std::fs::read_to_string(&prom).unwrap();
    for line in [
        "driftgate_gate_verdict{target=\"clean\"} 0",
        "driftgate_gate_verdict{target=\"drifted\"} 2",
        "driftgate_gate_verdict{target=\"down\"} 2",
        "driftgate_target_up{target=\"down\"} 0",
        "driftgate_changes{target=\"drifted\",kind=\"trigger\"} 1",
        "driftgate_last_success_timestamp_seconds{target=\"down\"} 0",
    ] {
        assert!(p.lines().any(|l| l == line), "missing {line:?}:\n{p}");
    }
    for name in ["clean", "drifted", "down"] {
        assert!(
            p.contains(&format!(
                "driftgate_snapshot_duration_seconds{{target=\"{name}\"}} "
            )),
            "{p}"
        );
    }
    let last_success: i64 = p
        .lines()
        .find_map(|l| l.strip_prefix("driftgate_last_success_timestamp_seconds{target=\"clean\"} "))
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - last_success).abs() < 600, "{last_success} vs {now}");
    assert!(p.contains("# TYPE driftgate_gate_verdict gauge"), "{p}");
    let leftovers: Vec<PathBuf> = files_under(dir.path())
        .into_iter()
        .filter(|f| {
            f.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".tmp-")
        })
        .collect();
    assert!(
        leftovers.is_empty(),
        "reports are renamed into place: {leftovers:?}"
    );

    // Markdown: the table, and the finding.
    let m = std::fs::read_to_string(&markdown).unwrap();
    assert!(
        m.contains("| Target | Verdict | Snapshot | Baseline | Changes | Detail |"),
        "{m}"
    );
    assert!(m.contains("| `clean` | ✅ PASS |"), "{m}");
    assert!(m.contains("| `drifted` | ⛔ BLOCK |"), "{m}");
    assert!(m.contains("| `down` | ⛔ BLOCK |"), "{m}");
    assert!(m.contains(&format!("`{DROPPED_KEY}`")), "{m}");

    // Each snapshot is kept under <name>/latest, with the verdict in its history.
    let log = driftgate(&store, &["log", "drifted/latest"]);
    assert_eq!(log.code, 0, "{log:?}");
    assert!(
        log.stdout.contains("check: gate_drift BLOCK against"),
        "{log:?}"
    );
    let none = driftgate(&store, &["log", "down/latest"]);
    assert_ne!(
        none.code, 0,
        "nothing stored for an unreachable target: {none:?}"
    );
    assert_eq!(driftgate(&store, &["fsck"]).code, 0);
}

/// Must-show 2: without the unreachable target, exit 1; after `baseline accept` of the
/// drifted one, exit 0. Also --fail-on warn with an inline policy, GitHub annotations,
/// colour, and `gate --policy driftgate.toml`.
#[test]
fn drift_exits_1_until_the_new_state_is_accepted_then_0() {
    let clean = fixture_db("check2_clean");
    let drifted = fixture_db("check2_drifted");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let targets = format!(
        "{}{}[[target]]\nname = \"down\"\ndsn = \"postgresql://postgres@127.0.0.1:{}/x\"\n",
        target("clean", &clean.dsn),
        target("drifted", &drifted.dsn),
        dead_port()
    );
    let config = write(dir.path(), "driftgate.toml", &targets);
    accept(&store, &config, "clean");
    let first = accept(&store, &config, "drifted");
    drifted.sql(&format!("DROP TRIGGER {DROPPED} ON dot_tools"));

    let both = ["--target", "clean", "--target", "drifted"];
    let mut args = vec!["check", "--config", s(&config)];
    args.extend(both);
    let mut cmd = driftgate_cmd(&store, &args);
    cmd.env("GITHUB_ACTIONS", "true");
    let r = run_cmd(cmd);
    assert_eq!(r.code, 1, "a BLOCK and no error: exit 1: {r:?}");
    assert!(!r.stdout.contains("down"), "--target selects: {r:?}");
    assert!(
        r.stdout.lines().any(
            |l| l.starts_with("::error title=gate_drift BLOCK on drifted::")
                && l.contains(DROPPED_KEY)
        ),
        "{r:?}"
    );
    assert!(
        !r.stdout.contains("::error title=gate_drift BLOCK on clean"),
        "{r:?}"
    );

    // The same drift under a policy that only warns about triggers.
    let warn = write(
        dir.path(),
        "warn.toml",
        &format!(
            "[policy]\n[[policy.rules]]\nkind = \"trigger\"\nseverity = \"warn\"\n\n{targets}"
        ),
    );
    let mut w = vec!["check", "--config", s(&warn)];
    w.extend(both);
    let r = driftgate(&store, &w);
    assert_eq!(r.code, 0, "WARN passes by default: {r:?}");
    assert!(row(&r, "drifted").contains("WARN"), "{r:?}");
    w.extend(["--fail-on", "warn"]);
    let r = driftgate(&store, &w);
    assert_eq!(r.code, 1, "--fail-on warn: {r:?}");
    let g = driftgate(
        &store,
        &[
            "gate",
            "drifted/baseline",
            "drifted/latest",
            "--policy",
            s(&warn),
        ],
    );
    assert_eq!(
        g.code, 0,
        "gate reads the policy of a driftgate.toml: {g:?}"
    );
    assert!(g.stdout.starts_with("gate_drift: WARN"), "{g:?}");

    let mut c = vec!["check", "--config", s(&config), "--color", "always"];
    c.extend(both);
    let r = driftgate(&store, &c);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("\x1b[1;31mBLOCK\x1b[0m"),
        "--color always beats NO_COLOR: {r:?}"
    );

    // Accept the drift: the baseline moves, its history shows both positions.
    let second = accept(&store, &config, "drifted");
    assert_ne!(first, second);
    let mut args = vec!["check", "--config", s(&config)];
    args.extend(both);
    let r = driftgate(&store, &args);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(row(&r, "drifted").contains("PASS"), "{r:?}");
    assert!(!r.stdout.contains('\x1b'), "NO_COLOR: {r:?}");
    let log = driftgate(&store, &["log", "drifted/baseline", "--format", "json"]);
    assert_eq!(log.code, 0, "{log:?}");
    let history: Value = serde_json::from_str(&log.stdout).unwrap();
    let ids: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["snapshot"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [second.as_str(), first.as_str()],
        "newest first: {log:?}"
    );
    assert!(history[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("baseline accept: live snapshot of"));
}

/// Must-show 3: no baseline is BLOCK, says so, and says how to accept one.
#[test]
fn a_target_without_a_baseline_is_block_saying_how_to_accept_one() {
    let db = fixture_db("check_nobase");
    let dir = tempfile::tempdir().unwrap();
    // Found in the current directory; the store is relative to the config.
    write(
        dir.path(),
        "driftgate.toml",
        &format!("store = \"nightly\"\n\n{}", target("fresh", &db.dsn)),
    );
    let r = driftgate_in(dir.path(), &["check", "--report", "r.json"]);
    assert_eq!(
        r.code, 2,
        "nothing to compare with: the target could not be checked: {r:?}"
    );
    assert!(row(&r, "fresh").contains("BLOCK"), "{r:?}");
    assert!(row(&r, "fresh").contains("no baseline"), "{r:?}");
    assert!(
        r.stderr.contains("driftgate baseline accept fresh"),
        "{r:?}"
    );
    let v = json_file(&dir.path().join("r.json"));
    let t = entry(&v, "fresh");
    assert_eq!(t["verdict"], "BLOCK");
    let err = t["error"].as_str().unwrap();
    assert!(err.contains("no baseline"), "{err}");
    assert!(err.contains("`driftgate baseline accept fresh`"), "{err}");
    assert!(t["baseline"].is_null(), "{t}");
    assert_eq!(t["findings"][0]["rule"], "fail-closed", "{t}");

    // The snapshot was stored all the same, so it can be accepted as it is.
    let store = dir.path().join("nightly");
    assert!(
        store.join("STORE").is_file(),
        "store = \"nightly\" is beside the config"
    );
    let snap = t["snapshot"].as_str().unwrap();
    let a = driftgate(&store, &["baseline", "accept", "fresh", "fresh/latest"]);
    assert_eq!(a.code, 0, "a stored snapshot needs no config: {a:?}");
    assert_eq!(a.stdout.trim(), snap);
    let r = driftgate_in(dir.path(), &["check"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(row(&r, "fresh").contains("PASS"), "{r:?}");
}

fn snapshot(store: &Path, db: &TestDb, reference: Option<&str>) -> String {
    let mut args = vec!["snapshot", "--dsn", &db.dsn, "-q"];
    if let Some(r) = reference {
        args.extend(["--ref", r]);
    }
    let r = driftgate(store, &args);
    assert_eq!(r.code, 0, "{r:?}");
    r.stdout.trim().to_string()
}

fn shows(store: &Path, id: &str) -> bool {
    let r = driftgate(store, &["show", id, "--kind", "trigger"]);
    assert!(
        r.code == 0 || r.stderr.contains("unknown snapshot"),
        "{r:?}"
    );
    r.code == 0
}

fn pack_bytes(store: &Path) -> u64 {
    files_under(&store.join("packs"))
        .iter()
        .map(|f| f.metadata().unwrap().len())
        .sum()
}

fn fsck_clean(store: &Path) {
    let r = driftgate(store, &["fsck"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("ok:"), "{r:?}");
}

/// Must-show 4: gc after ten snapshots keeps every referenced one, drops the rest, and fsck
/// stays clean.
#[test]
fn gc_after_ten_snapshots_keeps_every_referenced_one_and_fsck_stays_clean() {
    let db = fixture_db("check_gc");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    // Each snapshot differs (a comment), so each has blobs of its own.
    let mut ids = Vec::new();
    for i in 1..=10 {
        db.sql(&format!("COMMENT ON TABLE dot_tools IS 'nightly {i}'"));
        let reference = match i {
            1 => Some("keep/first"),
            2..=6 | 10 => Some("nightly"),
            _ => None, // 7, 8, 9: nobody keeps them
        };
        ids.push(snapshot(&store, &db, reference));
    }
    let unreferenced = &ids[6..9];
    let before = pack_bytes(&store);

    let dry = driftgate(&store, &["gc", "--dry-run"]);
    assert_eq!(dry.code, 0, "{dry:?}");
    for id in unreferenced {
        assert!(
            dry.stdout.contains(&format!("would remove snapshot {id}")),
            "{dry:?}"
        );
    }
    assert!(
        dry.stdout
            .contains("dry run: 3 snapshot(s) removed, 7 kept"),
        "{dry:?}"
    );
    assert!(shows(&store, &unreferenced[0]), "a dry run removes nothing");

    let r = driftgate(&store, &["gc"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.starts_with("3 snapshot(s) removed, 7 kept"),
        "{r:?}"
    );
    fsck_clean(&store);
    for id in unreferenced {
        assert!(
            !shows(&store, id),
            "{id} was unreferenced and should be gone"
        );
    }
    for (i, id) in ids.iter().enumerate().filter(|(i, _)| !(6..9).contains(i)) {
        assert!(
            shows(&store, id),
            "snapshot {} is kept by a ref or its history",
            i + 1
        );
    }
    let after = pack_bytes(&store);
    assert!(
        after < before,
        "blobs only the dropped snapshots used are gone: {before} → {after}"
    );
    assert_eq!(files_under(&store.join("snapshots")).len(), 7);

    // Trim history: nightly keeps its last two positions (6 and 10), keep/first its one.
    let r = driftgate(&store, &["gc", "--keep-last", "2"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .starts_with("4 snapshot(s) removed, 3 kept; 4 history entries trimmed"),
        "{r:?}"
    );
    fsck_clean(&store);
    for (i, id) in ids.iter().enumerate() {
        let kept = matches!(i + 1, 1 | 6 | 10);
        assert_eq!(shows(&store, id), kept, "snapshot {}", i + 1);
    }
    let log = driftgate(&store, &["log", "nightly", "--format", "json"]);
    assert_eq!(log.code, 0, "{log:?}");
    let history: Value = serde_json::from_str(&log.stdout).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 2, "{log:?}");
    // What is left still reads whole: the first and last snapshots differ by one comment.
    let d = driftgate(
        &store,
        &["diff", "keep/first", "nightly", "--format", "json"],
    );
    assert_eq!(d.code, 1, "{d:?}");
    assert!(d.stdout.contains("nightly 10"), "{d:?}");
    // Nothing left to drop.
    let again = driftgate(&store, &["gc"]);
    assert!(
        again.stdout.starts_with("0 snapshot(s) removed, 3 kept"),
        "{again:?}"
    );
}

/// Must-show 5: --notify on a machine without a session bus warns and exits as it would
/// without the flag.
#[test]
fn notify_without_a_session_bus_exits_as_it_would_without_the_flag() {
    let db = fixture_db("check_notify");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let config = write(dir.path(), "driftgate.toml", &target("prod", &db.dsn));
    accept(&store, &config, "prod");
    db.sql(&format!("DROP TRIGGER {DROPPED} ON dot_tools"));
    let no_bus = tempfile::tempdir().unwrap();
    let run = |notify: bool| {
        let mut args = vec!["check", "--config", s(&config)];
        if notify {
            args.push("--notify");
        }
        let mut cmd = driftgate_cmd(&store, &args);
        cmd.env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env("XDG_RUNTIME_DIR", no_bus.path());
        run_cmd(cmd)
    };
    let without = run(false);
    let with = run(true);
    assert_eq!(without.code, 1, "{without:?}");
    assert_eq!(with.code, without.code, "{with:?}");
    assert!(
        with.stderr
            .contains("warning: desktop notification not shown"),
        "{with:?}"
    );
    assert!(!without.stderr.contains("notification"), "{without:?}");
    assert!(row(&with, "prod").contains("BLOCK"), "{with:?}");
    assert!(
        with.elapsed.as_secs() < 60,
        "a missing bus does not hang the job: {with:?}"
    );
}

/// `service = "NAME"` targets and `--dsn service=NAME` read pg_service.conf (sqlx does not),
/// and a password in it appears nowhere.
#[test]
fn service_file_targets_connect_and_never_show_the_password() {
    let db = fixture_db("check_service");
    let secret = "Svc-S3cr3t-9x";
    db.sql(&format!(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pwuser') THEN \
         CREATE ROLE pwuser LOGIN PASSWORD '{secret}'; END IF; END $$; \
         ALTER ROLE pwuser PASSWORD '{secret}';"
    ));
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let port = cluster().port;
    let services = write(
        dir.path(),
        "pg_service.conf",
        &format!(
            "# test services\n[prod]\nhost=127.0.0.1\nport={port}\ndbname={db}\nuser=pwuser\npassword={secret}\n\n\
             [wrong]\nhost=127.0.0.1\nport={port}\ndbname={db}\nuser=pwuser\npassword={secret}-no\n",
            db = db.name
        ),
    );
    let config = write(
        dir.path(),
        "driftgate.toml",
        "[[target]]\nname = \"prod\"\nservice = \"prod\"\n\n[[target]]\nname = \"wrong\"\nservice = \"wrong\"\n\n[[target]]\nname = \"missing\"\nservice = \"nope\"\n",
    );
    let with_services = |args: &[&str]| {
        let mut cmd = driftgate_cmd(&store, args);
        cmd.env("PGSERVICEFILE", &services)
            .env("PGSYSCONFDIR", dir.path().join("no-such-dir"));
        run_cmd(cmd)
    };
    let a = with_services(&["baseline", "accept", "prod", "--config", s(&config)]);
    assert_eq!(a.code, 0, "{a:?}");
    let report = dir.path().join("r.json");
    let r = with_services(&["check", "--config", s(&config), "--report", s(&report)]);
    assert_eq!(r.code, 2, "{r:?}");
    let v = json_file(&report);
    let prod = entry(&v, "prod");
    assert_eq!(prod["verdict"], "PASS", "{prod}");
    assert_eq!(
        prod["source"].as_str().unwrap(),
        format!("pwuser@127.0.0.1:{port}/{}", db.name)
    );
    let wrong = entry(&v, "wrong")["error"].as_str().unwrap();
    assert!(
        wrong.contains("cannot connect") && wrong.contains("pwuser"),
        "{wrong}"
    );
    let missing = entry(&v, "missing")["error"].as_str().unwrap();
    assert!(missing.contains("\"nope\" not found"), "{missing}");

    let snap = with_services(&["snapshot", "--dsn", "service=prod", "-q"]);
    assert_eq!(snap.code, 0, "{snap:?}");
    let mut env = driftgate_cmd(&store, &["snapshot", "-q"]);
    env.env("PGSERVICEFILE", &services).env("PGSERVICE", "prod");
    assert_eq!(run_cmd(env).code, 0, "PGSERVICE alone is enough");

    for out in [
        a.all(),
        r.all(),
        snap.all(),
        std::fs::read_to_string(&report).unwrap(),
    ] {
        assert!(!out.contains(secret), "{out}");
    }
    for file in files_under(&store) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(secret),
            "{} holds the password",
            file.display()
        );
    }
}

#[test]
fn a_broken_config_fails_closed_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let config = write(
        dir.path(),
        "driftgate.toml",
        "[[target]]\nname = \"prod\"\ndsn = \"postgresql://x@127.0.0.1/x\"\nexact_count = [\"t\"]\n",
    );
    let report = dir.path().join("r.json");
    let md = dir.path().join("s.md");
    let prom = dir.path().join("m.prom");
    let r = driftgate(
        &store,
        &[
            "check",
            "--config",
            s(&config),
            "--report",
            s(&report),
            "--markdown",
            s(&md),
            "--prometheus",
            s(&prom),
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(
        r.stdout, "gate_drift: BLOCK (check could not run)\n",
        "{r:?}"
    );
    assert!(r.stderr.contains("driftgate.toml:4:"), "{r:?}");
    assert!(r.stderr.contains("exact_count"), "{r:?}");
    let v = json_file(&report);
    assert_eq!(v["verdict"], "BLOCK");
    assert!(
        v["error"].as_str().unwrap().contains("driftgate.toml:4:"),
        "{v}"
    );
    assert!(std::fs::read_to_string(&md)
        .unwrap()
        .contains("could not run"));
    assert!(
        !prom.exists(),
        "old metrics are left to go stale, not overwritten"
    );

    let r = driftgate(
        &store,
        &["check", "--config", s(&dir.path().join("absent.toml"))],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("absent.toml not found"), "{r:?}");
    let good = write(
        dir.path(),
        "good.toml",
        &target("prod", "postgresql://x@127.0.0.1/x"),
    );
    let r = driftgate(&store, &["check", "--config", s(&good), "--target", "nope"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("no target named \"nope\"") && r.stderr.contains("(targets: prod)"),
        "{r:?}"
    );
}

#[test]
fn completions_cover_the_new_commands() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let r = driftgate(dir.path(), &["completions", shell]);
        assert_eq!(r.code, 0, "{r:?}");
        for word in ["check", "baseline", "gc", "prometheus", "keep-last"] {
            assert!(r.stdout.contains(word), "{shell}: {word} missing");
        }
    }
}
