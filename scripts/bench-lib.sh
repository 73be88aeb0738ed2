# Sourced by bench.sh and bench-s3.sh (it sources pg.sh): the server and the synthetic catalog
# both measure, started, grown and changed the same way, so the directory-store and S3 figures
# of BENCHMARKS.md describe one catalog and one change set.
#   bench_start DB              a throwaway server (pg_start, stopped on exit) with the lock
#                               table the catalog needs, and an empty database DB
#   bench_grow DB FIRST COUNT   add schemas bench_FIRST … (COUNT of them, 100 tables each,
#                               scripts/bench-catalog.sql), then VACUUM ANALYZE
#   bench_change DB LAST        the four changes the diff steps read: a trigger function's
#                               body, a dropped trigger (in bench_001), an index and a column
#                               added (in schema LAST, the last one grown)

# shellcheck source=scripts/pg.sh
source scripts/pg.sh

bench_start() {
    # Both scripts have always run with this: a transaction of bench-catalog.sql builds a
    # whole schema (100 tables with their indexes, triggers and functions), more locks than
    # the default lock table holds.
    PG_EXTRA_CONF="max_locks_per_transaction = 256" pg_start
    pg_psql postgres -c "CREATE DATABASE $1"
}

bench_grow() {
    local db=$1 first=$2 count=$3
    local half=$((count / 2))
    # Two sessions build disjoint halves: catalog creation is server-bound.
    pg_psql "$db" -v first="$first" -v schemas=$half -v tables=100 -f scripts/bench-catalog.sql &
    pg_psql "$db" -v first=$((first + half)) -v schemas=$((count - half)) -v tables=100 -f scripts/bench-catalog.sql
    wait
    pg_psql "$db" -c "VACUUM ANALYZE" >/dev/null
}

bench_change() {
    local db=$1 last=$2
    pg_psql "$db" -q <<SQL
CREATE OR REPLACE FUNCTION bench_001.t_0001_audit_fn() RETURNS trigger LANGUAGE plpgsql AS \$b\$
BEGIN RETURN NEW; END \$b\$;
DROP TRIGGER t_0002_after_upd ON bench_001.t_0002;
CREATE INDEX bench_extra ON $last.t_0050 (created_at);
ALTER TABLE $last.t_0099 ADD COLUMN note text;
SQL
}
