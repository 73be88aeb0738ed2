#!/usr/bin/env bash
# Run driftgate's whole test suite: installs what is missing (scripts/setup.sh), then
# `cargo test --locked`. Integration tests start their own throwaway PostgreSQL, and
# tests/s3.rs its own S3 API server (moto, installed by setup.sh), once.
# Extra arguments go to cargo test (e.g. scripts/test.sh --test snapshot).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo test --locked "$@"
