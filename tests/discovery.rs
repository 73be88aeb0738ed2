//! Issue 14, build 7: every command finds the store as `check` does (`--store`,
//! DRIFTGATE_STORE, `store =` of the discovered driftgate.toml, ./snapshots), and a store no
//! write can reach is reported before any connection is made.

mod support;

use std::path::Path;
use std::process::Command;
use support::*;

/// driftgate in `cwd` with no --store, no DRIFTGATE_STORE and no config but the one in `cwd`.
fn in_dir(cwd: &Path, args: &[&str]) -> Run {
    let mut c = Command::new(env!("CARGO_BIN_EXE_driftgate"));
    c.current_dir(cwd)
        .args(args)
        .env_remove("DRIFTGATE_STORE")
        .env_remove("DRIFTGATE_CONFIG")
        .env_remove("DATABASE_URL")
        .env("HOME", cwd)
        .env("XDG_CONFIG_HOME", cwd.join("no-xdg"))
        .env("NO_COLOR", "1");
    run_cmd(c)
}

/// Regression: fsck, gc and log ignored `store =`, so the README's weekly cron `gc` in the
/// config's directory worked on ./snapshots, not on the store `check` writes.
#[test]
fn fsck_gc_log_show_and_export_use_the_store_of_driftgate_toml() {
    let db = empty_db("discovery");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("elsewhere");
    let r = driftgate(&store, &["snapshot", "--dsn", &db.dsn, "--ref", "good"]);
    assert_eq!(r.code, 0, "{r:?}");
    std::fs::write(
        dir.path().join("driftgate.toml"),
        format!(
            "store = \"elsewhere\"\n\n[[target]]\nname = \"prod\"\ndsn = \"{}\"\n",
            db.dsn
        ),
    )
    .unwrap();
    for args in [
        vec!["fsck"],
        vec!["log", "good"],
        vec!["show", "good"],
        vec!["export", "good", "-o", "good.json"],
        vec!["gc", "--dry-run"],
    ] {
        let r = in_dir(dir.path(), &args);
        assert_eq!(r.code, 0, "{args:?} finds elsewhere/: {r:?}");
    }
    assert!(
        !dir.path().join("snapshots").exists(),
        "nothing went to ./snapshots"
    );
    // --store still wins over the config.
    let r = in_dir(dir.path(), &["--store", "nowhere", "fsck"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("nowhere"), "{r:?}");
}

/// Regression: a read-only store was found only after the whole catalog had been read. Run as
/// the unprivileged user (root ignores mode bits) against a port nothing listens on: the
/// error is about the store, so the store was checked before any connection was tried.
#[test]
fn a_store_that_cannot_be_written_is_reported_before_connecting() {
    use std::os::unix::fs::PermissionsExt;
    let db = empty_db("preflight");
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let store = dir.path().join("store");
    let r = driftgate(&store, &["snapshot", "--dsn", &db.dsn]);
    assert_eq!(r.code, 0, "{r:?}");
    // Root's store, readable by everyone, writable by root only.
    let dsn = format!("postgresql://postgres@127.0.0.1:{}/x", unused_port());
    let mut c = Command::new("runuser");
    c.args([
        "-u",
        "postgres",
        "--",
        env!("CARGO_BIN_EXE_driftgate"),
        "--store",
    ])
    .arg(&store)
    .args(["snapshot", "--dsn", &dsn])
    .env("NO_COLOR", "1")
    .current_dir(dir.path());
    let r = run_cmd(c);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains(store.to_str().unwrap()) && r.stderr.contains("Permission denied"),
        "the store is named: {r:?}"
    );
    assert!(
        !r.stderr.to_lowercase().contains("connect"),
        "no connection was tried: {r:?}"
    );
}
