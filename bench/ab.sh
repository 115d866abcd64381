#!/usr/bin/env bash
# Two builds side by side: BASE_BIN (e.g. a copy of the previous commit's) and this tree's release binary, deducts
# in alternating rounds at the same concurrency, in one run; each build's mean and their ratio (bench/ab-lib.sh).
# Usage: bench/ab.sh embedded|redis BASE_BIN [rounds] [seconds] [connections]
#        (needs wrk; redis mode also redis-server, redis-tools)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/ab-lib.sh
usage="usage: bench/ab.sh embedded|redis BASE_BIN [rounds] [seconds] [connections]"
mode="${1:?$usage}"
base_bin="${2:?$usage}"
work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
bins=("$base_bin" "$(release_stampede)")
names=(base new)
envs=("" "")
ab_run "$mode" "${3:-4}" "${4:-8}" "${5:-64}"
