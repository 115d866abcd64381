#!/usr/bin/env bash
# How fast a restarted `serve` finishes the sagas a `kill -9` left in flight (builds the release binary).
#
#   bench/resume.sh [orders]
#
# `payment-sim` holds every payment call for 3 s, so the orders placed (POST /api/v1/orders?wait=false, 32 at a
# time) are all still in flight when `serve` is killed with SIGKILL. The simulator's latency is then set to 0 and
# `serve` restarted on the same data directory; the script prints the time from the kill to the restarted
# process's `ready`, and to the moment every order is confirmed (the hot SKU's `sold` reaches the number of
# orders: no payment fails, so every order ends confirmed), then the simulator's totals.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/redis-lib.sh
orders="${1:-10000}"
work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
bin="$(release_stampede)"
port="${BENCH_PORT:-18170}" sim_port=$(( ${BENCH_PORT:-18170} + 1 ))
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
"$bin" payment-sim --port "$sim_port" --latency-ms 3000 --log-level warning >"$work/sim.log" 2>&1 &
pids+=($!)
serve() {
  "$bin" serve --port "$port" --data-dir "$work/data" --log-level notice --orders-in-flight-max 20000 \
    --payment-url "http://127.0.0.1:$sim_port" >>"$work/serve.log" 2>&1 &
  server=$!
  pids+=($server)
}
serve
ready_with_hot_sku "$port"
start=$(date +%s.%N)
seq "$orders" | xargs -P 32 -I{} curl -s -o /dev/null -X POST "http://127.0.0.1:$port/api/v1/orders?wait=false" \
  -H 'Content-Type: application/json' \
  -d '{"request_id":"r{}","user_id":"u{}","items":[{"sku":"HOT","quantity":1}],"payment":{"amount_minor":100,"currency":"CNY","method":"card"}}'
placed=$(date +%s.%N)
echo "placed $orders orders in $(awk -v a="$start" -v b="$placed" 'BEGIN { printf "%.2f", b - a }') s"
in_flight=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^order_saga_in_flight / { print $2 }')
echo "sagas in flight before the kill: ${in_flight:-?}"
kill -9 "$server"
killed=$(date +%s.%N)
curl -s -X PUT "http://127.0.0.1:$sim_port/v1/faults" -H 'Content-Type: application/json' -d '{"latency_ms":0}' >/dev/null
serve
until curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null; do sleep 0.02; done
ready=$(date +%s.%N)
while true; do
  sold=$(curl -s "http://127.0.0.1:$port/api/v1/inventory/HOT" | grep -o '"sold":[0-9]*' | cut -d: -f2)
  [ "${sold:-0}" -ge "$orders" ] && break
  sleep 0.05
done
finished=$(date +%s.%N)
awk -v k="$killed" -v r="$ready" -v f="$finished" -v n="$orders" 'BEGIN {
  printf "RESUME orders=%d kill_to_ready_s=%.2f kill_to_all_final_s=%.2f\n", n, r - k, f - k }'
grep -o 'resumed unfinished orders.*' "$work/serve.log" | head -1 || true
curl -s "http://127.0.0.1:$port/api/v1/inventory/HOT"; echo
curl -s "http://127.0.0.1:$sim_port/v1/stats"; echo
