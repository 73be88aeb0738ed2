//! Bad input: truncated and hand-edited snapshot files, unknown format versions (snapshot
//! file, snapshot record, store marker), corrupt store files, unknown refs, ref names that
//! try to leave the store, broken policy files. Every one is exit 2 with a message naming
//! the problem (and the file, and the line where there is one), and nothing is written.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use support::*;

/// A store with snapshot `good` of the fixture, and that snapshot exported to a file.
fn store_and_export() -> (tempfile::TempDir, PathBuf) {
    let db = fixture_db("badinput");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let r = driftgate(&store, &["snapshot", "--dsn", &db.dsn, "--ref", "good"]);
    assert_eq!(r.code, 0, "{r:?}");
    let file = dir.path().join("good.json");
    let r = driftgate(&store, &["export", "good", "-o", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    (dir, file)
}

/// Every offline command given `file` as its snapshot: exit 2, the file and `problem`
/// named; `gate` still prints BLOCK. A store that does not exist is not created.
fn assert_refused(file: &Path, problem: &str) {
    let f = file.to_str().unwrap();
    let nowhere = file.parent().unwrap().join("no-store-here");
    for args in [
        vec!["show", f],
        vec!["fingerprint", f],
        vec!["diff", f, f],
        vec!["verify", f, "--against", f],
        vec!["graph", f],
        vec!["export", f],
        vec!["gate", f, f, "--format", "json"],
    ] {
        let r = driftgate(&nowhere, &args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(
            r.stderr.contains(f) && r.stderr.contains(problem),
            "{args:?} should name {f} and {problem:?}: {r:?}"
        );
        if args[0] == "gate" {
            let v: Value = serde_json::from_str(&r.stdout).unwrap();
            assert_eq!(v["verdict"], "BLOCK", "{r:?}");
        }
        assert!(!nowhere.exists(), "{args:?} created a store");
    }
}

#[test]
fn truncated_snapshot_files_are_refused_naming_file_line_and_column() {
    let (_dir, file) = store_and_export();
    let text = std::fs::read_to_string(&file).unwrap();
    let bad = file.with_file_name("truncated.json");
    for cut in [0, 1, text.len() / 3, text.len() / 2, text.len() - 3] {
        std::fs::write(&bad, &text[..cut]).unwrap();
        assert_refused(&bad, "not JSON (line ");
    }
    // Cut at the end of a line: the error points at where the file stops.
    let cut = text[..text.len() / 2].rfind('\n').unwrap();
    std::fs::write(&bad, &text[..cut]).unwrap();
    let line = text[..cut].lines().count();
    assert_refused(&bad, &format!("not JSON (line {line}, column"));
}

#[test]
fn hand_edited_snapshot_files_are_refused() {
    let (_dir, file) = store_and_export();
    let text = std::fs::read_to_string(&file).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    let bad = file.with_file_name("edited.json");
    let write = |v: &Value| std::fs::write(&bad, serde_json::to_vec_pretty(v).unwrap()).unwrap();

    // A changed body, a dropped object, a changed count: the hashes no longer match.
    let edited = text.replacen("RETURN NEW;", "RETURN NULL;", 1);
    assert_ne!(edited, text);
    std::fs::write(&bad, &edited).unwrap();
    assert_refused(&bad, "catalog hash mismatch");
    let mut dropped = v.clone();
    dropped["objects"].as_array_mut().unwrap().pop();
    write(&dropped);
    assert_refused(&bad, "catalog hash mismatch");
    let mut counted = v.clone();
    let counts = counted["counts"].as_object_mut().unwrap();
    let first = counts.keys().next().unwrap().clone();
    counts[&first]["estimate"] = 123456.into();
    write(&counted);
    assert_refused(&bad, "row-count hash mismatch");

    // An object twice, an object whose key names another kind, a field of the wrong type.
    let mut twice = v.clone();
    let first_object = twice["objects"][0].clone();
    twice["objects"].as_array_mut().unwrap().push(first_object);
    write(&twice);
    assert_refused(&bad, "appears twice");
    let mut wrong_type = v.clone();
    wrong_type["objects"][0]["key"] = "trigger:public.x.y".into();
    write(&wrong_type);
    assert_refused(&bad, "has kind");
    v["objects"] = 5.into();
    write(&v);
    assert_refused(&bad, "malformed snapshot file (line ");

    std::fs::write(&bad, "{\"hello\": \"world\"}").unwrap();
    assert_refused(&bad, "not a driftgate snapshot file");
}

#[test]
fn unknown_format_versions_are_refused() {
    let (dir, file) = store_and_export();
    let store = dir.path().join("store");
    let text = std::fs::read_to_string(&file).unwrap();
    let bad = file.with_file_name("future.json");
    std::fs::write(
        &bad,
        text.replace("driftgate.bundle/v1", "driftgate.bundle/v2"),
    )
    .unwrap();
    assert_refused(&bad, "unknown snapshot file format \"driftgate.bundle/v2\"");
    std::fs::write(
        &bad,
        text.replace("\"driftgate.snapshot/v1\"", "\"driftgate.snapshot/v9\""),
    )
    .unwrap();
    assert_refused(&bad, "unknown snapshot format \"driftgate.snapshot/v9\"");

    // A stored record of a future format, correctly named by its hash, behind a ref.
    let records = store.join("snapshots");
    let record_path = std::fs::read_dir(&records)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let record = std::fs::read_to_string(&record_path)
        .unwrap()
        .replace("\"driftgate.snapshot/v1\"", "\"driftgate.snapshot/v9\"");
    let id = blake3::hash(record.as_bytes()).to_hex().to_string();
    let future = records.join(format!("{id}.json"));
    std::fs::write(&future, &record).unwrap();
    std::fs::write(store.join("refs/future"), format!("{id}\n")).unwrap();
    let before = store_state(&store);
    let r = driftgate(&store, &["show", "future"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains(future.to_str().unwrap())
            && r.stderr
                .contains("unknown snapshot format \"driftgate.snapshot/v9\""),
        "{r:?}"
    );
    assert_eq!(store_state(&store), before);

    // A store marker of a future format: every command refuses it, snapshot before it
    // connects anywhere.
    std::fs::write(store.join("STORE"), "{\"format\":\"driftgate.store/v9\"}\n").unwrap();
    let before = store_state(&store);
    let dsn = format!("postgresql://postgres@127.0.0.1:{}/x", unused_port());
    for args in [
        vec!["show", "good"],
        vec!["log"],
        vec!["fsck"],
        vec!["snapshot", "--dsn", &dsn, "--ref", "good"],
        vec!["gate", "good", "good"],
    ] {
        let r = driftgate(&store, &args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(
            r.stderr
                .contains("store format \"driftgate.store/v9\" is not supported")
                && r.stderr.contains(store.to_str().unwrap()),
            "{args:?}: {r:?}"
        );
        assert!(
            !r.stderr.contains("cannot connect"),
            "refused before connecting: {r:?}"
        );
    }
    assert_eq!(store_state(&store), before, "nothing written");
    std::fs::write(store.join("STORE"), "garbage").unwrap();
    let r = driftgate(&store, &["log"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("its STORE marker is not JSON"), "{r:?}");
}

fn only_file_in(dir: &Path, ext: &str) -> PathBuf {
    let found: Vec<PathBuf> = files_under(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found[0].clone()
}

#[test]
fn corrupt_store_files_are_named_and_nothing_is_written() {
    let (dir, _file) = store_and_export();
    let store = dir.path().join("store");
    let pristine = store_state(&store);
    let restore = || {
        for (path, bytes) in &pristine {
            std::fs::write(path, bytes).unwrap();
        }
    };
    let record = only_file_in(&store.join("snapshots"), "json");
    let pack = only_file_in(&store.join("packs"), "pack");
    let idx = only_file_in(&store.join("packs"), "idx");
    let cases: Vec<(PathBuf, Vec<u8>, &str)> = vec![
        (
            record.clone(),
            {
                let mut b = pristine[&record].clone();
                b[20] ^= 1;
                b
            },
            "hash mismatch",
        ),
        (
            pack.clone(),
            pristine[&pack][..pristine[&pack].len() / 2].to_vec(),
            "",
        ),
        (
            idx.clone(),
            pristine[&idx][..30].to_vec(),
            "not a driftgate pack index",
        ),
        (
            idx.clone(),
            {
                let mut b = pristine[&idx].clone();
                b[12] ^= 1;
                b
            },
            "checksum",
        ),
        (
            store.join("refs/good"),
            b"not a snapshot id\n".to_vec(),
            "a ref must hold one 64-digit snapshot id or a ref record",
        ),
    ];
    for (path, bytes, problem) in cases {
        std::fs::write(&path, &bytes).unwrap();
        let before = store_state(&store);
        let r = driftgate(&store, &["show", "good"]);
        assert_eq!(r.code, 2, "{}: {r:?}", path.display());
        assert!(
            r.stderr.contains(path.to_str().unwrap()) && r.stderr.contains(problem),
            "should name {} and {problem:?}: {r:?}",
            path.display()
        );
        let r = driftgate(&store, &["fsck"]);
        assert_eq!(r.code, 2, "{}: {r:?}", path.display());
        assert!(
            r.stderr.contains(path.to_str().unwrap()),
            "fsck names it: {r:?}"
        );
        assert_eq!(store_state(&store), before, "nothing written");
        restore();
    }

    // A ref naming a snapshot that is not there; a reflog with a garbage line.
    std::fs::write(store.join("refs/gone"), format!("{}\n", "ab".repeat(32))).unwrap();
    let r = driftgate(&store, &["show", "gone"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains(&"ab".repeat(32)), "{r:?}");
    std::fs::remove_file(store.join("refs/gone")).unwrap();
    // A history entry with a changed byte: `log` and `fsck` name the entry's file.
    let history: Vec<PathBuf> = std::fs::read_dir(store.join("history"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        history.len(),
        1,
        "one move of `good`, one entry: {history:?}"
    );
    let entry = &history[0];
    let mut bytes = std::fs::read(entry).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    std::fs::write(entry, bytes).unwrap();
    for args in [vec!["log", "good"], vec!["fsck"]] {
        let r = driftgate(&store, &args);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(
            r.stderr.contains(entry.to_str().unwrap()) && r.stderr.contains("hash mismatch"),
            "{args:?}: {r:?}"
        );
    }
}

#[test]
fn unknown_refs_and_ref_names_that_leave_the_store_are_refused_and_nothing_is_written() {
    let (dir, _file) = store_and_export();
    let store = dir.path().join("store");
    let before = store_state(&store);
    let r = driftgate(&store, &["show", "nosuch"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("unknown snapshot \"nosuch\"") && r.stderr.contains("refs here: good"),
        "{r:?}"
    );
    for (args, says) in [
        (
            vec!["diff", "good", "nosuch"],
            "unknown snapshot \"nosuch\"",
        ),
        (vec!["log", "nosuch"], "no ref named \"nosuch\""),
    ] {
        let r = driftgate(&store, &args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains(says), "{args:?}: {r:?}");
    }

    // The database is never reached: names are checked first.
    let dsn = format!("postgresql://postgres@127.0.0.1:{}/x", unused_port());
    for name in [
        "../../x",
        "../outside",
        "/tmp/abs",
        "a/../../b",
        "refs/../../c",
        "x.lock",
        "live",
        ".hidden",
        "has space",
        "new\nline",
        "",
    ] {
        let r = driftgate(&store, &["snapshot", "--dsn", &dsn, "--ref", name]);
        assert_eq!(r.code, 2, "{name:?}: {r:?}");
        assert!(r.stderr.contains("invalid ref name"), "{name:?}: {r:?}");
        assert!(!r.stderr.contains("cannot connect"), "{name:?}: {r:?}");
        let r = driftgate(&store, &["log", name]);
        assert_eq!(r.code, 2, "log {name:?}: {r:?}");
    }
    assert_eq!(store_state(&store), before, "nothing written in the store");
    let outside: Vec<PathBuf> = files_under(dir.path())
        .into_iter()
        .filter(|p| !p.starts_with(&store))
        .collect();
    assert_eq!(
        outside,
        vec![dir.path().join("good.json")],
        "nothing written outside it"
    );
    assert!(!Path::new("/tmp/abs").exists());
}

#[test]
fn broken_policy_files_block_naming_file_and_line() {
    let (dir, _file) = store_and_export();
    let store = dir.path().join("store");
    let policy = dir.path().join("policy.toml");
    let cases: Vec<(&[u8], &str)> = vec![
        (
            b"[[rules]]\nkind = \"function\"\nseverity = \"fatal\"\n",
            ":3:",
        ),
        (b"# ok\n[counts\ndefault = \"5%\"\n", ":2:"),
        (
            b"[[rules]]\nkind = \"function\"\nseverity = \"warn\"\nwhat = 1\n",
            ":4:",
        ),
        (b"[ignore]\nschemas = [\"a[\"]\n", ":2:"),
        (b"[counts]\ndefault = \"lots\"\n", ":2:"),
        (b"[counts.tables]\ndot_tools = -5\n", ":2:"),
        (b"\xff\xfe not utf-8", "policy"),
    ];
    let before = store_state(&store);
    for (text, where_) in cases {
        std::fs::write(&policy, text).unwrap();
        let r = driftgate(
            &store,
            &[
                "gate",
                "good",
                "good",
                "--format",
                "json",
                "--policy",
                policy.to_str().unwrap(),
            ],
        );
        assert_eq!(r.code, 2, "{:?}: {r:?}", String::from_utf8_lossy(text));
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["verdict"], "BLOCK");
        let error = v["error"].as_str().unwrap();
        assert!(
            error.contains(policy.to_str().unwrap()) && error.contains(where_),
            "{:?} should name the file and {where_}: {error}",
            String::from_utf8_lossy(text)
        );
    }
    for missing in [dir.path().join("absent.toml"), dir.path().to_path_buf()] {
        let r = driftgate(
            &store,
            &[
                "gate",
                "good",
                "good",
                "--policy",
                missing.to_str().unwrap(),
            ],
        );
        assert_eq!(r.code, 2, "{r:?}");
        assert!(
            r.stdout.contains("BLOCK") && r.stderr.contains(missing.to_str().unwrap()),
            "{r:?}"
        );
    }
    assert_eq!(store_state(&store), before, "nothing written");
}

#[test]
fn broken_check_configs_block_naming_file_and_line_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let config = dir.path().join("driftgate.toml");
    let dsn = format!("postgresql://postgres@127.0.0.1:{}/x", unused_port());
    let target = format!("[[target]]\nname = \"prod\"\ndsn = \"{dsn}\"\n");
    let cases: Vec<(String, &str)> = vec![
        (format!("{target}lock_timeout = \"soon\"\n"), ":4:"),
        (format!("{target}jobs = 0\n"), ":4:"),
        ("[[target]]\nname = \"../../x\"\n".to_string(), ":2:"),
        (format!("concurrency = \"many\"\n{target}"), ":1:"),
        (
            format!("{target}[policy]\n[[policy.rules]]\nseverity = \"fatal\"\n"),
            ":6:",
        ),
        (format!("{target}\n[[target]\n"), ":5:"),
        (format!("{target}exact_counts = 5\n"), ":4:"),
    ];
    for (text, where_) in cases {
        std::fs::write(&config, &text).unwrap();
        let r = driftgate(&store, &["check", "--config", config.to_str().unwrap()]);
        assert_eq!(r.code, 2, "{text}: {r:?}");
        assert!(r.stdout.contains("BLOCK"), "{text}: {r:?}");
        assert!(
            r.stderr.contains(&format!("driftgate.toml{where_}")),
            "{text}: should name driftgate.toml{where_}: {r:?}"
        );
        assert!(
            !r.stderr.contains("cannot connect"),
            "refused before connecting: {r:?}"
        );
        assert!(!store.exists(), "{text}: nothing written");
    }
    // A policy file the config names that is not there.
    std::fs::write(&config, format!("policy = \"gone.toml\"\n{target}")).unwrap();
    let r = driftgate(&store, &["check", "--config", config.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.contains("BLOCK") && r.stderr.contains("gone.toml"),
        "{r:?}"
    );
    assert!(!store.exists(), "nothing written");
}

/// Issue 14: `gate --policy /dev/zero` grew to 23 GB until the kernel killed it. A policy or
/// config past its limit is refused at once, naming the file and the limit (and `gate`
/// still prints its BLOCK verdict).
#[test]
fn an_endless_policy_or_config_is_refused_at_its_size_limit() {
    let (dir, _file) = store_and_export();
    let store = dir.path().join("store");
    let r = driftgate(&store, &["gate", "good", "good", "--policy", "/dev/zero"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.all()
            .contains("policy file /dev/zero is larger than the 1 MiB limit"),
        "{r:?}"
    );
    assert!(r.stdout.contains("BLOCK"), "fail-closed: {r:?}");
    assert!(r.elapsed < std::time::Duration::from_secs(10), "{r:?}");
    let r = driftgate(&store, &["check", "--config", "/dev/zero"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.all()
            .contains("config file /dev/zero is larger than the 1 MiB limit"),
        "{r:?}"
    );
    assert!(r.elapsed < std::time::Duration::from_secs(10), "{r:?}");
    // A config of 2 MiB (comments: valid TOML, just too big).
    let big = dir.path().join("big.toml");
    std::fs::write(&big, "# padding\n".repeat(2 << 20 >> 3)).unwrap();
    let r = driftgate(&store, &["check", "--config", big.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.all().contains(&format!(
            "config file {} is larger than the 1 MiB limit",
            big.display()
        )),
        "{r:?}"
    );
}

/// Issue 14: the store's own files are input too. A ref, a history entry, a snapshot record
/// or a pack index made huge (sparse, so 8 GiB costs no disk) is refused at its limit,
/// naming the file and the limit, instead of being read into memory.
#[test]
fn store_files_past_their_size_limit_are_refused_naming_file_and_limit() {
    let (dir, _file) = store_and_export();
    let store = dir.path().join("store");
    let grow = |path: &Path| {
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .unwrap()
            .set_len(8 << 30)
            .unwrap();
    };
    let record = only_file_in(&store.join("snapshots"), "json");
    let history = only_file_in(&store.join("history"), "json");
    let index = only_file_in(&store.join("packs"), "idx");
    let cases = [
        (store.join("refs/good"), "1 MiB", vec!["log", "good"]),
        (history, "1 MiB", vec!["log", "good"]),
        (record, "1 MiB", vec!["show", "good"]),
        (index, "256 MiB", vec!["show", "good"]),
    ];
    for (path, limit, args) in cases {
        let saved = std::fs::read(&path).unwrap();
        grow(&path);
        let r = driftgate(&store, &args);
        assert_eq!(r.code, 2, "{}: {r:?}", path.display());
        assert!(
            r.stderr.contains(&*path.to_string_lossy())
                && r.stderr.contains(&format!("larger than the {limit} limit")),
            "{}: {r:?}",
            path.display()
        );
        assert!(r.elapsed < std::time::Duration::from_secs(20), "{r:?}");
        std::fs::write(&path, saved).unwrap();
        let r = driftgate(&store, &args);
        assert_eq!(r.code, 0, "restored {}: {r:?}", path.display());
    }
}
