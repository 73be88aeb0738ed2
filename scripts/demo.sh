#!/usr/bin/env bash
# The driftgate tour: start a throwaway PostgreSQL, load the governance sample (dot_tools and
# its 13 triggers), snapshot it, and show what driftgate sees. Installs what is missing first.
#   scripts/demo.sh           the tour; the server and its data are removed at the end
#   scripts/demo.sh --keep    leave the server running, print its DATABASE_URL and how to stop it
set -euo pipefail
cd "$(dirname "$0")/.."
keep=0
for arg in "$@"; do
    case "$arg" in
        --keep) keep=1 ;;
        --help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "demo: unknown argument '$arg' (use --keep or --help)" >&2; exit 2 ;;
    esac
done
scripts/setup.sh
if [ ! -x "${CARGO_TARGET_DIR:-target}/release/driftgate" ]; then
    echo "== building driftgate (release): the first build compiles about 300 crates and PostgreSQL's"
    echo "   parser, and takes several minutes (about 4 on 2 cores); later builds take seconds"
else
    echo "== building driftgate (release)"
fi
cargo build --release --locked
DG="${CARGO_TARGET_DIR:-$PWD/target}/release/driftgate"
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
run "which table fans out most (whole database, from the stored snapshot)" "$DG" graph entry
run "what an INSERT on dot_tools sets off, in firing order" "$DG" graph entry dot_tools --event insert
run "catalog and trigger-set fingerprints" \
    "$DG" fingerprint entry --scope catalog --scope triggers:public.dot_tools --scope 'function:public.fn_birth_gate()'

step "a rollback-only rehearsal: register a DOT, watch the fan-out, roll back" "psql -f scripts/sample/rehearsal.sql"
pg_psql "$DB" -f scripts/sample/rehearsal.sql
run "entry == exit: verify the live catalog against the entry snapshot" \
    "$DG" verify entry --scope catalog --scope triggers:public.dot_tools --scope 'function:public.fn_birth_registry_auto()'
run "a second snapshot of the unchanged catalog shares its catalog hash" "$DG" snapshot --ref exit
run "the gate passes entry -> exit" "$DG" gate entry exit

step "now a committed change: one literal in fn_birth_gate, and a trigger disabled" "psql -f scripts/sample/change.sql"
pg_psql "$DB" -f scripts/sample/change.sql
set +e
run "verify now reports drift (exit 1)" "$DG" verify entry --scope catalog --scope triggers:public.dot_tools; echo "exit $?"
"$DG" snapshot --ref after-change -q >/dev/null
run "what changed, field by field, with the text diff" "$DG" diff entry after-change; echo "exit $?"
run "the gate_drift verdict (exit 1 = BLOCK)" "$DG" gate entry after-change --format json; echo "exit $?"
set -e
run "history" "$DG" log
run "integrity of the store" "$DG" fsck

echo
echo "Demo store left in $STORE (driftgate --store $STORE log)."
if [ "$keep" -eq 1 ]; then
    trap - EXIT
    echo
    echo "The server keeps running (--keep). To go on by hand:"
    echo "  export DATABASE_URL=$DATABASE_URL DRIFTGATE_STORE=$STORE"
    echo "  $DG verify entry --scope catalog"
    echo "Stop it and remove its data with:"
    echo "  ${PG_RUN[*]:+${PG_RUN[*]} }$PG_BIN/pg_ctl -D $PG_DIR/data -m fast stop && rm -rf $PG_DIR"
fi
