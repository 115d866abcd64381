/// Hard limits on what an order may carry, so no request makes the orders service allocate without bound.
public struct OrderLimits: Sendable, Hashable {
    /// Longest request id, user id, SKU or payment method, in UTF-8 bytes (the inventory's id limit).
    public var idBytesMax: Int
    /// Most lines (SKUs) in one order.
    public var linesMax: Int
    /// Largest quantity of one line (the inventory's largest deduct).
    public var quantityMax: Int64
    /// Largest amount one order may charge, in minor units.
    public var amountMinorMax: Int64

    public init(
        idBytesMax: Int = 128,
        linesMax: Int = 20,
        quantityMax: Int64 = 10_000,
        amountMinorMax: Int64 = 100_000_000_000
    ) {
        self.idBytesMax = idBytesMax
        self.linesMax = linesMax
        self.quantityMax = quantityMax
        self.amountMinorMax = amountMinorMax
    }

    public static let `default` = OrderLimits()
}
