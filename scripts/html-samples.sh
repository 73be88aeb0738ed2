#!/usr/bin/env bash
# Writes the HTML sample pages of the sample store (snapshots/) into the directory given,
# laid out by Graphviz (when `dot` is on PATH) and by the built-in layout, for screenshots
# and the browser test:
#   graph-dot_tools.html  driftgate graph entry dot_tools --format html
#   diff.html             driftgate diff entry after-change --format html
#   gate.html             driftgate gate entry after-change --format html
#   *-builtin.html        the same with --layout builtin
# The binary is $DRIFTGATE, else target/debug/driftgate under $CARGO_TARGET_DIR or the
# repository; build it first (this script never builds). Exit status: 0, or 2 when a
# page could not be written.
set -euo pipefail
out="${1:?usage: scripts/html-samples.sh DIR}"
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${DRIFTGATE:-${CARGO_TARGET_DIR:-$here/target}/debug/driftgate}"
if [[ ! -x "$bin" ]]; then
    echo "html-samples: no driftgate at $bin: run cargo build (or set DRIFTGATE)" >&2
    exit 2
fi
mkdir -p "$out"
store="$here/snapshots"
page() { # NAME EXPECTED-EXITS… -- ARGS…
    local name="$1"; shift
    local ok=()
    while [[ "$1" != "--" ]]; do ok+=("$1"); shift; done
    shift
    local rc=0
    "$bin" --store "$store" --color never "$@" --format html >"$out/$name.tmp" || rc=$?
    if [[ " ${ok[*]} " != *" $rc "* ]]; then
        echo "html-samples: driftgate $* exited $rc" >&2
        rm -f "$out/$name.tmp"
        exit 2
    fi
    mv "$out/$name.tmp" "$out/$name"
    echo "$out/$name"
}
for layout in auto builtin; do
    suffix=""
    [[ $layout == builtin ]] && suffix="-builtin"
    page "graph-dot_tools$suffix.html" 0 -- --layout "$layout" graph entry dot_tools
    # diff and gate exit 1 on drift: the sample's after-change has drift.
    page "diff$suffix.html" 0 1 -- --layout "$layout" diff entry after-change
    page "gate$suffix.html" 0 1 -- --layout "$layout" gate entry after-change
done
