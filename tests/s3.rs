//! The store on S3 (issue 15), against a real S3 API server (moto, started by the harness on
//! 127.0.0.1 and preflighted for conditional writes under concurrency; see
//! `tests/support/s3.rs`). The store suite below runs every case on both backends, the
//! directory and S3, through the same commands; then what only S3 has: two processes
//! moving one ref at once for 50 rounds, a store copied between the two backends object by
//! object (as `aws s3 sync` copies), bad URLs, `AWS_PROFILE`, credentials kept out of every
//! output, TLS to PostgreSQL and HTTPS to S3 in one process, and `doctor` on an S3 store.

mod support;

use driftgate::store::Store;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::s3::{self, ACCESS_KEY, SECRET_KEY};
use support::*;

/// Where a store of this case lives: a fresh directory, or a fresh prefix of the test bucket.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Dir,
    S3,
}

struct Loc {
    path: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

fn location(kind: Kind, hint: &str) -> Loc {
    match kind {
        Kind::Dir => {
            let dir = tempfile::tempdir().unwrap();
            Loc {
                path: dir.path().join("store"),
                _dir: Some(dir),
            }
        }
        Kind::S3 => Loc {
            path: PathBuf::from(s3::store_url(hint)),
            _dir: None,
        },
    }
}

/// No credential in anything driftgate printed.
fn no_secret(r: &Run) {
    for s in [SECRET_KEY, ACCESS_KEY] {
        assert!(!r.all().contains(s), "a credential was shown: {r:?}");
    }
}

fn ok(store: &Path, args: &[&str]) -> Run {
    let r = driftgate(store, args);
    no_secret(&r);
    assert_eq!(r.code, 0, "{args:?}: {r:?}");
    r
}

#[test]
fn the_test_server_holds_conditional_writes_under_concurrency() {
    let server = s3::server();
    assert!(
        server.preflight.contains("one winner each"),
        "{}",
        server.preflight
    );
}

/// The store's life through the commands: first snapshot (creating the store), a second
/// after a change, log, show, diff, export, baseline accept, fsck, gc, fsck again.
fn store_life(kind: Kind) {
    let loc = location(kind, "life");
    let store = loc.path.as_path();
    let db = empty_db("s3life");
    db.sql("CREATE TABLE t (id int PRIMARY KEY, v text);");
    ok(store, &["snapshot", "--dsn", &db.dsn, "--ref", "nightly"]);
    db.sql("ALTER TABLE t ADD COLUMN w int; CREATE INDEX t_v ON t (v);");
    ok(store, &["snapshot", "--dsn", &db.dsn, "--ref", "nightly"]);
    let log = ok(store, &["log", "nightly", "--format", "json"]);
    let entries: serde_json::Value = serde_json::from_str(&log.stdout).unwrap();
    let text = entries.to_string();
    let ids: Vec<String> = entries
        .as_array()
        .or_else(|| entries["entries"].as_array())
        .unwrap_or_else(|| panic!("{text}"))
        .iter()
        .map(|e| {
            e["new"]
                .as_str()
                .or(e["snapshot"].as_str())
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), 2, "{text}");
    let show = ok(store, &["show", "nightly", "--format", "json"]);
    assert!(show.stdout.contains("t_v"), "{show:?}");
    let diff = driftgate(store, &["diff", &ids[0], &ids[1]]);
    no_secret(&diff);
    assert!(
        diff.stdout.contains("t_v") && diff.stdout.contains('w'),
        "{diff:?}"
    );
    let out = tempfile::tempdir().unwrap();
    let bundle = out.path().join("b.json");
    ok(
        store,
        &["export", "nightly", "--output", bundle.to_str().unwrap()],
    );
    assert!(std::fs::metadata(&bundle).unwrap().len() > 100);
    let config = support::one_target_config(out.path(), &db.dsn);
    ok(
        store,
        &[
            "baseline",
            "accept",
            "prod",
            "--config",
            config.to_str().unwrap(),
        ],
    );
    let fsck = ok(store, &["fsck"]);
    assert!(fsck.stdout.contains(" 0 problem(s)"), "{fsck:?}");
    ok(store, &["gc", "--keep-last", "1"]);
    let fsck = ok(store, &["fsck"]);
    assert!(fsck.stdout.contains(" 0 problem(s)"), "{fsck:?}");
    let show = ok(store, &["show", "nightly", "--format", "json"]);
    assert!(show.stdout.contains("t_v"), "{show:?}");
    let log = ok(store, &["log", "nightly", "--format", "json"]);
    assert!(log.stdout.contains(&ids[1]), "{log:?}");
}

#[test]
fn store_life_on_a_directory() {
    store_life(Kind::Dir);
}

#[test]
fn store_life_on_s3() {
    store_life(Kind::S3);
}

/// Threads of one process, each with its own handle, moving one ref 10 times each: every
/// move is in the history, each entry names the one before (issue 14's test, on both).
fn concurrent_moves(kind: Kind) {
    let loc = location(kind, "moves");
    let db = empty_db("s3moves");
    ok(&loc.path, &["snapshot", "--dsn", &db.dsn, "--ref", "a"]);
    db.sql("CREATE TABLE x (id int);");
    ok(&loc.path, &["snapshot", "--dsn", &db.dsn, "--ref", "b"]);
    let store = Store::open(&loc.path).unwrap();
    let a = store.read_ref("a").unwrap().unwrap();
    let b = store.read_ref("b").unwrap().unwrap();
    std::thread::scope(|scope| {
        for t in 0..4 {
            let root = loc.path.clone();
            scope.spawn(move || {
                let store = Store::open(&root).unwrap();
                for i in 0..10 {
                    let id = if (t + i) % 2 == 0 { a } else { b };
                    store
                        .update_ref("shared", &id, &format!("{t}/{i}"))
                        .unwrap();
                }
            });
        }
    });
    let log = store.reflog("shared").unwrap();
    assert_eq!(log.len(), 40, "{log:?}");
    for pair in log.windows(2) {
        assert_eq!(pair[1].old, Some(pair[0].new));
    }
    let mut messages: Vec<_> = log.iter().map(|e| e.message.clone()).collect();
    messages.sort();
    messages.dedup();
    assert_eq!(messages.len(), 40, "every move once");
    assert_eq!(store.read_ref("shared").unwrap(), Some(log[39].new));
}

#[test]
fn concurrent_moves_of_one_ref_lose_no_history_on_a_directory() {
    concurrent_moves(Kind::Dir);
}

#[test]
fn concurrent_moves_of_one_ref_lose_no_history_on_s3() {
    concurrent_moves(Kind::S3);
}

/// gc beside a writer: while a writer's lease is live, gc removes nothing (and says it
/// deferred); once the writer is gone, it collects (issue 14's lease rule, on both).
fn gc_beside_a_writer(kind: Kind) {
    let loc = location(kind, "gcw");
    let store = loc.path.as_path();
    let db = empty_db("s3gc");
    ok(store, &["snapshot", "--dsn", &db.dsn]);
    db.sql("CREATE TABLE y (id int);");
    ok(store, &["snapshot", "--dsn", &db.dsn, "--ref", "keep"]);
    let before = Store::open(store).unwrap().snapshot_ids().unwrap();
    assert_eq!(before.len(), 2);
    let writer = Store::open(store).unwrap();
    writer.hold_writer_lease("test writer").unwrap();
    let gc = ok(store, &["gc", "--wait", "0s"]);
    assert!(gc.stdout.contains("deferred"), "{gc:?}");
    assert_eq!(Store::open(store).unwrap().snapshot_ids().unwrap(), before);
    drop(writer);
    let gc = ok(store, &["gc", "--wait", "0s"]);
    assert!(!gc.stdout.contains("deferred"), "{gc:?}");
    let after = Store::open(store).unwrap().snapshot_ids().unwrap();
    assert_eq!(after.len(), 1, "the unreferenced snapshot went: {gc:?}");
    let fsck = ok(store, &["fsck"]);
    assert!(fsck.stdout.contains(" 0 problem(s)"), "{fsck:?}");
}

#[test]
fn gc_waits_for_a_live_writer_on_a_directory() {
    gc_beside_a_writer(Kind::Dir);
}

#[test]
fn gc_waits_for_a_live_writer_on_s3() {
    gc_beside_a_writer(Kind::S3);
}

/// Must show 2 (issue 15): two processes moving one ref on S3 at the same moment, 50
/// rounds. Each round starts two `baseline accept prod SNAP -m "p<i> r<round>"` at once
/// (a stored snapshot: no database work, so both reach the ref's conditional write within
/// milliseconds of each other). Every update whose process exited 0 is in the ref's history
/// (found by its message); one that is not there was reported as failed (non-zero exit and
/// a message); none is lost silently. The history is one unbroken chain, and the counting
/// layer says how many conditional writes lost a race and were retried.
#[test]
fn two_processes_moving_one_ref_on_s3_for_50_rounds_lose_no_update_silently() {
    let url = s3::store_url("race");
    let store = Path::new(&url);
    let db = empty_db("s3race");
    let a = ok(store, &["snapshot", "--dsn", &db.dsn])
        .stdout
        .trim()
        .to_string();
    db.sql("CREATE TABLE r (id int);");
    let b = ok(store, &["snapshot", "--dsn", &db.dsn])
        .stdout
        .trim()
        .to_string();
    let ids = [a, b];
    let mut expected = Vec::new();
    let mut failed = Vec::new();
    let stats = tempfile::NamedTempFile::new().unwrap();
    const ROUNDS: usize = 50;
    for round in 0..ROUNDS {
        let children: Vec<_> = (0..2)
            .map(|i| {
                let message = format!("p{i} r{round}");
                let mut cmd = driftgate_cmd(
                    store,
                    &[
                        "baseline",
                        "accept",
                        "prod",
                        &ids[(i + round) % 2],
                        "-m",
                        &message,
                    ],
                );
                // The counting layer also counts the conditional writes that lost a race.
                cmd.env("DRIFTGATE_S3_STATS", stats.path());
                (message, std::thread::spawn(move || run_cmd(cmd)))
            })
            .collect();
        for (message, child) in children {
            let r = child.join().unwrap();
            no_secret(&r);
            if r.code == 0 {
                expected.push(message);
            } else {
                assert!(
                    r.stderr.contains("error"),
                    "a failed update must say so: {r:?}"
                );
                failed.push((message, r.stderr));
            }
        }
    }
    let s = Store::open(store).unwrap();
    let log = s.reflog("prod/baseline").unwrap();
    for message in &expected {
        let found = log
            .iter()
            .filter(|e| e.message.ends_with(&format!(": {message}")))
            .count();
        assert_eq!(
            found, 1,
            "{message}: exit 0 but {found} history entries: lost silently or doubled"
        );
    }
    for pair in log.windows(2) {
        assert_eq!(pair[1].old, Some(pair[0].new), "a broken history chain");
    }
    assert_eq!(log.len(), expected.len(), "one entry per reported update");
    let conflicts: u64 = std::fs::read_to_string(stats.path())
        .unwrap()
        .lines()
        .map(|l| {
            let v = serde_json::from_str::<serde_json::Value>(l).unwrap();
            // The subcommand, though `--store URL` comes first on the command line.
            assert_eq!(v["command"], "baseline", "{l}");
            v["conflicts"].as_u64().unwrap()
        })
        .sum();
    eprintln!(
        "{ROUNDS} rounds x 2 processes: {} updates in the history, {} reported failed ({:?}), {conflicts} conditional write(s) lost a race and were retried",
        expected.len(),
        failed.len(),
        failed.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    let fsck = ok(store, &["fsck"]);
    assert!(fsck.stdout.contains(" 0 problem(s)"), "{fsck:?}");
}

/// A store copied object by object between the backends (what `aws s3 sync` does either
/// way) stays valid: same keys, same bytes, fsck clean, the same refs and histories.
#[test]
fn a_store_copied_between_a_directory_and_s3_stays_valid() {
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("store");
    let db = empty_db("s3sync");
    ok(&local, &["snapshot", "--dsn", &db.dsn, "--ref", "nightly"]);
    db.sql("CREATE TABLE z (id int);");
    ok(&local, &["snapshot", "--dsn", &db.dsn, "--ref", "nightly"]);
    // Up: every file of the directory store as an object.
    let url = s3::store_url("sync");
    let prefix = s3::prefix_of(&url).to_string();
    for file in files_under(&local) {
        let key = file
            .strip_prefix(&local)
            .unwrap()
            .to_string_lossy()
            .to_string();
        s3::put_object(&prefix, &key, &std::fs::read(&file).unwrap());
    }
    let remote = PathBuf::from(&url);
    let fsck = ok(&remote, &["fsck"]);
    assert!(fsck.stdout.contains(" 0 problem(s)"), "{fsck:?}");
    let log_local = ok(&local, &["log", "nightly", "--format", "json"]).stdout;
    assert_eq!(
        ok(&remote, &["log", "nightly", "--format", "json"]).stdout,
        log_local
    );
    // A move on S3, then down: every object as a file.
    db.sql("CREATE TABLE z2 (id int);");
    ok(&remote, &["snapshot", "--dsn", &db.dsn, "--ref", "nightly"]);
    let back = dir.path().join("back");
    for (key, bytes) in s3::objects(&prefix) {
        let path = back.join(&key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let fsck = ok(&back, &["fsck"]);
    assert!(fsck.stdout.contains(" 0 problem(s)"), "{fsck:?}");
    let log_back = ok(&back, &["log", "nightly", "--format", "json"]).stdout;
    assert_eq!(
        log_back,
        ok(&remote, &["log", "nightly", "--format", "json"]).stdout
    );
    let show = ok(&back, &["show", "nightly", "--format", "json"]);
    assert!(show.stdout.contains("z2"), "{show:?}");
}

/// Bad input exits 2 and names what is wrong: a malformed URL, `AWS_PROFILE` set, a
/// server that does not answer (its message names the object, never the credentials).
#[test]
fn bad_s3_locations_and_aws_profile_exit_2_without_showing_credentials() {
    let _ = s3::server();
    for bad in [
        "s3://UPPER/x",
        "s3://bucket/../x",
        "s3://ab",
        "s3://user:pw@bucket/x",
    ] {
        let r = driftgate(bad, &["log"]);
        no_secret(&r);
        assert_eq!(r.code, 2, "{bad}: {r:?}");
        assert!(r.stderr.contains("bad S3 store"), "{bad}: {r:?}");
        assert!(!r.stderr.contains("pw@"), "{r:?}");
    }
    let url = s3::store_url("profile");
    let mut cmd = driftgate_cmd(&url, &["log"]);
    cmd.env("AWS_PROFILE", "prod-admin");
    let r = run_cmd(cmd);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("AWS_PROFILE") && r.stderr.contains("prod-admin"),
        "{r:?}"
    );
    let mut cmd = driftgate_cmd(&url, &["log"]);
    cmd.env(
        "AWS_ENDPOINT_URL",
        format!("http://127.0.0.1:{}", unused_port()),
    );
    let r = run_cmd(cmd);
    no_secret(&r);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains(&format!("{url}/STORE")),
        "names the object: {r:?}"
    );
    // Plain HTTP only when asked.
    let mut cmd = driftgate_cmd(&url, &["log"]);
    cmd.env_remove("AWS_ALLOW_HTTP");
    let r = run_cmd(cmd);
    no_secret(&r);
    assert_eq!(r.code, 2, "{r:?}");
    // An empty prefix with no marker is no store; a prefix holding someone else's objects
    // is foreign, and nothing is written there.
    let foreign = s3::store_url("foreign");
    s3::put_object(s3::prefix_of(&foreign), "report.csv", b"a,b\n");
    let db = empty_db("s3foreign");
    let r = driftgate(&foreign, &["snapshot", "--dsn", &db.dsn]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("report.csv"), "{r:?}");
    assert_eq!(s3::objects(s3::prefix_of(&foreign)).len(), 1);
}

/// `store = "s3://…"` in driftgate.toml is the URL, not a directory beside the config.
#[test]
fn a_config_names_an_s3_store() {
    let url = s3::store_url("config");
    let db = empty_db("s3config");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("driftgate.toml");
    std::fs::write(
        &config,
        format!(
            "store = \"{url}\"\n\n[[target]]\nname = \"prod\"\ndsn = \"{}\"\n",
            db.dsn
        ),
    )
    .unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_driftgate"));
    cmd.args([
        "baseline",
        "accept",
        "prod",
        "--config",
        config.to_str().unwrap(),
    ])
    .env_remove("DRIFTGATE_STORE")
    .stdin(std::process::Stdio::null());
    let r = run_cmd(cmd);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        s3::objects(s3::prefix_of(&url)).contains_key("refs/prod/baseline"),
        "the baseline is in the bucket"
    );
    assert!(!dir.path().join("s3:").exists());
}

/// One process, both TLS clients: a snapshot over TLS to PostgreSQL (verify-full against
/// the test CA) into an S3 store over HTTPS (moto with a certificate of the same CA, trusted
/// through AWS_CA_BUNDLE). Both take the one crypto provider installed at start-up.
#[test]
fn one_process_speaks_tls_to_postgresql_and_https_to_s3() {
    let _ = s3::server();
    let pki = tls::pki();
    let (cert, key) = pki.server1_files();
    let port = s3::tls_server(&cert, &key, &pki.ca1);
    let cluster = tls::tls_server();
    let db = cluster.create_db("s3tls");
    let dsn = format!(
        "host=127.0.0.1 port={} dbname={} user={} sslmode=verify-full sslrootcert={}",
        cluster.port,
        db.name,
        cluster.run_as.as_deref().unwrap_or("postgres"),
        pki.ca1.display()
    );
    let url = format!("s3://{}/tls-{}", s3::BUCKET, std::process::id());
    let mut cmd = driftgate_cmd(&url, &["snapshot", "--dsn", &dsn, "--ref", "tls"]);
    cmd.env("AWS_ENDPOINT_URL", format!("https://127.0.0.1:{port}"))
        .env("AWS_CA_BUNDLE", &pki.ca1)
        .env_remove("AWS_ALLOW_HTTP");
    let r = run_cmd(cmd);
    no_secret(&r);
    assert_eq!(r.code, 0, "{r:?}");
    let mut cmd = driftgate_cmd(&url, &["log", "tls"]);
    cmd.env("AWS_ENDPOINT_URL", format!("https://127.0.0.1:{port}"))
        .env("AWS_CA_BUNDLE", &pki.ca1)
        .env_remove("AWS_ALLOW_HTTP");
    let r = run_cmd(cmd);
    assert_eq!(r.code, 0, "{r:?}");
    // And a CA the server's certificate is not from is refused.
    let mut cmd = driftgate_cmd(&url, &["log", "tls"]);
    cmd.env("AWS_ENDPOINT_URL", format!("https://127.0.0.1:{port}"))
        .env("AWS_CA_BUNDLE", &pki.ca2)
        .env_remove("AWS_ALLOW_HTTP");
    let r = run_cmd(cmd);
    assert_eq!(r.code, 2, "{r:?}");
}

/// The lease rule's S3 half: a lease whose holder stopped renewing (killed) stops counting
/// once its TTL runs out, so a crash delays gc, never blocks it for good.
#[test]
fn an_abandoned_lease_on_s3_runs_out() {
    let url = s3::store_url("lease");
    let db = empty_db("s3lease");
    let store = Path::new(&url);
    ok(store, &["snapshot", "--dsn", &db.dsn, "--ref", "a"]);
    let s = Store::open(store).unwrap();
    let lease = s
        .backend_for_tests()
        .acquire_lease(
            driftgate::store::backend::LeaseKind::Writer,
            "abandoned",
            Duration::from_secs(2),
        )
        .unwrap();
    // Forgotten without release, as a kill -9 leaves it.
    std::mem::forget(lease);
    let gc = ok(store, &["gc", "--wait", "0s"]);
    assert!(gc.stdout.contains("deferred"), "{gc:?}");
    std::thread::sleep(Duration::from_secs(3));
    let gc = ok(store, &["gc", "--wait", "0s"]);
    assert!(!gc.stdout.contains("deferred"), "{gc:?}");
}

/// `doctor` with an S3 store, with no session bus in the environment (so the tools section
/// does not depend on the machine).
fn doctor(store: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let runtime = tempfile::tempdir().unwrap();
    let mut cmd = driftgate_cmd(store, &[&["doctor"], args].concat());
    cmd.env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", runtime.path());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let r = run_cmd(cmd);
    no_secret(&r);
    r
}

/// The store section of the text report (from its heading to the blank line after it).
fn store_text(r: &Run) -> &str {
    let at = r
        .stdout
        .find("\nStore: ")
        .unwrap_or_else(|| panic!("no store section: {r:?}"));
    let rest = &r.stdout[at + 1..];
    &rest[..rest.find("\n\n").unwrap_or(rest.len())]
}

/// `doctor` on an S3 store says what it says of a directory store, for S3: a store found,
/// writable (a probe object put and deleted, nothing left behind), fsck clean, and which
/// endpoint and credentials (by name only) it was reached with. A prefix with nothing under
/// it, a bucket that does not exist and an endpoint that does not answer are each exit 2
/// with the cause named on one line, the connection still checked, and no credential shown.
#[test]
fn doctor_on_an_s3_store_reports_it_reachable_writable_and_whole_or_says_why_not() {
    let server = s3::server();
    let db = empty_db("s3doctor");
    db.sql("CREATE TABLE t (id int PRIMARY KEY);");
    let url = s3::store_url("doctor");
    ok(
        Path::new(&url),
        &["snapshot", "--dsn", &db.dsn, "--ref", "nightly"],
    );
    let before = s3::objects(s3::prefix_of(&url));

    let r = doctor(&url, &["--dsn", &db.dsn, "--format", "json"], &[]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["status"], "ok", "{v:#}");
    let s = &v["store"];
    assert_eq!(s["path"], url.as_str());
    assert_eq!(s["backend"], "s3");
    assert_eq!(s["exists"], true);
    assert_eq!(s["writable"], true);
    assert_eq!(s["fsck"]["snapshots"], 1);
    assert_eq!(s["fsck"]["refs"], 1);
    assert_eq!(s["fsck"]["problems"], serde_json::json!([]));
    assert_eq!(s["s3"]["endpoint"], server.endpoint.as_str());
    assert_eq!(s["s3"]["region"], "us-east-1");
    assert_eq!(s["s3"]["allow_http"], true);
    assert_eq!(
        s["s3"]["credentials"],
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    );
    assert!(
        doctor_findings(&v["store"])
            .iter()
            .all(|(level, _)| level == "ok"),
        "{s:#}"
    );
    assert_eq!(
        s3::objects(s3::prefix_of(&url)),
        before,
        "the write probe left the bucket as it was"
    );

    let r = doctor(&url, &["--dsn", &db.dsn], &[]);
    assert_eq!(r.code, 0, "{r:?}");
    let text = store_text(&r);
    for line in [
        format!("Store: {url} (from --store)"),
        format!(
            "ok    S3 endpoint {} (AWS_ENDPOINT_URL), region us-east-1; credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            server.endpoint
        ),
        format!("ok    a driftgate store at {url}"),
        "ok    writable (a probe object was put and deleted)".to_string(),
        "ok    fsck: 1 pack(s),".to_string(),
    ] {
        assert!(text.contains(&line), "{line:?} missing:\n{text}");
    }

    // An empty prefix: the bucket is there, the store is not (yet); doctor creates nothing.
    let empty = s3::store_url("doctor-empty");
    let r = doctor(&empty, &["--dsn", &db.dsn], &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        store_text(&r).contains(&format!(
            "FAIL  no store at {empty}: the bucket answers, but nothing is stored under this prefix (a first `driftgate snapshot` creates it)"
        )),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("ok    connected as postgres"), "{r:?}");
    assert!(
        s3::objects(s3::prefix_of(&empty)).is_empty(),
        "doctor wrote nothing"
    );

    // A bucket that does not exist: said so, in one line (no S3 error document).
    let bucket = format!("driftgate-no-such-bucket-{}", std::process::id());
    let wrong = format!("s3://{bucket}/store");
    let r = doctor(&wrong, &["--dsn", &db.dsn], &[]);
    assert_eq!(r.code, 2, "{r:?}");
    let text = store_text(&r);
    let fail: Vec<&str> = text.lines().filter(|l| l.contains("FAIL")).collect();
    assert_eq!(fail.len(), 1, "{text}");
    assert!(
        fail[0].starts_with(&format!(
            "  FAIL  the bucket {bucket} does not exist at {} (AWS_ENDPOINT_URL): ",
            server.endpoint
        )),
        "{text}"
    );
    assert!(
        fail[0].ends_with("NoSuchBucket: The specified bucket does not exist"),
        "{text}"
    );
    assert!(
        !r.stdout.contains("<Error>") && !r.stdout.contains("RequestId"),
        "{r:?}"
    );
    assert!(r.stdout.contains("ok    connected as postgres"), "{r:?}");
    assert!(r.stdout.contains("status: error"), "{r:?}");
    let r = doctor(&wrong, &["--dsn", &db.dsn, "--format", "json"], &[]);
    assert_eq!(r.code, 2, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["status"], "error");
    assert_eq!(v["store"]["backend"], "s3");
    assert_eq!(v["store"]["exists"], false);
    assert_eq!(v["store"]["writable"], serde_json::Value::Null);
    assert_eq!(v["connection"]["connected"], true);

    // An endpoint that does not answer (the store is fine; the way to it is not).
    let nowhere = format!("http://127.0.0.1:{}", unused_port());
    let r = doctor(
        &url,
        &["--dsn", &db.dsn],
        &[("AWS_ENDPOINT_URL", nowhere.as_str())],
    );
    assert_eq!(r.code, 2, "{r:?}");
    let text = store_text(&r);
    assert!(
        text.contains(&format!(
            "FAIL  the S3 endpoint {nowhere} (AWS_ENDPOINT_URL) cannot be reached: {url}/STORE: "
        )),
        "{text}"
    );
    assert!(text.contains("Connection refused"), "the cause: {text}");
    assert!(r.stdout.contains("ok    connected as postgres"), "{r:?}");
    assert!(r.stdout.contains("status: error"), "{r:?}");
}
