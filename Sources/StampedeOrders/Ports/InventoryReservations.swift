/// The inventory as the checkout sees it: holds that are confirmed or released, one per order line.
///
/// Each call answers a ``StepResult``: `done` when applied (or applied before under the same reservation id),
/// `refused(code)` with the inventory's code (`insufficient_stock`, `hold_expired`, …), and a fault otherwise.
/// An adapter classifies its failures: a timeout or a lost reply is `uncertain`, a refused connection
/// `notApplied`. The reservation id is the idempotency key, so a repeated call is harmless.
public protocol InventoryReservations: Sendable {
    func reserve(_ hold: ReservationHold, timeout: Duration) async -> StepResult
    func confirm(reservationID: String, timeout: Duration) async -> StepResult
    func release(reservationID: String, timeout: Duration) async -> StepResult
}

/// One line's reservation.
public struct ReservationHold: Sendable, Hashable {
    public var reservationID: String
    public var sku: String
    public var userID: String
    public var quantity: Int64
    public var holdMilliseconds: Int64

    public init(reservationID: String, sku: String, userID: String, quantity: Int64, holdMilliseconds: Int64) {
        self.reservationID = reservationID
        self.sku = sku
        self.userID = userID
        self.quantity = quantity
        self.holdMilliseconds = holdMilliseconds
    }
}
