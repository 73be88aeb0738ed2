#!/usr/bin/env bash
# Makes docs/report.png, the picture the README shows: the HTML page of the sample store's
# gate entry -> after-change (verdict banner, findings, line diffs and the fan-out of
# dot_tools), opened in headless Debian chromium (scripts/setup.sh installs it) with the flags
# the browser test uses, so the picture is what the tested page looks like.
#
#   scripts/screenshot.sh [OUT.png]     default docs/report.png; width 1400, height from
#                                       SCREENSHOT_HEIGHT (default 2200)
#
# The binary is $DRIFTGATE, else target/debug/driftgate under $CARGO_TARGET_DIR or the
# repository; build it first (this script never builds). Graphviz lays the picture out when
# `dot` is on PATH (as the page itself does). Exit 2 when a step fails.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$here/docs/report.png}"
bin="${DRIFTGATE:-${CARGO_TARGET_DIR:-$here/target}/debug/driftgate}"
chromium=/usr/bin/chromium
height="${SCREENSHOT_HEIGHT:-2200}"
fail() { echo "screenshot: $*" >&2; exit 2; }
[[ -x "$bin" ]] || fail "no driftgate at $bin: run cargo build (or set DRIFTGATE)"
"$chromium" --version >/dev/null 2>&1 || fail "$chromium does not run: scripts/setup.sh installs chromium"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
rc=0
"$bin" --store "$here/snapshots" --color never gate entry after-change --format html >"$tmp/report.html" || rc=$?
# entry -> after-change is the sample drift: BLOCK (exit 1) is the expected outcome.
[[ $rc -eq 1 ]] || fail "driftgate gate entry after-change --format html exited $rc (expected 1, BLOCK)"
mkdir -p "$(dirname "$out")"
rm -f "$out"
# The browser's own traffic is switched off and no name resolves but loopback: the page is
# self-contained, and a screenshot must not reach the network either.
timeout 120 "$chromium" --headless --no-sandbox --disable-dev-shm-usage \
    --disable-background-networking --no-first-run --disable-gpu --hide-scrollbars \
    --disable-component-update --disable-sync --disable-default-apps --disable-extensions \
    --no-default-browser-check --disable-domain-reliability --no-pings \
    --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" \
    --user-data-dir="$tmp/profile" --window-size="1400,$height" \
    --screenshot="$out" "file://$tmp/report.html" >/dev/null 2>&1 || fail "chromium failed"
[[ -s "$out" ]] || fail "chromium wrote no $out"
echo "$out"
