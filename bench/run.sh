#!/usr/bin/env bash
# Deduct throughput against the HTTP stack's ceiling, side by side on one server, in one run.
# Usage: bench/run.sh [duration_seconds] [durability]   (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-15}"
durability="${2:-sync}"
port="${BENCH_PORT:-18099}"
data="$(mktemp -d)"

# BENCH_BIN runs another build (e.g. a copy of the previous one) for a side-by-side comparison.
if [ -n "${BENCH_BIN:-}" ]; then
  bin="$BENCH_BIN"
else
  swift build -c release --product stampede >/dev/null
  bin="$(swift build -c release --show-bin-path)/stampede"
fi
"$bin" serve --port "$port" --data-dir "$data" --durability "$durability" --log-level warning &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health/live" >/dev/null && break; sleep 0.1; done
curl -sf -X PUT "http://127.0.0.1:$port/api/v1/inventory/HOT" -H 'Content-Type: application/json' \
  -d '{"stock": 1000000000000, "rate_window_ms": 0}' >/dev/null

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "durability: $durability, duration: ${duration}s, wrk -t2"
source bench/cpu.sh
for connections in 64 256; do
  echo "== c$connections health/live"
  wrk_with_cpu "$server" -t2 -c"$connections" -d"${duration}s" -s bench/health.lua \
    "http://127.0.0.1:$port/health/live"
  echo "== c$connections deduct"
  wrk_with_cpu "$server" -t2 -c"$connections" -d"${duration}s" -s bench/deduct.lua \
    "http://127.0.0.1:$port/api/v1/inventory/deduct"
done
curl -s "http://127.0.0.1:$port/api/v1/inventory/HOT"; echo
