/// A store the ledger can be reconciled with: it lists each item's counters with the generation they belong to.
public protocol ReconcilableStore: InventoryStore {
    /// Every item's generation and counters.
    func itemStates() async throws -> [ItemState]
}

/// An item's counters with the generation they belong to.
public struct ItemState: Sendable, Hashable {
    public var sku: String
    public var generation: UInt64
    /// The stock the generation started with.
    public var initialStock: Int64
    public var stock: Int64
    public var sold: Int64
    /// Units set aside by live holds.
    public var reserved: Int64

    public init(sku: String, generation: UInt64, initialStock: Int64, stock: Int64, sold: Int64, reserved: Int64 = 0) {
        self.sku = sku
        self.generation = generation
        self.initialStock = initialStock
        self.stock = stock
        self.sold = sold
        self.reserved = reserved
    }

    /// Units out of the stock, sold or reserved: what the ledger's sales minus releases count.
    public var taken: Int64 { sold + reserved }
}

/// What a repair did.
public enum RepairOutcome: Sendable, Hashable {
    case repaired
    /// The item is gone or was reset since it was read; nothing changed.
    case generationChanged
    /// `sold` is negative or above the generation's initial stock; nothing changed.
    case invalidSold
    /// A sale or release changed the item since it was compared; nothing changed (compare again).
    case soldChanged
    /// The hot store counts more sales than the ledger: the ledger misses entries (see the dead letters). Lowering
    /// the store's count would put units back on sale that were sold, so the item is left alone.
    case storeAhead
}
