/// `Reconciler.repair` refuses while entries are still queued for the ledger: until they are written, the ledger
/// is behind the hot store and "repairing" from it would take back sales that did happen.
public struct RepairRefusedError: Error, Sendable, CustomStringConvertible {
    public var queuedEntries: Int

    public init(queuedEntries: Int) {
        self.queuedEntries = queuedEntries
    }

    public var description: String {
        "refusing to repair: \(queuedEntries) entries are still queued for the ledger; let the worker drain them"
    }
}
