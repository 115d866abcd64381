import DequeModule

/// The embedded store's ledger queue: journal records not yet written to the ledger, in journal order.
///
/// The records themselves are durable in the journal (and in the snapshot's pending section after a
/// compaction); this is their index in memory. An acknowledgement is a journal record too, so a restart
/// rebuilds exactly the entries still owed to the ledger.
struct LedgerBacklog: Sendable {
    struct Pending: Sendable {
        var seq: UInt64
        var event: LedgerEvent
        var traceParent: String?
    }

    private(set) var pending = Deque<Pending>()
    /// Every record up to this sequence number is in the ledger.
    private(set) var acknowledgedSeq: UInt64 = 0

    var count: Int { pending.count }

    mutating func append(seq: UInt64, event: LedgerEvent, traceParent: String?) {
        assert(pending.last.map { $0.seq < seq } ?? true, "the backlog follows journal order")
        guard seq > acknowledgedSeq else { return }
        pending.append(Pending(seq: seq, event: event, traceParent: traceParent))
    }

    /// Gives the pending entry `seq` its trace context (read back from the journal or the snapshot); an entry
    /// already acknowledged needs none.
    mutating func attach(traceParent: String, toSeq seq: UInt64) {
        // Entries are in seq order: a binary search, since a snapshot lists its trace records after all entries.
        var low = pending.startIndex
        var high = pending.endIndex
        while low < high {
            let middle = low + (high - low) / 2
            if pending[middle].seq < seq { low = middle + 1 } else { high = middle }
        }
        guard low < pending.endIndex, pending[low].seq == seq else { return }
        pending[low].traceParent = traceParent
    }

    /// The trace context records that keep the pending entries' sampled traces in a snapshot.
    var traceRecords: [JournalRecord] {
        pending.compactMap { entry in
            guard let traceParent = entry.traceParent, LedgerTraceContext.isSampled(traceParent) else { return nil }
            return .traceContext(seq: entry.seq, traceParent: traceParent)
        }
    }

    mutating func acknowledge(through seq: UInt64) {
        acknowledgedSeq = max(acknowledgedSeq, seq)
        let covered = pending.prefix { $0.seq <= seq }.count
        pending.removeFirst(covered)
    }

    /// The oldest `max` entries whose records are durable through `durableSeq`: the ledger must never hold a
    /// sale that a crash could still take back from the store.
    func first(_ max: Int, durableThrough durableSeq: UInt64) -> [LedgerEntry] {
        pending.prefix(max).prefix { $0.seq <= durableSeq }.map {
            LedgerEntry(id: String($0.seq), event: $0.event, traceParent: $0.traceParent)
        }
    }

    var depth: LedgerQueueDepth {
        LedgerQueueDepth(
            entries: pending.count,
            oldestTimestampMilliseconds: pending.first?.event.timestampMilliseconds
        )
    }
}

extension LedgerEvent {
    /// The ledger event of a journal record, or nil for records the ledger does not track. A release takes its
    /// SKU, generation and amount from the order, so `engine` must already hold it.
    init?(record: JournalRecord, engine: borrowing InventoryEngine) {
        switch record {
        case .putItem(let sku, let config, let generation, let timestamp):
            self = .item(sku: sku, generation: generation, config: config, timestampMilliseconds: timestamp)
        case .deduct(let order):
            self = .sale(order.asCreated)
        case .release(let orderID, let timestamp):
            guard let order = engine.order(orderID) else { return nil }
            self = .release(
                orderID: orderID,
                sku: order.sku,
                generation: order.generation,
                amount: order.amount,
                timestampMilliseconds: timestamp
            )
        case .confirm(let orderID, let timestamp):
            guard let order = engine.order(orderID) else { return nil }
            self = .confirm(
                orderID: orderID,
                sku: order.sku,
                generation: order.generation,
                amount: order.amount,
                timestampMilliseconds: timestamp
            )
        case .expire(let orderID, let timestamp):
            guard let order = engine.order(orderID) else { return nil }
            self = .expire(
                orderID: orderID,
                sku: order.sku,
                generation: order.generation,
                amount: order.amount,
                timestampMilliseconds: timestamp
            )
        case .ledgerAcknowledged, .traceContext, .barrier:
            return nil
        }
    }

    /// The journal record that stores this event in the snapshot's pending section.
    var record: JournalRecord {
        switch self {
        case .item(let sku, let generation, let config, let timestamp):
            .putItem(sku: sku, config: config, generation: generation, timestampMilliseconds: timestamp)
        case .sale(let order):
            .deduct(order)
        case .release(let orderID, _, _, _, let timestamp):
            .release(orderID: orderID, timestampMilliseconds: timestamp)
        case .confirm(let orderID, _, _, _, let timestamp):
            .confirm(orderID: orderID, timestampMilliseconds: timestamp)
        case .expire(let orderID, _, _, _, let timestamp):
            .expire(orderID: orderID, timestampMilliseconds: timestamp)
        }
    }
}
