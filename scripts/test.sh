#!/usr/bin/env bash
# Run driftgate's whole test suite: installs what is missing (scripts/setup.sh), then
# `cargo test --locked`. Integration tests start their own throwaway PostgreSQL.
# Extra arguments go to cargo test (e.g. scripts/test.sh --test snapshot).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo test --locked "$@"
