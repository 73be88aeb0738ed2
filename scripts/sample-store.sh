#!/usr/bin/env bash
# Build the committed example store `snapshots/` from tests/fixtures/governance.sql, so that
# `driftgate graph entry dot_tools`, `diff entry after-change` and `gate entry after-change`
# work from the repository root with no database. Refs:
#   entry          the governance sample as loaded
#   exit           after the rollback-only rehearsal (scripts/sample/rehearsal.sql): same catalog
#   after-change   after the committed change (scripts/sample/change.sql): one literal in
#                  fn_birth_gate, trg_refresh_orphan_dot disabled
# Reproducible: the database and role names are fixed, so regenerating gives the same catalog
# hashes (snapshot ids differ: they include the time and the server's port).
# Usually run through scripts/regen-samples.sh, which also refreshes the README's samples.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --locked
DG="${CARGO_TARGET_DIR:-$PWD/target}/release/driftgate"
# shellcheck source=scripts/pg.sh
source scripts/pg.sh
DB=directus_gov_test_20260602
OUT="$PWD/snapshots"
NEW=$(mktemp -d "$PWD/target/sample-store.XXXXXX")
trap 'pg_stop; rm -rf "$NEW"' EXIT

pg_start
pg_psql postgres -c "CREATE DATABASE $DB"
pg_psql "$DB" -f tests/fixtures/governance.sql
export DATABASE_URL DRIFTGATE_STORE="$NEW/snapshots"
DATABASE_URL=$(pg_dsn "$DB")
"$DG" snapshot -q --ref entry --exact-counts public.dot_tools --expect-database 'directus_gov_test_%' --label "governance sample" >/dev/null
pg_psql "$DB" -f scripts/sample/rehearsal.sql >/dev/null
"$DG" snapshot -q --ref exit --exact-counts public.dot_tools --label "after the rollback-only rehearsal" >/dev/null
pg_psql "$DB" -f scripts/sample/change.sql
"$DG" snapshot -q --ref after-change --exact-counts public.dot_tools --label "after a committed change" >/dev/null
"$DG" fsck -q
# Replace the old store only once the new one is whole.
rm -rf "$OUT"
mv "$NEW/snapshots" "$OUT"
echo "sample-store: $(DRIFTGATE_STORE=$OUT "$DG" fingerprint entry --scope catalog) (entry)" >&2
