#!/usr/bin/env bash
# Two builds side by side in Redis mode: the build under test (this tree's release binary) and BASE_BIN (e.g. a copy
# of the previous commit's), each a `stampede serve --redis` with its own key prefix on one redis-server
# (`appendfsync always`), deducts in alternating rounds at the same concurrency, in one run; then each build's
# mean and their ratio.
# Usage: bench/redis-ab.sh BASE_BIN [rounds] [seconds] [connections]   (needs wrk, redis-server, redis-tools)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/redis-lib.sh
source bench/cpu.sh
base_bin="${1:?usage: bench/redis-ab.sh BASE_BIN [rounds] [seconds] [connections]}"
rounds="${2:-4}"
duration="${3:-8}"
connections="${4:-64}"
redis_port="${BENCH_REDIS_PORT:-16394}"
base_port="${BENCH_PORT:-18130}"
work="$(mktemp -d)"

bins=("$base_bin" "$(release_stampede)")
names=(base new)
start_aof_redis "$redis_port" "$work" always
pids=($!)
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
sleep 0.5
for index in "${!bins[@]}"; do
  "${bins[$index]}" serve --port $((base_port + index)) --redis "redis://127.0.0.1:$redis_port/0" \
    --redis-prefix "${names[$index]}:" --log-level warning >"$work/serve$index.log" 2>&1 &
  pids+=($!)
done
for index in "${!bins[@]}"; do ready_with_hot_sku $((base_port + index)); done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "base: $base_bin; $rounds rounds of ${duration}s, c$connections, wrk -t2"
sums=(0 0)
for round in $(seq "$rounds"); do
  for index in "${!bins[@]}"; do
    port=$((base_port + index))
    out=$(wrk_with_cpu "${pids[$((index + 1))]}" -t2 -c"$connections" -d"${duration}s" -s bench/deduct.lua \
      "http://127.0.0.1:$port/api/v1/inventory/deduct")
    rps=$(echo "$out" | grep -o 'rps=[0-9]*' | cut -d= -f2)
    sums[index]=$((sums[index] + rps))
    echo "round $round ${names[$index]}: $(echo "$out" | grep -o 'rps=[0-9]*\|p99_ms=[0-9.]*\|server_us_per_request=[0-9.]*' | xargs)"
  done
done
awk -v a="${sums[0]}" -v b="${sums[1]}" -v n="$rounds" \
  'BEGIN { printf "MEAN base=%.0f new=%.0f ratio=%.2f\n", a / n, b / n, b / a }'
