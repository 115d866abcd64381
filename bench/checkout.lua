-- wrk script: checkouts of one unit of the hot SKU, random users, unique request ids (POST /api/v1/orders, which
-- answers once the order is confirmed). Run from the repo root.
local counter = 0
local prefix = ""
-- ORDERS_PATH=/api/v1/orders?wait=false answers at once (202) and leaves the saga running.
local path = os.getenv("ORDERS_PATH") or "/api/v1/orders"

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
    '{"request_id":"req-%s-%d","user_id":"user-%d","items":[{"sku":"HOT","quantity":1}],' ..
    '"payment":{"amount_minor":1999,"currency":"CNY","method":"card"}}',
    prefix, counter, math.random(1, 10000000))
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
end

package.path = "bench/?.lua;" .. package.path
done = require("report").done
