/// Where sagas are kept: each state written durably before the saga acts on it, and read back at start-up.
public protocol OrderStore: Sendable {
    /// Writes the saga (insert or replace), returning once it is durable. Throws an operating failure.
    func save(_ saga: CheckoutSaga) async throws
    func load(orderID: String) async throws -> CheckoutSaga?
    /// Up to `limit` sagas not yet final, oldest first, for resumption.
    func unfinished(limit: Int) async throws -> [CheckoutSaga]
}
