/// The log record of one order (seed 001's `inventory:log:{order_id}` hash), kept for idempotency.
///
/// A plain deduct is a sale at once. A reservation (a deduct with a hold) keeps its units aside until it is
/// confirmed (the sale is final), released, or its deadline passes (it expires and the units return).
public struct OrderRecord: Sendable, Hashable {
    public var orderID: String
    public var sku: String
    public var userID: String
    public var amount: Int64
    public var oldStock: Int64
    public var newStock: Int64
    /// When the deduct was applied, in milliseconds since 1970.
    public var timestampMilliseconds: Int64
    /// The item generation the units were taken from; a reset (PUT) starts a new generation.
    public var generation: UInt64
    /// Whether the units went back to stock (by a release, or by the hold's expiry).
    public var released: Bool
    /// For a reservation, when its hold ends, in milliseconds since 1970; nil for a plain sale.
    public var holdDeadlineMilliseconds: Int64?
    /// A reservation made final by a confirm.
    public var confirmed: Bool
    /// A reservation whose units returned because its deadline passed (`released` is then true too).
    public var expired: Bool

    public init(
        orderID: String,
        sku: String,
        userID: String,
        amount: Int64,
        oldStock: Int64,
        newStock: Int64,
        timestampMilliseconds: Int64,
        generation: UInt64,
        released: Bool,
        holdDeadlineMilliseconds: Int64? = nil,
        confirmed: Bool = false,
        expired: Bool = false
    ) {
        self.orderID = orderID
        self.sku = sku
        self.userID = userID
        self.amount = amount
        self.oldStock = oldStock
        self.newStock = newStock
        self.timestampMilliseconds = timestampMilliseconds
        self.generation = generation
        self.released = released
        self.holdDeadlineMilliseconds = holdDeadlineMilliseconds
        self.confirmed = confirmed
        self.expired = expired
    }

    /// Whether `request` is the same deduct as the one this record logged: a reservation is never the same as a
    /// plain deduct. The hold's length need not match (the first request set the deadline).
    public func matches(_ request: DeductRequest) -> Bool {
        request.sku == sku && request.userID == userID && request.amount == amount
            && (request.holdMilliseconds != nil) == isReservation
    }

    public var isReservation: Bool { holdDeadlineMilliseconds != nil }

    /// The units are still out of stock (sold or held).
    public var isUnreleased: Bool { !released }

    /// A barrier: no order, only the record that a release of this id came first (the saga barrier's "null
    /// compensation"), so a reservation arriving later under the id is refused (`order_cancelled`).
    public var isBarrier: Bool { sku.isEmpty }

    /// The barrier record of `orderID` (its SKU is empty: no real order has one).
    public static func barrier(orderID: String, timestampMilliseconds: Int64) -> OrderRecord {
        OrderRecord(
            orderID: orderID,
            sku: "",
            userID: "",
            amount: 0,
            oldStock: 0,
            newStock: 0,
            timestampMilliseconds: timestampMilliseconds,
            generation: 0,
            released: true
        )
    }

    /// A reservation whose units are still set aside: neither confirmed nor returned.
    public var isLiveHold: Bool { isReservation && !confirmed && !released }

    public var status: OrderStatus {
        if released { return expired ? .expired : .released }
        guard isReservation else { return .sold }
        return confirmed ? .confirmed : .held
    }

    /// The record as it was written by the deduct that created it, before any confirm, release or expiry.
    public var asCreated: OrderRecord {
        var record = self
        record.released = false
        record.confirmed = false
        record.expired = false
        return record
    }
}

/// Where an order's units are.
public enum OrderStatus: String, Sendable, Hashable, CaseIterable {
    /// Sold by a plain deduct.
    case sold
    /// Reserved: out of the stock, waiting for a confirm before the deadline.
    case held
    /// A reservation made final.
    case confirmed
    /// Returned to stock by a release.
    case released
    /// Returned to stock because the hold's deadline passed.
    case expired
}
