#!/usr/bin/env bash
# Two builds side by side: the build under test (this tree's release binary) and BASE_BIN (e.g. a copy of the
# previous commit's), deducts in alternating rounds at the same concurrency, in one run; then each build's mean and
# their ratio.
# - embedded: each build a `stampede serve` on its own data directory, with DURABILITY (default sync);
# - redis: each a `stampede serve --redis` with its own key prefix on one redis-server (`appendfsync always`).
# Usage: bench/ab.sh embedded|redis BASE_BIN [rounds] [seconds] [connections]
#        (needs wrk; redis mode also redis-server, redis-tools)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/redis-lib.sh
source bench/cpu.sh
usage="usage: bench/ab.sh embedded|redis BASE_BIN [rounds] [seconds] [connections]"
mode="${1:?$usage}"
base_bin="${2:?$usage}"
rounds="${3:-4}"
duration="${4:-8}"
connections="${5:-64}"
durability="${DURABILITY:-sync}"
redis_port="${BENCH_REDIS_PORT:-16394}"
base_port="${BENCH_PORT:-18130}"
work="$(mktemp -d)"

bins=("$base_bin" "$(release_stampede)")
names=(base new)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
case "$mode" in
  redis)
    start_aof_redis "$redis_port" "$work" always
    pids+=($!)
    sleep 0.5
    store_args() { echo "--redis redis://127.0.0.1:$redis_port/0 --redis-prefix ${names[$1]}:"; } ;;
  embedded)
    store_args() { echo "--data-dir $work/data$1 --durability $durability"; } ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
servers=()
for index in "${!bins[@]}"; do
  # shellcheck disable=SC2046
  "${bins[$index]}" serve --port $((base_port + index)) $(store_args "$index") --log-level warning \
    >"$work/serve$index.log" 2>&1 &
  pids+=($!)
  servers+=($!)
done
for index in "${!bins[@]}"; do ready_with_hot_sku $((base_port + index)); done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "mode: $mode$([ "$mode" = embedded ] && echo " ($durability)"); base: $base_bin; $rounds rounds of ${duration}s, c$connections, wrk -t2"
sums=(0 0)
for round in $(seq "$rounds"); do
  # Alternate which build goes first, so neither always follows the other.
  order=(0 1)
  if [ $((round % 2)) -eq 0 ]; then order=(1 0); fi
  for index in "${order[@]}"; do
    port=$((base_port + index))
    out=$(wrk_with_cpu "${servers[$index]}" -t2 -c"$connections" -d"${duration}s" -s bench/deduct.lua \
      "http://127.0.0.1:$port/api/v1/inventory/deduct")
    rps=$(echo "$out" | grep -o 'rps=[0-9]*' | cut -d= -f2)
    sums[index]=$((sums[index] + rps))
    echo "round $round ${names[$index]}: $(echo "$out" | grep -o 'rps=[0-9]*\|p99_ms=[0-9.]*\|server_us_per_request=[0-9.]*' | xargs)"
  done
done
awk -v a="${sums[0]}" -v b="${sums[1]}" -v n="$rounds" \
  'BEGIN { printf "MEAN base=%.0f new=%.0f ratio=%.2f\n", a / n, b / n, b / a }'
