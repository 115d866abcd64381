/// Where sagas are kept: each state written durably before the saga acts on it, and read back at start-up.
public protocol OrderStore: Sendable {
    /// Writes the saga (insert or replace), returning once it is durable. Throws an operating failure.
    func save(_ saga: CheckoutSaga) async throws
    /// Writes a new saga unless one with its order id exists, which is returned instead (nothing written).
    func create(_ saga: CheckoutSaga) async throws -> CheckoutSaga?
    func load(orderID: String) async throws -> CheckoutSaga?
    /// Up to `limit` sagas not yet final, oldest first, for resumption.
    func unfinished(limit: Int) async throws -> [CheckoutSaga]
    /// A user's orders, newest first, `limit` at a time after the order id `cursor`.
    func orders(userID: String, after cursor: String?, limit: Int) async throws -> OrderPage
}
