#!/usr/bin/env bash
# What the S3 store costs in requests and bytes (issue 15): a first snapshot into an empty
# S3 store, a re-snapshot of the unchanged catalog, and a diff of two stored snapshots, on
# scripts/bench.sh's synthetic catalog (scripts/bench-catalog.sql, 100 tables per schema).
#
#   scripts/bench-s3.sh                      # 10,000 tables (the catalog takes minutes to grow)
#   BENCH_TABLES=1000 scripts/bench-s3.sh    # 1,000 tables
#   DRIFTGATE_BIN=path/to/driftgate …        # that binary, no release build (the counts do
#                                            # not depend on the build profile; times do)
#
# The S3 API server is the tests' moto (target/moto, installed by scripts/setup.sh) on
# 127.0.0.1, serving one request at a time. Counts come from driftgate's own counting layer
# (DRIFTGATE_S3_STATS: every request it sends, by kind, and the body bytes each way), so they
# describe driftgate and hold for any S3 server; times against a test server describe the
# server, not driftgate, and are printed only as a note. The same steps on a directory store
# give the bytes written to compare.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
TABLES=${BENCH_TABLES:-10000}
[ $((TABLES % 100)) -eq 0 ] && [ "$TABLES" -ge 100 ] || { echo "bench-s3: BENCH_TABLES must be a multiple of 100" >&2; exit 2; }
SCHEMAS=$((TABLES / 100))
if [ -n "${DRIFTGATE_BIN:-}" ]; then
    DG=$DRIFTGATE_BIN
else
    echo "== building driftgate (release)" >&2
    cargo build --release --locked --quiet
    DG="${CARGO_TARGET_DIR:-$PWD/target}/release/driftgate"
fi
OUT=target/bench-s3
rm -rf "$OUT"; mkdir -p "$OUT"
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
DB=bench
bench_start $DB
DSN=$(pg_dsn $DB)

echo "== growing the catalog to $TABLES tables" >&2
bench_grow $DB 1 "$SCHEMAS"

# The S3 server: a free port, the tests' one-request-at-a-time launcher, stopped on exit
# (with the PostgreSQL server pg.sh stops).
PORT=$(pg_free_port)
MOTO=target/moto/bin/moto_server
PY=$(head -1 "$MOTO" | sed 's/^#!//')
"$PY" tests/support/moto_serial.py -H 127.0.0.1 -p "$PORT" >"$OUT/moto.log" 2>&1 &
MOTO_PID=$!
trap 'kill $MOTO_PID 2>/dev/null; pg_stop' EXIT
python3 - "$PORT" <<'PY'
import http.client, sys, time
port = int(sys.argv[1])
for _ in range(300):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("PUT", "/bench", headers={"Authorization": "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0"})
        if c.getresponse().status == 200:
            sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("bench-s3: the S3 test server did not start")
PY
export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_ALLOW_HTTP=true AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret
unset AWS_PROFILE AWS_SESSION_TOKEN
S3=s3://bench/store
DIR="$OUT/store-dir"

# step NAME CMD…: run CMD with the counting layer writing to $OUT/NAME.json; time it.
step() {
    local name=$1; shift
    local t0 t1
    t0=$(date +%s%N)
    DRIFTGATE_S3_STATS="$OUT/$name.json" "$@" >/dev/null
    t1=$(date +%s%N)
    echo "$name $(((t1 - t0) / 1000000)) ms" >>"$OUT/times.txt"
}

step first "$DG" --store "$S3" snapshot -q --dsn "$DSN" --ref a
step again "$DG" --store "$S3" snapshot -q --dsn "$DSN" --ref a2
bench_change $DB "$(printf 'bench_%03d' "$SCHEMAS")"
step changed "$DG" --store "$S3" snapshot -q --dsn "$DSN" --ref b
# diff exits 1 when there are changes: that is its answer, not a failure.
step diff sh -c '"$0" --store "$1" diff a b; [ $? -le 1 ]' "$DG" "$S3"

# The directory store's bytes for the same steps, to compare.
"$DG" --store "$DIR" snapshot -q --dsn "$DSN" --ref b >/dev/null
dir_bytes=$(du -sb "$DIR" | cut -f1)

{
echo "driftgate S3 store cost — $(date -u +%Y-%m-%dT%H:%MZ), $TABLES tables, moto $(ls -d target/moto/lib/python3*/site-packages/moto-*.dist-info | sed 's/.*moto-//; s/.dist-info//')"
echo
echo "| step | requests | GET | HEAD | PUT | LIST | DELETE | bytes down | bytes up |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for name in first again changed diff; do
    python3 - "$OUT/$name.json" "$name" <<'PY'
import json, sys
path, name = sys.argv[1], sys.argv[2]
v = json.loads(open(path).read().splitlines()[-1])
label = {"first": "first snapshot (empty store)", "again": "re-snapshot (unchanged)",
         "changed": "snapshot after 4 changes", "diff": "diff a b"}[name]
print(f"| {label} | {v['requests']} | {v['get']} | {v['head']} | {v['put']} | {v['list']} | {v['delete']} | {v['bytes_down']:,} | {v['bytes_up']:,} |")
PY
done
echo
echo "A directory store holding one snapshot of this catalog takes $dir_bytes bytes."
echo "Wall times against the local test server (they describe moto, not driftgate): $(paste -sd',' "$OUT/times.txt" | sed 's/,/, /g')"
} | tee "$OUT/results.md"
