/// One line of an order: `quantity` units of `sku`.
public struct OrderLine: Sendable, Hashable, Codable {
    public var sku: String
    public var quantity: Int64

    public init(sku: String, quantity: Int64) {
        self.sku = sku
        self.quantity = quantity
    }
}

/// How the order is paid.
public struct PaymentDetails: Sendable, Hashable, Codable {
    public var amount: Money
    /// The payment method as the provider names it (`card`, `wallet`, …).
    public var method: String

    public init(amount: Money, method: String) {
        self.amount = amount
        self.method = method
    }
}

/// What a client asks for: `POST /api/v1/orders`. The same `requestID` from the same user is the same order.
public struct OrderRequest: Sendable, Hashable, Codable {
    public var requestID: String
    public var userID: String
    public var lines: [OrderLine]
    public var payment: PaymentDetails

    public init(requestID: String, userID: String, lines: [OrderLine], payment: PaymentDetails) {
        self.requestID = requestID
        self.userID = userID
        self.lines = lines
        self.payment = payment
    }

    /// The first field that breaks a rule, named as the API spells it; nil when the request is well formed.
    public func invalidField(limits: OrderLimits) -> OrderFieldError? {
        if let problem = Self.checkID(requestID, field: "request_id", limits: limits) { return problem }
        if let problem = Self.checkID(userID, field: "user_id", limits: limits) { return problem }
        guard !lines.isEmpty, lines.count <= limits.linesMax else {
            return OrderFieldError(field: "items", reason: "must hold 1 to \(limits.linesMax) lines")
        }
        var skus = Set<String>()
        for (index, line) in lines.enumerated() {
            if let problem = Self.checkID(line.sku, field: "items[\(index)].sku", limits: limits) { return problem }
            guard line.quantity >= 1, line.quantity <= limits.quantityMax else {
                return OrderFieldError(
                    field: "items[\(index)].quantity",
                    reason: "must be an integer from 1 to \(limits.quantityMax)"
                )
            }
            // A SKU listed twice would make two reservations look like one (the seed's overwrite bug).
            guard skus.insert(line.sku).inserted else {
                return OrderFieldError(field: "items[\(index)].sku", reason: "lists a SKU already in the order")
            }
        }
        guard payment.amount.amountMinor >= 1, payment.amount.amountMinor <= limits.amountMinorMax else {
            return OrderFieldError(
                field: "payment.amount_minor",
                reason: "must be an integer from 1 to \(limits.amountMinorMax) (minor units)"
            )
        }
        guard Money.isCurrencyCode(payment.amount.currency) else {
            return OrderFieldError(field: "payment.currency", reason: "must be an ISO 4217 code such as CNY")
        }
        if let problem = Self.checkID(payment.method, field: "payment.method", limits: limits) { return problem }
        return nil
    }

    /// Ids are non-empty, bounded, and free of control characters.
    public static func checkID(_ value: String, field: String, limits: OrderLimits) -> OrderFieldError? {
        let bytes = value.utf8.count
        guard bytes > 0 else { return OrderFieldError(field: field, reason: "must not be empty") }
        guard bytes <= limits.idBytesMax else {
            return OrderFieldError(field: field, reason: "must be at most \(limits.idBytesMax) bytes")
        }
        for byte in value.utf8 where byte < 0x20 || byte == 0x7F {
            return OrderFieldError(field: field, reason: "must not contain control characters")
        }
        return nil
    }
}

/// A field of an order request that breaks a rule, with a reason a user can act on.
public struct OrderFieldError: Error, Sendable, Hashable {
    public var field: String
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }
}
