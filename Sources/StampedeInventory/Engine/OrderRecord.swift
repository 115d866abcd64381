/// The deduct log record of one order (seed 001's `inventory:log:{order_id}` hash), kept for idempotency.
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
    /// Whether the units went back to stock by a release.
    public var released: Bool

    public init(
        orderID: String,
        sku: String,
        userID: String,
        amount: Int64,
        oldStock: Int64,
        newStock: Int64,
        timestampMilliseconds: Int64,
        generation: UInt64,
        released: Bool
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
    }

    /// Whether `request` is the same deduct as the one this record logged.
    public func matches(_ request: DeductRequest) -> Bool {
        request.sku == sku && request.userID == userID && request.amount == amount
    }
}
