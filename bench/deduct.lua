-- wrk script: deducts of one unit from one hot SKU, random user ids, unique order ids.
-- Run from the repo root. Each wrk thread gets its own prefix so order ids never collide across threads or runs.
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

package.path = "bench/?.lua;" .. package.path
done = require("report").done
