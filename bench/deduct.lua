-- wrk script: deducts of one unit from one hot SKU, random user ids, unique order ids.
-- Each wrk thread gets its own prefix so order ids never collide across threads or runs.
local counter = 0
local prefix = ""

function setup(thread)
  thread:set("thread_prefix", string.format("%d-%d", os.time(), math.random(1, 1000000000)))
end

function init(args)
  prefix = thread_prefix or tostring(math.random(1, 1000000000))
  math.randomseed(os.time() + #prefix)
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"sku":"HOT","user_id":"user-%d","order_id":"order-%s-%d","amount":1}',
    math.random(1, 10000000), prefix, counter)
  return wrk.format("POST", "/api/v1/inventory/deduct", {["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
  io.write(string.format("STAT requests=%d duration_s=%.2f rps=%.0f non2xx=%d errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("STAT p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000))
end
