import StampedeInventory
import StampedeTelemetry
import Tracing

/// The `inventory.deduct` span's attributes (seed 001's names), built only if the span is exported.
struct DeductSpanAttributes: DeferredSpanAttributes {
    let deduct: DeductRequest
    /// The result code's name, or `error`.
    let result: String
    /// The stock after a successful deduct.
    let newStock: Int64?

    func spanAttributes() -> SpanAttributes {
        var attributes = SpanAttributes()
        attributes.reserveCapacity(6)
        attributes["inventory.sku"] = deduct.sku
        attributes["user.id"] = deduct.userID
        attributes["order.id"] = deduct.orderID
        attributes["inventory.amount"] = Int(deduct.amount)
        attributes["inventory.result"] = result
        attributes["inventory.new_stock"] = newStock.map { Int($0) }
        return attributes
    }

    var estimatedBytes: Int {
        Self.estimate(
            attributes: 6,
            stringBytes: deduct.sku.utf8.count + deduct.userID.utf8.count + deduct.orderID.utf8.count
                + result.utf8.count
        )
    }
}
