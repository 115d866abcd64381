#!/usr/bin/env bash
# What Redis's fsync policy costs Redis mode: two redis-servers, `appendfsync always` and `everysec`, each behind
# its own `stampede serve --redis`, deducts in alternating rounds at the same concurrency, in one run. After each
# round, the one-call-per-deduct ceiling on the same Redis (redis-benchmark, the deduct script by EVALSHA, as in
# bench/redis.sh), so each policy has its own ratio.
# Usage: bench/redis-fsync.sh [rounds] [seconds] [connections]   (needs wrk, redis-server, redis-tools)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/redis-lib.sh
rounds="${1:-4}"
duration="${2:-8}"
connections="${3:-64}"
redis_port="${BENCH_REDIS_PORT:-16396}"
base_port="${BENCH_PORT:-18120}"
work="$(mktemp -d)"

bin="$(release_stampede)"
policies=(always everysec)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for index in "${!policies[@]}"; do
  mkdir "$work/$index"
  start_aof_redis $((redis_port + index)) "$work/$index" "${policies[$index]}"
  pids+=($!)
done
sleep 0.5
for index in "${!policies[@]}"; do
  "$bin" serve --port $((base_port + index)) --redis "redis://127.0.0.1:$((redis_port + index))/0" \
    --log-level warning >"$work/serve$index.log" 2>&1 &
  pids+=($!)
done
for index in "${!policies[@]}"; do
  port=$((base_port + index))
  ready_with_hot_sku "$port"
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "$(redis-server --version | cut -d' ' -f1-3), $rounds rounds of ${duration}s, c$connections, wrk -t2"
for round in $(seq "$rounds"); do
  for index in "${!policies[@]}"; do
    before=$(evalsha_calls $((redis_port + index)))
    out=$(wrk -t2 -c"$connections" -d"${duration}s" -s bench/deduct.lua \
      "http://127.0.0.1:$((base_port + index))/api/v1/inventory/deduct" | grep STAT)
    calls=$(($(evalsha_calls $((redis_port + index))) - before))
    requests=$(echo "$out" | grep -o 'requests=[0-9]*' | cut -d= -f2)
    rps=$(echo "$out" | grep -o 'rps=[0-9]*' | cut -d= -f2)
    p99=$(echo "$out" | grep -o 'p99_ms=[0-9.]*' | cut -d= -f2)
    ceiling=$(evalsha_ceiling $((redis_port + index)) "$bin" "$connections" $((duration * 40000)) \
      | awk -F'","' '/EVALSHA/ {print $2}')
    echo "round $round appendfsync ${policies[$index]}: rps=$rps p99_ms=$p99 deducts_per_call=$(
      awk -v r="$requests" -v c="$calls" 'BEGIN {printf "%.1f", (c > 0 ? r / c : 0)}') ceiling_rps=${ceiling%.*}$(
      awk -v r="$rps" -v c="$ceiling" 'BEGIN {printf " ratio=%.2f", (c > 0 ? r / c : 0)}')"
  done
done
