/// What `PUT /api/v1/inventory/{sku}` sets: the stock and the rules of an item.
public struct ItemConfig: Sendable, Hashable {
    public var stock: Int64
    /// Most units one user may buy of this SKU; nil means no cap.
    public var limitPerUser: Int64?
    /// A user may make one deduct request per window; 0 turns the window off.
    public var rateWindowMilliseconds: Int64

    public init(
        stock: Int64,
        limitPerUser: Int64? = nil,
        rateWindowMilliseconds: Int64 = InventoryLimits.rateWindowMillisecondsDefault
    ) {
        self.stock = stock
        self.limitPerUser = limitPerUser
        self.rateWindowMilliseconds = rateWindowMilliseconds
    }

    /// The first field that breaks a limit, or nil.
    public func invalidField(limits: InventoryLimits) -> InvalidField? {
        guard stock >= 0, stock <= limits.stockMax else {
            return InvalidField(field: "stock", reason: "must be an integer from 0 to \(limits.stockMax)")
        }
        if let limitPerUser, limitPerUser < 1 || limitPerUser > limits.limitPerUserMax {
            return InvalidField(
                field: "limit_per_user",
                reason: "must be an integer from 1 to \(limits.limitPerUserMax), or absent for no cap"
            )
        }
        guard rateWindowMilliseconds >= 0, rateWindowMilliseconds <= limits.rateWindowMillisecondsMax else {
            return InvalidField(
                field: "rate_window_ms",
                reason: "must be an integer from 0 (off) to \(limits.rateWindowMillisecondsMax)"
            )
        }
        return nil
    }
}

/// An item as seen from outside: its rules and its counters.
public struct ItemSnapshot: Sendable, Hashable {
    public var sku: String
    public var stock: Int64
    public var sold: Int64
    /// Units set aside by reservations not yet confirmed, released or expired.
    public var reserved: Int64
    public var limitPerUser: Int64?
    public var rateWindowMilliseconds: Int64

    public init(
        sku: String,
        stock: Int64,
        sold: Int64,
        reserved: Int64 = 0,
        limitPerUser: Int64?,
        rateWindowMilliseconds: Int64
    ) {
        self.sku = sku
        self.stock = stock
        self.sold = sold
        self.reserved = reserved
        self.limitPerUser = limitPerUser
        self.rateWindowMilliseconds = rateWindowMilliseconds
    }
}
