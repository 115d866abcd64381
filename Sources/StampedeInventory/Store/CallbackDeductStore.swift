/// A store that can run a deduct without a Swift task, reporting its outcome through a callback.
///
/// The HTTP layer answers `POST …/deduct` on the connection's event loop for such a store, skipping the router's
/// per-request task and its thread hops. The async `deduct(_:)` and this one must give the same outcome.
public protocol CallbackDeductStore: InventoryStore {
    /// Starts `request` and calls `completion` exactly once, on any thread, with its outcome or an operating
    /// failure (an ``InventoryStoreError``). Runs in the caller's `ServiceContext`, like `deduct(_:)`.
    func deduct(_ request: DeductRequest, completion: @escaping @Sendable (Result<DeductOutcome, any Error>) -> Void)
}
