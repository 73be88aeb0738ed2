#!/usr/bin/env bash
# Bounded fuzzing of driftgate's parsers (tests/fuzz.rs: snapshot files, snapshot records,
# packs, pack indexes, whole stores, gate policies, ref names, connection strings), with
# debug assertions and overflow checks on. No nightly toolchain needed.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     default 60; DRIFTGATE_FUZZ_SEED=N replays a run
# Prints iterations, time and findings per target; inputs that panic or hang are saved in
# target/fuzz-findings/. Exits 1 on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
rm -rf target/fuzz-findings
DRIFTGATE_FUZZ_SECS="$secs" cargo test --locked --test fuzz -- --nocapture 2>&1 \
    | grep -a -E '^fuzz|^(bundle|record|pack|index|store|policy|refname|dsn): |^test result' \
    || true
if [ -d target/fuzz-findings ] && [ -n "$(ls -A target/fuzz-findings)" ]; then
    echo "fuzz: findings saved in target/fuzz-findings/" >&2
    exit 1
fi
