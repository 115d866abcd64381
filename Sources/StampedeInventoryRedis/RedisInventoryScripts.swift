import StampedeRedis

/// The Lua scripts of the Redis inventory store. Each operation is one script, so Redis runs it atomically:
/// every check reads, and only then does anything write. Keys are built from the prefix passed in ARGV[1]
/// (see ``RedisInventoryKeys``), which ties the store to one Redis primary (not Redis Cluster).
///
/// Numbers written back are integers well under 2^53 (stock ≤ 10^12), so Lua's doubles hold them exactly.
enum RedisInventoryScripts {
    /// ARGV: prefix, now (ms), order records max, then per deduct: sku, user id, order id, amount.
    /// Returns three integers per deduct: code (``DeductCode`` raw value), stock, replayed (0/1).
    /// Checks in the embedded engine's order: order id, item, rate window, per-user cap, stock, capacity.
    static let deduct = RedisScript(
        """
        local p = ARGV[1]
        local now = ARGV[2]
        local ordersMax = tonumber(ARGV[3])
        local out = {}
        for i = 4, #ARGV, 4 do
          local sku, user, order, amountText = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
          local amount = tonumber(amountText)
          local orderKey = p .. 'order:' .. order
          local code, stock, replayed = 0, 0, 0
          local prior = redis.call('HMGET', orderKey, 'sku', 'user', 'amount', 'new')
          if prior[1] then
            if prior[1] == sku and prior[2] == user and tonumber(prior[3]) == amount then
              stock = tonumber(prior[4])
              replayed = 1
            else
              code = 1
            end
          else
            local itemKey = p .. 'item:' .. sku
            local item = redis.call('HMGET', itemKey, 'stock', 'limit', 'window', 'gen')
            if not item[1] then
              code = 2
            else
              local current = tonumber(item[1])
              local window = tonumber(item[3])
              local heldKey = p .. 'held:' .. sku
              if window > 0 and not redis.call('SET', p .. 'rate:' .. item[4] .. ':' .. #sku .. ':' .. sku .. ':' .. user,
                  '1', 'NX', 'PX', window) then
                code = 3
              elseif item[2] and tonumber(redis.call('HGET', heldKey, user) or '0') + amount > tonumber(item[2]) then
                code = 4
              elseif current < amount then
                code = 5
                stock = current
              elseif tonumber(redis.call('GET', p .. 'orders') or '0') >= ordersMax then
                code = 6
              else
                stock = redis.call('HINCRBY', itemKey, 'stock', -amount)
                redis.call('HINCRBY', itemKey, 'sold', amount)
                redis.call('HSET', orderKey, 'sku', sku, 'user', user, 'amount', amountText, 'old', item[1],
                  'new', stock, 'ts', now, 'gen', item[4], 'released', '0')
                redis.call('INCR', p .. 'orders')
                if item[2] then redis.call('HINCRBY', heldKey, user, amount) end
              end
            end
          end
          out[#out + 1] = code
          out[#out + 1] = stock
          out[#out + 1] = replayed
        end
        return out
        """
    )

    /// ARGV: prefix, sku, stock, limit per user ('' for none), rate window (ms), items max.
    /// Returns {generation}, or {-1} when the store holds its maximum of items.
    static let putItem = RedisScript(
        """
        local p, sku = ARGV[1], ARGV[2]
        local itemKey = p .. 'item:' .. sku
        local gen = redis.call('HGET', itemKey, 'gen')
        if gen then
          gen = tonumber(gen) + 1
        else
          if redis.call('SCARD', p .. 'items') >= tonumber(ARGV[6]) then return {-1} end
          gen = 1
        end
        redis.call('DEL', itemKey, p .. 'held:' .. sku)
        redis.call('HSET', itemKey, 'stock', ARGV[3], 'sold', '0', 'initial', ARGV[3], 'window', ARGV[5], 'gen', gen)
        if ARGV[4] ~= '' then redis.call('HSET', itemKey, 'limit', ARGV[4]) end
        redis.call('SADD', p .. 'items', sku)
        return {gen}
        """
    )

    /// ARGV: prefix, order id. Returns {code (``ReleaseCode`` raw value), released amount, stock, sku}.
    static let release = RedisScript(
        """
        local p = ARGV[1]
        local orderKey = p .. 'order:' .. ARGV[2]
        local order = redis.call('HMGET', orderKey, 'sku', 'user', 'amount', 'gen', 'released')
        if not order[1] then return {2, 0, 0, ''} end
        local sku = order[1]
        local itemKey = p .. 'item:' .. sku
        local item = redis.call('HMGET', itemKey, 'stock', 'gen', 'limit')
        local current = tonumber(item[1] or '0')
        if order[5] == '1' then return {1, 0, current, sku} end
        if item[2] ~= order[4] then return {3, 0, current, sku} end
        local amount = tonumber(order[3])
        local stock = redis.call('HINCRBY', itemKey, 'stock', amount)
        redis.call('HINCRBY', itemKey, 'sold', -amount)
        redis.call('HSET', orderKey, 'released', '1')
        if item[3] then
          local heldKey = p .. 'held:' .. sku
          if redis.call('HINCRBY', heldKey, order[2], -amount) <= 0 then redis.call('HDEL', heldKey, order[2]) end
        end
        return {0, amount, stock, sku}
        """
    )
}
