/// One change the PostgreSQL ledger records: an item put (create or reset), a sale or reservation, a confirm, a
/// release or an expiry.
///
/// Each is written to the queue together with the stock change it describes (the embedded journal record, or a
/// Redis stream entry inside the same Lua script), so no sale exists that the ledger cannot learn about.
public enum LedgerEvent: Sendable, Hashable {
    /// The item was created or reset: `generation` starts with `config.stock` units.
    case item(sku: String, generation: UInt64, config: ItemConfig, timestampMilliseconds: Int64)
    /// A deduct succeeded: a sale, or a reservation when `order.holdDeadlineMilliseconds` is set (the order is
    /// as created: not released, confirmed or expired).
    case sale(OrderRecord)
    /// The units of `orderID` went back to stock.
    case release(orderID: String, sku: String, generation: UInt64, amount: Int64, timestampMilliseconds: Int64)
    /// The reservation `orderID` became a sale.
    case confirm(orderID: String, sku: String, generation: UInt64, amount: Int64, timestampMilliseconds: Int64)
    /// The reservation `orderID` passed its deadline: its units went back to stock.
    case expire(orderID: String, sku: String, generation: UInt64, amount: Int64, timestampMilliseconds: Int64)

    /// When the change happened in the store, in milliseconds since 1970 (the start of the end-to-end lag).
    public var timestampMilliseconds: Int64 {
        switch self {
        case .item(_, _, _, let timestamp): timestamp
        case .sale(let order): order.timestampMilliseconds
        case .release(_, _, _, _, let timestamp), .confirm(_, _, _, _, let timestamp),
            .expire(_, _, _, _, let timestamp):
            timestamp
        }
    }

    public var sku: String {
        switch self {
        case .item(let sku, _, _, _): sku
        case .sale(let order): order.sku
        case .release(_, let sku, _, _, _), .confirm(_, let sku, _, _, _), .expire(_, let sku, _, _, _): sku
        }
    }

    /// The order the change belongs to; nil for an item put.
    public var orderID: String? {
        switch self {
        case .item: nil
        case .sale(let order): order.orderID
        case .release(let orderID, _, _, _, _), .confirm(let orderID, _, _, _, _), .expire(let orderID, _, _, _, _):
            orderID
        }
    }

    public var kind: String {
        switch self {
        case .item: "item"
        case .sale: "sale"
        case .release: "release"
        case .confirm: "confirm"
        case .expire: "expire"
        }
    }
}

/// A queue entry: the event, the queue's id for it, and the trace context of the request that caused it.
public struct LedgerEntry: Sendable, Hashable {
    /// The queue's id: the journal sequence number (embedded) or the stream entry id (Redis).
    public var id: String
    public var event: LedgerEvent
    /// The W3C `traceparent` of the request, so the worker's span continues its trace.
    public var traceParent: String?

    public init(id: String, event: LedgerEvent, traceParent: String?) {
        self.id = id
        self.event = event
        self.traceParent = traceParent
    }
}
