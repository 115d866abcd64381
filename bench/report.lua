-- Shared wrk `done` hook: one STAT line with throughput and errors, one with latency percentiles (ms).
local M = {}

function M.done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("STAT requests=%d duration_s=%.2f rps=%.0f non2xx=%d errors=%d\n",
    summary.requests, seconds, summary.requests / seconds, summary.errors.status, errors))
  io.write(string.format("STAT p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    latency.max / 1000))
end

return M
