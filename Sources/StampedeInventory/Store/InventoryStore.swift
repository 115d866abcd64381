/// The seam between the HTTP layer and where inventory lives: embedded (journal on local disk) or Redis.
///
/// Business outcomes come back as result codes; operating failures are thrown as ``InventoryStoreError``.
/// Every implementation passes the same behaviour suite.
public protocol InventoryStore: Sendable {
    var limits: InventoryLimits { get }
    /// True once recovery finished and while the store can take writes.
    var isReady: Bool { get }

    func putItem(sku: String, config: ItemConfig) async throws -> PutItemOutcome
    func item(sku: String) async throws -> ItemSnapshot?
    /// A deduct; with `request.holdMilliseconds` set, a reservation whose units stay aside until ``confirm(orderID:)``,
    /// ``release(orderID:)`` or its deadline.
    func deduct(_ request: DeductRequest) async throws -> DeductOutcome
    /// One outcome per request, in order, as if the requests were applied one after another.
    func deductBatch(_ requests: [DeductRequest]) async throws -> [DeductOutcome]
    /// Returns an order's units to stock, exactly once: a sale's, a confirmed reservation's or a live hold's. With
    /// `recordingIfUnknown` (a saga's compensation), a release of an id never seen closes the id: a reservation
    /// arriving later under it answers `order_cancelled`.
    func release(orderID: String, recordingIfUnknown: Bool) async throws -> ReleaseOutcome
    /// Makes a reservation's sale final while its hold is live.
    func confirm(orderID: String) async throws -> ConfirmOutcome
    /// Expires up to `max` holds whose deadline passed (their units return), earliest first. Safe to call from
    /// every instance at once: each hold expires exactly once.
    func expireHolds(max: Int) async throws -> [ExpiredHold]
    func log(orderID: String) async throws -> OrderRecord?
    /// All items, for the stock gauge.
    func items() async throws -> [ItemSnapshot]
}

extension InventoryStore {
    /// A release that leaves nothing behind for an unknown id (the public route's).
    public func release(orderID: String) async throws -> ReleaseOutcome {
        try await release(orderID: orderID, recordingIfUnknown: false)
    }
}
