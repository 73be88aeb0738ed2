//! The sharded nightly check (issue 15 item 2, Must show 3): `check --shard K/N` processes
//! at once into one S3 store (moto, started by the harness), then `check merge`; what a
//! merge refuses (mixed runs, a config other than the shards'), and a shard that reported
//! nothing (BLOCK naming it, exit 2). Also the Kubernetes form: N processes with
//! `JOB_COMPLETION_INDEX` and `--shards N`, as an Indexed Job runs them.

mod support;

use driftgate::check::shard::{name_hash, Shard};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::*;

const TARGETS: usize = 30;

/// The names of the fleet: `t00` … `t29`.
fn names() -> Vec<String> {
    (0..TARGETS).map(|i| format!("t{i:02}")).collect()
}

/// One small catalog (a table, a function, a trigger) copied into 30 databases with
/// `CREATE DATABASE … TEMPLATE`, and a config naming them. Every target shares one baseline
/// ref (the databases are copies), so one `baseline accept` serves all; `globals = false`
/// because the database's own name and properties differ between copies.
struct Fleet {
    dbs: Vec<String>,
    dir: tempfile::TempDir,
    config: PathBuf,
}

fn fleet(hint: &str) -> Fleet {
    let c = cluster();
    let template = c.create_db(&format!("{hint}_tpl"));
    template.sql(
        "CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL);
         CREATE FUNCTION items_touch() RETURNS trigger LANGUAGE plpgsql AS
           $$BEGIN NEW.label := lower(NEW.label); RETURN NEW; END$$;
         CREATE TRIGGER items_touch BEFORE INSERT ON items
           FOR EACH ROW EXECUTE FUNCTION items_touch();",
    );
    let mut dbs = Vec::new();
    let mut config = String::from("globals = false\nconcurrency = 4\n\n");
    for name in names() {
        let db = format!("{}_{name}", template.name);
        c.sql(
            "postgres",
            &format!("CREATE DATABASE \"{db}\" TEMPLATE \"{}\"", template.name),
        );
        config.push_str(&format!(
            "[[target]]\nname = \"{name}\"\ndsn = \"{}\"\nbaseline = \"fleet/baseline\"\n\n",
            c.dsn(&db)
        ));
        dbs.push(db);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("driftgate.toml");
    std::fs::write(&path, config).unwrap();
    Fleet {
        dbs,
        dir,
        config: path,
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn json_file(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{} was not written: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}: {text}", path.display()))
}

fn target_names(report: &Value) -> Vec<String> {
    report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

/// Start `cmd` now; its output once it ends.
fn spawn(mut cmd: Command) -> std::process::Child {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

fn finish(child: std::process::Child) -> Run {
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
        elapsed: std::time::Duration::ZERO,
    }
}

/// Must show 3: three shards at once over 30 targets into one S3 store, then merges.
#[test]
fn three_shards_at_once_into_one_s3_store_check_every_target_exactly_once_and_merge() {
    let fleet = fleet("shard3");
    let store = PathBuf::from(support::s3::store_url("shard"));
    let config = s(&fleet.config).to_string();
    // One target drifts after the baseline was taken: the merged exit code is the
    // aggregate (1), and the drift is where the shard that holds it said.
    let r = driftgate(
        &store,
        &["baseline", "accept", "t00", "--config", &config, "-q"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    cluster().sql(&fleet.dbs[7], "DROP TRIGGER items_touch ON items");

    let run_id = "nightly-2026-06-03";
    let reports: Vec<PathBuf> = (1..=3)
        .map(|k| fleet.dir.path().join(format!("shard-{k}.json")))
        .collect();
    let started = std::time::Instant::now();
    let children: Vec<_> = (1..=3)
        .map(|k| {
            let shard = format!("{k}/3");
            spawn(driftgate_cmd(
                &store,
                &[
                    "check",
                    "--config",
                    &config,
                    "--shard",
                    &shard,
                    "--run-id",
                    run_id,
                    "--report",
                    s(&reports[k - 1]),
                ],
            ))
        })
        .collect();
    let runs: Vec<Run> = children.into_iter().map(finish).collect();
    // For the record (the test server serves one request at a time: this describes it).
    eprintln!(
        "three shards over {TARGETS} targets into one S3 store: {:?}",
        started.elapsed()
    );

    // Each shard checked its own targets, and together every target exactly once.
    let mut seen = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        let k = i as u64 + 1;
        let shard = Shard::new(k, 3).unwrap();
        let report = json_file(&reports[i]);
        assert_eq!(report["run_id"], run_id, "{report}");
        assert_eq!(report["shard"]["index"], k);
        assert_eq!(report["shard"]["count"], 3);
        assert_eq!(report["targets_hash"].as_str().unwrap().len(), 64);
        let mine = target_names(&report);
        for name in &mine {
            assert!(shard.holds(name), "{name} is not in shard {shard}");
            assert_eq!(name_hash(name) % 3, k - 1);
        }
        let expected_code = if mine.iter().any(|n| n == "t07") {
            1
        } else {
            0
        };
        assert_eq!(r.code, expected_code, "shard {shard}: {r:?}");
        assert!(
            r.stdout.contains(&format!("(shard {k}/3 of run {run_id})")),
            "{r:?}"
        );
        seen.extend(mine);
    }
    seen.sort();
    assert_eq!(seen, names(), "every target once, over the three shards");

    // The store says the same: each target's latest ref moved exactly once, and the three
    // reports are there under the run.
    for name in names() {
        let r = driftgate(
            &store,
            &["log", &format!("{name}/latest"), "--format", "json"],
        );
        assert_eq!(r.code, 0, "{r:?}");
        let log: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(log.as_array().unwrap().len(), 1, "{name}: {log}");
    }
    let prefix = support::s3::prefix_of(s(&store)).to_string();
    let objects = support::s3::objects(&prefix);
    let stored: Vec<&String> = objects
        .keys()
        .filter(|k| k.starts_with("reports/"))
        .collect();
    assert_eq!(
        stored,
        [1, 2, 3]
            .iter()
            .map(|k| format!("reports/{run_id}/shard-{k}-of-3.json"))
            .collect::<Vec<_>>()
            .iter()
            .collect::<Vec<_>>()
    );
    let refs = objects
        .keys()
        .filter(|k| k.starts_with("refs/") && k.ends_with("/latest"))
        .count();
    assert_eq!(refs, TARGETS, "one latest ref per target");

    // The merge from the store lists all 30, in config order, with the aggregate verdict.
    let merged = fleet.dir.path().join("merged.json");
    let md = fleet.dir.path().join("merged.md");
    let prom = fleet.dir.path().join("merged.prom");
    let r = driftgate(
        &store,
        &[
            "check",
            "merge",
            "--run-id",
            run_id,
            "--config",
            &config,
            "--report",
            s(&merged),
            "--markdown",
            s(&md),
            "--prometheus",
            s(&prom),
        ],
    );
    assert_eq!(r.code, 1, "t07 drifted: BLOCK, exit 1: {r:?}");
    let report = json_file(&merged);
    assert_eq!(target_names(&report), names());
    assert_eq!(report["verdict"], "BLOCK");
    assert_eq!(report["exit_code"], 1);
    assert_eq!(report["run_id"], run_id);
    assert_eq!(report["merged"]["shards"], serde_json::json!([1, 2, 3]));
    assert_eq!(report["merged"]["problems"], serde_json::json!([]));
    for t in report["targets"].as_array().unwrap() {
        let expected = if t["name"] == "t07" { "BLOCK" } else { "PASS" };
        assert_eq!(t["verdict"], expected, "{t}");
    }
    assert!(
        r.stdout.contains("30 targets: 29 PASS, 0 WARN, 1 BLOCK"),
        "{r:?}"
    );
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.starts_with("## driftgate check: ⛔ BLOCK"), "{md}");
    assert!(md.contains("### `t07`: ⛔ BLOCK"), "{md}");
    let prom = std::fs::read_to_string(&prom).unwrap();
    assert_eq!(
        prom.lines()
            .filter(|l| l.starts_with("driftgate_target_up{") && l.ends_with(" 1"))
            .count(),
        TARGETS,
        "{prom}"
    );
    // The files the shards wrote merge to the same.
    let files_merged = fleet.dir.path().join("files.json");
    let mut args = vec![
        "check",
        "merge",
        "--config",
        &config,
        "--report",
        s(&files_merged),
    ];
    args.extend(reports.iter().map(|p| s(p)));
    let r = driftgate(&store, &args);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(target_names(&json_file(&files_merged)), names());
    // With a run id too, the files must all be of that run.
    let mut of_another = args[..4].to_vec();
    of_another.extend(["--run-id", "nightly-2026-06-04"]);
    of_another.extend(reports.iter().map(|p| s(p)));
    let r = driftgate(&store, &of_another);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("not run \"nightly-2026-06-04\""), "{r:?}");

    // fsck of the S3 store is clean, the reports included.
    let r = driftgate(&store, &["fsck"]);
    assert_eq!(r.code, 0, "{r:?}");

    // A shard cannot report twice under one run id: reports are written once.
    let r = driftgate(
        &store,
        &[
            "check", "--config", &config, "--shard", "2/3", "--run-id", run_id,
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("already in the store"), "{r:?}");

    // One shard's report gone (from the files, and from the store): BLOCK naming the
    // shard and its targets, exit 2.
    let without = fleet.dir.path().join("without.json");
    let r = driftgate(
        &store,
        &[
            "check",
            "merge",
            "--config",
            &config,
            "--report",
            s(&without),
            s(&reports[0]),
            s(&reports[2]),
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.contains("BLOCK: shard 2/3 reported nothing"),
        "{r:?}"
    );
    let report = json_file(&without);
    assert_eq!(report["verdict"], "BLOCK");
    assert_eq!(report["exit_code"], 2);
    assert_eq!(
        report["merged"]["problems"],
        serde_json::json!(["shard 2/3 reported nothing"])
    );
    assert_eq!(target_names(&report), names(), "the missing ones named too");
    let shard2 = Shard::new(2, 3).unwrap();
    for t in report["targets"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        if shard2.holds(name) {
            assert_eq!(t["verdict"], "BLOCK", "{t}");
            assert!(
                t["error"]
                    .as_str()
                    .unwrap()
                    .contains("no shard reported this target (it falls in shard 2/3)"),
                "{t}"
            );
        }
    }
    let port = support::s3::server().port;
    let key = format!(
        "/{}/{prefix}/reports/{run_id}/shard-3-of-3.json",
        support::s3::BUCKET
    );
    let (code, _, _) = support::s3::request(port, "DELETE", &key, &[], b"").unwrap();
    assert_eq!(code, 204);
    let r = driftgate(
        &store,
        &["check", "merge", "--run-id", run_id, "--config", &config],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.contains("BLOCK: shard 3/3 reported nothing"),
        "{r:?}"
    );

    // Reports of two runs never merge.
    let other = fleet.dir.path().join("other-night.json");
    let r = driftgate(
        &store,
        &[
            "check",
            "--config",
            &config,
            "--shard",
            "2/3",
            "--run-id",
            "nightly-2026-06-04",
            "--report",
            s(&other),
        ],
    );
    assert!(r.code == 0 || r.code == 1, "{r:?}");
    let r = driftgate(
        &store,
        &[
            "check",
            "merge",
            "--config",
            &config,
            s(&reports[0]),
            s(&other),
            s(&reports[2]),
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("reports of different runs"), "{r:?}");
    assert!(r.stdout.contains("gate_drift: BLOCK"), "{r:?}");
}

/// The merge is held to the config the shards ran with: another target list is refused,
/// and so is a merge without a config.
#[test]
fn a_merge_against_another_target_list_or_without_a_config_is_refused() {
    let db = empty_db("shard_cfg");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let config = dir.path().join("driftgate.toml");
    let one = format!("[[target]]\nname = \"a\"\ndsn = \"{}\"\n", db.dsn);
    std::fs::write(&config, &one).unwrap();
    let r = driftgate(
        &store,
        &["baseline", "accept", "a", "--config", s(&config), "-q"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let report = dir.path().join("r.json");
    let r = driftgate(
        &store,
        &[
            "check",
            "--config",
            s(&config),
            "--shard",
            "1/1",
            "--run-id",
            "r1",
            "--report",
            s(&report),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    // Merged against its own config: fine, and a one-shard run is a whole run.
    let r = driftgate(
        &store,
        &["check", "merge", "--config", s(&config), s(&report)],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let r = driftgate(
        &store,
        &["check", "merge", "--run-id", "r1", "--config", s(&config)],
    );
    assert_eq!(r.code, 0, "{r:?}");

    let two = dir.path().join("two.toml");
    std::fs::write(
        &two,
        format!("{one}\n[[target]]\nname = \"b\"\ndsn = \"{}\"\n", db.dsn),
    )
    .unwrap();
    let r = driftgate(&store, &["check", "merge", "--config", s(&two), s(&report)]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("another target list"), "{r:?}");
    let mut cmd = driftgate_cmd(&store, &["check", "merge", s(&report)]);
    cmd.env_remove("DRIFTGATE_CONFIG");
    let r = run_cmd(cmd);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("needs --config"), "{r:?}");
    // A shard that could not run (no store to write to) still says which shard it was,
    // and the merge says why it failed.
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let failed = dir.path().join("failed.json");
    let r = driftgate(
        blocker.join("store"),
        &[
            "check",
            "--config",
            s(&config),
            "--shard",
            "1/1",
            "--run-id",
            "r2",
            "--report",
            s(&failed),
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    let v = json_file(&failed);
    assert_eq!(
        v["shard"],
        serde_json::json!({"index": 1, "count": 1}),
        "{v}"
    );
    assert!(v["error"].is_string(), "{v}");
    let r = driftgate(
        &store,
        &["check", "merge", "--config", s(&config), s(&failed)],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.contains("BLOCK: shard 1/1 could not run"), "{r:?}");
    // A whole run's report is not a shard report.
    let whole = dir.path().join("whole.json");
    let r = driftgate(
        &store,
        &["check", "--config", s(&config), "--report", s(&whole)],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let r = driftgate(
        &store,
        &["check", "merge", "--config", s(&config), s(&whole)],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("not a shard report"), "{r:?}");
}

/// Arguments, environment, and what the error says.
type BadCase<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

/// Bad shard input is exit 2 with the reason, before anything is read; a shard with no
/// targets passes and still reports which shard it was.
#[test]
fn bad_shard_input_is_exit_2_and_an_empty_shard_reports_its_identity() {
    let db = empty_db("shard_bad");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let config = support::one_target_config(dir.path(), &db.dsn);
    let c = s(&config);
    let cases: &[BadCase] = &[
        (
            &["--shard", "0/3", "--run-id", "r"],
            &[],
            "K must be from 1 to 3",
        ),
        (
            &["--shard", "4/3", "--run-id", "r"],
            &[],
            "K must be from 1 to 3",
        ),
        (
            &["--shard", "1/0", "--run-id", "r"],
            &[],
            "N must be at least 1",
        ),
        (
            &["--shard", "x/3", "--run-id", "r"],
            &[],
            "not a whole number",
        ),
        (&["--shard", "1/3"], &[], "needs a run id"),
        (&["--shard", "1/3", "--run-id", "a/b"], &[], "bad run id"),
        (
            &["--shards", "3", "--run-id", "r"],
            &[("JOB_COMPLETION_INDEX", "3")],
            "outside --shards 3",
        ),
        (
            &["--run-id", "r"],
            &[("JOB_COMPLETION_INDEX", "0")],
            "--shards N is not",
        ),
        (
            &["--shard", "1/3", "--run-id", "r"],
            &[("JOB_COMPLETION_INDEX", "1")],
            "disagrees",
        ),
        (
            &["--run-id", "r"],
            &[("DRIFTGATE_SHARD", "5/3")],
            "K must be from 1 to 3",
        ),
        (
            &["--shard", "1/3", "--run-id", "r", "--target", "prod"],
            &[],
            "do not go together",
        ),
    ];
    for (args, env, says) in cases {
        let mut all = vec!["check", "--config", c];
        all.extend_from_slice(args);
        let mut cmd = driftgate_cmd(&store, &all);
        for (k, v) in *env {
            cmd.env(k, v);
        }
        let r = run_cmd(cmd);
        assert_eq!(r.code, 2, "{args:?} {env:?}: {r:?}");
        assert!(r.stderr.contains(says), "{args:?} {env:?}: {r:?}");
        assert!(r.stdout.contains("gate_drift: BLOCK"), "{r:?}");
    }
    assert!(
        !store.exists(),
        "nothing was read or stored for a bad shard"
    );

    let k = name_hash("prod") % 2 + 1;
    let empty = 3 - k;
    // --dry-run says what a shard takes, from the config alone: nothing read or stored.
    for (shard, holds) in [(k, true), (empty, false)] {
        let r = driftgate(
            &store,
            &[
                "check",
                "--config",
                c,
                "--shard",
                &format!("{shard}/2"),
                "--run-id",
                "r",
                "--dry-run",
            ],
        );
        assert_eq!(r.code, 0, "{r:?}");
        let first = format!("shard {shard}/2 of run r: {} of 1 targets", u8::from(holds));
        assert!(r.stdout.starts_with(&first), "{r:?}");
        assert_eq!(r.stdout.lines().any(|l| l == "prod"), holds, "{r:?}");
    }
    assert!(!store.exists(), "a dry run opens no store");
    let r = driftgate(&store, &["baseline", "accept", "prod", "--config", c, "-q"]);
    assert_eq!(r.code, 0, "{r:?}");
    let report = dir.path().join("empty.json");
    let r = driftgate(
        &store,
        &[
            "check",
            "--config",
            c,
            "--shard",
            &format!("{empty}/2"),
            "--run-id",
            "r",
            "--report",
            s(&report),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let v = json_file(&report);
    assert_eq!(v["verdict"], "PASS");
    assert_eq!(v["targets"], serde_json::json!([]));
    assert_eq!(v["shard"], serde_json::json!({"index": empty, "count": 2}));
    let r = driftgate(&store, &["check", "merge", "--run-id", "r", "--config", c]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout
            .contains(&format!("BLOCK: shard {k}/2 reported nothing")),
        "{r:?}"
    );
    let r = driftgate(
        &store,
        &[
            "check",
            "--config",
            c,
            "--shard",
            &format!("{k}/2"),
            "--run-id",
            "r",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let r = driftgate(&store, &["check", "merge", "--run-id", "r", "--config", c]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("1 target: 1 PASS"), "{r:?}");
}

/// The Kubernetes form, simulated: N processes as the pods of an Indexed Job
/// (`JOB_COMPLETION_INDEX` = 0 … N−1, `--shards N`, the run id from the environment), then
/// the merge Job's command.
#[test]
fn an_indexed_job_simulated_with_job_completion_index_then_the_merge() {
    let fleet = fleet("shardk8s");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let config = s(&fleet.config).to_string();
    let r = driftgate(
        &store,
        &["baseline", "accept", "t00", "--config", &config, "-q"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let n = 4;
    let children: Vec<_> = (0..n)
        .map(|i| {
            let mut cmd = driftgate_cmd(
                &store,
                &["check", "--config", &config, "--shards", &n.to_string()],
            );
            cmd.env("JOB_COMPLETION_INDEX", i.to_string())
                .env("DRIFTGATE_RUN_ID", "driftgate-nightly-29012345");
            spawn(cmd)
        })
        .collect();
    for (i, r) in children.into_iter().map(finish).enumerate() {
        assert_eq!(r.code, 0, "index {i}: {r:?}");
        assert!(
            r.stdout.contains(&format!("(shard {}/{n} of run", i + 1)),
            "{r:?}"
        );
    }
    let merged = dir.path().join("merged.json");
    let mut cmd = driftgate_cmd(
        &store,
        &[
            "check",
            "merge",
            "--config",
            &config,
            "--report",
            s(&merged),
        ],
    );
    cmd.env("DRIFTGATE_RUN_ID", "driftgate-nightly-29012345");
    let r = run_cmd(cmd);
    assert_eq!(r.code, 0, "{r:?}");
    let report = json_file(&merged);
    assert_eq!(target_names(&report), names());
    assert_eq!(report["merged"]["shards"], serde_json::json!([1, 2, 3, 4]));
    let r = driftgate(&store, &["fsck"]);
    assert_eq!(r.code, 0, "{r:?}");
}
