/// What a deduct answered.
public struct DeductOutcome: Sendable, Hashable {
    public var code: DeductCode
    /// On success, the stock right after this deduct; on `insufficientStock`, the stock at the time; else 0.
    public var stock: Int64
    /// True when the answer is the original outcome of an earlier request with the same order id.
    public var replayed: Bool

    public init(code: DeductCode, stock: Int64 = 0, replayed: Bool = false) {
        self.code = code
        self.stock = stock
        self.replayed = replayed
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

/// What a put (create or reset) answered.
public enum PutItemOutcome: Sendable, Hashable {
    case created(ItemSnapshot)
    case reset(ItemSnapshot)
    /// The engine already holds `InventoryLimits.itemsMax` items.
    case tooManyItems(max: Int)
}
