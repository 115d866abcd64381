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
    func deduct(_ request: DeductRequest) async throws -> DeductOutcome
    /// One outcome per request, in order, as if the requests were applied one after another.
    func deductBatch(_ requests: [DeductRequest]) async throws -> [DeductOutcome]
    func release(orderID: String) async throws -> ReleaseOutcome
    func log(orderID: String) async throws -> OrderRecord?
    /// All items, for the stock gauge.
    func items() async throws -> [ItemSnapshot]
}
