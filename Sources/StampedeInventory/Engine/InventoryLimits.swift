/// Hard limits on everything the inventory engine accepts or keeps.
///
/// Every identifier, amount and table has a bound, so that no request can make the engine allocate without
/// limit. The relationships between limits are checked in `InventoryLimitsTests`.
public struct InventoryLimits: Sendable, Hashable {
    /// Longest SKU, user id or order id, in UTF-8 bytes.
    public var idBytesMax: Int
    /// Largest amount one deduct may take.
    public var amountMax: Int64
    /// Largest stock an item may be given.
    public var stockMax: Int64
    /// Largest per-user cap.
    public var limitPerUserMax: Int64
    /// Longest per-user request window, in milliseconds.
    public var rateWindowMillisecondsMax: Int64
    /// Most items one batch deduct may carry.
    public var batchItemsMax: Int
    /// Most items (SKUs) the engine holds.
    public var itemsMax: Int
    /// Most order records the engine holds. Each record is kept for idempotency for as long as the data lives,
    /// so this bounds memory (about 200 bytes each): past it, deducts answer `capacity_exhausted`. Records are
    /// never dropped by this version; a new data directory starts over (see docs/operations.md).
    public var orderRecordsMax: Int
    /// Most users tracked per item inside one rate window. Beyond it, new users are rate limited (fail closed).
    public var rateWindowUsersMax: Int
    /// Shortest hold a reservation may ask for, in milliseconds.
    public var holdMillisecondsMin: Int64
    /// Longest hold a reservation may ask for, in milliseconds (a day: an unpaid order gives its units back).
    public var holdMillisecondsMax: Int64

    public init(
        idBytesMax: Int = 128,
        amountMax: Int64 = 10_000,
        stockMax: Int64 = 1_000_000_000_000,
        limitPerUserMax: Int64 = 1_000_000_000,
        rateWindowMillisecondsMax: Int64 = 3_600_000,
        batchItemsMax: Int = 100,
        itemsMax: Int = 100_000,
        orderRecordsMax: Int = 20_000_000,
        rateWindowUsersMax: Int = 1_000_000,
        holdMillisecondsMin: Int64 = 100,
        holdMillisecondsMax: Int64 = 86_400_000
    ) {
        self.idBytesMax = idBytesMax
        self.amountMax = amountMax
        self.stockMax = stockMax
        self.limitPerUserMax = limitPerUserMax
        self.rateWindowMillisecondsMax = rateWindowMillisecondsMax
        self.batchItemsMax = batchItemsMax
        self.itemsMax = itemsMax
        self.orderRecordsMax = orderRecordsMax
        self.rateWindowUsersMax = rateWindowUsersMax
        self.holdMillisecondsMin = holdMillisecondsMin
        self.holdMillisecondsMax = holdMillisecondsMax
    }

    public static let `default` = InventoryLimits()

    /// The default per-user request window (seed 001: one request per user per second).
    public static let rateWindowMillisecondsDefault: Int64 = 1000
}
