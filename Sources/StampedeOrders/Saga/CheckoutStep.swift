/// The steps of a checkout. Forward: reserve, charge (and its status query), confirm. Compensations, run in
/// reverse order: refund (undoes charge), release (undoes reserve).
public enum CheckoutStep: String, Sendable, Hashable, Codable, CaseIterable {
    case reserve
    case charge
    /// Asks the provider what became of a charge whose answer was lost.
    case chargeStatus = "charge_status"
    case confirm
    case refund
    case release

    public var isCompensation: Bool { self == .refund || self == .release }

    /// The client span of a call (the seed's names, made consistent: `{service}.{operation}`).
    public var spanName: String {
        switch self {
        case .reserve: "inventory.reserve"
        case .charge: "payment.create"
        case .chargeStatus: "payment.status"
        case .confirm: "inventory.confirm"
        case .refund: "payment.refund"
        case .release: "inventory.release"
        }
    }

    /// The idempotency key every call of this step carries: `{order_id}:{step}`. A status query asks about
    /// the charge, so it carries the charge's key.
    public func idempotencyKey(orderID: String) -> String {
        "\(orderID):\(self == .chargeStatus ? CheckoutStep.charge.rawValue : rawValue)"
    }
}

/// Where an order is. Forward: `created → reserving → reserved → charging → paid → confirmed`; a failure turns
/// it to `compensating`, which ends in `cancelled` (or `expired` when its deadline passed, `failed` when a
/// compensation is refused for good).
public enum OrderStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case created
    case reserving
    case reserved
    case charging
    case paid
    case confirmed
    case compensating
    case cancelled
    case expired
    case failed

    /// No action follows.
    public var isFinal: Bool { self == .confirmed || self == .cancelled || self == .expired || self == .failed }
}

/// Why an order was compensated: the API's `reason`, a stable name.
public enum CancelReason: String, Sendable, Hashable, Codable {
    case insufficientStock = "insufficient_stock"
    case userLimitExceeded = "user_limit_exceeded"
    case stockNotFound = "stock_not_found"
    /// The inventory refused for another business reason (its code is in the step history).
    case reservationRefused = "reservation_refused"
    case paymentDeclined = "payment_declined"
    /// The hold passed its deadline before the order was confirmed; the charge is refunded.
    case holdExpired = "hold_expired"
    /// A step kept failing until its attempts ran out.
    case stepUnavailable = "step_unavailable"
    case deadlineExceeded = "deadline_exceeded"
    case cancelledByUser = "cancelled_by_user"
}
