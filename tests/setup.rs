//! `scripts/setup.sh --check` detects libclang by the files bindgen really loads, tested on
//! fake directory trees (`DRIFTGATE_SETUP_ROOT`). Pins the fresh-machine failure where the
//! preinstalled `libclang-cpp.so.14` (a different library) was taken for libclang and
//! `libclang-dev` was never installed.

use std::path::Path;
use std::process::Command;

const SETUP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/setup.sh");

/// The libclang line of `setup.sh --check` run on a fake root.
fn libclang_line(root: &Path) -> String {
    let out = Command::new("bash")
        .arg(SETUP)
        .arg("--check")
        .env("DRIFTGATE_SETUP_ROOT", root)
        .env_remove("LIBCLANG_PATH")
        .output()
        .expect("run scripts/setup.sh");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a fake root lacks the other tools, so --check must fail: {stderr}"
    );
    stderr
        .lines()
        .find(|l| l.contains(" libclang "))
        .unwrap_or_else(|| panic!("no libclang line in:\n{stderr}"))
        .to_string()
}

fn touch(root: &Path, rel: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, b"").unwrap();
}

#[test]
fn only_libclang_cpp_is_missing_libclang() {
    let root = tempfile::tempdir().unwrap();
    touch(root.path(), "usr/lib/llvm-14/lib/libclang-cpp.so.14");
    touch(
        root.path(),
        "usr/lib/llvm-14/lib/clang/14.0.6/include/stddef.h",
    );
    touch(root.path(), "usr/lib/x86_64-linux-gnu/libclang-cpp.so.14");
    let line = libclang_line(root.path());
    assert!(line.contains("MISSING"), "{line}");
    assert!(
        line.contains("libclang-cpp.so is a different library"),
        "{line}"
    );
}

#[test]
fn libclang_without_its_headers_is_missing() {
    let root = tempfile::tempdir().unwrap();
    touch(root.path(), "usr/lib/llvm-14/lib/libclang-cpp.so.14");
    touch(root.path(), "usr/lib/llvm-14/lib/libclang.so.1");
    let line = libclang_line(root.path());
    assert!(line.contains("MISSING"), "{line}");
    assert!(line.contains("builtin headers"), "{line}");
}

#[test]
fn libclang_with_its_headers_is_present() {
    let root = tempfile::tempdir().unwrap();
    touch(root.path(), "usr/lib/llvm-14/lib/libclang-cpp.so.14");
    touch(root.path(), "usr/lib/llvm-14/lib/libclang.so.1");
    touch(
        root.path(),
        "usr/lib/llvm-14/lib/clang/14.0.6/include/stddef.h",
    );
    let line = libclang_line(root.path());
    assert!(line.contains("present"), "{line}");
    assert!(line.contains("libclang.so.1"), "{line}");
}

/// Debian's layout: the real file under the multiarch directory, a `libclang-N.so` symlink to
/// it from llvm-N/lib, and the headers beside the symlink only.
#[cfg(unix)]
#[test]
fn a_symlinked_libclang_finds_the_headers_beside_the_link() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    touch(r, "usr/lib/x86_64-linux-gnu/libclang-14.so.14.0.6");
    touch(r, "usr/lib/llvm-14/lib/clang/14.0.6/include/stddef.h");
    std::os::unix::fs::symlink(
        r.join("usr/lib/x86_64-linux-gnu/libclang-14.so.14.0.6"),
        r.join("usr/lib/llvm-14/lib/libclang-14.so.1"),
    )
    .unwrap();
    let line = libclang_line(r);
    assert!(line.contains("present"), "{line}");
}

#[test]
fn check_mode_names_every_dependency_and_installs_nothing_on_a_fake_root() {
    let root = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(SETUP)
        .arg("--check")
        .env("DRIFTGATE_SETUP_ROOT", root.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for dep in [
        "libclang",
        "cc",
        "postgresql-server",
        "psql",
        "dot",
        "cargo",
    ] {
        assert!(
            stderr.contains(&format!("MISSING  {dep} ")),
            "{dep} not reported missing on an empty root:\n{stderr}"
        );
    }
    assert!(!stderr.contains(" node "), "node is only for --matrix");
    let bad = Command::new("bash")
        .arg(SETUP)
        .arg("--bogus")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
