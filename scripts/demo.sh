#!/usr/bin/env bash
# The driftgate tour: start a throwaway PostgreSQL, load the governance sample (dot_tools and
# its 13 triggers), snapshot it, and show what driftgate sees. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "== building driftgate (release)"
cargo build --release --locked --quiet
DG="$PWD/target/release/driftgate"
# shellcheck source=scripts/pg.sh
source scripts/pg.sh

STORE="$PWD/target/demo-store"
rm -rf "$STORE"
export DRIFTGATE_STORE="$STORE"
DB=directus_gov_test_20260602

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; }
run() { step "$1" "${*:2}"; "${@:2}"; }

echo "== starting a throwaway PostgreSQL"
pg_start
echo "   $("$PG_BIN/postgres" --version) on 127.0.0.1:$PG_PORT"
pg_psql postgres -c "CREATE DATABASE $DB"
pg_psql "$DB" -f tests/fixtures/governance.sql
export DATABASE_URL
DATABASE_URL=$(pg_dsn "$DB")

run "entry snapshot (read-only; exact count of dot_tools)" \
    "$DG" snapshot --ref entry --exact-counts public.dot_tools --expect-database 'directus_gov_test_%'
run "the 13 triggers of dot_tools, as stored" "$DG" show entry --kind trigger
run "catalog and trigger-set fingerprints" \
    "$DG" fingerprint entry --scope catalog --scope triggers:public.dot_tools --scope 'function:public.fn_birth_gate()'
run "a second snapshot of the unchanged catalog shares its catalog hash" "$DG" snapshot --ref exit
run "history" "$DG" log
run "integrity of the store" "$DG" fsck

echo
echo "Demo store left in $STORE (driftgate --store $STORE log)."
