import Logging
import StampedeJournal
import Synchronization

/// The embedded default: the engine in memory behind one lock, made durable by a journal with group commit.
///
/// A change is applied and appended to the journal under the same lock, so the journal's order is the order
/// in which answers were computed. The answer is sent only after the journal reports its record durable.
///
/// With a ledger, the journal is also the ledger's queue: every put, sale and release is a journal record, and
/// the records not yet acknowledged by the ledger worker are the backlog (see ``EmbeddedLedgerQueue``).
public final class EmbeddedInventoryStore: ReconcilableStore, CallbackDeductStore {
    public struct Configuration: Sendable {
        public var dataDirectory: String
        public var durability: Durability
        public var limits: InventoryLimits
        /// Most journal records waiting for the ledger; past it writes fail with `ledger_backlog_full`.
        /// Nil when there is no ledger.
        public var ledgerBacklogMax: Int?

        public init(
            dataDirectory: String,
            durability: Durability = .sync,
            limits: InventoryLimits = .default,
            ledgerBacklogMax: Int? = nil
        ) {
            self.dataDirectory = dataDirectory
            self.durability = durability
            self.limits = limits
            self.ledgerBacklogMax = ledgerBacklogMax
        }
    }

    public let limits: InventoryLimits
    private let engine: Mutex<InventoryEngine>
    private let journal: JournalWriter
    private let directory: DataDirectory
    private let clock: @Sendable () -> Int64
    private let closed = Atomic<Bool>(false)
    /// Lock order: `engine`, then `backlog`.
    private let backlog: Mutex<LedgerBacklog>
    private let ledgerBacklogMax: Int?

    /// Recovers the state from `configuration.dataDirectory` and opens the journal.
    public init(
        configuration: Configuration,
        logger: Logger,
        clock: @escaping @Sendable () -> Int64 = InventoryClock.wallClockMilliseconds
    ) throws(InventoryStoreError) {
        var directory = DataDirectory(path: configuration.dataDirectory, logger: logger)
        try directory.lock()
        var engine = InventoryEngine(limits: configuration.limits)
        var backlog: LedgerBacklog? = configuration.ledgerBacklogMax == nil ? nil : LedgerBacklog()
        let fd: Int32
        let lastSeq: UInt64
        do {
            lastSeq = try directory.recover(into: &engine, backlog: &backlog)
            if directory.needsCompaction { try directory.compact(engine, lastSeq: lastSeq, backlog: backlog) }
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
        self.ledgerBacklogMax = configuration.ledgerBacklogMax
        self.backlog = Mutex(backlog ?? LedgerBacklog())
        logger.info(
            "inventory store recovered",
            metadata: [
                "items": "\(engine.itemCount)", "orders": "\(engine.orderCount)", "seq": "\(lastSeq)",
                "ledger_backlog": "\(backlog?.count ?? 0)",
                "durability": "\(configuration.durability.rawValue)",
            ]
        )
    }

    public var isReady: Bool { !closed.load(ordering: .relaxed) && journal.failure == nil }

    public func putItem(sku: String, config: ItemConfig) async throws -> PutItemOutcome {
        let now = clock()
        let traceParent = currentTraceParent()
        let (outcome, seq) = try engine.withLock { engine throws(InventoryStoreError) in
            try checkWritable()
            let (outcome, record) = engine.put(sku: sku, config: config, now: now)
            return (outcome, record.map { append($0, engine: engine, traceParent: traceParent) })
        }
        if let seq { try await waitDurable(seq) }
        return outcome
    }

    public func item(sku: String) async throws -> ItemSnapshot? {
        engine.withLock { $0.item(sku) }
    }

    public func deduct(_ request: DeductRequest) async throws -> DeductOutcome {
        let (outcome, seq) = try apply(request)
        if let seq { try await waitDurable(seq) }
        return outcome
    }

    /// The deduct without a task: `completion` runs at once when nothing must reach the disk first, else on the
    /// journal writer's thread once the record is durable (fsynced in `sync`, written in `async`).
    public func deduct(
        _ request: DeductRequest,
        completion: @escaping @Sendable (Result<DeductOutcome, any Error>) -> Void
    ) {
        let outcome: DeductOutcome
        let seq: UInt64?
        do {
            (outcome, seq) = try apply(request)
        } catch {
            completion(.failure(error))
            return
        }
        guard let seq else {
            completion(.success(outcome))
            return
        }
        journal.waitDurable(seq) { result in
            completion(result.map { outcome }.mapError { InventoryStoreError($0) as any Error })
        }
    }

    /// Applies a deduct under the engine lock; the journal sequence number its answer waits for, if any.
    private func apply(_ request: DeductRequest) throws(InventoryStoreError) -> (DeductOutcome, UInt64?) {
        let now = clock()
        let traceParent = request.traceParent ?? currentTraceParent()
        return try engine.withLock { engine throws(InventoryStoreError) in
            try checkWritable()
            let (outcome, record) = engine.deduct(request, now: now)
            return (
                outcome, durableSeq(for: outcome.isSuccess, record: record, engine: engine, traceParent: traceParent)
            )
        }
    }

    public func deductBatch(_ requests: [DeductRequest]) async throws -> [DeductOutcome] {
        precondition(requests.count <= limits.batchItemsMax, "the HTTP layer bounds batches")
        let now = clock()
        let traceParent = currentTraceParent()
        let (outcomes, seq) = try engine.withLock { engine throws(InventoryStoreError) in
            try checkWritable()
            var outcomes: [DeductOutcome] = []
            outcomes.reserveCapacity(requests.count)
            var seq: UInt64?
            for request in requests {
                let (outcome, record) = engine.deduct(request, now: now)
                outcomes.append(outcome)
                let next = durableSeq(
                    for: outcome.isSuccess,
                    record: record,
                    engine: engine,
                    traceParent: request.traceParent ?? traceParent
                )
                if let next { seq = next }
            }
            return (outcomes, seq)
        }
        if let seq { try await waitDurable(seq) }
        return outcomes
    }

    public func release(orderID: String, recordingIfUnknown: Bool) async throws -> ReleaseOutcome {
        let now = clock()
        let traceParent = currentTraceParent()
        let (outcome, seq) = try engine.withLock { engine throws(InventoryStoreError) in
            try checkWritable()
            let (outcome, record) = engine.release(orderID: orderID, now: now, recordingIfUnknown: recordingIfUnknown)
            let needsDurability = outcome.code != .orderNotFound || record != nil
            return (outcome, durableSeq(for: needsDurability, record: record, engine: engine, traceParent: traceParent))
        }
        if let seq { try await waitDurable(seq) }
        return outcome
    }

    public func confirm(orderID: String) async throws -> ConfirmOutcome {
        let now = clock()
        let traceParent = currentTraceParent()
        let (outcome, seq) = try engine.withLock { engine throws(InventoryStoreError) in
            try checkWritable()
            let (outcome, record) = engine.confirm(orderID: orderID, now: now)
            let needsDurability = outcome.code != .orderNotFound
            return (outcome, durableSeq(for: needsDurability, record: record, engine: engine, traceParent: traceParent))
        }
        if let seq { try await waitDurable(seq) }
        return outcome
    }

    public func expireHolds(max: Int) async throws -> [ExpiredHold] {
        let now = clock()
        let (expired, seq) = try engine.withLock { engine throws(InventoryStoreError) in
            // Nothing due: no journal or ledger check, so an idle sweep costs one lock.
            guard let earliest = engine.earliestHoldDeadline, earliest <= now else {
                return ([ExpiredHold](), UInt64?.none)
            }
            try checkWritable()
            let due = engine.expireDue(now: now, max: max)
            var seq: UInt64?
            for (_, record) in due { seq = append(record, engine: engine, traceParent: nil) }
            return (due.map(\.0), seq)
        }
        if let seq { try await waitDurable(seq) }
        return expired
    }

    public func log(orderID: String) async throws -> OrderRecord? {
        let (order, seq) = engine.withLock { engine in
            (engine.order(orderID), journal.appendedSeq)
        }
        // A log record is shown only once it is durable, like the answer of the deduct that wrote it.
        if order != nil { try await waitDurable(seq) }
        return order
    }

    public func items() async throws -> [ItemSnapshot] {
        engine.withLock { $0.allItems() }
    }

    public func itemStates() async throws -> [ItemState] {
        engine.withLock { $0.itemStates() }
    }

    // MARK: Ledger queue

    /// Whether the store keeps a ledger backlog (it was opened with `ledgerBacklogMax`).
    public var hasLedger: Bool { ledgerBacklogMax != nil }

    /// The oldest `max` entries the ledger has not acknowledged, in journal order.
    public func ledgerEntries(max: Int) -> [LedgerEntry] {
        let durableSeq = journal.durableSeq
        return backlog.withLock { $0.first(max, durableThrough: durableSeq) }
    }

    /// Records that the ledger holds every entry up to journal sequence number `seq`. The acknowledgement is a
    /// journal record: if it is lost in a crash, the entries are sent again and the ledger ignores them.
    /// Needs no engine lock (deducts go on meanwhile): the entries are in the journal already, and the journal
    /// and the backlog have locks of their own.
    public func acknowledgeLedger(through seq: UInt64) throws(InventoryStoreError) {
        try checkJournalWritable()
        _ = journal.append(JournalRecord.ledgerAcknowledged(throughSeq: seq))
        backlog.withLock { $0.acknowledge(through: seq) }
    }

    public var ledgerDepth: LedgerQueueDepth {
        backlog.withLock { $0.depth }
    }

    /// Flushes the journal and releases the data directory. Later writes fail with `notReady`.
    public func close() async {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        await journal.close()
        if let failure = journal.failure {
            directory.logger.error(
                "the journal failed; the next start recovers what reached the disk",
                metadata: ["error": "\(String(reflecting: InventoryStoreError(failure)))"]
            )
        }
        directory.unlock()
    }

    /// The record to wait for before answering: the new record, or for an answer that reads state an earlier
    /// request wrote (a replay, an already-released order), everything appended so far. Must run under the lock.
    private func durableSeq(
        for needsDurability: Bool,
        record: JournalRecord?,
        engine: borrowing InventoryEngine,
        traceParent: String?
    ) -> UInt64? {
        if let record { return append(record, engine: engine, traceParent: traceParent) }
        return needsDurability ? journal.appendedSeq : nil
    }

    /// Appends to the journal and, with a ledger, to its backlog. Must run under the engine lock, after the
    /// engine applied the record.
    private func append(_ record: JournalRecord, engine: borrowing InventoryEngine, traceParent: String?) -> UInt64 {
        let seq = journal.append(record)
        if ledgerBacklogMax != nil, let event = LedgerEvent(record: record, engine: engine) {
            backlog.withLock { $0.append(seq: seq, event: event, traceParent: traceParent) }
            // Sampled traces only (1% by default): their ledger spans are the ones exported.
            if let traceParent, LedgerTraceContext.isSampled(traceParent) {
                _ = journal.append(JournalRecord.traceContext(seq: seq, traceParent: traceParent))
            }
        }
        return seq
    }

    /// Throws when the journal failed or the ledger backlog is full. Must run under the engine lock.
    private func checkWritable() throws(InventoryStoreError) {
        try checkJournalWritable()
        if let ledgerBacklogMax, backlog.withLock({ $0.count }) >= ledgerBacklogMax {
            throw InventoryStoreError(
                .ledgerBacklogFull,
                context: "\(ledgerBacklogMax) entries wait for the PostgreSQL ledger"
            )
        }
    }

    /// Throws the journal's refusal (failed, closing, too far behind) as the store's error.
    private func checkJournalWritable() throws(InventoryStoreError) {
        do throws(JournalError) {
            try journal.checkWritable()
        } catch {
            throw InventoryStoreError(error)
        }
    }

    /// Waits until the journal holds `seq` durably, throwing its failure as the store's error.
    private func waitDurable(_ seq: UInt64) async throws(InventoryStoreError) {
        do throws(JournalError) {
            try await journal.waitDurable(seq)
        } catch {
            throw InventoryStoreError(error)
        }
    }

    private func currentTraceParent() -> String? {
        ledgerBacklogMax == nil ? nil : LedgerTraceContext.currentTraceParent()
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
