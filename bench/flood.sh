#!/usr/bin/env bash
# A flood of connections that each send half a request head (bench/flood.py), against `stampede serve` on the
# embedded store with its default limits: peak RSS, and whether deducts keep being answered during it.
# Usage: bench/flood.sh [attempts] [workers]   (BENCH_BIN runs another build, e.g. the one before a change)
set -euo pipefail
cd "$(dirname "$0")/.."
attempts="${1:-20000}"
workers="${2:-2}"
port="${BENCH_PORT:-18098}"
data="$(mktemp -d)"
source bench/redis-lib.sh
bin="${BENCH_BIN:-$(release_stampede)}"
ulimit -n "$(ulimit -Hn)"
"$bin" serve --port "$port" --data-dir "$data" --log-level warning &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
ready_with_hot_sku "$port"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "binary: $bin, file descriptors: $(ulimit -n)"
python3 bench/flood.py "$port" "$server" "$attempts" "$workers"
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^stampede_http_(connections|connections_refused|connections_timed_out)' || true
