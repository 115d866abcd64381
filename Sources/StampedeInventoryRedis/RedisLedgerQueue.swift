import Logging
import NIOCore
import StampedeInventory
import StampedeRedis
import Synchronization

/// The ledger queue in Redis mode: the `{p}ledger` stream, read through the consumer group `ledger`.
///
/// The deduct, put and release scripts append entries atomically with the change. A worker waits for new entries
/// with `XREADGROUP … BLOCK` on a connection of its own (a blocking command would hold up everything pipelined
/// behind it on a pool connection), so an entry is read as soon as it is written. On start, and after a failed
/// read, it first takes back its own unacknowledged ones (`XREADGROUP … 0`: a read whose reply was lost still
/// delivered its entries), and it periodically claims entries another worker left pending longer than
/// `claimIdle` (`XAUTOCLAIM`), so a worker killed mid-batch loses nothing. Acknowledged entries are deleted
/// (`XACK` + `XDEL` in one script), so the stream's length is the backlog. Entries that do not decode, and
/// entries the ledger refuses, move to the `{p}ledger:dead` stream with the reason.
public final class RedisLedgerQueue: LedgerQueue {
    public struct Configuration: Sendable {
        public var keyPrefix: String
        /// Name of this worker in the consumer group; a restarted worker with the same name resumes its entries.
        public var consumer: String
        /// Entries pending longer than this with another consumer are taken over.
        public var claimIdle: Duration
        /// The dead-letter stream is trimmed to about this many entries.
        public var deadLettersMax: Int

        public init(
            keyPrefix: String = "stampede:",
            consumer: String,
            claimIdle: Duration = .seconds(30),
            deadLettersMax: Int = 100_000
        ) {
            self.keyPrefix = keyPrefix
            self.consumer = consumer
            self.claimIdle = claimIdle
            self.deadLettersMax = deadLettersMax
        }
    }

    public static let group = "ledger"

    private struct State {
        var groupReady = false
        /// Read this consumer's own pending entries before new ones (after a start or a failed read).
        var resumePending = true
        var lastClaim: ContinuousClock.Instant?
        /// Where the next `XAUTOCLAIM` continues its scan of the pending entries; "0-0" starts a new scan.
        var claimCursor = "0-0"
        /// The connection blocking reads wait on, once opened.
        var blocking: RedisConnection?
    }

    private let client: RedisClient
    private let configuration: Configuration
    private let keys: RedisInventoryKeys
    private let logger: Logger
    private let state = Mutex(State())

    public init(client: RedisClient, configuration: Configuration, logger: Logger) {
        self.client = client
        self.configuration = configuration
        self.keys = RedisInventoryKeys(prefix: configuration.keyPrefix)
        self.logger = logger
    }

    public var streamKey: String { keys.ledger }
    public var deadLetterKey: String { keys.ledgerDead }

    public func next(max: Int, wait: Duration) async throws -> [LedgerEntry] {
        precondition(max >= 1 && max <= 4096, "ledger batches are bounded")
        do {
            return try await read(max: max, wait: wait)
        } catch {
            // A read whose reply was lost (Redis died or the connection dropped after running it) has delivered
            // entries to this consumer that it never saw: read its pending entries first next time, or they
            // would wait for a claim after `claimIdle`.
            state.withLock { $0.resumePending = true }
            throw error
        }
    }

    private func read(max: Int, wait: Duration) async throws -> [LedgerEntry] {
        let stream = keys.ledger
        let group = Self.group
        if !state.withLock({ $0.groupReady }) {
            try await client.xgroupCreate(stream, group: group, startID: "0")
            state.withLock { $0.groupReady = true }
        }
        if state.withLock({ $0.resumePending }) {
            let own = try await client.xreadgroup(
                stream,
                group: group,
                consumer: configuration.consumer,
                count: max,
                id: "0"
            )
            // Entries deleted meanwhile come back with no fields; acknowledge them away.
            let live = own.filter { !$0.fields.isEmpty }
            try await acknowledge(ids: own.filter { $0.fields.isEmpty }.map(\.id))
            if !live.isEmpty { return try await decode(live) }
            state.withLock { $0.resumePending = false }
        }
        if let cursor = claimDue() {
            let claimed = try await client.xautoclaim(
                stream,
                group: group,
                consumer: configuration.consumer,
                minIdleMilliseconds: Int(configuration.claimIdle / .milliseconds(1)),
                start: cursor,
                count: max
            )
            // Until the scan wraps around ("0-0"), the next read claims again at once from where this one stopped,
            // so a dead worker's whole backlog is taken over batch after batch, not one batch per interval.
            state.withLock { state in
                state.claimCursor = claimed.next
                if claimed.next != "0-0" { state.lastClaim = nil }
            }
            if !claimed.entries.isEmpty {
                logger.warning(
                    "took over ledger entries another worker left pending",
                    metadata: ["entries": "\(claimed.entries.count)"]
                )
                return try await decode(claimed.entries)
            }
        }
        let waitMilliseconds = Int(wait / .milliseconds(1))
        guard waitMilliseconds > 0 else {
            return try await decode(
                client.xreadgroup(stream, group: group, consumer: configuration.consumer, count: max)
            )
        }
        // Within the command timeout, which also guards the blocking connection.
        let timeoutMilliseconds = Int(client.configuration.commandTimeout / .milliseconds(1))
        let block = Swift.max(1, Swift.min(waitMilliseconds, timeoutMilliseconds / 2))
        let connection = try await blockingConnection()
        let fresh: [RedisStreamEntry]
        do {
            // Cancelling closes the connection, which ends the wait at once.
            fresh = try await withTaskCancellationHandler {
                try await connection.xreadgroup(
                    stream,
                    group: group,
                    consumer: configuration.consumer,
                    count: max,
                    blockMilliseconds: block
                )
            } onCancel: {
                Task { await connection.close() }
            }
        } catch {
            // Broken, timed out or cancelled: the next read opens a new connection.
            await dropBlocking(connection)
            throw error
        }
        return try await decode(fresh)
    }

    private func blockingConnection() async throws(RedisError) -> RedisConnection {
        if let connection = state.withLock({ $0.blocking }), connection.isActive { return connection }
        let connection = try await client.makeDedicatedConnection()
        let previous = state.withLock { state in
            defer { state.blocking = connection }
            return state.blocking
        }
        await previous?.close()
        return connection
    }

    private func dropBlocking(_ connection: RedisConnection) async {
        state.withLock { state in
            if state.blocking === connection { state.blocking = nil }
        }
        await connection.close()
    }

    /// Closes the connection blocking reads wait on; the next read opens another.
    public func close() async {
        let connection = state.withLock { state in
            defer { state.blocking = nil }
            return state.blocking
        }
        await connection?.close()
    }

    public func acknowledge(_ entries: [LedgerEntry]) async throws {
        try await acknowledge(ids: entries.map(\.id))
    }

    public func deadLetter(_ entry: LedgerEntry, reason: String) async throws {
        try await deadLetter(id: entry.id, fields: LedgerStreamFields.encode(entry), reason: reason)
    }

    public func depth() async throws -> LedgerQueueDepth {
        let replies = try await client.pipeline([
            RedisCommand("XLEN", keys.ledger), RedisCommand("XRANGE", keys.ledger, "-", "+", "COUNT", "1"),
        ])
        guard let count = replies[0].int64 else { throw RedisError(.unexpectedReply, "XLEN: \(replies[0])") }
        var oldest: Int64?
        if let first = replies[1].elements?.first?.elements?.first?.string,
            let milliseconds = first.split(separator: "-").first.flatMap({ Int64($0) })
        {
            oldest = milliseconds
        }
        return LedgerQueueDepth(entries: Int(count), oldestTimestampMilliseconds: oldest)
    }

    /// Dead letters so far (the length of the dead-letter stream).
    public func deadLetterCount() async throws -> Int {
        try await client.xlen(keys.ledgerDead)
    }

    /// The cursor to claim from when a claim is due: at most every `claimIdle / 2`, except while a scan goes on.
    private func claimDue() -> String? {
        let now = ContinuousClock.now
        return state.withLock { state in
            if let last = state.lastClaim, now - last < configuration.claimIdle / 2 { return nil }
            state.lastClaim = now
            return state.claimCursor
        }
    }

    private func acknowledge(ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        let arguments: [RedisArgument] = [.string(keys.ledger), .string(Self.group)] + ids.map { .string($0) }
        _ = try await client.evalSHA(RedisInventoryScripts.ledgerAcknowledge, arguments: arguments)
    }

    private func deadLetter(id: String, fields: [(String, String)], reason: String) async throws {
        var arguments: [RedisArgument] = [
            .string(keys.ledger), .string(Self.group), .string(keys.ledgerDead),
            .integer(Int64(configuration.deadLettersMax)), .string(id), .string(reason),
        ]
        for (name, value) in fields {
            arguments.append(.string(name))
            arguments.append(.string(value))
        }
        _ = try await client.evalSHA(RedisInventoryScripts.ledgerDeadLetter, arguments: arguments)
        logger.error("ledger entry moved to the dead-letter stream", metadata: ["id": "\(id)", "reason": "\(reason)"])
    }

    /// Decodes entries; those that do not decode go to the dead-letter stream at once.
    private func decode(_ entries: [RedisStreamEntry]) async throws -> [LedgerEntry] {
        var decoded: [LedgerEntry] = []
        decoded.reserveCapacity(entries.count)
        for entry in entries {
            switch LedgerStreamFields.decode(entry) {
            case .success(let ledgerEntry):
                decoded.append(ledgerEntry)
            case .failure(let problem):
                let raw = entry.fields.map { ($0.key, String(buffer: $0.value)) }.sorted { $0.0 < $1.0 }
                try await deadLetter(id: entry.id, fields: raw, reason: "undecodable entry: \(problem.reason)")
            }
        }
        return decoded
    }
}

/// A stream entry that is not a ledger event.
struct LedgerDecodeProblem: Error {
    var reason: String
}

/// The fields of a ledger stream entry, as the scripts write them: `k` (kind), `s` sku, `g` generation, `t` time
/// (ms), `tp` traceparent (optional); a sale adds `o` order, `u` user, `a` amount, `os`/`ns` old/new stock and,
/// for a reservation, `h` its deadline (ms); a release, confirm or expiry `o`, `a`; an item `st` stock, `lim` cap ('' for none), `w` rate window (ms).
enum LedgerStreamFields {
    static func decode(_ entry: RedisStreamEntry) -> Result<LedgerEntry, LedgerDecodeProblem> {
        func text(_ name: String) -> String? { entry.fields[name].map { String(buffer: $0) } }
        func integer(_ name: String) -> Int64? { text(name).flatMap { Int64($0) } }
        guard let kind = text("k") else { return .failure(LedgerDecodeProblem(reason: "no kind")) }
        guard let sku = text("s"), !sku.isEmpty, let generation = integer("g"), generation >= 1,
            let timestamp = integer("t")
        else { return .failure(LedgerDecodeProblem(reason: "missing sku, generation or time")) }
        let event: LedgerEvent
        switch kind {
        case "sale":
            guard let order = text("o"), !order.isEmpty, let user = text("u"), let amount = integer("a"), amount > 0,
                let old = integer("os"), let new = integer("ns")
            else { return .failure(LedgerDecodeProblem(reason: "sale without order, user, amount or stock")) }
            event = .sale(
                OrderRecord(
                    orderID: order,
                    sku: sku,
                    userID: user,
                    amount: amount,
                    oldStock: old,
                    newStock: new,
                    timestampMilliseconds: timestamp,
                    generation: UInt64(generation),
                    released: false,
                    holdDeadlineMilliseconds: integer("h")
                )
            )
        case "release", "confirm", "expire":
            guard let order = text("o"), !order.isEmpty, let amount = integer("a"), amount > 0 else {
                return .failure(LedgerDecodeProblem(reason: "\(kind) without order or amount"))
            }
            let change =
                switch kind {
                case "confirm": LedgerEvent.confirm
                case "expire": LedgerEvent.expire
                default: LedgerEvent.release
                }
            event = change(order, sku, UInt64(generation), amount, timestamp)
        case "item":
            guard let stock = integer("st"), stock >= 0, let window = integer("w"), let limitText = text("lim") else {
                return .failure(LedgerDecodeProblem(reason: "item without stock, window or cap"))
            }
            let limit: Int64?
            if limitText.isEmpty {
                limit = nil
            } else if let value = Int64(limitText) {
                limit = value
            } else {
                return .failure(LedgerDecodeProblem(reason: "item cap is not a number"))
            }
            event = .item(
                sku: sku,
                generation: UInt64(generation),
                config: ItemConfig(stock: stock, limitPerUser: limit, rateWindowMilliseconds: window),
                timestampMilliseconds: timestamp
            )
        default:
            return .failure(LedgerDecodeProblem(reason: "unknown kind '\(kind)'"))
        }
        return .success(LedgerEntry(id: entry.id, event: event, traceParent: text("tp")))
    }

    /// The fields the scripts would have written for `entry` (for the dead-letter stream).
    static func encode(_ entry: LedgerEntry) -> [(String, String)] {
        var fields: [(String, String)] = [("k", entry.event.kind), ("s", entry.event.sku)]
        switch entry.event {
        case .sale(let order):
            fields += [
                ("o", order.orderID), ("u", order.userID), ("a", "\(order.amount)"), ("os", "\(order.oldStock)"),
                ("ns", "\(order.newStock)"), ("g", "\(order.generation)"),
            ]
            if let deadline = order.holdDeadlineMilliseconds { fields.append(("h", "\(deadline)")) }
        case .release(let orderID, _, let generation, let amount, _),
            .confirm(let orderID, _, let generation, let amount, _),
            .expire(let orderID, _, let generation, let amount, _):
            fields += [("o", orderID), ("a", "\(amount)"), ("g", "\(generation)")]
        case .item(_, let generation, let config, _):
            fields += [
                ("g", "\(generation)"), ("st", "\(config.stock)"), ("lim", config.limitPerUser.map { "\($0)" } ?? ""),
                ("w", "\(config.rateWindowMilliseconds)"),
            ]
        }
        fields.append(("t", "\(entry.event.timestampMilliseconds)"))
        if let traceParent = entry.traceParent { fields.append(("tp", traceParent)) }
        return fields
    }
}
