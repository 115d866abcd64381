/// One request to take `amount` units of `sku` for `userID` under `orderID`.
public struct DeductRequest: Sendable, Hashable {
    public var sku: String
    public var userID: String
    public var orderID: String
    public var amount: Int64
    /// For a reservation, how long its units stay aside before they return by themselves (milliseconds); nil
    /// for a plain deduct, whose sale is final at once.
    public var holdMilliseconds: Int64?
    /// The W3C `traceparent` of the request, carried into its ledger entry. When nil, a store with a ledger takes
    /// the current task's trace context.
    public var traceParent: String?

    public init(
        sku: String,
        userID: String,
        orderID: String,
        amount: Int64,
        holdMilliseconds: Int64? = nil,
        traceParent: String? = nil
    ) {
        self.sku = sku
        self.userID = userID
        self.orderID = orderID
        self.amount = amount
        self.holdMilliseconds = holdMilliseconds
        self.traceParent = traceParent
    }

    /// The first field that breaks a limit, or nil when the request is well formed.
    public func invalidField(limits: InventoryLimits) -> InvalidField? {
        if let problem = InvalidField.checkID(sku, field: "sku", limits: limits) { return problem }
        if let problem = InvalidField.checkID(userID, field: "user_id", limits: limits) { return problem }
        if let problem = InvalidField.checkID(orderID, field: "order_id", limits: limits) { return problem }
        guard amount >= 1, amount <= limits.amountMax else {
            return InvalidField(field: "amount", reason: "must be an integer from 1 to \(limits.amountMax)")
        }
        if let holdMilliseconds,
            holdMilliseconds < limits.holdMillisecondsMin || holdMilliseconds > limits.holdMillisecondsMax
        {
            return InvalidField(
                field: "hold_ms",
                reason: "must be an integer from \(limits.holdMillisecondsMin) to \(limits.holdMillisecondsMax)"
            )
        }
        return nil
    }
}

/// A field of a request that breaks a rule, with a reason a user can act on.
public struct InvalidField: Sendable, Hashable, Error {
    public var field: String
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    /// Ids are non-empty, at most `idBytesMax` UTF-8 bytes, and free of control characters.
    public static func checkID(_ value: String, field: String, limits: InventoryLimits) -> InvalidField? {
        let bytes = value.utf8.count
        guard bytes > 0 else { return InvalidField(field: field, reason: "must not be empty") }
        guard bytes <= limits.idBytesMax else {
            return InvalidField(field: field, reason: "must be at most \(limits.idBytesMax) bytes")
        }
        for byte in value.utf8 where byte < 0x20 || byte == 0x7F {
            return InvalidField(field: field, reason: "must not contain control characters")
        }
        return nil
    }
}
