#!/usr/bin/env bash
# Install what building and testing driftgate needs, and only what is missing.
#
#   scripts/setup.sh            check, install what is missing (apt-get), check again
#   scripts/setup.sh --check    only list what is present and what is missing; exit 1 if anything is
#   scripts/setup.sh --matrix   also what scripts/test-matrix.sh needs (nodejs, npm)
#
# Each dependency is detected by the very file the build or the tests load, not by a loose glob:
#   libclang   pg_query's bindgen step dlopens libclang.so / libclang.so.N / libclang-N.so*
#              (never libclang-cpp.so, a different library that Debian images often carry), and
#              clang then needs its builtin headers (stddef.h) in <libdir>/clang/<version>/include,
#              from libclang-common-N-dev. Package: libclang-dev.
#   cc         the C compiler the pg_query and blake3 build scripts call. Package: gcc.
#   initdb, pg_ctl, postgres   throwaway test servers (tests/, demo). Package: postgresql.
#   psql       the tests' SQL client and oracle. Package: postgresql-client.
#   dot        the tests check that Graphviz accepts driftgate's DOT output. Package: graphviz.
#   xmllint    the tests validate gate/check JUnit XML against tests/schemas/junit-10.xsd.
#              Package: libxml2-utils.
#   chromium   tests/browser.rs opens the HTML pages headless: exactly /usr/bin/chromium (Debian's
#              wrapper script; the snap stub some images carry under another path is not it), and
#              `chromium --version` must run. Package: chromium.
#   cargo, rustfmt, clippy     the Rust toolchain (rustup); not installable by apt here.
#   moto       the S3 API server of tests/s3.rs: moto[server] at the pinned version below, in a
#              virtualenv of its own at target/moto (so no other Python package changes it);
#              detected by target/moto/bin/moto_server and moto-<version>.dist-info beside it.
#              Installed with python3 -m venv and pip (Packages: python3, python3-venv).
#
# DRIFTGATE_SETUP_ROOT (tests only) prefixes every path searched, so the detection can be tested
# on fake directory trees; with it set, nothing is installed.
set -euo pipefail

ROOT="${DRIFTGATE_SETUP_ROOT:-}"
REPO=$(cd "$(dirname "$0")/.." && pwd)
# 5.2.1: If-Match on PutObject (S3's conditional writes of late 2024) is in every 5.2 release.
MOTO_VERSION=5.2.1
mode=install
matrix=0
for arg in "$@"; do
    case "$arg" in
        --check) mode=check ;;
        --matrix) matrix=1 ;;
        --help)
            sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "setup: unknown argument '$arg' (use --check, --matrix or --help)" >&2
            exit 2
            ;;
    esac
done
[ -z "$ROOT" ] || [ "$mode" = check ] || { echo "setup: DRIFTGATE_SETUP_ROOT is for --check only" >&2; exit 2; }

log() { printf 'setup: %s\n' "$*" >&2; }

# An executable on PATH (under ROOT when set). Prints its path.
find_exe() {
    local name=$1 dir
    if [ -z "$ROOT" ]; then
        command -v "$name" 2>/dev/null && return 0
        return 1
    fi
    local IFS=:
    for dir in $PATH; do
        [ -x "$ROOT$dir/$name" ] && { echo "$ROOT$dir/$name"; return 0; }
    done
    return 1
}

# libclang as clang-sys finds it at run time, plus the builtin headers clang resolves relative
# to the library's directory. Prints "LIB (headers DIR)"; on failure prints why.
find_libclang() {
    local dirs=() d f real inc lib_without_headers=""
    [ -n "${LIBCLANG_PATH:-}" ] && [ -z "$ROOT" ] && dirs+=("$LIBCLANG_PATH")
    shopt -s nullglob
    dirs+=("$ROOT"/usr/lib/llvm-*/lib "$ROOT"/usr/lib/*-linux-gnu "$ROOT"/usr/lib64 "$ROOT"/usr/lib "$ROOT"/usr/local/lib)
    for d in "${dirs[@]}"; do
        for f in "$d"/libclang.so "$d"/libclang.so.* "$d"/libclang-*.so "$d"/libclang-*.so.*; do
            case "${f##*/}" in libclang-cpp*) continue ;; esac # C++ API library: bindgen cannot use it
            [ -e "$f" ] || continue
            # clang looks for them beside the path it was loaded from (dladdr), which may be a
            # symlink into another directory; accept either side.
            real=$(readlink -f "$f")
            for inc in "${f%/*}"/clang/*/include "${real%/*}"/clang/*/include; do
                if [ -e "$inc/stddef.h" ]; then
                    shopt -u nullglob
                    echo "$f (headers $inc)"
                    return 0
                fi
            done
            lib_without_headers=$f
        done
    done
    shopt -u nullglob
    if [ -n "$lib_without_headers" ]; then
        echo "found $lib_without_headers but not clang's builtin headers (clang/<version>/include/stddef.h beside it)"
    else
        echo "no libclang.so, libclang.so.N or libclang-N.so* (libclang-cpp.so is a different library)"
    fi
    return 1
}

# PostgreSQL server binaries, found as the tests and scripts/pg.sh find them.
find_pg_server() {
    local dir
    if [ -n "${DRIFTGATE_TEST_PG_BIN:-}" ] && [ -z "$ROOT" ]; then
        dir=$DRIFTGATE_TEST_PG_BIN
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then echo "$dir (DRIFTGATE_TEST_PG_BIN)"; return 0; fi
        echo "DRIFTGATE_TEST_PG_BIN=$dir has no initdb, pg_ctl and postgres"
        return 1
    fi
    for dir in $(ls -d "$ROOT"/usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then echo "$dir"; return 0; fi
    done
    local initdb
    if initdb=$(find_exe initdb); then
        dir=$(dirname "$(readlink -f "$initdb")")
        if [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then echo "$dir"; return 0; fi
    fi
    echo "no directory with initdb, pg_ctl and postgres (/usr/lib/postgresql/*/bin or PATH)"
    return 1
}

# The pinned moto in its virtualenv: the server executable the tests start, and the
# dist-info of exactly the pinned version (another version there is not the one tested).
find_moto() {
    local venv="$ROOT$REPO/target/moto" exe info
    exe="$venv/bin/moto_server"
    [ -x "$exe" ] || { echo "no $exe"; return 1; }
    shopt -s nullglob
    info=("$venv"/lib/python3*/site-packages/moto-"$MOTO_VERSION".dist-info)
    shopt -u nullglob
    [ ${#info[@]} -gt 0 ] || { echo "$exe is not moto $MOTO_VERSION (no moto-$MOTO_VERSION.dist-info beside it)"; return 1; }
    echo "$exe (moto $MOTO_VERSION)"
}

install_moto() {
    local venv="$REPO/target/moto"
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        log "installing: python3 python3-venv (for moto's virtualenv)"
        $SUDO apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
    fi
    log "installing: moto[server]==$MOTO_VERSION into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION"
}

find_rust_tool() {
    local tool=$1
    [ -z "$ROOT" ] || { find_exe "cargo-$tool" || find_exe "$tool"; return; }
    case "$tool" in
        cargo) cargo --version 2>/dev/null ;;
        fmt) cargo fmt --version 2>/dev/null ;;
        clippy) cargo clippy --version 2>/dev/null ;;
    esac
}

# Debian's chromium at its exact path, and it must start far enough to say its version (a
# half-installed package leaves a wrapper whose binary is missing).
find_chromium() {
    local exe="$ROOT/usr/bin/chromium" v
    [ -x "$exe" ] || { echo "no $exe"; return 1; }
    v=$("$exe" --version 2>/dev/null) || { echo "$exe --version fails"; return 1; }
    echo "$exe ($v)"
}

# name | how to find it | Debian package ("" = not installable here) | what to do otherwise
deps=(
    "libclang|find_libclang|libclang-dev|"
    "cc|find_exe cc|gcc|"
    "postgresql-server|find_pg_server|postgresql|"
    "psql|find_exe psql|postgresql-client|"
    "dot|find_exe dot|graphviz|"
    "xmllint|find_exe xmllint|libxml2-utils|"
    "chromium|find_chromium|chromium|"
    "cargo|find_rust_tool cargo||install a Rust toolchain with rustup"
    "rustfmt|find_rust_tool fmt||rustup component add rustfmt"
    "clippy|find_rust_tool clippy||rustup component add clippy"
    "moto|find_moto|@moto|"
)
if [ "$matrix" -eq 1 ]; then
    deps+=("node|find_exe node|nodejs|" "npm|find_exe npm|npm|")
fi

# Fills `missing` (packages to install) and `unfixable`; prints one line per dependency.
survey() {
    missing=()
    unfixable=()
    local entry name probe pkg advice found
    for entry in "${deps[@]}"; do
        IFS='|' read -r name probe pkg advice <<<"$entry"
        if found=$($probe); then
            # Installing: say only what is missing; --check lists everything.
            if [ "$mode" = check ]; then printf 'setup: present  %-18s %s\n' "$name" "$found" >&2; fi
        else
            printf 'setup: MISSING  %-18s %s\n' "$name" "${found:-not found}" >&2
            if [ -n "$pkg" ]; then missing+=("$pkg"); else unfixable+=("$name: $advice"); fi
        fi
    done
}

survey
if [ "$mode" = install ] && [ ${#missing[@]} -eq 0 ] && [ ${#unfixable[@]} -eq 0 ]; then
    log "everything the build and the tests need is present (scripts/setup.sh --check lists it)"
fi
if [ "$mode" = check ]; then
    if [ ${#missing[@]} -gt 0 ] || [ ${#unfixable[@]} -gt 0 ]; then
        [ ${#missing[@]} -eq 0 ] || log "missing packages: ${missing[*]} (scripts/setup.sh installs them)"
        for u in "${unfixable[@]}"; do log "$u"; done
        exit 1
    fi
    log "everything the build and the tests need is present"
    exit 0
fi

if [ ${#unfixable[@]} -gt 0 ]; then
    for u in "${unfixable[@]}"; do
        case "$u" in
            rustfmt:* | clippy:*)
                command -v rustup >/dev/null 2>&1 && rustup component add "${u%%:*}" >/dev/null 2>&1 ;;
        esac
    done
fi
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO=none; fi
# Not apt packages: installed their own way.
apt_missing=()
for pkg in "${missing[@]}"; do
    case "$pkg" in
        @moto) install_moto ;;
        *) apt_missing+=("$pkg") ;;
    esac
done
if [ ${#apt_missing[@]} -gt 0 ]; then
    log "installing: ${apt_missing[*]}"
    if [ "$SUDO" = none ]; then
        log "not root and no sudo: install ${apt_missing[*]} with your package manager, then re-run"; exit 1
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        log "no apt-get here: install ${missing[*]} (or your system's equivalents) by hand"; exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null
    # The Debian postgresql package starts a cluster on install; the tests do not use it.
    if [[ " ${apt_missing[*]} " == *" postgresql "* ]] && command -v pg_lsclusters >/dev/null 2>&1; then
        pg_lsclusters -h 2>/dev/null | awk '{print $1, $2}' | while read -r v c; do
            $SUDO pg_ctlcluster "$v" "$c" stop >/dev/null 2>&1 || true
        done
    fi
fi
if [ ${#missing[@]} -gt 0 ] || [ ${#unfixable[@]} -gt 0 ]; then
    log "checking again after installing"
    mode=check survey
    if [ ${#missing[@]} -gt 0 ] || [ ${#unfixable[@]} -gt 0 ]; then
        log "still missing after installing: ${missing[*]} ${unfixable[*]}"
        exit 1
    fi
fi
