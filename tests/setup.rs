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
        "xmllint",
        "chromium",
        "cargo",
        "moto",
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

/// The moto line of `setup.sh --check` on a fake root.
fn moto_line(root: &Path) -> String {
    let out = Command::new("bash")
        .arg(SETUP)
        .arg("--check")
        .env("DRIFTGATE_SETUP_ROOT", root)
        .output()
        .expect("run scripts/setup.sh");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    stderr
        .lines()
        .find(|l| l.contains(" moto "))
        .unwrap_or_else(|| panic!("no moto line in:\n{stderr}"))
        .to_string()
}

/// moto is found by the server executable the tests start (in the project's virtualenv)
/// and only at the pinned version: a moto_server elsewhere on PATH, or another version in
/// the virtualenv, is not the one tested.
#[test]
fn moto_is_detected_by_its_virtualenv_executable_at_the_pinned_version() {
    let repo = env!("CARGO_MANIFEST_DIR").trim_start_matches('/');
    let root = tempfile::tempdir().unwrap();
    let script = std::fs::read_to_string(SETUP).unwrap();
    let version = script
        .lines()
        .find_map(|l| l.strip_prefix("MOTO_VERSION="))
        .expect("a pinned MOTO_VERSION");
    // On PATH only: missing.
    touch(root.path(), "usr/bin/moto_server");
    let line = moto_line(root.path());
    assert!(
        line.contains("MISSING") && line.contains("target/moto/bin/moto_server"),
        "{line}"
    );
    // In the virtualenv, but another version.
    let exe = format!("{repo}/target/moto/bin/moto_server");
    touch(root.path(), &exe);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        root.path().join(&exe),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    touch(
        root.path(),
        &format!("{repo}/target/moto/lib/python3.11/site-packages/moto-4.2.0.dist-info/METADATA"),
    );
    let line = moto_line(root.path());
    assert!(
        line.contains("MISSING") && line.contains(&format!("is not moto {version}")),
        "{line}"
    );
    // The pinned version.
    touch(
        root.path(),
        &format!(
            "{repo}/target/moto/lib/python3.11/site-packages/moto-{version}.dist-info/METADATA"
        ),
    );
    let line = moto_line(root.path());
    assert!(
        line.contains("present") && line.contains(&format!("moto {version}")),
        "{line}"
    );
}

/// The chromium line of `setup.sh --check` on a fake root.
fn chromium_line(root: &Path) -> String {
    let out = Command::new("bash")
        .arg(SETUP)
        .arg("--check")
        .env("DRIFTGATE_SETUP_ROOT", root)
        .output()
        .expect("run scripts/setup.sh");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    stderr
        .lines()
        .find(|l| l.contains(" chromium "))
        .unwrap_or_else(|| panic!("no chromium line in:\n{stderr}"))
        .to_string()
}

#[cfg(unix)]
fn script(root: &Path, rel: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// chromium is exactly /usr/bin/chromium (Debian's), and only when `--version` runs: a
/// chromium elsewhere on PATH, or a wrapper whose browser is gone, is not it.
#[cfg(unix)]
#[test]
fn chromium_is_debians_and_must_say_its_version() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    script(r, "usr/local/bin/chromium", "echo Chromium 1.0");
    let line = chromium_line(r);
    assert!(
        line.contains("MISSING") && line.contains("/usr/bin/chromium"),
        "{line}"
    );
    script(r, "usr/bin/chromium", "exit 1");
    let line = chromium_line(r);
    assert!(
        line.contains("MISSING") && line.contains("--version fails"),
        "{line}"
    );
    script(
        r,
        "usr/bin/chromium",
        "echo 'Chromium 156.0 built on Debian'",
    );
    let line = chromium_line(r);
    assert!(
        line.contains("present") && line.contains("Chromium 156.0"),
        "{line}"
    );
}
