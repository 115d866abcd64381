#!/usr/bin/env bash
# What one Redis core can sell with Stampede's call shape against one call per deduct, without HTTP or wrk.
# redis-benchmark drives the deduct script itself (the release binary's own text, by EVALSHA), on one Redis with
# appendonly yes, appendfsync always, in one run:
# 1. one deduct per call at C connections: bench/redis.sh's ceiling;
# 2. 18 deducts per call on 2 connections: the calls Redis mode sends at c64 (2 in flight, ~18 deducts each);
# 3. 60 deducts per call on 2 connections: the same at c256.
# Every deduct has its own random order id; the script's sold units are checked against the deducts sent.
# Usage: bench/redis-capacity.sh [deducts_per_round] [connections]   (needs redis-server, redis-tools)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/redis-lib.sh
deducts="${1:-300000}"
connections="${2:-64}"
redis_port="${BENCH_REDIS_PORT:-16392}"
work="$(mktemp -d)"

bin="$(release_stampede)"
start_aof_redis "$redis_port" "$work" always
redis=$!
trap 'kill $redis 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do redis-cli -p "$redis_port" PING >/dev/null 2>&1 && break; sleep 0.1; done
# The item as `PUT` writes it: 10¹² units, no per-user limit, no rate window.
redis-cli -p "$redis_port" HSET stampede:item:HOT stock 1000000000000 sold 0 window 0 gen 1 >/dev/null
sha=$(redis-cli -p "$redis_port" SCRIPT LOAD "$("$bin" redis-script deduct)")
[ "$sha" = "$("$bin" redis-script deduct --sha1)" ] || { echo "SCRIPT LOAD returned $sha" >&2; exit 1; }


echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "$(redis-server --version | cut -d' ' -f1-3), appendfsync always, $deducts deducts a round"
ceiling=""
for shape in "1 $connections" "18 2" "60 2"; do
  read -r per_call clients <<<"$shape"
  calls=$((deducts / per_call))
  args=()
  for index in $(seq "$per_call"); do args+=(HOT "user-__rand_int__" "cap$index-__rand_int__" 1 ""); done
  sold0=$(sold_units "$redis_port"); ticks0=$(cpu_ticks "$redis"); start=$(date +%s.%N)
  redis-benchmark -p "$redis_port" -c "$clients" -n "$calls" -r 1000000000 -q \
    EVALSHA "$sha" 0 stampede: "$(date +%s)000" 1000000000000 0 "${args[@]}" >/dev/null
  end=$(date +%s.%N); ticks1=$(cpu_ticks "$redis"); sold1=$(sold_units "$redis_port")
  awk -v k="$per_call" -v c="$clients" -v n="$calls" -v s="$start" -v e="$end" -v t="$((ticks1 - ticks0))" \
    -v hz="$(getconf CLK_TCK)" -v u="$((sold1 - sold0))" -v base="$ceiling" 'BEGIN {
      rate = n * k / (e - s)
      ratio = (base == "") ? 1 : rate / base
      printf "CAPACITY deducts_per_call=%d connections=%d calls_per_s=%.0f deducts_per_s=%.0f ratio=%.2f ", k, c, n / (e - s), rate, ratio
      printf "redis_cpu_percent=%.0f redis_cpu_us_per_deduct=%.1f sold=%d of %d\n", 100 * t / hz / (e - s), 1e6 * t / hz / u, u, n * k
    }'
  if [ $((sold1 - sold0)) -lt $((calls * per_call * 999 / 1000)) ]; then
    echo "the calls did not deduct: the script's arguments no longer match" >&2
    exit 1
  fi
  [ -n "$ceiling" ] || ceiling=$(awk -v n="$calls" -v s="$start" -v e="$end" 'BEGIN {print n / (e - s)}')
done
