#!/usr/bin/env bash
# Stampede's checkout against the seed's order services (../shared/peers/go-seed-orders, pooled variant:
# HTTP_MAX_IDLE_PER_HOST=256), in alternating rounds in one run (needs wrk; builds the release binary).
#   bench/orders-vs-seed.sh GO_SEED_ORDERS_BIN [rounds] [seconds] [connections]
# Stampede runs in one process (embedded, sync, built-in payment simulator); the seed runs its four roles
# (gateway, order, inventory, payment) as four processes on loopback, OTel at its default 1% ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/redis-lib.sh
source bench/cpu.sh
usage="usage: bench/orders-vs-seed.sh GO_SEED_ORDERS_BIN [rounds] [seconds] [connections]"
seed_bin="${1:?$usage}"
rounds="${2:-3}" duration="${3:-8}" connections="${4:-64}"
work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
bin="$(release_stampede)"
port="${BENCH_PORT:-18160}"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "$rounds rounds of ${duration}s, c$connections, wrk -t2"
export HTTP_MAX_IDLE_PER_HOST=256
for role in inventory payment order gateway; do
  "$seed_bin" -role "$role" >"$work/$role.log" 2>&1 &
  pids+=($!)
done
"$bin" serve --port "$port" --data-dir "$work/data" --log-level warning >"$work/serve.log" 2>&1 &
pids+=($!)
ready_with_hot_sku "$port"
for _ in $(seq 100); do curl -sf http://127.0.0.1:8093/healthz >/dev/null && break; sleep 0.1; done
seed_lua="$(dirname "$seed_bin")/../wrk/orders.lua"
declare -A sums p99s
for r in $(seq "$rounds"); do
  for side in seed stampede; do
    if [ "$side" = seed ]; then
      out=$(wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$seed_lua" http://127.0.0.1:8093/api/orders)
      rps=$(echo "$out" | grep -o 'rps=[0-9.]*' | head -1 | cut -d= -f2 | cut -d. -f1)
      p99=$(echo "$out" | grep -o 'p99_us=[0-9]*' | cut -d= -f2 | awk '{ printf "%.3f", $1 / 1000 }')
      bad=$(echo "$out" | grep -o 'non2xx=[0-9]*' | cut -d= -f2)
    else
      out=$(wrk -t2 -c"$connections" -d"${duration}s" -s bench/checkout.lua "http://127.0.0.1:$port/api/v1/orders")
      rps=$(echo "$out" | grep -o 'rps=[0-9]*' | cut -d= -f2)
      p99=$(echo "$out" | grep -o 'p99_ms=[0-9.]*' | cut -d= -f2)
      bad=$(echo "$out" | grep -o 'non2xx=[0-9]*' | cut -d= -f2)
    fi
    echo "round $r $side: rps=$rps p99_ms=$p99 non2xx=$bad"
    sums[$side]=$(( ${sums[$side]:-0} + rps ))
    p99s[$side]=$(awk -v a="${p99s[$side]:-0}" -v b="$p99" 'BEGIN { print a + b }')
  done
done
for side in seed stampede; do
  awk -v s="${sums[$side]}" -v p="${p99s[$side]}" -v n="$rounds" -v name="$side" \
    'BEGIN { printf "MEAN %s: rps=%.0f p99_ms=%.3f\n", name, s / n, p / n }'
done
awk -v a="${sums[seed]}" -v b="${sums[stampede]}" -v pa="${p99s[seed]}" -v pb="${p99s[stampede]}" \
  'BEGIN { printf "RATIO stampede/seed: rps=%.3f p99=%.3f\n", b / a, pb / pa }'
