#!/usr/bin/env bash
# Regenerate the fuzzers' seed corpus (tests/fixtures/fuzz/): a small store and a snapshot
# file of the governance fixture plus hostile names (quotes, newlines, HTML, non-ASCII),
# taken from a throwaway PostgreSQL. Run it after a change to the snapshot or store format;
# the policy seeds (tests/fixtures/fuzz/policy-*.toml) are written by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --quiet
DG="${CARGO_TARGET_DIR:-$PWD/target}/debug/driftgate"
# shellcheck source=scripts/pg.sh
source scripts/pg.sh
pg_start
pg_psql postgres -q -c "CREATE DATABASE fuzz"
pg_psql fuzz -q -f tests/fixtures/governance.sql
pg_psql fuzz -q <<'SQL'
CREATE SCHEMA "sch ""q"" <b>|`
x ü";
CREATE TABLE "sch ""q"" <b>|`
x ü"."t -->|漢字" ("c ""q""
x" int);
CREATE FUNCTION "sch ""q"" <b>|`
x ü"."f |`"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('ch "q" <i>|`', 'x'); RETURN NEW; END $$;
CREATE TRIGGER "trg ""q""
x" AFTER INSERT ON "sch ""q"" <b>|`
x ü"."t -->|漢字" FOR EACH ROW EXECUTE FUNCTION "sch ""q"" <b>|`
x ü"."f |`"();
SQL
out=tests/fixtures/fuzz
rm -rf "$out/store" "$out/bundle.json"
mkdir -p "$out"
"$DG" --store "$out/store" snapshot -q --dsn "$(pg_dsn fuzz)" --ref good --exact-counts public.dot_tools >/dev/null
"$DG" --store "$out/store" export good -o "$out/bundle.json"
ls -l "$out" "$out"/store/*
