#!/usr/bin/env bash
# Redis mode with 1, 2, 4 and 8 deduct script calls in flight (--redis-coalesced-calls), side by side in one run.
# Usage: bench/redis-calls.sh [duration_seconds] [connections]   (needs wrk, redis-server, redis-tools)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/redis-lib.sh
duration="${1:-15}"
connections="${2:-64}"
redis_port="${BENCH_REDIS_PORT:-16398}"
base_port="${BENCH_PORT:-18110}"
work="$(mktemp -d)"

bin="$(release_stampede)"
start_aof_redis "$redis_port" "$work" always
pids=($!)
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
sleep 0.5
calls_list=(1 2 4 8)
for index in "${!calls_list[@]}"; do
  "$bin" serve --port $((base_port + index)) --redis "redis://127.0.0.1:$redis_port/0" --log-level warning \
    --redis-coalesced-calls "${calls_list[$index]}" --redis-prefix "calls${calls_list[$index]}:" >"$work/$index.log" 2>&1 &
  pids+=($!)
done
for index in "${!calls_list[@]}"; do
  port=$((base_port + index))
  ready_with_hot_sku "$port"
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "duration ${duration}s, c$connections, wrk -t2"
for index in "${!calls_list[@]}"; do
  before=$(evalsha_calls "$redis_port")
  echo "== coalesced calls ${calls_list[$index]}"
  wrk -t2 -c"$connections" -d"${duration}s" -s bench/deduct.lua \
    "http://127.0.0.1:$((base_port + index))/api/v1/inventory/deduct" | grep STAT
  echo "EVALSHA calls=$(( $(evalsha_calls "$redis_port") - before ))"
done
