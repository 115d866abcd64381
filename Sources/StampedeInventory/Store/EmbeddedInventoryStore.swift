import Logging
import Synchronization

/// The embedded default: the engine in memory behind one lock, made durable by a journal with group commit.
///
/// A change is applied and appended to the journal under the same lock, so the journal's order is the order
/// in which answers were computed. The answer is sent only after the journal reports its record durable.
public final class EmbeddedInventoryStore: InventoryStore {
    public struct Configuration: Sendable {
        public var dataDirectory: String
        public var durability: Durability
        public var limits: InventoryLimits

        public init(dataDirectory: String, durability: Durability = .sync, limits: InventoryLimits = .default) {
            self.dataDirectory = dataDirectory
            self.durability = durability
            self.limits = limits
        }
    }

    public let limits: InventoryLimits
    private let engine: Mutex<InventoryEngine>
    private let journal: JournalWriter
    private let directory: DataDirectory
    private let clock: @Sendable () -> Int64
    private let closed = Atomic<Bool>(false)

    /// Recovers the state from `configuration.dataDirectory` and opens the journal.
    public init(
        configuration: Configuration,
        logger: Logger,
        clock: @escaping @Sendable () -> Int64 = InventoryClock.wallClockMilliseconds
    ) throws(InventoryStoreError) {
        var directory = DataDirectory(path: configuration.dataDirectory, logger: logger)
        try directory.lock()
        var engine = InventoryEngine(limits: configuration.limits)
        let fd: Int32
        let lastSeq: UInt64
        do {
            lastSeq = try directory.recover(into: &engine)
            if directory.needsCompaction { try directory.compact(engine, lastSeq: lastSeq) }
            fd = try directory.openJournal()
        } catch {
            directory.unlock()
            throw error
        }
        self.limits = configuration.limits
        self.directory = directory
        self.engine = Mutex(engine)
        self.journal = JournalWriter(
            fd: fd,
            path: directory.journalPath,
            lastSeq: lastSeq,
            durability: configuration.durability
        )
        self.clock = clock
        logger.info(
            "inventory store recovered",
            metadata: [
                "items": "\(engine.itemCount)", "orders": "\(engine.orderCount)", "seq": "\(lastSeq)",
                "durability": "\(configuration.durability.rawValue)",
            ]
        )
    }

    public var isReady: Bool { !closed.load(ordering: .relaxed) && journal.failure == nil }

    public func putItem(sku: String, config: ItemConfig) async throws -> PutItemOutcome {
        let now = clock()
        let (outcome, seq) = try engine.withLock { engine throws(InventoryStoreError) in
            try journal.checkWritable()
            let (outcome, record) = engine.put(sku: sku, config: config, now: now)
            return (outcome, record.map { journal.append($0) })
        }
        if let seq { try await journal.waitDurable(seq) }
        return outcome
    }

    public func item(sku: String) async throws -> ItemSnapshot? {
        engine.withLock { $0.item(sku) }
    }

    public func deduct(_ request: DeductRequest) async throws -> DeductOutcome {
        let now = clock()
        let (outcome, seq) = try engine.withLock { engine throws(InventoryStoreError) in
            try journal.checkWritable()
            let (outcome, record) = engine.deduct(request, now: now)
            return (outcome, durableSeq(for: outcome.isSuccess, record: record))
        }
        if let seq { try await journal.waitDurable(seq) }
        return outcome
    }

    public func deductBatch(_ requests: [DeductRequest]) async throws -> [DeductOutcome] {
        precondition(requests.count <= limits.batchItemsMax, "the HTTP layer bounds batches")
        let now = clock()
        let (outcomes, seq) = try engine.withLock { engine throws(InventoryStoreError) in
            try journal.checkWritable()
            var outcomes: [DeductOutcome] = []
            outcomes.reserveCapacity(requests.count)
            var seq: UInt64?
            for request in requests {
                let (outcome, record) = engine.deduct(request, now: now)
                outcomes.append(outcome)
                if let next = durableSeq(for: outcome.isSuccess, record: record) { seq = next }
            }
            return (outcomes, seq)
        }
        if let seq { try await journal.waitDurable(seq) }
        return outcomes
    }

    public func release(orderID: String) async throws -> ReleaseOutcome {
        let now = clock()
        let (outcome, seq) = try engine.withLock { engine throws(InventoryStoreError) in
            try journal.checkWritable()
            let (outcome, record) = engine.release(orderID: orderID, now: now)
            return (outcome, durableSeq(for: outcome.code != .orderNotFound, record: record))
        }
        if let seq { try await journal.waitDurable(seq) }
        return outcome
    }

    public func log(orderID: String) async throws -> OrderRecord? {
        let (order, seq) = engine.withLock { engine in
            (engine.order(orderID), journal.appendedSeq)
        }
        // A log record is shown only once it is durable, like the answer of the deduct that wrote it.
        if order != nil { try await journal.waitDurable(seq) }
        return order
    }

    public func items() async throws -> [ItemSnapshot] {
        engine.withLock { $0.allItems() }
    }

    /// Flushes the journal and releases the data directory. Later writes fail with `notReady`.
    public func close() async {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        await journal.close()
        directory.unlock()
    }

    /// The record to wait for before answering: the new record, or for an answer that reads state an earlier
    /// request wrote (a replay, an already-released order), everything appended so far. Must run under the lock.
    private func durableSeq(for needsDurability: Bool, record: JournalRecord?) -> UInt64? {
        if let record { return journal.append(record) }
        return needsDurability ? journal.appendedSeq : nil
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
