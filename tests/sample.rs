//! The committed example store `snapshots/` (made by scripts/sample-store.sh) still reads
//! with the current code, from the repository root with no database and no environment, and
//! still holds what the current code captures from the fixture. When the capture or the store
//! format changes, this fails until `scripts/regen-samples.sh` is run.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use support::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// driftgate run in the repository root as a new user would: the default store
/// `./snapshots`, no DATABASE_URL, no PG* variables, no config.
fn offline(args: &[&str]) -> Run {
    let mut c = Command::new(env!("CARGO_BIN_EXE_driftgate"));
    c.current_dir(ROOT).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("PG") || k.starts_with("DRIFTGATE_") || k == "DATABASE_URL" {
            c.env_remove(k);
        }
    }
    c.env("NO_COLOR", "1").env_remove("COLUMNS");
    run_cmd(c)
}

const REGEN: &str =
    "the committed sample store no longer matches the code: run scripts/regen-samples.sh";

#[test]
fn the_committed_store_reads_with_no_database() {
    assert!(
        Path::new(ROOT).join("snapshots/STORE").is_file(),
        "snapshots/ is missing: run scripts/sample-store.sh"
    );
    let r = offline(&["fsck"]);
    assert_eq!(r.code, 0, "{REGEN}\n{r:?}");
    assert!(r.stdout.contains("0 problem(s)"), "{r:?}");
    for reference in ["entry", "exit", "after-change"] {
        let r = offline(&["fingerprint", reference]);
        assert_eq!(r.code, 0, "ref {reference}: {REGEN}\n{r:?}");
    }
    let r = offline(&["graph", "entry", "dot_tools"]);
    assert_eq!(r.code, 0, "{REGEN}\n{r:?}");
    assert!(
        r.stdout
            .starts_with("INSERT on public.dot_tools: 13 triggers"),
        "{r:?}"
    );
    let r = offline(&["gate", "entry", "exit"]);
    assert_eq!(r.code, 0, "the rehearsal left nothing behind: {r:?}");
    assert!(r.stdout.starts_with("gate_drift: PASS"), "{r:?}");
    let r = offline(&["gate", "entry", "after-change", "--format", "json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let gate: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(gate["verdict"], "BLOCK");
    let keys: Vec<&str> = gate["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "function:public.fn_birth_gate()",
            "trigger:public.dot_tools.trg_refresh_orphan_dot"
        ],
        "the committed change, and only it"
    );
}

/// `show --kind` takes the name of every kind in the registry (and lists only that kind),
/// and refuses a name that is not one.
#[test]
fn show_takes_every_kind_of_the_registry() {
    for kind in driftgate::model::ObjectKind::ALL {
        let name = kind.spec().name;
        let r = offline(&["show", "entry", "--kind", name, "--format", "json"]);
        assert_eq!(r.code, 0, "show --kind {name}: {r:?}");
        let entries: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
        assert!(entries.iter().all(|e| e["kind"] == name), "{name}: {r:?}");
    }
    let r = offline(&["show", "entry", "--kind", "tabel"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("unknown object kind"), "{r:?}");
}

/// A snapshot of another capture format (here: the sample exported, its format raised)
/// is never "no drift", though every object is the same: the gate blocks with its own rule
/// and says how to move on, verify proves nothing, and diff says why.
#[test]
fn a_snapshot_of_another_capture_format_blocks_with_its_own_rule() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("entry.json");
    let r = offline(&["export", "entry", "-o", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let format = doc["snapshot"]["capture_format"]
        .as_u64()
        .expect("recorded");
    doc["snapshot"]["capture_format"] = (format + 1).into();
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    let other = file.to_str().unwrap();

    let r = offline(&["gate", "entry", other, "--format", "json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let gate: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(gate["verdict"], "BLOCK");
    assert_eq!(gate["findings"].as_array().unwrap().len(), 1, "{gate}");
    assert_eq!(gate["findings"][0]["rule"], "capture-format-changed");
    assert!(gate["findings"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("baseline accept"));

    let r = offline(&["verify", "entry", "--against", other]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("capture format changed"), "{r:?}");

    let r = offline(&["diff", "entry", other, "--format", "json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let diff: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(diff["capture_format"]["head"], format + 1, "{diff}");
    assert_eq!(diff["drift"], true);
}

/// key → hash of every catalog object (row counts left out: planner estimates differ
/// between a fresh load and the sample, and between versions).
fn object_hashes(store: &Path, snap: &str, in_root: bool) -> BTreeMap<String, String> {
    let r = if in_root {
        offline(&["show", snap, "--format", "json"])
    } else {
        driftgate(store, &["show", snap, "--format", "json"])
    };
    assert_eq!(r.code, 0, "{r:?}");
    let objects: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    objects
        .into_iter()
        .filter(|o| o["kind"] != "count")
        .map(|o| {
            (
                o["key"].as_str().unwrap().to_string(),
                o["hash"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_committed_store_is_what_the_code_captures_from_the_fixture() {
    let db = fixture_db("sample");
    let store = tempfile::tempdir().unwrap();
    let r = driftgate(
        store.path(),
        &["snapshot", "--dsn", &db.dsn, "--ref", "now"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let mut now = object_hashes(store.path(), "now", false);
    let mut committed = object_hashes(store.path(), "entry", true);
    assert!(committed.len() > 50, "{committed:?}");
    // Server settings are the configuration of the server each was taken on (the test
    // harness's, scripts/pg.sh's), not the fixture's: `tests/globals.rs` compares them
    // between servers of one configuration.
    now.retain(|k, _| !k.starts_with("server_setting:"));
    committed.retain(|k, _| !k.starts_with("server_setting:"));
    if db.cluster.version_num < 150000 {
        // PostgreSQL 15 changed the public schema's owner and privileges (see README); the
        // sample is made on 15+.
        now.remove("schema:public");
        committed.remove("schema:public");
    }
    let differ: Vec<_> = committed
        .keys()
        .chain(now.keys())
        .filter(|k| committed.get(*k) != now.get(*k))
        .collect();
    assert!(
        differ.is_empty(),
        "{REGEN}; objects that differ: {differ:?}"
    );
}

/// diff, gate and verify are coloured like git with `--color always` (also over NO_COLOR,
/// a flag given wins), and plain when piped (`auto`) or with `--color never`.
#[test]
fn diff_gate_and_verify_are_coloured_only_when_asked_or_at_a_terminal() {
    const ESC: char = '\x1b';
    let cases: [&[&str]; 3] = [
        &["diff", "entry", "after-change"],
        &["gate", "entry", "after-change"],
        &["verify", "entry", "--against", "after-change"],
    ];
    for args in cases {
        let plain = offline(args);
        assert!(
            !plain.stdout.contains(ESC),
            "{args:?} piped:\n{}",
            plain.stdout
        );
        let mut never = args.to_vec();
        never.extend(["--color", "never"]);
        assert!(
            !offline(&never).stdout.contains(ESC),
            "{args:?} --color never"
        );
        let mut always = args.to_vec();
        always.extend(["--color", "always"]);
        let coloured = offline(&always);
        assert_eq!(
            coloured.code, plain.code,
            "{args:?}: colour changed the exit code"
        );
        // The same text once the colour is taken away.
        let stripped = coloured
            .stdout
            .replace("\x1b[1;31m", "")
            .replace("\x1b[31m", "")
            .replace("\x1b[32m", "")
            .replace("\x1b[33m", "")
            .replace("\x1b[36m", "")
            .replace("\x1b[1m", "")
            .replace("\x1b[0m", "");
        assert_eq!(stripped, plain.stdout, "{args:?}");
        let wanted = match args[0] {
            "diff" => vec![
                "\x1b[33m changed",
                "\x1b[31m-    v_mode",
                "\x1b[32m+    v_mode",
            ],
            "gate" => vec!["gate_drift: \x1b[1;31mBLOCK\x1b[0m"],
            _ => vec!["\x1b[31mDRIFT\x1b[0m"],
        };
        for w in wanted {
            assert!(
                coloured.stdout.contains(w),
                "{args:?}: no {w:?} in\n{}",
                coloured.stdout
            );
        }
    }
}
