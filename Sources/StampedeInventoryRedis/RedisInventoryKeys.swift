/// The Redis keys of the inventory store, all under one prefix (default `stampede:`).
///
/// | key | type | holds |
/// |---|---|---|
/// | `{p}item:{sku}` | hash | `stock`, `sold`, `reserved` (absent = 0), `initial`, `limit` (absent = no cap), `window` (ms), `gen` |
/// | `{p}items` | set | every SKU, for listing |
/// | `{p}order:{order_id}` | hash | the deduct log record: `sku`, `user`, `amount`, `old`, `new`, `ts` (ms), `gen`, `released`; a reservation adds `hold` (deadline, ms) and, once so, `confirmed` or `expired`; a barrier (a release that came before its reservation) has only `barrier` (ms) |
/// | `{p}holds` | sorted set | order ids of reservations by deadline (ms), for expiry |
/// | `{p}orders` | string | count of order records, bounded by `InventoryLimits.orderRecordsMax` |
/// | `{p}held:{sku}` | hash | units each user holds of the current generation (capped items only) |
/// | `{p}rate:{gen}:{len(sku)}:{sku}:{user}` | string | the user's rate window, expiring after `window` ms |
/// | `{p}ledger` | stream | entries for the PostgreSQL ledger (`k` = `item`/`sale`/`release`/`confirm`/`expire`), consumer group `ledger` |
/// | `{p}ledger:dead` | stream | entries the ledger refused, with `id` and `reason` |
///
/// The scripts build these names themselves from the prefix; this type is the one place Swift does.
struct RedisInventoryKeys: Sendable {
    let prefix: String

    func item(_ sku: String) -> String { prefix + "item:" + sku }
    var items: String { prefix + "items" }
    func order(_ orderID: String) -> String { prefix + "order:" + orderID }
    var ledger: String { prefix + "ledger" }
    var ledgerDead: String { prefix + "ledger:dead" }
}
