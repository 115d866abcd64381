# Sourced by the Redis-mode bench scripts.

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
