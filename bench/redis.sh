#!/usr/bin/env bash
# Redis mode against embedded mode against Redis's own one-call-per-request ceiling, in one run.
# Usage: bench/redis.sh [duration_seconds] [connections]   (needs wrk, redis-server, redis-tools)
#
# 1. GET /health/live on the Redis-mode server: the HTTP stack's ceiling.
# 2. POST deduct on `stampede serve --redis` (coalesced script calls, answered on the event loop).
# 3. The same through the router (`--no-deduct-fast-path`, own key prefix): what the event-loop path saves.
# 4. POST deduct on `stampede serve` (embedded, durability sync).
# 5. redis-benchmark running the same deduct script by EVALSHA, unpipelined, one deduct per call (with its own
#    CPU per call, to set beside wrk's).
# Redis runs with appendonly yes, appendfsync always (no acknowledged sale lost on a crash) for 2, 3 and 5.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/redis-lib.sh
duration="${1:-15}"
connections="${2:-64}"
redis_port="${BENCH_REDIS_PORT:-16399}"
redis_http="${BENCH_PORT:-18098}"
embedded_http=$((redis_http + 1))
routed_http=$((redis_http + 2))
work="$(mktemp -d)"

bin="$(release_stampede)"
start_aof_redis "$redis_port" "$work" always
redis=$!
"$bin" serve --port "$redis_http" --redis "redis://127.0.0.1:$redis_port/0" --log-level warning >"$work/a.log" 2>&1 &
server_redis=$!
"$bin" serve --port "$embedded_http" --data-dir "$work/embedded" --log-level warning >"$work/b.log" 2>&1 &
server_embedded=$!
"$bin" serve --port "$routed_http" --redis "redis://127.0.0.1:$redis_port/0" --redis-prefix routed: \
  --no-deduct-fast-path --log-level warning >"$work/c.log" 2>&1 &
server_routed=$!
trap 'kill $server_redis $server_embedded $server_routed $redis 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for port in "$redis_http" "$embedded_http" "$routed_http"; do
  ready_with_hot_sku "$port"
done

commands() { redis-cli -p "$redis_port" INFO stats | awk -F: '/^total_commands_processed/ {print $2}' | tr -d '\r'; }
# Runs "$@" and prints Redis's CPU use (% of one core), its commands/s (commands run inside scripts count)
# and its EVALSHA calls/s over the run.
with_redis_usage() {
  local ticks0 cmds0 calls0 start end ticks1 cmds1 calls1
  ticks0=$(cpu_ticks "$redis"); cmds0=$(commands); calls0=$(evalsha_calls "$redis_port"); start=$(date +%s.%N)
  "$@"
  end=$(date +%s.%N); ticks1=$(cpu_ticks "$redis"); cmds1=$(commands); calls1=$(evalsha_calls "$redis_port")
  awk -v t="$((ticks1 - ticks0))" -v c="$((cmds1 - cmds0))" -v k="$((calls1 - calls0))" -v s="$start" -v e="$end" \
    -v hz="$(getconf CLK_TCK)" 'BEGIN {
      printf "REDIS cpu_percent=%.0f commands_per_s=%.0f evalsha_per_s=%.0f\n", 100 * t / hz / (e - s), c / (e - s), k / (e - s)
    }'
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "$(redis-server --version | cut -d' ' -f1-3), duration ${duration}s, c$connections, wrk -t2"
source bench/cpu.sh
echo "== health/live (ceiling)"
wrk_with_cpu "$server_redis" -t2 -c"$connections" -d"${duration}s" -s bench/health.lua \
  "http://127.0.0.1:$redis_http/health/live"
echo "== deduct, redis mode"
with_redis_usage wrk_with_cpu "$server_redis" -t2 -c"$connections" -d"${duration}s" -s bench/deduct.lua \
  "http://127.0.0.1:$redis_http/api/v1/inventory/deduct"
echo "== deduct, redis mode, through the router (--no-deduct-fast-path)"
with_redis_usage wrk_with_cpu "$server_routed" -t2 -c"$connections" -d"${duration}s" -s bench/deduct.lua \
  "http://127.0.0.1:$routed_http/api/v1/inventory/deduct"
echo "== deduct, embedded mode"
wrk_with_cpu "$server_embedded" -t2 -c"$connections" -d"${duration}s" -s bench/deduct.lua \
  "http://127.0.0.1:$embedded_http/api/v1/inventory/deduct"
echo "== redis-benchmark EVALSHA deduct script, unpipelined"
requests=$((duration * 40000))
sold_before=$(sold_units "$redis_port")
with_redis_usage evalsha_ceiling "$redis_port" "$bin" "$connections" "$requests" \
  | grep -E "EVALSHA|REDIS|rps|CPU" | sed 's/^/BENCH /'
sold_by_script=$(($(sold_units "$redis_port") - sold_before))
echo "BENCH units sold by the script: $sold_by_script of $requests calls"
if [ "$sold_by_script" -lt $((requests * 99 / 100)) ]; then
  echo "redis-benchmark's calls did not deduct: the script's arguments no longer match (see above)" >&2
  exit 1
fi
curl -s "http://127.0.0.1:$redis_http/api/v1/inventory/HOT"; echo
