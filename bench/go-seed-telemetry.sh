#!/usr/bin/env bash
# What tracing costs the seed's own design (../shared/peers/go-seed: Go, Gin, the OTel SDK with
# ParentBased(TraceIDRatioBased(0.01)), spans exported and discarded): the same binary twice, `off` with
# OTEL_DISABLED=1 and `on` with the SDK, on one redis-server, deducts in alternating rounds. Beside
# bench/telemetry-ab.sh's numbers for Stampede.
# Usage: bench/go-seed-telemetry.sh GO_SEED_BIN [rounds] [seconds] [connections]
#        (build GO_SEED_BIN as ../shared/peers/go-seed/README.md says; needs wrk, redis-server, redis-tools)
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: bench/go-seed-telemetry.sh GO_SEED_BIN [rounds] [seconds] [connections]"
bin="${1:?$usage}"
rounds="${2:-4}"
duration="${3:-8}"
connections="${4:-64}"
redis_port="${BENCH_REDIS_PORT:-16395}"
base_port="${BENCH_PORT:-18140}"
script="$(cd "$(dirname "$bin")/.." && pwd)/wrk/deduct.lua"
work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work" --save '' --appendonly no --daemonize no \
  --loglevel warning >"$work/redis.log" 2>&1 &
pids+=($!)
sleep 0.5
redis-cli -p "$redis_port" set inventory:SKU_HOT 1000000000000 >/dev/null
names=(off on)
envs=("OTEL_DISABLED=1" "")
for index in 0 1; do
  # shellcheck disable=SC2086
  env ${envs[$index]} LISTEN="127.0.0.1:$((base_port + index))" REDIS_ADDR="127.0.0.1:$redis_port" "$bin" \
    >"$work/seed$index.log" 2>&1 &
  pids+=($!)
done
sleep 1
echo "machine: $(nproc) cores, $(date -u +%F); go-seed $rounds rounds of ${duration}s, c$connections, wrk -t2"
sums=(0 0)
for round in $(seq "$rounds"); do
  order=(0 1)
  if [ $((round % 2)) -eq 0 ]; then order=(1 0); fi
  for index in "${order[@]}"; do
    out=$(cd "$(dirname "$script")/.." && WRK_DIR=wrk wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$script" \
      "http://127.0.0.1:$((base_port + index))/api/v1/inventory/deduct")
    rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
    sums[index]=$((sums[index] + rps))
    echo "round $round ${names[$index]}: rps=$rps p99=$p99 non2xx=${non2xx:-0}"
  done
done
awk -v a="${sums[0]}" -v b="${sums[1]}" -v n="$rounds" \
  'BEGIN { printf "MEAN off=%.0f on=%.0f ratio=%.3f\n", a / n, b / n, b / a }'
