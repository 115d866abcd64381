import StampedeInventory
import StampedeRedis

/// The Lua scripts of the Redis inventory store. Each operation is one script, so Redis runs it atomically:
/// every check reads, and only then does anything write. Keys are built from the prefix passed in ARGV[1]
/// (see ``RedisInventoryKeys``), which ties the store to one Redis primary (not Redis Cluster).
///
/// Numbers written back are integers well under 2^53 (stock ≤ 10^12), so Lua's doubles hold them exactly.
///
/// Result codes and sentinels are not written in the Lua: each script opens with `local NAME = value` lines
/// generated from ``DeductCode``, ``ReleaseCode`` and the constants of ``DeductReply``, ``PutItemReply``,
/// ``ReleaseReply``, ``RepairReply`` and ``OrderReleasedField``, which the store also decodes replies with.
/// The sources are built once (`static let`), so each script keeps one SHA-1 for `EVALSHA`.
public enum RedisInventoryScripts {
    /// ARGV: prefix, now (ms), order records max, ledger backlog max (0: no ledger), then per deduct: sku,
    /// user id, order id, amount, hold (ms; 0 for a plain deduct), traceparent ('' for none).
    /// Returns four integers per deduct: code (``DeductCode`` raw value), stock, replayed
    /// (``DeductReply/replayed`` or ``DeductReply/notReplayed``), hold deadline (ms; 0 for a plain deduct); or
    /// {``DeductReply/ledgerFull``} when the ledger stream holds its maximum of entries (nothing was applied).
    ///
    /// A reservation (hold > 0) takes its units into the item's `reserved` instead of `sold` and puts its
    /// deadline in the `{p}holds` sorted set, where ``expireDue`` finds it.
    ///
    /// Checks in the embedded engine's order: order id, item, rate window, per-user cap, stock, capacity.
    /// One call carries many deducts (coalesced requests or a batch), applied in order. Each item, user
    /// count and the order counter is read once per call and kept in Lua tables; nothing but the rate
    /// window is written until every deduct is decided. Then stock goes first: should a later write fail,
    /// units are lost to the sale, never sold twice.
    ///
    /// With a ledger, each sale is also an entry of the `{p}ledger` stream, written by this same script right
    /// after the stock: no sale can exist without its entry (see docs/design.md, "Ledger").
    public static let deduct = RedisScript(
        """
        \(LuaConstant.declarations(DeductReply.constants + OrderReleasedField.constants))
        local p, now, ordersMax, ledgerMax = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
        local function int(x) return string.format('%d', x) end
        if ledgerMax > 0 and redis.call('XLEN', p .. 'ledger') >= ledgerMax then
          return {\(DeductReply.ledgerFull.name)}
        end
        local items, held, created, sales, heldSales = {}, {}, {}, {}, {}
        local orderCount = nil
        local out = {}
        for i = 5, #ARGV, 6 do
          local sku, user, order, amountText = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
          local amount, hold = tonumber(amountText), tonumber(ARGV[i + 4])
          local code, stock, replayed, deadline = \(deductCode(.success)), 0, \(DeductReply.notReplayed.name), 0
          local prior = created[order]
          if not prior then
            local f = redis.call('HMGET', p .. 'order:' .. order, 'sku', 'user', 'amount', 'new', 'hold', 'barrier')
            if f[1] then prior = {f[1], f[2], tonumber(f[3]), tonumber(f[4]), tonumber(f[5] or '0')} end
            if f[6] then prior = {barrier = true} end
          end
          if prior then
            if prior.barrier then
              code = \(deductCode(.orderCancelled))
            elseif prior[1] == sku and prior[2] == user and prior[3] == amount and (prior[5] > 0) == (hold > 0) then
              stock = prior[4]
              deadline = prior[5]
              replayed = \(DeductReply.replayed.name)
            else
              code = \(deductCode(.orderConflict))
            end
          else
            local item = items[sku]
            if item == nil then
              local f = redis.call('HMGET', p .. 'item:' .. sku, 'stock', 'sold', 'limit', 'window', 'gen', 'reserved')
              item = false
              if f[1] then
                item = {stock = tonumber(f[1]), sold = tonumber(f[2]), limit = f[3] and tonumber(f[3]),
                  window = tonumber(f[4]), gen = f[5], reserved = tonumber(f[6] or '0'), dirty = false}
              end
              items[sku] = item
            end
            if not item then
              code = \(deductCode(.stockNotFound))
            elseif item.window > 0 and not redis.call('SET',
                p .. 'rate:' .. item.gen .. ':' .. #sku .. ':' .. sku .. ':' .. user, '1', 'NX', 'PX', item.window) then
              code = \(deductCode(.rateLimited))
            else
              local heldKey = sku .. '\\n' .. user
              local units = 0
              if item.limit then
                units = held[heldKey]
                if units == nil then
                  units = tonumber(redis.call('HGET', p .. 'held:' .. sku, user) or '0')
                  held[heldKey] = units
                end
              end
              if item.limit and units + amount > item.limit then
                code = \(deductCode(.userLimitExceeded))
              elseif item.stock < amount then
                code = \(deductCode(.insufficientStock))
                stock = item.stock
              else
                if orderCount == nil then orderCount = tonumber(redis.call('GET', p .. 'orders') or '0') end
                if orderCount >= ordersMax then
                  code = \(deductCode(.capacityExhausted))
                else
                  orderCount = orderCount + 1
                  local old = item.stock
                  item.stock = old - amount
                  if hold > 0 then
                    item.reserved = item.reserved + amount
                    deadline = now + hold
                  else
                    item.sold = item.sold + amount
                  end
                  item.dirty = true
                  stock = item.stock
                  created[order] = {sku, user, amount, stock, deadline}
                  sales[#sales + 1] = {order, sku, user, amountText, old, stock, item.gen, ARGV[i + 5], deadline}
                  if item.limit then
                    held[heldKey] = units + amount
                    heldSales[#heldSales + 1] = {sku, user, amount}
                  end
                end
              end
            end
          end
          out[#out + 1] = code
          out[#out + 1] = stock
          out[#out + 1] = replayed
          out[#out + 1] = deadline
        end
        for sku, item in pairs(items) do
          if item and item.dirty then
            redis.call('HSET', p .. 'item:' .. sku, 'stock', int(item.stock), 'sold', int(item.sold),
              'reserved', int(item.reserved))
          end
        end
        if ledgerMax > 0 then
          for _, s in ipairs(sales) do
            local entry = {p .. 'ledger', '*', 'k', 'sale', 'o', s[1], 's', s[2], 'u', s[3], 'a', s[4],
              'os', int(s[5]), 'ns', int(s[6]), 't', now, 'g', s[7]}
            if s[9] > 0 then entry[#entry + 1] = 'h'; entry[#entry + 1] = int(s[9]) end
            if s[8] ~= '' then entry[#entry + 1] = 'tp'; entry[#entry + 1] = s[8] end
            redis.call('XADD', unpack(entry))
          end
        end
        for _, s in ipairs(sales) do
          local orderKey = p .. 'order:' .. s[1]
          redis.call('HSET', orderKey, 'sku', s[2], 'user', s[3], 'amount', s[4], 'old', int(s[5]),
            'new', int(s[6]), 'ts', now, 'gen', s[7], 'released',
            \(OrderReleasedField.notReleased.name))
          if s[9] > 0 then
            redis.call('HSET', orderKey, 'hold', int(s[9]))
            redis.call('ZADD', p .. 'holds', int(s[9]), s[1])
          end
        end
        for _, h in ipairs(heldSales) do redis.call('HINCRBY', p .. 'held:' .. h[1], h[2], h[3]) end
        if #sales > 0 then redis.call('INCRBY', p .. 'orders', #sales) end
        return out
        """
    )

    /// ARGV: prefix, sku, stock, limit per user ('' for none), rate window (ms), items max, now (ms),
    /// ledger backlog max (0: no ledger), traceparent ('' for none).
    /// Returns {generation} (``PutItemReply/firstGeneration`` for a new SKU), {``PutItemReply/tooManyItems``} when
    /// the store holds its maximum of items, or {``PutItemReply/ledgerFull``} when the ledger stream is full.
    public static let putItem = RedisScript(
        """
        \(LuaConstant.declarations(PutItemReply.constants))
        local p, sku, ledgerMax = ARGV[1], ARGV[2], tonumber(ARGV[8])
        if ledgerMax > 0 and redis.call('XLEN', p .. 'ledger') >= ledgerMax then
          return {\(PutItemReply.ledgerFull.name)}
        end
        local itemKey = p .. 'item:' .. sku
        local gen = redis.call('HGET', itemKey, 'gen')
        if gen then
          gen = tonumber(gen) + 1
        else
          if redis.call('SCARD', p .. 'items') >= tonumber(ARGV[6]) then
            return {\(PutItemReply.tooManyItems.name)}
          end
          gen = \(PutItemReply.firstGeneration.name)
        end
        redis.call('DEL', itemKey, p .. 'held:' .. sku)
        redis.call('HSET', itemKey, 'stock', ARGV[3], 'sold', '0', 'initial', ARGV[3], 'window', ARGV[5], 'gen', gen)
        if ARGV[4] ~= '' then redis.call('HSET', itemKey, 'limit', ARGV[4]) end
        redis.call('SADD', p .. 'items', sku)
        if ledgerMax > 0 then
          local entry = {p .. 'ledger', '*', 'k', 'item', 's', sku, 'g', gen, 'st', ARGV[3], 'lim', ARGV[4],
            'w', ARGV[5], 't', ARGV[7]}
          if ARGV[9] ~= '' then entry[#entry + 1] = 'tp'; entry[#entry + 1] = ARGV[9] end
          redis.call('XADD', unpack(entry))
        end
        return {gen}
        """
    )

    /// ARGV: prefix, order id, now (ms), ledger backlog max (0: no ledger), traceparent ('' for none), record if
    /// unknown (1: a release of an id never seen leaves a barrier, `barrier` in the order hash, so a reservation
    /// arriving later under it answers `order_cancelled`).
    /// Returns {code (``ReleaseCode`` raw value), released amount, stock, sku}, or {``ReleaseReply/ledgerFull``,
    /// 0, 0, ''} when the ledger stream is full. A live hold's units come back from `reserved`, any other order's
    /// from `sold`.
    public static let release = RedisScript(
        """
        \(LuaConstant.declarations(ReleaseReply.constants + OrderReleasedField.constants))
        local p, ledgerMax = ARGV[1], tonumber(ARGV[4])
        if ledgerMax > 0 and redis.call('XLEN', p .. 'ledger') >= ledgerMax then
          return {\(ReleaseReply.ledgerFull.name), 0, 0, ''}
        end
        local orderKey = p .. 'order:' .. ARGV[2]
        local order = redis.call('HMGET', orderKey, 'sku', 'user', 'amount', 'gen', 'released', 'hold', 'confirmed')
        if not order[1] then
          if ARGV[6] == '1' and redis.call('HSETNX', orderKey, 'barrier', ARGV[3]) == 1 then
            redis.call('INCR', p .. 'orders')
          end
          return {\(releaseCode(.orderNotFound)), 0, 0, ''}
        end
        local sku = order[1]
        local itemKey = p .. 'item:' .. sku
        local item = redis.call('HMGET', itemKey, 'stock', 'gen', 'limit')
        local current = tonumber(item[1] or '0')
        if tonumber(order[5]) == \(OrderReleasedField.released.name) then
          return {\(releaseCode(.alreadyReleased)), 0, current, sku}
        end
        if item[2] ~= order[4] then return {\(releaseCode(.orderSuperseded)), 0, current, sku} end
        local amount = tonumber(order[3])
        local stock = redis.call('HINCRBY', itemKey, 'stock', amount)
        if order[6] and not order[7] then
          redis.call('HINCRBY', itemKey, 'reserved', -amount)
          redis.call('ZREM', p .. 'holds', ARGV[2])
        else
          redis.call('HINCRBY', itemKey, 'sold', -amount)
        end
        if ledgerMax > 0 then
          local entry = {p .. 'ledger', '*', 'k', 'release', 'o', ARGV[2], 's', sku, 'g', order[4], 'a', order[3],
            't', ARGV[3]}
          if ARGV[5] ~= '' then entry[#entry + 1] = 'tp'; entry[#entry + 1] = ARGV[5] end
          redis.call('XADD', unpack(entry))
        end
        redis.call('HSET', orderKey, 'released', \(OrderReleasedField.released.name))
        if item[3] then
          local heldKey = p .. 'held:' .. sku
          if redis.call('HINCRBY', heldKey, order[2], -amount) <= 0 then redis.call('HDEL', heldKey, order[2]) end
        end
        return {\(releaseCode(.released)), amount, stock, sku}
        """
    )

    /// Lua: `expireHold(p, orderID, sku, user, amount, gen, now, ledgerMax)` returns a live hold's units to stock,
    /// marks the order released and expired, drops its deadline and writes the ledger's `expire` entry; returns
    /// the item's new stock. The caller has checked that the hold is live and of the item's generation.
    private static let expireHoldFunction = """
        local function expireHold(p, orderID, sku, user, amount, gen, now, ledgerMax)
          local itemKey = p .. 'item:' .. sku
          local stock = redis.call('HINCRBY', itemKey, 'stock', amount)
          redis.call('HINCRBY', itemKey, 'reserved', -amount)
          if ledgerMax > 0 then
            redis.call('XADD', p .. 'ledger', '*', 'k', 'expire', 'o', orderID, 's', sku, 'g', gen,
              'a', string.format('%d', amount), 't', now)
          end
          redis.call('HSET', p .. 'order:' .. orderID, 'released', \(OrderReleasedField.released.name), 'expired', '1')
          redis.call('ZREM', p .. 'holds', orderID)
          if redis.call('HEXISTS', itemKey, 'limit') == 1 then
            local heldKey = p .. 'held:' .. sku
            if redis.call('HINCRBY', heldKey, user, -amount) <= 0 then redis.call('HDEL', heldKey, user) end
          end
          return stock
        end
        """

    /// ARGV: prefix, order id, now (ms), ledger backlog max (0: no ledger), traceparent ('' for none).
    /// Returns {code (``ConfirmCode`` raw value), amount, sku}, or {``ConfirmReply/ledgerFull``, 0, ''} when the
    /// ledger stream is full. A hold past its deadline expires here and the confirm answers `hold_expired`.
    public static let confirm = RedisScript(
        """
        \(LuaConstant.declarations(ConfirmReply.constants + OrderReleasedField.constants))
        \(expireHoldFunction)
        local p, orderID, now, ledgerMax = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
        if ledgerMax > 0 and redis.call('XLEN', p .. 'ledger') >= ledgerMax then
          return {\(ConfirmReply.ledgerFull.name), 0, ''}
        end
        local orderKey = p .. 'order:' .. orderID
        local o = redis.call('HMGET', orderKey, 'sku', 'user', 'amount', 'gen', 'released', 'hold', 'confirmed',
          'expired')
        if not o[1] then return {\(confirmCode(.orderNotFound)), 0, ''} end
        local sku, amount = o[1], tonumber(o[3])
        if not o[6] then return {\(confirmCode(.notAReservation)), amount, sku} end
        if o[7] then return {\(confirmCode(.alreadyConfirmed)), amount, sku} end
        if tonumber(o[5]) == \(OrderReleasedField.released.name) then
          if o[8] then return {\(confirmCode(.holdExpired)), amount, sku} end
          return {\(confirmCode(.orderReleased)), amount, sku}
        end
        local itemKey = p .. 'item:' .. sku
        if redis.call('HGET', itemKey, 'gen') ~= o[4] then return {\(confirmCode(.orderSuperseded)), amount, sku} end
        if now >= tonumber(o[6]) then
          expireHold(p, orderID, sku, o[2], amount, o[4], ARGV[3], ledgerMax)
          return {\(confirmCode(.holdExpired)), amount, sku}
        end
        redis.call('HINCRBY', itemKey, 'reserved', -amount)
        redis.call('HINCRBY', itemKey, 'sold', amount)
        if ledgerMax > 0 then
          local entry = {p .. 'ledger', '*', 'k', 'confirm', 'o', orderID, 's', sku, 'g', o[4], 'a', o[3],
            't', ARGV[3]}
          if ARGV[5] ~= '' then entry[#entry + 1] = 'tp'; entry[#entry + 1] = ARGV[5] end
          redis.call('XADD', unpack(entry))
        end
        redis.call('HSET', orderKey, 'confirmed', '1')
        redis.call('ZREM', p .. 'holds', orderID)
        return {\(confirmCode(.confirmed)), amount, sku}
        """
    )

    /// ARGV: prefix, now (ms), most holds to expire, ledger backlog max (0: no ledger).
    /// Expires the holds whose deadline is at or before now, earliest first. Returns four values per expired
    /// hold: order id, sku, amount, the item's new stock; or {``ExpireReply/ledgerFull``} when the ledger stream
    /// is full (nothing expired: the units stay reserved until the ledger catches up). Deadlines of holds no
    /// longer live (confirmed, released, or of an item reset since) are dropped.
    public static let expireDue = RedisScript(
        """
        \(LuaConstant.declarations(ExpireReply.constants + OrderReleasedField.constants))
        \(expireHoldFunction)
        local p, now, max, ledgerMax = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
        local due = redis.call('ZRANGEBYSCORE', p .. 'holds', '-inf', now, 'LIMIT', 0, max)
        if #due == 0 then return {} end
        if ledgerMax > 0 and redis.call('XLEN', p .. 'ledger') >= ledgerMax then
          return {\(ExpireReply.ledgerFull.name)}
        end
        local out = {}
        for _, orderID in ipairs(due) do
          local o = redis.call('HMGET', p .. 'order:' .. orderID, 'sku', 'user', 'amount', 'gen', 'released',
            'confirmed')
          if o[1] and tonumber(o[5]) ~= \(OrderReleasedField.released.name) and not o[6]
              and redis.call('HGET', p .. 'item:' .. o[1], 'gen') == o[4] then
            local amount = tonumber(o[3])
            local stock = expireHold(p, orderID, o[1], o[2], amount, o[4], now, ledgerMax)
            out[#out + 1] = orderID
            out[#out + 1] = o[1]
            out[#out + 1] = amount
            out[#out + 1] = stock
          else
            redis.call('ZREM', p .. 'holds', orderID)
          end
        end
        return out
        """
    )

    /// ARGV: stream, group, entry id… Acknowledges the entries and deletes them, so the stream's length is the
    /// ledger's backlog. Returns how many were deleted.
    public static let ledgerAcknowledge = RedisScript(
        """
        local ids = {}
        for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end
        redis.call('XACK', ARGV[1], ARGV[2], unpack(ids))
        return redis.call('XDEL', ARGV[1], unpack(ids))
        """
    )

    /// ARGV: stream, group, dead-letter stream, dead-letter max length, entry id, reason, then the entry's
    /// fields and values. Copies the entry to the dead-letter stream, then acknowledges and deletes it.
    public static let ledgerDeadLetter = RedisScript(
        """
        local entry = {ARGV[3], 'MAXLEN', '~', ARGV[4], '*', 'id', ARGV[5], 'reason', ARGV[6]}
        for i = 7, #ARGV do entry[#entry + 1] = ARGV[i] end
        redis.call('XADD', unpack(entry))
        redis.call('XACK', ARGV[1], ARGV[2], ARGV[5])
        return redis.call('XDEL', ARGV[1], ARGV[5])
        """
    )

    /// ARGV: prefix, sku, generation, expected taken, taken (taken = sold + reserved). Sets sold so that sold +
    /// reserved = taken, and stock = initial − taken, if the item is still at that generation with the expected
    /// taken units. Returns one of ``RepairReply``: repaired, generation changed (or item gone), sold changed, or
    /// invalid sold (taken out of range, or below the units reserved).
    public static let repairItem = RedisScript(
        """
        \(LuaConstant.declarations(RepairReply.constants))
        local p = ARGV[1]
        local itemKey = p .. 'item:' .. ARGV[2]
        local f = redis.call('HMGET', itemKey, 'gen', 'initial', 'sold', 'reserved')
        if f[1] ~= ARGV[3] then return \(RepairReply.generationChanged.name) end
        local reserved = tonumber(f[4] or '0')
        if tonumber(f[3]) + reserved ~= tonumber(ARGV[4]) then return \(RepairReply.soldChanged.name) end
        local taken, initial = tonumber(ARGV[5]), tonumber(f[2])
        if taken < reserved or taken > initial then return \(RepairReply.invalidSold.name) end
        redis.call('HSET', itemKey, 'stock', string.format('%d', initial - taken),
          'sold', string.format('%d', taken - reserved))
        return \(RepairReply.repaired.name)
        """
    )

    /// The Lua name of a deduct result code, declared by the deduct script.
    private static func deductCode(_ code: DeductCode) -> String { DeductReply.constant(code).name }

    /// The Lua name of a confirm result code, declared by the confirm script.
    private static func confirmCode(_ code: ConfirmCode) -> String { ConfirmReply.constant(code).name }

    /// The Lua name of a release result code, declared by the release script.
    private static func releaseCode(_ code: ReleaseCode) -> String { ReleaseReply.constant(code).name }

    /// Every script by name, for `stampede redis-script`.
    public static let all: [String: RedisScript] = [
        "deduct": deduct, "put": putItem, "release": release, "confirm": confirm, "expire": expireDue,
        "ledger-ack": ledgerAcknowledge,
        "ledger-dead-letter": ledgerDeadLetter, "repair": repairItem,
    ]
}
