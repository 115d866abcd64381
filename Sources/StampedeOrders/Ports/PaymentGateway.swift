/// A payment provider: charges made once per idempotency key, their status, and refunds.
///
/// `charge` answers `done(reference: paymentID)` when the charge succeeded (now or under the same key before),
/// `refused("declined")` when the provider declined it, and a fault otherwise. `chargeStatus` answers what
/// became of the charge made under a key: `done`, `refused`, `pending`, or `notFound` when none was made.
/// `refund` answers `done` once the charge under `chargeKey` is refunded (or voided), `notFound` when there is
/// no such charge.
public protocol PaymentGateway: Sendable {
    func charge(_ charge: ChargeRequest, timeout: Duration) async -> StepResult
    func chargeStatus(idempotencyKey: String, timeout: Duration) async -> StepResult
    func refund(idempotencyKey: String, chargeKey: String, amount: Money, timeout: Duration) async -> StepResult
}

/// One charge, made at most once per `idempotencyKey`.
public struct ChargeRequest: Sendable, Hashable {
    public var idempotencyKey: String
    public var orderID: String
    public var userID: String
    public var payment: PaymentDetails

    public init(idempotencyKey: String, orderID: String, userID: String, payment: PaymentDetails) {
        self.idempotencyKey = idempotencyKey
        self.orderID = orderID
        self.userID = userID
        self.payment = payment
    }
}
