import Logging
import StampedeJournal
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The embedded order store: every saga in memory, each state change appended to a journal with group commit
/// (`StampedeJournal`), the answer given once it is durable.
///
/// At start-up the journal is read back and rewritten compacted (each saga once: its order, its history, its last
/// state), then appended to. Orders are kept for as long as the data lives, up to ``Configuration/ordersMax``:
/// past it, new orders are refused with ``OrderStoreError/Code/capacityExhausted``.
public final class JournalOrderStore: OrderStore {
    public struct Configuration: Sendable {
        /// The orders' own directory (created if missing), e.g. `<data>/orders`.
        public var directory: String
        public var durability: Durability
        /// Most orders kept (about 1–4 KiB each in memory, by their lines and history).
        public var ordersMax: Int

        public init(directory: String, durability: Durability = .sync, ordersMax: Int = 500_000) {
            self.directory = directory
            self.durability = durability
            self.ordersMax = ordersMax
        }
    }

    private struct State {
        var sagas: [String: CheckoutSaga] = [:]
        /// Each user's orders, oldest first.
        var byUser: [String: [String]] = [:]
        var unfinished: Set<String> = []
    }

    private let state: Mutex<State>
    private let journal: JournalWriter
    private let lock: DirectoryLock
    private let ordersMax: Int
    private let closed = Atomic<Bool>(false)

    public init(configuration: Configuration, logger: Logger) throws(OrderStoreError) {
        let directory = configuration.directory
        if mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw OrderStoreError(.storageFailed, context: "cannot create \(directory)", errno: errno)
        }
        do {
            lock = try DirectoryLock(directory: directory)
        } catch {
            throw OrderStoreError(.storageFailed, context: "cannot lock \(directory)", underlying: error)
        }
        let path = directory + "/orders.journal"
        var state = State()
        do {
            _ = try JournalFrameReader<OrderJournalRecord>.replay(journalAtPath: path, after: 0, logger: logger) {
                _,
                record in
                try Self.apply(record, to: &state)
            }
            let lastSeq = try Self.compact(state, path: path, directory: directory)
            let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
            guard fd >= 0 else { throw SystemCallError(call: "open", path: path, errno: errno) }
            journal = JournalWriter(fd: fd, path: path, lastSeq: lastSeq, durability: configuration.durability)
        } catch let error as OrderStoreError {
            lock.release()
            throw error
        } catch {
            lock.release()
            throw OrderStoreError(.corrupted, context: "cannot recover \(path)", underlying: error)
        }
        self.ordersMax = configuration.ordersMax
        logger.info(
            "order store recovered",
            metadata: ["orders": "\(state.sagas.count)", "unfinished": "\(state.unfinished.count)"]
        )
        self.state = Mutex(state)
    }

    public func save(_ saga: CheckoutSaga) async throws {
        let (_, seq) = try write(saga, onlyIfNew: false)
        try await waitDurable(seq)
    }

    public func create(_ saga: CheckoutSaga) async throws -> CheckoutSaga? {
        let (existing, seq) = try write(saga, onlyIfNew: true)
        if let existing {
            // Answer only what is durable: the existing order's last write may still be on its way to disk.
            try await waitDurable(journal.appendedSeq)
            return existing
        }
        try await waitDurable(seq)
        return nil
    }

    /// Applies and appends the saga's changes under the lock (the check of `onlyIfNew` and the insert are one
    /// step, so two requests with one id cannot both create). Returns the existing saga instead when `onlyIfNew`
    /// finds one, and the sequence number to wait for.
    private func write(_ saga: CheckoutSaga, onlyIfNew: Bool) throws(OrderStoreError) -> (CheckoutSaga?, UInt64) {
        try state.withLock { state throws(OrderStoreError) -> (CheckoutSaga?, UInt64) in
            let before = state.sagas[saga.orderID]
            if onlyIfNew, let before { return (before, 0) }
            try checkWritable()
            let records: [OrderJournalRecord]
            if let before {
                records = Self.changes(from: before, to: saga)
            } else {
                guard state.sagas.count < ordersMax else {
                    throw OrderStoreError(
                        .capacityExhausted,
                        context: "the store holds its maximum of \(ordersMax) orders"
                    )
                }
                records = [.created(saga)] + Self.changes(from: nil, to: saga)
                state.byUser[saga.request.userID, default: []].append(saga.orderID)
            }
            state.sagas[saga.orderID] = saga
            if saga.status.isFinal {
                state.unfinished.remove(saga.orderID)
            } else {
                state.unfinished.insert(saga.orderID)
            }
            var seq: UInt64 = 0
            for record in records { seq = journal.append(record) }
            return (nil, seq)
        }
    }

    public func load(orderID: String) async throws -> CheckoutSaga? {
        state.withLock { $0.sagas[orderID] }
    }

    public func unfinished(limit: Int) async throws -> [CheckoutSaga] {
        state.withLock { state in
            state.unfinished.compactMap { state.sagas[$0] }
                .sorted { ($0.createdAtMilliseconds, $0.orderID) < ($1.createdAtMilliseconds, $1.orderID) }
                .prefix(limit).map { $0 }
        }
    }

    public func orders(userID: String, after cursor: String?, limit: Int) async throws -> OrderPage {
        state.withLock { state in
            let ids = state.byUser[userID] ?? []
            // Newest first; the cursor is the last order id of the previous page.
            var start = 0
            let newestFirst = Array(ids.reversed())
            if let cursor, let index = newestFirst.firstIndex(of: cursor) { start = index + 1 }
            let page = newestFirst.dropFirst(start).prefix(limit).compactMap { state.sagas[$0] }
            let more = start + page.count < newestFirst.count
            return OrderPage(orders: page, nextCursor: more ? page.last?.orderID : nil)
        }
    }

    public var count: Int { state.withLock { $0.sagas.count } }

    public var isReady: Bool { !closed.load(ordering: .relaxed) && journal.failure == nil }

    /// Flushes the journal and releases the directory.
    public func close() async {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        await journal.close()
        lock.release()
    }

    // MARK: Journal

    /// The records that take a saga stored as `before` to `after`.
    static func changes(from before: CheckoutSaga?, to after: CheckoutSaga) -> [OrderJournalRecord] {
        let seen = before.map { $0.history.count + $0.historyDropped } ?? 0
        let added = after.history.count + after.historyDropped - seen
        var newRecords = Array(after.history.suffix(max(0, min(added, after.history.count))))
        var records: [OrderJournalRecord] = []
        while newRecords.count > recordsPerChunk {
            records.append(.history(orderID: after.orderID, Array(newRecords.prefix(recordsPerChunk))))
            newRecords.removeFirst(recordsPerChunk)
        }
        records.append(.progress(orderID: after.orderID, after.progress, newRecords: newRecords))
        return records
    }

    private static let recordsPerChunk = OrderJournalRecord.recordsPerChunk

    private static func apply(_ record: OrderJournalRecord, to state: inout State) throws {
        switch record {
        case .created(let saga):
            guard state.sagas[saga.orderID] == nil else {
                throw OrderStoreError(.corrupted, context: "order \(saga.orderID) created twice")
            }
            state.sagas[saga.orderID] = saga
            state.byUser[saga.request.userID, default: []].append(saga.orderID)
            state.unfinished.insert(saga.orderID)
        case .progress(let orderID, let progress, let records):
            guard var saga = state.sagas[orderID] else {
                throw OrderStoreError(.corrupted, context: "progress of unknown order \(orderID)")
            }
            saga.restore(progress, appending: records)
            state.sagas[orderID] = saga
            if saga.status.isFinal { state.unfinished.remove(orderID) } else { state.unfinished.insert(orderID) }
        case .history(let orderID, let records):
            guard var saga = state.sagas[orderID] else {
                throw OrderStoreError(.corrupted, context: "history of unknown order \(orderID)")
            }
            saga.restoreHistory(records)
            state.sagas[orderID] = saga
        }
    }

    /// Rewrites the journal with each saga once; returns its last sequence number.
    private static func compact(_ state: State, path: String, directory: String) throws -> UInt64 {
        var bytes: [UInt8] = []
        var seq: UInt64 = 0
        for saga in state.sagas.values.sorted(by: { $0.createdAtMilliseconds < $1.createdAtMilliseconds }) {
            var records: [OrderJournalRecord] = [.created(saga)]
            var history = saga.history[...]
            while history.count > recordsPerChunk {
                records.append(.history(orderID: saga.orderID, Array(history.prefix(recordsPerChunk))))
                history = history.dropFirst(recordsPerChunk)
            }
            records.append(.progress(orderID: saga.orderID, saga.progress, newRecords: Array(history)))
            for record in records {
                seq += 1
                JournalFrame.append(record, seq: seq, to: &bytes)
            }
        }
        let temporary = path + ".compacting"
        try DurableFiles.writeFile(atPath: temporary, bytes: bytes)
        guard rename(temporary, path) == 0 else { throw SystemCallError(call: "rename", path: path, errno: errno) }
        try DurableFiles.syncDirectory(atPath: directory)
        return seq
    }

    private func checkWritable() throws(OrderStoreError) {
        do throws(JournalError) {
            try journal.checkWritable()
        } catch {
            throw OrderStoreError(.storageFailed, context: "the orders journal refuses writes", underlying: error)
        }
    }

    private func waitDurable(_ seq: UInt64) async throws(OrderStoreError) {
        do throws(JournalError) {
            try await journal.waitDurable(seq)
        } catch {
            throw OrderStoreError(.storageFailed, context: "the orders journal failed", underlying: error)
        }
    }
}

/// One page of a user's orders, newest first.
public struct OrderPage: Sendable {
    public var orders: [CheckoutSaga]
    /// Pass as `after` for the next page; nil on the last page.
    public var nextCursor: String?

    public init(orders: [CheckoutSaga], nextCursor: String?) {
        self.orders = orders
        self.nextCursor = nextCursor
    }
}
