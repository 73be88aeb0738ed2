#!/usr/bin/env bash
# driftgate benchmarks, measured side by side with pg_dump --schema-only in the same run.
#
#   scripts/bench.sh            # 1k, 5k and 10k tables (100 tables per schema), 3 runs each
#   BENCH_RUNS=5 scripts/bench.sh
#
# Builds release, starts a throwaway PostgreSQL, grows one synthetic catalog
# (scripts/bench-catalog.sql) through the scales, and prints medians of wall time and peak
# RSS. Figures are printed, never asserted: targets are judged by reading them
# (BENCHMARKS.md). The 10k-table catalog takes several minutes to create.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
command -v python3 >/dev/null || { echo "bench: python3 is needed to measure peak RSS" >&2; exit 1; }
command -v pg_dump >/dev/null || { echo "bench: pg_dump is needed (postgresql-client)" >&2; exit 1; }
echo "== building driftgate (release)" >&2
cargo build --release --locked --quiet
DG="${CARGO_TARGET_DIR:-$PWD/target}/release/driftgate"
RUNS=${BENCH_RUNS:-3}
SCALES=${BENCH_SCALES:-"10 50 100"}          # schemas of 100 tables each
OUT=target/bench
rm -rf "$OUT"; mkdir -p "$OUT"
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
DB=bench
bench_start $DB
DSN=$(pg_dsn $DB)

# measure LABEL CMD… : one run; appends "label wall_s rss_kib" to $OUT/raw.txt
measure() {
    local label=$1; shift
    python3 - "$label" "$@" >>"$OUT/raw.txt" <<'PY'
import resource, subprocess, sys, time
label, cmd = sys.argv[1], sys.argv[2:]
t = time.monotonic()
p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.monotonic() - t
if p.returncode not in (0, 1):
    sys.stderr.write(p.stderr.decode()); sys.exit(f"{label}: exit {p.returncode}")
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(label, f"{wall:.3f}", rss)
PY
}

median() {  # LABEL -> "wall rss", each the median of its runs
    local col w r
    for col in 2 3; do
        awk -v l="$1" -v c="$col" '$1 == l { print $c }' "$OUT/raw.txt" | sort -n |
            awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
    done | paste -sd' '
}

store_bytes() { du -sb "$1" | cut -f1; }

have=0
for schemas in $SCALES; do
    tables=$((schemas * 100))
    echo "== growing the catalog to $tables tables" >&2
    bench_grow $DB $((have + 1)) $((schemas - have))
    have=$schemas

    for run in $(seq "$RUNS"); do
        measure "pg_dump@$tables" pg_dump -s -h 127.0.0.1 -p "$PG_PORT" -U postgres -d $DB -f "$OUT/dump.sql"
        rm -rf "$OUT/store-$tables-first"
        measure "first@$tables" "$DG" --store "$OUT/store-$tables-first" snapshot -q --dsn "$DSN"
        measure "again@$tables" "$DG" --store "$OUT/store-$tables-first" snapshot -q --dsn "$DSN"
    done
    echo "$tables $(store_bytes "$OUT/store-$tables-first")" >>"$OUT/sizes.txt"
done

# Re-snapshot cost in the store, diff and graph on the largest catalog.
big=$((have * 100))
STORE="$OUT/store-main"
"$DG" --store "$STORE" snapshot -q --dsn "$DSN" --ref a >/dev/null
before=$(store_bytes "$STORE")
"$DG" --store "$STORE" snapshot -q --dsn "$DSN" --ref a2 >/dev/null
after=$(store_bytes "$STORE")
bench_change $DB "$(printf 'bench_%03d' "$have")"
"$DG" --store "$STORE" snapshot -q --dsn "$DSN" --ref b >/dev/null
for run in $(seq "$RUNS"); do
    measure "diff@$big" "$DG" --store "$STORE" diff a b
    measure "gate@$big" "$DG" --store "$STORE" gate a b
    measure "graph@$big" "$DG" --store "$STORE" graph a
    measure "graph-table@$big" "$DG" --store "$STORE" graph a bench_001.t_0001
done
changes=$({ "$DG" --store "$STORE" diff a b --format json || true; } | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"])')

{
echo "driftgate benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $("$PG_BIN/postgres" --version), medians of $RUNS runs"
echo
echo "| tables | pg_dump -s | RSS | snapshot (empty store) | RSS | ratio | re-snapshot | RSS | ratio | store size |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for schemas in $SCALES; do
    t=$((schemas * 100))
    read -r dw dr < <(median "pg_dump@$t")
    read -r fw fr < <(median "first@$t")
    read -r aw ar < <(median "again@$t")
    size=$(awk -v t="$t" '$1 == t { print $2 }' "$OUT/sizes.txt")
    awk -v t="$t" -v dw="$dw" -v dr="$dr" -v fw="$fw" -v fr="$fr" -v aw="$aw" -v ar="$ar" -v s="$size" 'BEGIN {
        printf "| %d | %.2f s | %d MiB | %.2f s | %d MiB | %.2f | %.2f s | %d MiB | %.2f | %.1f MiB |\n",
            t, dw, dr/1024, fw, fr/1024, fw/dw, aw, ar/1024, aw/dw, s/1048576 }'
done
echo
echo "Re-snapshot of the unchanged $big-table catalog added $((after - before)) bytes to the store."
echo
echo "| on the $big-table catalog | wall | RSS |"
echo "|---|---:|---:|"
for l in diff gate graph graph-table; do
    read -r w r < <(median "$l@$big")
    awk -v l="$l" -v w="$w" -v r="$r" 'BEGIN { printf "| %s | %.3f s | %d MiB |\n", l, w, r/1024 }'
done
echo
echo "diff/gate compare two stored snapshots differing by: $changes"
} | tee "$OUT/results.md"
