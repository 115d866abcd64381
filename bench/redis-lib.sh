# Sourced by the bench scripts (Redis mode, bench/ab.sh, bench/flood.sh).

# ready_with_hot_sku PORT: waits until the server on PORT is ready, then creates the hot SKU every script
# deducts from (10¹² units, no rate window).
ready_with_hot_sku() {
  local port=$1
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.1; done
  curl -sf -X PUT "http://127.0.0.1:$port/api/v1/inventory/HOT" -H 'Content-Type: application/json' \
    -d '{"stock": 1000000000000, "rate_window_ms": 0}' >/dev/null
}

# evalsha_calls REDIS_PORT: the EVALSHA calls that Redis has run so far.
evalsha_calls() {
  redis-cli -p "$1" INFO commandstats | tr -d '\r' | awk -F'[=,:]' '/^cmdstat_evalsha/ {print $3; f=1} END {if (!f) print 0}'
}

# release_stampede: builds the release binary and prints its path.
release_stampede() {
  swift build -c release --product stampede >/dev/null && echo "$(swift build -c release --show-bin-path)/stampede"
}

# start_aof_redis PORT DIR POLICY: starts redis-server in the background on 127.0.0.1:PORT with its AOF on and
# `appendfsync POLICY`, its files and log in DIR. Its pid is then in $!.
start_aof_redis() {
  redis-server --port "$1" --bind 127.0.0.1 --dir "$2" --save '' --appendonly yes --appendfsync "$3" \
    --daemonize no --loglevel warning >"$2/redis.log" 2>&1 &
}

# sold_units REDIS_PORT: the units of the hot SKU sold so far, as Redis counts them.
sold_units() {
  redis-cli -p "$1" HGET stampede:item:HOT sold | tr -d '\r'
}

# cpu_ticks PID: the CPU time PID has used so far, in clock ticks.
cpu_ticks() {
  awk '{print $14 + $15}' "/proc/$1/stat"
}

# evalsha_ceiling REDIS_PORT BIN CONNECTIONS CALLS: redis-benchmark runs the deduct script (BIN's own text, loaded
# first) by EVALSHA, unpipelined, one deduct per call on the hot SKU, CALLS calls on CONNECTIONS connections: the
# one-call-per-deduct ceiling. Prints redis-benchmark's CSV lines and a CPU line with redis-benchmark's own CPU
# time per call in µs (the load generator's share, to set beside wrk's).
evalsha_ceiling() {
  local port=$1 bin=$2 connections=$3 calls=$4 sha out
  sha=$("$bin" redis-script deduct --sha1)
  redis-cli -p "$port" SCRIPT LOAD "$("$bin" redis-script deduct)" >/dev/null
  # ARGV as the server passes it: prefix, now, order records max, ledger backlog max (0: none), then one deduct
  # (sku, user id, order id, amount, traceparent '').
  out=$({ TIMEFORMAT='CLIENTCPU %U %S'; time redis-benchmark -p "$port" -c "$connections" -n "$calls" \
    -r 1000000000 --csv EVALSHA "$sha" 0 stampede: "$(date +%s)000" 20000000 0 \
    HOT user-__rand_int__ bench-__rand_int__ 1 ""; } 2>&1)
  echo "$out" | grep -v '^CLIENTCPU'
  echo "$out" | awk -v n="$calls" '/^CLIENTCPU/ {printf "CPU client_us_per_call=%.1f\n", ($2 + $3) * 1e6 / n}'
}
