#!/usr/bin/env bash
# Regenerate the committed samples after a change of the capture or store format: the example
# store snapshots/ (scripts/sample-store.sh; its catalog hashes are reproducible), then every
# console sample of README.md, rewritten with the real output (tests/readme.rs in bless mode).
# Review the result with `git diff` before committing it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/sample-store.sh
DRIFTGATE_BLESS=1 cargo test --locked --test readme
cargo test --locked --test readme --test sample
echo "regen-samples: snapshots/ and README.md regenerated; review with git diff" >&2
