/// An operating failure of an inventory store: the request's outcome is unknown or was not stored.
///
/// `description` is safe to show to clients; `debugDescription` carries the underlying detail for logs.
public struct InventoryStoreError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let value: String
        private init(_ value: String) { self.value = value }
        /// The store cannot write: disk error or a failed fsync. The store stops taking writes (fail-stop).
        public static let storageFailed = Code("storage_failed")
        /// Too many writes are waiting for the disk; retry later.
        public static let storageBusy = Code("storage_busy")
        /// The store is starting, recovering or shutting down.
        public static let notReady = Code("not_ready")
        /// The data on disk cannot be read back consistently.
        public static let corrupted = Code("corrupted")
        /// The data directory is in use by another process, or cannot be opened.
        public static let dataDirectoryUnavailable = Code("data_directory_unavailable")
        /// The shared store (Redis) cannot be reached; the operation was not applied, or its outcome is unknown
        /// when the connection broke while it ran. Retrying with the same order id is safe.
        public static let storeUnavailable = Code("store_unavailable")
        /// The shared store did not answer in time; the outcome is unknown. Retrying with the same order id is safe.
        public static let storeTimeout = Code("store_timeout")
        /// The write-behind queue to the PostgreSQL ledger holds its maximum of entries (the ledger is down or
        /// slow); the operation was not applied. Retry later.
        public static let ledgerBacklogFull = Code("ledger_backlog_full")
        public var description: String { value }
    }

    public var code: Code
    public var context: String
    public var underlying: (any Error)?

    public init(_ code: Code, context: String, underlying: (any Error)? = nil) {
        self.code = code
        self.context = context
        self.underlying = underlying
    }

    public var description: String { "inventory store error: \(code)" }

    public var debugDescription: String {
        var text = "inventory store error: \(code): \(context)"
        if let underlying { text += " (\(underlying))" }
        return text
    }
}
