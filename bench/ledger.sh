#!/usr/bin/env bash
# Ledger throughput and end-to-end lag under the deduct load, Redis mode, in one run.
# Usage: bench/ledger.sh [duration_seconds] [connections]   (needs wrk, redis-server, Debian's postgresql)
#
# 1. POST deduct on `stampede serve --redis` without a ledger: the deduct throughput to keep up with.
# 2. The same with the ledger stream on but no worker: what writing the stream costs; leaves a backlog.
# 3. `stampede worker` alone drains that backlog: the ledger's capacity in sales/s.
# 4. `serve --postgres` with the worker in-process under the load: deduct throughput, sales/s written
#    during the load, lag p50/p99 (recorded_at - sold_at) and the time to drain after the load.
# 5. The same with `serve --no-ledger-worker` and a separate `stampede worker` process.
# 6. As 5, with `--ledger-linger-ms 0` (no gathering of entries between batches).
# Redis runs with appendonly yes, appendfsync always; PostgreSQL is a fresh cluster with default settings.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/redis-lib.sh
duration="${1:-15}"
connections="${2:-64}"
redis_port="${BENCH_REDIS_PORT:-16398}"
pg_port="${BENCH_PG_PORT:-15439}"
http="${BENCH_PORT:-18097}"
work="$(mktemp -d)"
chmod 755 "$work"
pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
server=""
worker=""
redis=""
# Runs on every exit, even when a process already died: nothing in it may stop it early.
cleanup() {
  set +e
  [ -n "$server" ] && kill "$server" 2>/dev/null
  [ -n "$worker" ] && kill "$worker" 2>/dev/null
  [ -n "$redis" ] && kill "$redis" 2>/dev/null
  [ -f "$work/pg/data/postmaster.pid" ] && as_pg "$pgbin/pg_ctl" stop -D "$work/pg/data" -m fast >/dev/null 2>&1
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

bin="$(release_stampede)"

mkdir -p "$work/pg" && [ "$(id -u)" = 0 ] && chown postgres "$work/pg"
as_pg "$pgbin/initdb" -D "$work/pg/data" -U stampede --auth=trust --no-sync -E UTF8 >/dev/null
as_pg "$pgbin/pg_ctl" start -D "$work/pg/data" -w -l "$work/pg/log" \
  -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1" >/dev/null
"$pgbin/psql" -h 127.0.0.1 -p "$pg_port" -U stampede -d postgres -qc 'CREATE DATABASE stampede'
psql_q() { "$pgbin/psql" -h 127.0.0.1 -p "$pg_port" -U stampede -d stampede -Atc "$1"; }
start_aof_redis "$redis_port" "$work" always
redis=$!

start() {
  "$bin" serve --port "$http" --redis "redis://127.0.0.1:$redis_port/0" --log-level warning "$@" >"$work/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$http/health/ready" >/dev/null && break; sleep 0.1; done
  curl -sf -X PUT "http://127.0.0.1:$http/api/v1/inventory/HOT" -H 'Content-Type: application/json' \
    -d '{"stock": 1000000000000, "rate_window_ms": 0}' >/dev/null
}
run_wrk() { wrk -t2 -c"$connections" -d"${duration}s" --latency -s bench/deduct.lua "http://127.0.0.1:$http"; }
# wrk, then the CPU seconds serve, the worker (if any), Redis and PostgreSQL used during it.
load() {
  local s0 w0 r0 p0 w1=0
  s0=$(cpu "$server"); r0=$(cpu "$redis"); p0=$(cpu $(pg_pids)); w0=0
  [ -n "$worker" ] && w0=$(cpu "$worker")
  run_wrk | grep -E "Requests/sec|99%|Non-2xx|Socket errors"
  [ -n "$worker" ] && w1=$(cpu "$worker")
  echo "CPU seconds during the load: serve $(calc "$(cpu "$server") - $s0"), worker $(calc "$w1 - $w0")," \
    "Redis $(calc "$(cpu "$redis") - $r0"), PostgreSQL $(calc "$(cpu $(pg_pids)) - $p0")"
}

echo "== machine: $(nproc) cores, $(date -u +%Y-%m-%d)"
pg_url="postgres://stampede@127.0.0.1:$pg_port/stampede?sslmode=disable"
xlen() { redis-cli -p "$redis_port" XLEN stampede:ledger; }
stop_server() { kill "$server"; wait "$server" 2>/dev/null || true; server=""; }
# Arithmetic on decimals (awk: no bc needed); prints two decimals.
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }
# CPU seconds used so far by processes (utime + stime), and by the PostgreSQL server and its backends.
cpu() { for pid in "$@"; do cut -d' ' -f14,15 "/proc/$pid/stat"; done | awk -v hz="$(getconf CLK_TCK)" '{t += $1 + $2} END {printf "%.2f", t / hz}'; }
pg_pids() { local main; main=$(head -1 "$work/pg/data/postmaster.pid"); echo "$main" $(ps --ppid "$main" -o pid=); }

echo "== 1. Redis mode, no ledger: the deduct throughput to keep up with"
start
load
stop_server
redis-cli -p "$redis_port" FLUSHALL >/dev/null

echo "== 2. Redis mode, ledger stream written by the scripts, no worker: the cost of the stream"
start --postgres "$pg_url" --no-ledger-worker
load
stop_server
backlog=$(xlen)
echo "queued: $backlog entries"

echo "== 3. stampede worker alone drains that backlog: the ledger's capacity"
begin=$(date +%s.%N)
"$bin" worker --port 0 --redis "redis://127.0.0.1:$redis_port/0" --postgres "$pg_url" \
  --reconcile-interval-s 0 --log-level warning >"$work/worker.log" 2>&1 &
worker=$!
redis_cpu0=$(cpu "$redis")
pg_cpu0=$(cpu $(pg_pids))
for _ in $(seq 6000); do [ "$(xlen)" = 0 ] && break; sleep 0.05; done
end=$(date +%s.%N)
worker_cpu=$(cpu "$worker")
redis_cpu=$(calc "$(cpu "$redis") - $redis_cpu0")
pg_cpu=$(calc "$(cpu $(pg_pids)) - $pg_cpu0")
kill "$worker"; wait "$worker" 2>/dev/null || true; worker=""
written=$(psql_q "SELECT count(*) FROM sales")
echo "drained $written sales in $(calc "$end - $begin") s (incl. start-up):" \
  "$(calc "$written / ($end - $begin)") sales/s"
echo "CPU seconds: worker $worker_cpu, PostgreSQL $pg_cpu (backends alive at the end), Redis $redis_cpu;" \
  "µs per sale: worker $(calc "$worker_cpu * 1000000 / $written"), PostgreSQL $(calc "$pg_cpu * 1000000 / $written")," \
  "Redis $(calc "$redis_cpu * 1000000 / $written")"
redis-cli -p "$redis_port" FLUSHALL >/dev/null
psql_q "TRUNCATE sales, releases, items" >/dev/null

under_load() {
  for _ in $(seq 100); do psql_q "SELECT 1 FROM items LIMIT 1" 2>/dev/null | grep -q 1 && break; sleep 0.1; done
  begin=$(date +%s.%N)
  load
  end=$(date +%s.%N)
  for _ in $(seq 600); do [ "$(xlen)" = 0 ] && break; sleep 0.1; done
  drained=$(date +%s.%N)
  psql_q "SELECT 'sales written: ' || count(*) || ', during load: ' ||
            round(count(*) FILTER (WHERE recorded_at <= to_timestamp($end)) / ($end - $begin)) || ' sales/s'
          FROM sales"
  psql_q "SELECT 'lag ms p50 ' || round(1000 * extract(epoch from percentile_cont(0.5) WITHIN GROUP (ORDER BY recorded_at - sold_at)))
            || ', p99 ' || round(1000 * extract(epoch from percentile_cont(0.99) WITHIN GROUP (ORDER BY recorded_at - sold_at)))
            || ', max ' || round(1000 * extract(epoch from max(recorded_at - sold_at))) FROM sales"
  echo "drained $(calc "$drained - $end") s after the load ended"
}

echo "== 4. Redis mode + PostgreSQL ledger, worker in-process, under load: throughput and lag"
start --postgres "$pg_url" --reconcile-interval-s 0
under_load
stop_server
redis-cli -p "$redis_port" FLUSHALL >/dev/null
psql_q "TRUNCATE sales, releases, items" >/dev/null

separate_worker() {
  start --postgres "$pg_url" --no-ledger-worker
  "$bin" worker --port 0 --redis "redis://127.0.0.1:$redis_port/0" --postgres "$pg_url" \
    --reconcile-interval-s 0 --log-level warning "$@" >"$work/worker.log" 2>&1 &
  worker=$!
  under_load
  kill "$worker"; wait "$worker" 2>/dev/null || true; worker=""
  stop_server
  redis-cli -p "$redis_port" FLUSHALL >/dev/null
  psql_q "TRUNCATE sales, releases, items" >/dev/null
}

echo "== 5. The same with the worker as its own process (stampede worker)"
separate_worker

echo "== 6. The same with a worker that reads again at once after each batch (--ledger-linger-ms 0)"
separate_worker --ledger-linger-ms 0
