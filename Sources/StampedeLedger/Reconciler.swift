import StampedeInventory

/// Compares each SKU's taken units (sold or reserved) in the hot store (Redis or embedded) with the ledger, and can
/// repair the hot store from the ledger.
///
/// The ledger wins: its rows are committed to PostgreSQL and every sale reaches it through the queue, while the
/// hot store can lose its tail (Redis without `appendfsync always`, a failover to a lagging replica, a manual
/// edit). A hot store that counts fewer sales than the ledger would sell units twice. Drift is only meaningful
/// once the queue is drained: entries still queued are sales the ledger does not have yet, so ``repair`` refuses
/// to run while the queue holds entries.
public struct Reconciler: Sendable {
    let store: any ReconcilableStore
    let ledger: PostgresLedger
    let queue: (any LedgerQueue)?

    public init(store: any ReconcilableStore, ledger: PostgresLedger, queue: (any LedgerQueue)?) {
        self.store = store
        self.ledger = ledger
        self.queue = queue
    }

    /// Reads both sides (the queue depth first, so entries queued meanwhile show as drift rather than hide it).
    public func compare() async throws -> Reconciliation {
        let depth = try await queue?.depth()
        let hot = try await store.itemStates()
        let ledgerTotals = try await ledger.totals()
        var byLedger: [String: LedgerItemTotals] = [:]
        for total in ledgerTotals { byLedger[total.sku] = total }
        var rows: [ReconciliationRow] = []
        for state in hot {
            rows.append(
                ReconciliationRow(sku: state.sku, store: state, ledger: byLedger.removeValue(forKey: state.sku))
            )
        }
        for total in byLedger.values { rows.append(ReconciliationRow(sku: total.sku, store: nil, ledger: total)) }
        rows.sort { $0.sku < $1.sku }
        return Reconciliation(rows: rows, queuedEntries: depth?.entries)
    }

    /// Publishes the drift of `reconciliation` as metrics.
    public static func record(_ reconciliation: Reconciliation, metrics: LedgerMetrics) {
        var drift: [String: Int64] = [:]
        for row in reconciliation.rows where row.status != .inSync { drift[row.sku] = row.driftUnits }
        metrics.recordDrift(drift)
    }

    /// Raises every SKU the hot store counts fewer taken units for than the ledger to the ledger's count (the store
    /// lost its tail). Only SKUs at the same generation on both sides are repaired, each by compare-and-set on
    /// the taken units it was compared with; a store ahead of the ledger is reported, never lowered.
    public func repair(
        _ reconciliation: Reconciliation,
        using repairItem:
            @Sendable (_ sku: String, _ generation: UInt64, _ expectedTaken: Int64, _ taken: Int64)
            async throws -> RepairOutcome
    ) async throws -> [String: RepairOutcome] {
        if let queued = reconciliation.queuedEntries, queued > 0 { throw RepairRefusedError(queuedEntries: queued) }
        var outcomes: [String: RepairOutcome] = [:]
        for row in reconciliation.rows where row.status == .drift {
            guard let ledger = row.ledger, let store = row.store else { continue }
            guard store.taken < ledger.sold else {
                outcomes[row.sku] = .storeAhead
                continue
            }
            outcomes[row.sku] = try await repairItem(row.sku, ledger.generation, store.taken, ledger.sold)
        }
        return outcomes
    }
}

/// Both sides of every SKU.
public struct Reconciliation: Sendable {
    public var rows: [ReconciliationRow]
    /// Entries still in the queue when the comparison started (nil when the queue was not consulted).
    public var queuedEntries: Int?

    public var drifting: [ReconciliationRow] { rows.filter { $0.status != .inSync } }

    /// A fixed-width table of the drifting SKUs (all SKUs with `all`), for the terminal.
    public func table(all: Bool = false) -> String {
        let shown = all ? rows : drifting
        var lines = [
            Self.line("SKU", "STATUS", "STORE GEN", "STORE TAKEN", "STORE STOCK", "LEDGER GEN", "LEDGER TAKEN", "DRIFT")
        ]
        for row in shown {
            lines.append(
                Self.line(
                    row.sku,
                    row.status.rawValue,
                    row.store.map { "\($0.generation)" } ?? "-",
                    row.store.map { "\($0.taken)" } ?? "-",
                    row.store.map { "\($0.stock)" } ?? "-",
                    row.ledger.map { "\($0.generation)" } ?? "-",
                    row.ledger.map { "\($0.sold)" } ?? "-",
                    "\(row.driftUnits)"
                )
            )
        }
        return lines.joined(separator: "\n")
    }

    private static func line(_ columns: String...) -> String {
        let widths = [24, 20, 10, 12, 12, 11, 12, 8]
        return zip(columns, widths).map { column, width in
            column.count >= width ? column + " " : column + String(repeating: " ", count: width - column.count)
        }.joined()
    }
}

/// One SKU on both sides.
public struct ReconciliationRow: Sendable, Hashable {
    public enum Status: String, Sendable {
        case inSync = "in_sync"
        /// Same generation, different taken units.
        case drift
        /// The sides are at different generations (a reset not yet in the ledger, or lost).
        case generationMismatch = "generation_mismatch"
        case missingInLedger = "missing_in_ledger"
        case missingInStore = "missing_in_store"
    }

    public var sku: String
    public var store: ItemState?
    public var ledger: LedgerItemTotals?

    public var status: Status {
        guard let store else { return .missingInStore }
        guard let ledger else { return .missingInLedger }
        guard store.generation == ledger.generation else { return .generationMismatch }
        return store.taken == ledger.sold ? .inSync : .drift
    }

    /// Store taken minus ledger taken (positive: the store counts sales or holds the ledger lacks).
    public var driftUnits: Int64 { (store?.taken ?? 0) - (ledger?.sold ?? 0) }
}
