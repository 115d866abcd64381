#!/usr/bin/env bash
# The HTTP stack's floor on this machine: GET /health/live on Stampede (Hummingbird: a Swift task per
# request) against a bare SwiftNIO handler answering on the event loop (bench/nio-floor), alternating.
# Usage: bench/http-floor.sh [duration_seconds] [rounds]   (needs wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
rounds="${2:-2}"
stampede_port="${BENCH_PORT:-18320}"
floor_port=$((stampede_port + 1))
work="$(mktemp -d)"

swift build -c release --product stampede >/dev/null
bin="$(swift build -c release --show-bin-path)/stampede"
swift build -c release --package-path bench/nio-floor >/dev/null
floor_bin="$(swift build -c release --package-path bench/nio-floor --show-bin-path)/nio-floor"

"$bin" serve --port "$stampede_port" --data-dir "$work/data" --log-level warning >"$work/s.log" 2>&1 &
server=$!
"$floor_bin" "$floor_port" >"$work/f.log" 2>&1 &
floor=$!
trap 'kill $server $floor 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for port in "$stampede_port" "$floor_port"; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health/live" >/dev/null && break; sleep 0.1; done
done

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
source bench/cpu.sh
for round in $(seq "$rounds"); do
  echo "== round $round: stampede GET /health/live"
  wrk_with_cpu "$server" -t2 -c64 -d"${duration}s" -s bench/health.lua "http://127.0.0.1:$stampede_port/health/live"
  echo "== round $round: bare SwiftNIO handler"
  wrk_with_cpu "$floor" -t2 -c64 -d"${duration}s" -s bench/health.lua "http://127.0.0.1:$floor_port/health/live"
done
