/// What a deduct answered.
public struct DeductOutcome: Sendable, Hashable {
    public var code: DeductCode
    /// On success, the stock right after this deduct; on `insufficientStock`, the stock at the time; else 0.
    public var stock: Int64
    /// True when the answer is the original outcome of an earlier request with the same order id.
    public var replayed: Bool
    /// On a reservation's success, when its hold ends (milliseconds since 1970); nil otherwise.
    public var holdDeadlineMilliseconds: Int64?

    public init(code: DeductCode, stock: Int64 = 0, replayed: Bool = false, holdDeadlineMilliseconds: Int64? = nil) {
        self.code = code
        self.stock = stock
        self.replayed = replayed
        self.holdDeadlineMilliseconds = holdDeadlineMilliseconds
    }

    public var isSuccess: Bool { code == .success }
}

/// What a release answered.
public struct ReleaseOutcome: Sendable, Hashable {
    public var code: ReleaseCode
    /// Units returned to stock by this call (0 unless `released`).
    public var releasedAmount: Int64
    /// The item's stock after the call (0 when the order is unknown).
    public var stock: Int64
    public var sku: String

    public init(code: ReleaseCode, releasedAmount: Int64 = 0, stock: Int64 = 0, sku: String = "") {
        self.code = code
        self.releasedAmount = releasedAmount
        self.stock = stock
        self.sku = sku
    }
}

/// What a confirm answered.
public struct ConfirmOutcome: Sendable, Hashable {
    public var code: ConfirmCode
    /// The order's SKU and units ("" and 0 when the order is unknown).
    public var sku: String
    public var amount: Int64

    public init(code: ConfirmCode, sku: String = "", amount: Int64 = 0) {
        self.code = code
        self.sku = sku
        self.amount = amount
    }

    /// The sale is final: confirmed by this call or an earlier one.
    public var isConfirmed: Bool { code == .confirmed || code == .alreadyConfirmed }
}

/// A hold whose deadline passed: its units went back to stock.
public struct ExpiredHold: Sendable, Hashable {
    public var orderID: String
    public var sku: String
    public var amount: Int64
    /// The item's stock after the units returned.
    public var stock: Int64

    public init(orderID: String, sku: String, amount: Int64, stock: Int64) {
        self.orderID = orderID
        self.sku = sku
        self.amount = amount
        self.stock = stock
    }
}

/// What a put (create or reset) answered.
public enum PutItemOutcome: Sendable, Hashable {
    case created(ItemSnapshot)
    case reset(ItemSnapshot)
    /// The engine already holds `InventoryLimits.itemsMax` items.
    case tooManyItems(max: Int)
}
