#!/usr/bin/env bash
# Checkout throughput, measured side by side in one run (needs wrk; builds the release binary).
#
#   bench/checkout.sh deduct [rounds] [seconds] [connections]
#     One embedded `serve` (sync) paying through its built-in simulator: rounds alternate deducts
#     (bench/deduct.lua) and checkouts (bench/checkout.lua, POST /api/v1/orders answered once confirmed) on the
#     same server; prints each mean and the checkout/deduct ratio.
#   bench/checkout.sh faults [rounds] [seconds] [connections]
#     Two embedded `serve`s, each paying through its own `stampede payment-sim`: one fault-free, one with 10% of
#     payment calls failing (503 before any work); rounds alternate; prints the faulty/fault-free ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/redis-lib.sh
source bench/cpu.sh
usage="usage: bench/checkout.sh deduct|faults [rounds] [seconds] [connections]"
mode="${1:?$usage}"
rounds="${2:-4}" duration="${3:-10}" connections="${4:-64}"
work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
bin="$(release_stampede)"
base_port="${BENCH_PORT:-18150}"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "mode: $mode; $rounds rounds of ${duration}s, c$connections, wrk -t2; $bin"

# round NAME PID PORT SCRIPT PATH: one wrk run; prints the round's line and adds to the sums of NAME.
declare -A sums p99s cpus
round() {
  local name=$1 pid=$2 port=$3 script=$4 path=$5 out
  out=$(wrk_with_cpu "$pid" -t2 -c"$connections" -d"${duration}s" -s "$script" "http://127.0.0.1:$port$path")
  local rps p99 cpu non2xx
  rps=$(echo "$out" | grep -o 'rps=[0-9]*' | cut -d= -f2)
  p99=$(echo "$out" | grep -o 'p99_ms=[0-9.]*' | cut -d= -f2)
  cpu=$(echo "$out" | grep -o 'server_us_per_request=[0-9.]*' | cut -d= -f2)
  non2xx=$(echo "$out" | grep -o 'non2xx=[0-9]*' | cut -d= -f2)
  echo "  $name: rps=$rps p99_ms=$p99 server_us=$cpu non2xx=$non2xx"
  sums[$name]=$(( ${sums[$name]:-0} + rps ))
  p99s[$name]=$(awk -v a="${p99s[$name]:-0}" -v b="$p99" 'BEGIN { print a + b }')
  cpus[$name]=$(awk -v a="${cpus[$name]:-0}" -v b="$cpu" 'BEGIN { print a + b }')
}

summary() {
  local a=$1 b=$2
  for name in "$a" "$b"; do
    awk -v s="${sums[$name]}" -v p="${p99s[$name]}" -v c="${cpus[$name]}" -v n="$rounds" -v name="$name" \
      'BEGIN { printf "MEAN %s: rps=%.0f p99_ms=%.3f server_us=%.1f\n", name, s / n, p / n, c / n }'
  done
  awk -v a="${sums[$a]}" -v b="${sums[$b]}" -v pa="${p99s[$a]}" -v pb="${p99s[$b]}" -v na="$a" -v nb="$b" \
    'BEGIN { printf "RATIO %s/%s: rps=%.3f p99=%.3f\n", nb, na, b / a, pb / pa }'
}

case "$mode" in
  deduct)
    "$bin" serve --port "$base_port" --data-dir "$work/data" --log-level warning >"$work/serve.log" 2>&1 &
    pids+=($!)
    server=$!
    ready_with_hot_sku "$base_port"
    for r in $(seq "$rounds"); do
      echo "round $r"
      round deduct "$server" "$base_port" bench/deduct.lua /api/v1/inventory/deduct
      round checkout "$server" "$base_port" bench/checkout.lua /api/v1/orders
    done
    summary deduct checkout
    curl -s "http://127.0.0.1:$base_port/api/v1/inventory/HOT"; echo
    ;;
  faults)
    names=(fault_free faults_10pct)
    rates=(0 0.1)
    servers=()
    for index in 0 1; do
      sim_port=$((base_port + 10 + index))
      "$bin" payment-sim --port "$sim_port" --failure-rate "${rates[$index]}" --log-level warning \
        >"$work/sim$index.log" 2>&1 &
      pids+=($!)
      "$bin" serve --port $((base_port + index)) --data-dir "$work/data$index" --log-level warning \
        --payment-url "http://127.0.0.1:$sim_port" >"$work/serve$index.log" 2>&1 &
      pids+=($!)
      servers+=($!)
    done
    for index in 0 1; do ready_with_hot_sku $((base_port + index)); done
    for r in $(seq "$rounds"); do
      echo "round $r"
      order=(0 1)
      if [ $((r % 2)) -eq 0 ]; then order=(1 0); fi
      for index in "${order[@]}"; do
        round "${names[$index]}" "${servers[$index]}" $((base_port + index)) bench/checkout.lua /api/v1/orders
      done
    done
    summary fault_free faults_10pct
    for index in 0 1; do curl -s "http://127.0.0.1:$((base_port + 10 + index))/v1/stats"; echo; done
    ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
