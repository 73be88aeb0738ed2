//! Issue 14, must show 2: the store directory is a boundary. A symbolic link anywhere in it
//! (git stores links, and the README commits a store to git) is never followed: the command
//! that meets it fails naming it, nothing outside the store is read or written, and `fsck`
//! reports it. Before, `logs/g -> /tmp/victim` made `snapshot --ref g` append to the outside
//! file, `refs/prod -> /some/dir` made `--ref prod/nightly` create a ref there, and
//! `refs/usr -> /usr` made `log` and `fsck` walk /usr. fsck also reports files driftgate did
//! not write.

mod support;

use std::os::unix::fs::symlink;
use std::path::Path;
use support::*;

/// A store with one snapshot under ref `good`, and a database to snapshot again.
fn store(db: &TestDb) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let r = driftgate(&store, &["snapshot", "--dsn", &db.dsn, "--ref", "good"]);
    assert_eq!(r.code, 0, "{r:?}");
    (dir, store)
}

/// `args` fail with exit 2 naming `link` as a symbolic link.
fn refused(store: &Path, args: &[&str], link: &Path) {
    let r = driftgate(store, args);
    assert_eq!(r.code, 2, "{args:?}: {r:?}");
    assert!(
        r.stderr
            .contains(&format!("{} is a symbolic link", link.display())),
        "{args:?} names the link: {r:?}"
    );
}

#[test]
fn links_inside_the_store_are_never_followed_and_fsck_reports_them() {
    let db = empty_db("symlinks");
    let (dir, store) = store(&db);
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let victim = outside.join("victim");
    std::fs::write(&victim, b"precious\n").unwrap();
    let outside_before = store_state(&outside);

    // A link in place of a ref's history file (old format) and of a ref directory.
    let log_link = store.join("logs/g");
    std::fs::create_dir_all(store.join("logs")).unwrap();
    symlink(&victim, &log_link).unwrap();
    refused(&store, &["log", "g"], &log_link);
    refused(&store, &["fsck"], &log_link);
    std::fs::remove_file(&log_link).unwrap();

    let refs_link = store.join("refs/prod");
    symlink(&outside, &refs_link).unwrap();
    refused(
        &store,
        &["snapshot", "--dsn", &db.dsn, "--ref", "prod/nightly"],
        &refs_link,
    );
    refused(&store, &["log"], &refs_link);
    refused(&store, &["fsck"], &refs_link);
    std::fs::remove_file(&refs_link).unwrap();

    // A ref directory leading back into the store (its files read as refs) or to /usr.
    for target in [Path::new(".."), Path::new("/usr")] {
        let link = store.join("refs/loop");
        symlink(target, &link).unwrap();
        refused(&store, &["log"], &link);
        refused(&store, &["fsck"], &link);
        std::fs::remove_file(&link).unwrap();
    }

    // Whole store directories replaced by links to copies outside: still refused, since a
    // link can point anywhere.
    for child in ["packs", "snapshots", "refs", "history"] {
        let real = dir.path().join(format!("real-{child}"));
        std::fs::rename(store.join(child), &real).unwrap();
        let link = store.join(child);
        symlink(&real, &link).unwrap();
        let before = store_state(&real);
        refused(&store, &["fsck"], &link);
        refused(
            &store,
            &["snapshot", "--dsn", &db.dsn, "--ref", "good"],
            &link,
        );
        assert_eq!(
            store_state(&real),
            before,
            "nothing written through {child}"
        );
        std::fs::remove_file(&link).unwrap();
        std::fs::rename(&real, store.join(child)).unwrap();
    }

    assert_eq!(
        store_state(&outside),
        outside_before,
        "nothing outside was written"
    );
    let r = driftgate(&store, &["fsck"]);
    assert_eq!(r.code, 0, "links gone, the store is clean again: {r:?}");
    let r = driftgate(&store, &["log", "good"]);
    assert_eq!(r.code, 0, "{r:?}");
}

/// The rest of the boundary: each file the store reads, replaced by a link to its own valid
/// copy outside (so following the link would work and be unnoticed), and the store's other
/// root children (`logs`, `leases`) as links. Every read refuses the link itself, at the
/// last component too, which the open checks again with `O_NOFOLLOW`.
#[test]
fn links_in_place_of_store_files_and_the_other_root_children_are_refused() {
    let db = empty_db("symlinks_files");
    let (dir, store) = store(&db);
    // A move, so the ref has a history entry of the new format.
    let r = driftgate(&store, &["snapshot", "--dsn", &db.dsn, "--ref", "good"]);
    assert_eq!(r.code, 0, "{r:?}");
    let all = |sub: &str, ext: &str| -> Vec<std::path::PathBuf> {
        let found: Vec<_> = files_under(&store.join(sub))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == ext))
            .collect();
        assert!(!found.is_empty(), "no .{ext} in {sub}");
        found
    };
    let cases = [
        (vec![store.join("STORE")], vec!["log", "good"]),
        (vec![store.join("refs/good")], vec!["log", "good"]),
        (all("history", "json"), vec!["log", "good"]),
        (all("snapshots", "json"), vec!["show", "good"]),
        (all("packs", "idx"), vec!["show", "good"]),
        (all("packs", "pack"), vec!["show", "good"]),
    ];
    for (files, args) in cases {
        // Every file of the kind, so whichever one the command reads is a link.
        for (i, file) in files.iter().enumerate() {
            let copy = dir.path().join(format!("outside-copy-{i}"));
            std::fs::rename(file, &copy).unwrap();
            symlink(&copy, file).unwrap();
        }
        for args in [&args[..], &["fsck"]] {
            let r = driftgate(&store, args);
            assert_eq!(r.code, 2, "{args:?} through links {files:?}: {r:?}");
            assert!(
                files.iter().any(|f| r
                    .stderr
                    .contains(&format!("{} is a symbolic link", f.display()))),
                "{args:?} names a link: {r:?}"
            );
        }
        for (i, file) in files.iter().enumerate() {
            std::fs::remove_file(file).unwrap();
            std::fs::rename(dir.path().join(format!("outside-copy-{i}")), file).unwrap();
        }
        let r = driftgate(&store, &args);
        assert_eq!(r.code, 0, "the files back, {args:?} works: {r:?}");
    }
    let snapshot = ["snapshot", "--dsn", db.dsn.as_str(), "--ref", "good"];
    for (child, args) in [("logs", vec!["log", "good"]), ("leases", snapshot.to_vec())] {
        let real = dir.path().join(format!("real-{child}"));
        std::fs::create_dir_all(store.join(child)).unwrap();
        std::fs::rename(store.join(child), &real).unwrap();
        let link = store.join(child);
        symlink(&real, &link).unwrap();
        let before = store_state(&real);
        refused(&store, &args, &link);
        refused(&store, &["fsck"], &link);
        assert_eq!(
            store_state(&real),
            before,
            "nothing written through {child}"
        );
        std::fs::remove_file(&link).unwrap();
        std::fs::rename(&real, store.join(child)).unwrap();
    }
    let r = driftgate(&store, &["fsck"]);
    assert_eq!(r.code, 0, "links gone, the store is clean again: {r:?}");
}

/// fsck reports what driftgate did not write, so a store edited by hand (or a file dropped
/// into a store committed to git) is not called clean.
#[test]
fn fsck_reports_unknown_files() {
    let db = empty_db("unknownfiles");
    let (_dir, store) = store(&db);
    for (path, bytes) in [
        ("notes.txt", &b"hello"[..]),
        ("packs/extra.bin", b"x"),
        ("snapshots/not-a-hash.json", b"{}"),
    ] {
        let file = store.join(path);
        std::fs::write(&file, bytes).unwrap();
        let r = driftgate(&store, &["fsck"]);
        assert_eq!(r.code, 2, "{path}: {r:?}");
        assert!(
            r.stderr
                .contains(&format!("{}: not a file driftgate writes", file.display())),
            "{path}: {r:?}"
        );
        std::fs::remove_file(&file).unwrap();
    }
    let r = driftgate(&store, &["fsck"]);
    assert_eq!(r.code, 0, "{r:?}");
}
