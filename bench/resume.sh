#!/usr/bin/env bash
# How fast a restarted `serve` finishes the sagas a `kill -9` left in flight (builds the release binary; needs wrk).
#
#   bench/resume.sh [seconds of orders]
#
# `payment-sim` holds every payment call 2.5 s (under the 3 s step timeout), and wrk places orders for the given
# seconds (default 3) with `?wait=false`, so every order of the last 2.5 s is in flight when `serve` is killed
# with SIGKILL. The simulator's latency is then set to 0 and `serve` restarted on the same data directory. Printed:
# the sagas the restart found unfinished, the time from the kill to `ready`, and to the moment the restarted
# process has finished them all (`order_saga_duration_count` summed over outcomes), then the simulator's totals.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/redis-lib.sh
seconds="${1:-3}"
work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; cp "$work/serve.log" /tmp/resume-serve.log 2>/dev/null; rm -rf "$work"' EXIT
bin="$(release_stampede)"
port="${BENCH_PORT:-18170}" sim_port=$(( ${BENCH_PORT:-18170} + 1 ))
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
"$bin" payment-sim --port "$sim_port" --latency-ms 2500 --log-level warning >"$work/sim.log" 2>&1 &
pids+=($!)
serve() {
  "$bin" serve --port "$port" --data-dir "$work/data" --log-level info --orders-in-flight-max 50000 \
    --payment-url "http://127.0.0.1:$sim_port" >>"$work/serve.log" 2>&1 &
  server=$!
  pids+=($server)
}
serve
ready_with_hot_sku "$port"
ORDERS_PATH='/api/v1/orders?wait=false' wrk -t2 -c64 -d"${seconds}s" -s bench/checkout.lua \
  "http://127.0.0.1:$port/api/v1/orders" | grep STAT | head -1
kill -9 "$server"
killed=$(date +%s.%N)
wait "$server" 2>/dev/null || true
curl -s -X PUT "http://127.0.0.1:$sim_port/v1/faults" -H 'Content-Type: application/json' -d '{"latency_ms":0}' >/dev/null
serve
until curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null; do sleep 0.02; done
ready=$(date +%s.%N)
until grep -q 'resumed unfinished orders' "$work/serve.log"; do sleep 0.02; done
resumed=$(grep -o 'orders=[0-9]* \[StampedeOrders\] resumed unfinished orders' "$work/serve.log" | head -1 | grep -o '[0-9]*' | head -1)
while true; do
  finished=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^order_saga_duration_count/ { s += $2 } END { print s + 0 }')
  [ "$finished" -ge "$resumed" ] && break
  sleep 0.05
done
done_at=$(date +%s.%N)
awk -v k="$killed" -v r="$ready" -v f="$done_at" -v n="$resumed" 'BEGIN {
  printf "RESUME unfinished=%d kill_to_ready_s=%.2f kill_to_all_finished_s=%.2f\n", n, r - k, f - k }'
curl -s "http://127.0.0.1:$port/metrics" | grep '^order_saga_duration_count'
curl -s "http://127.0.0.1:$sim_port/v1/stats"; echo
