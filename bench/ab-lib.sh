# Sourced by bench/ab.sh and bench/telemetry-ab.sh: two `stampede serve` processes side by side, deducts in
# alternating rounds at the same concurrency, in one run; each side's mean throughput, p99 and server CPU per
# deduct, and the ratio of the second side to the first.
#
# The caller sets, before `ab_run MODE ROUNDS SECONDS CONNECTIONS`:
#   bins  — the two binaries (may be the same one);
#   names — the two sides' names (also their Redis key prefixes);
#   envs  — the two sides' extra environment, `NAME=value` words (may be empty);
#   work  — a scratch directory; pids — an array the caller's EXIT trap kills.
# MODE embedded: each side on its own data directory with DURABILITY (default sync); MODE redis: each with its own
# key prefix on one redis-server (`appendfsync always`).
source bench/redis-lib.sh
source bench/cpu.sh

ab_run() {
  local mode=$1 rounds=$2 duration=$3 connections=$4
  local durability="${DURABILITY:-sync}" redis_port="${BENCH_REDIS_PORT:-16394}" base_port="${BENCH_PORT:-18130}"
  local servers=() index round out rps p99 cpu
  case "$mode" in
    redis)
      start_aof_redis "$redis_port" "$work" always
      pids+=($!)
      sleep 0.5 ;;
    embedded) ;;
    *) echo "mode is embedded or redis, not $mode" >&2; return 2 ;;
  esac
  for index in 0 1; do
    local store_args
    if [ "$mode" = redis ]; then
      store_args="--redis redis://127.0.0.1:$redis_port/0 --redis-prefix ${names[$index]}:"
    else
      store_args="--data-dir $work/data$index --durability $durability"
    fi
    # shellcheck disable=SC2086
    env ${envs[$index]} "${bins[$index]}" serve --port $((base_port + index)) $store_args --log-level warning \
      >"$work/serve$index.log" 2>&1 &
    pids+=($!)
    servers+=($!)
  done
  for index in 0 1; do ready_with_hot_sku $((base_port + index)); done
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
  echo "mode: $mode$([ "$mode" = embedded ] && echo " ($durability)"); $rounds rounds of ${duration}s, c$connections, wrk -t2"
  for index in 0 1; do echo "${names[$index]}: ${bins[$index]} ${envs[$index]}"; done
  local sums=(0 0) p99s=(0 0) cpus=(0 0)
  for round in $(seq "$rounds"); do
    # Alternate which side goes first, so neither always follows the other.
    local order=(0 1)
    if [ $((round % 2)) -eq 0 ]; then order=(1 0); fi
    for index in "${order[@]}"; do
      out=$(wrk_with_cpu "${servers[$index]}" -t2 -c"$connections" -d"${duration}s" -s bench/deduct.lua \
        "http://127.0.0.1:$((base_port + index))/api/v1/inventory/deduct")
      rps=$(echo "$out" | grep -o 'rps=[0-9]*' | cut -d= -f2)
      p99=$(echo "$out" | grep -o 'p99_ms=[0-9.]*' | cut -d= -f2)
      cpu=$(echo "$out" | grep -o 'server_us_per_request=[0-9.]*' | cut -d= -f2)
      sums[index]=$((sums[index] + rps))
      p99s[index]=$(awk -v a="${p99s[$index]}" -v b="$p99" 'BEGIN { print a + b }')
      cpus[index]=$(awk -v a="${cpus[$index]}" -v b="$cpu" 'BEGIN { print a + b }')
      echo "round $round ${names[$index]}: $(echo "$out" | grep -o 'rps=[0-9]*\|non2xx=[0-9]*\|p99_ms=[0-9.]*\|server_us_per_request=[0-9.]*' | xargs)"
    done
  done
  awk -v a="${sums[0]}" -v b="${sums[1]}" -v pa="${p99s[0]}" -v pb="${p99s[1]}" -v ca="${cpus[0]}" \
    -v cb="${cpus[1]}" -v n="$rounds" -v na="${names[0]}" -v nb="${names[1]}" 'BEGIN {
      printf "MEAN %s: rps=%.0f p99_ms=%.3f server_us=%.1f\n", na, a / n, pa / n, ca / n
      printf "MEAN %s: rps=%.0f p99_ms=%.3f server_us=%.1f\n", nb, b / n, pb / n, cb / n
      printf "RATIO %s/%s: rps=%.3f p99=%.3f server_us=%.3f\n", nb, na, b / a, pb / pa, cb / ca
    }'
}
