import CoreMetrics
import Logging
import NIOCore
import StampedeInventory
import StampedeRedis
import Synchronization

/// Inventory shared by many Stampede instances in one Redis: the same API and rules as the embedded store.
///
/// Every operation is one Lua script, so each is atomic in Redis. Concurrent deducts are coalesced into shared
/// script calls (``DeductCoalescer``); a SKU seen at zero is answered "sold out" from memory for a short time
/// (``SoldOutCache``). Redis failures are thrown as ``InventoryStoreError`` (`store_unavailable`,
/// `store_timeout`, `storage_busy`): a deduct is reported successful only when Redis returned its result.
public final class RedisInventoryStore: ReconcilableStore, CallbackDeductStore {
    public struct Configuration: Sendable {
        /// Prefix of every key; instances sharing stock must use the same one.
        public var keyPrefix: String
        /// How long a SKU seen at zero stock is answered "sold out" without Redis; zero turns the cache off.
        public var soldOutCacheTTL: Duration
        /// Most deducts in one coalesced script call.
        public var coalescedDeductsMax: Int
        /// Most coalesced script calls in flight at once.
        public var coalescedCallsMax: Int
        /// Most deducts waiting for a call slot; past it deducts fail with `storage_busy`.
        public var waitingDeductsMax: Int
        /// Most entries in the ledger stream; past it writes fail with `ledger_backlog_full`. Zero: no ledger
        /// (no stream entries are written).
        public var ledgerBacklogMax: Int
        public var limits: InventoryLimits

        public init(
            keyPrefix: String = "stampede:",
            soldOutCacheTTL: Duration = .milliseconds(100),
            coalescedDeductsMax: Int = 128,
            coalescedCallsMax: Int = 2,
            waitingDeductsMax: Int = 16_384,
            ledgerBacklogMax: Int = 0,
            limits: InventoryLimits = .default
        ) {
            self.keyPrefix = keyPrefix
            self.soldOutCacheTTL = soldOutCacheTTL
            self.coalescedDeductsMax = coalescedDeductsMax
            self.coalescedCallsMax = coalescedCallsMax
            self.waitingDeductsMax = waitingDeductsMax
            self.ledgerBacklogMax = ledgerBacklogMax
            self.limits = limits
        }
    }

    public let limits: InventoryLimits
    private let client: RedisClient
    private let keys: RedisInventoryKeys
    private let clock: @Sendable () -> Int64
    private let soldOut: SoldOutCache
    private let cacheHits: Counter
    private let cacheMisses: Counter
    private let logger: Logger
    private let lastHealthCheckPassed = Atomic<Bool>(false)
    private let checkedDurability = Atomic<Bool>(false)
    private let coalescer: DeductCoalescer
    private let runDeducts: DeductScriptCall
    private let ledgerBacklogMax: Int

    /// - Parameter clock: milliseconds since 1970, for log timestamps (rate windows use Redis's own clock).
    public init(
        client: RedisClient,
        configuration: Configuration = Configuration(),
        logger: Logger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        clock: @escaping @Sendable () -> Int64 = InventoryClock.wallClockMilliseconds
    ) {
        precondition(configuration.coalescedDeductsMax >= configuration.limits.batchItemsMax, "a batch fits one call")
        self.limits = configuration.limits
        self.client = client
        self.keys = RedisInventoryKeys(prefix: configuration.keyPrefix)
        self.clock = clock
        let ttl = configuration.soldOutCacheTTL.components
        let soldOut = SoldOutCache(ttlNanoseconds: ttl.seconds * 1_000_000_000 + ttl.attoseconds / 1_000_000_000)
        self.soldOut = soldOut
        self.cacheHits = Counter(label: "inventory.cache.hit", dimensions: [], factory: metricsFactory)
        self.cacheMisses = Counter(label: "inventory.cache.miss", dimensions: [], factory: metricsFactory)
        self.logger = logger
        let runDeducts = DeductScriptCall(
            client: client,
            prefix: configuration.keyPrefix,
            ordersMax: Int64(configuration.limits.orderRecordsMax),
            ledgerBacklogMax: Int64(configuration.ledgerBacklogMax),
            clock: clock,
            soldOut: soldOut
        )
        self.runDeducts = runDeducts
        self.ledgerBacklogMax = configuration.ledgerBacklogMax
        self.coalescer = DeductCoalescer(
            batchMax: configuration.coalescedDeductsMax,
            inFlightMax: configuration.coalescedCallsMax,
            queueMax: configuration.waitingDeductsMax,
            execute: runDeducts.callAsFunction
        )
    }

    /// Ready while a pool connection is open and the last health check passed.
    public var isReady: Bool { client.connectedCount > 0 && lastHealthCheckPassed.load(ordering: .relaxed) }

    // MARK: Operations

    public func putItem(sku: String, config: ItemConfig) async throws -> PutItemOutcome {
        let reply = try await script(
            RedisInventoryScripts.putItem,
            [
                .string(keys.prefix), .string(sku), .integer(config.stock),
                config.limitPerUser.map { .integer($0) } ?? .string(""),
                .integer(config.rateWindowMilliseconds), .integer(Int64(limits.itemsMax)), .integer(clock()),
                .integer(Int64(ledgerBacklogMax)), .string(traceParent() ?? ""),
            ]
        )
        soldOut.invalidate(sku: sku)
        guard let generation = reply.elements?.first?.int64 else { throw unexpected("put", reply) }
        if generation == RedisInventoryScripts.PutItemReply.ledgerFull.value { throw ledgerFull() }
        if generation == RedisInventoryScripts.PutItemReply.tooManyItems.value {
            return .tooManyItems(max: limits.itemsMax)
        }
        let firstGeneration = RedisInventoryScripts.PutItemReply.firstGeneration.value
        guard generation >= firstGeneration else { throw unexpected("put", reply) }
        let snapshot = ItemSnapshot(
            sku: sku,
            stock: config.stock,
            sold: 0,
            limitPerUser: config.limitPerUser,
            rateWindowMilliseconds: config.rateWindowMilliseconds
        )
        return generation == firstGeneration ? .created(snapshot) : .reset(snapshot)
    }

    public func item(sku: String) async throws -> ItemSnapshot? {
        try await itemSnapshot(sku: sku, reply: command(Self.itemCommand(keys.item(sku))))
    }

    public func deduct(_ request: DeductRequest) async throws -> DeductOutcome {
        try await withCheckedThrowingContinuation { continuation in
            deduct(request) { continuation.resume(with: $0) }
        }
    }

    public func deduct(
        _ request: DeductRequest,
        completion: @escaping @Sendable (Result<DeductOutcome, any Error>) -> Void
    ) {
        var request = request
        if ledgerBacklogMax > 0 && request.traceParent == nil {
            request.traceParent = LedgerTraceContext.currentTraceParent()
        }
        if soldOut.isEnabled {
            if soldOut.answersSoldOut(
                sku: request.sku,
                orderID: request.orderID,
                now: InventoryClock.monotonicNanoseconds()
            ) {
                cacheHits.increment()
                completion(.success(DeductOutcome(code: .insufficientStock, stock: 0)))
                return
            }
            cacheMisses.increment()
        }
        coalescer.deduct(request) { result in
            completion(
                result.mapError { error in
                    if let error = error as? RedisError { return Self.storeError(error, operation: "deduct") }
                    return error
                }
            )
        }
    }

    public func deductBatch(_ requests: [DeductRequest]) async throws -> [DeductOutcome] {
        precondition(requests.count <= limits.batchItemsMax, "the HTTP layer bounds batches")
        guard !requests.isEmpty else { return [] }
        var requests = requests
        if ledgerBacklogMax > 0, let traceParent = LedgerTraceContext.currentTraceParent() {
            for index in requests.indices where requests[index].traceParent == nil {
                requests[index].traceParent = traceParent
            }
        }
        do {
            return try await runDeducts(requests).get()
        } catch let error as RedisError {
            throw Self.storeError(error, operation: "batch deduct")
        }
    }

    public func release(orderID: String, recordingIfUnknown: Bool) async throws -> ReleaseOutcome {
        let reply = try await script(
            RedisInventoryScripts.release,
            [
                .string(keys.prefix), .string(orderID), .integer(clock()), .integer(Int64(ledgerBacklogMax)),
                .string(traceParent() ?? ""), .integer(recordingIfUnknown ? 1 : 0),
            ]
        )
        if reply.elements?.first?.int64 == RedisInventoryScripts.ReleaseReply.ledgerFull.value { throw ledgerFull() }
        guard let parts = reply.elements, parts.count == 4, let raw = parts[0].int64,
            let code = RedisInventoryScripts.ReleaseReply.code(raw), let amount = parts[1].int64,
            let stock = parts[2].int64, let sku = parts[3].string
        else { throw unexpected("release", reply) }
        if code == .released { soldOut.invalidate(sku: sku) }
        return ReleaseOutcome(code: code, releasedAmount: amount, stock: stock, sku: sku)
    }

    public func confirm(orderID: String) async throws -> ConfirmOutcome {
        let reply = try await script(
            RedisInventoryScripts.confirm,
            [
                .string(keys.prefix), .string(orderID), .integer(clock()), .integer(Int64(ledgerBacklogMax)),
                .string(traceParent() ?? ""),
            ]
        )
        if reply.elements?.first?.int64 == RedisInventoryScripts.ConfirmReply.ledgerFull.value { throw ledgerFull() }
        guard let parts = reply.elements, parts.count == 3, let raw = parts[0].int64,
            let code = RedisInventoryScripts.ConfirmReply.code(raw), let amount = parts[1].int64,
            let sku = parts[2].string
        else { throw unexpected("confirm", reply) }
        // An expiry found by the confirm put units back.
        if code == .holdExpired { soldOut.invalidate(sku: sku) }
        return ConfirmOutcome(code: code, sku: sku, amount: amount)
    }

    public func expireHolds(max: Int) async throws -> [ExpiredHold] {
        let reply = try await script(
            RedisInventoryScripts.expireDue,
            [.string(keys.prefix), .integer(clock()), .integer(Int64(max)), .integer(Int64(ledgerBacklogMax))]
        )
        guard let values = reply.elements else { throw unexpected("expire", reply) }
        if values.count == 1, values[0].int64 == RedisInventoryScripts.ExpireReply.ledgerFull.value {
            throw ledgerFull()
        }
        guard values.count % 4 == 0 else { throw unexpected("expire", reply) }
        var expired: [ExpiredHold] = []
        expired.reserveCapacity(values.count / 4)
        for index in stride(from: 0, to: values.count, by: 4) {
            guard let orderID = values[index].string, let sku = values[index + 1].string,
                let amount = values[index + 2].int64, let stock = values[index + 3].int64
            else { throw unexpected("expire", reply) }
            soldOut.invalidate(sku: sku)
            expired.append(ExpiredHold(orderID: orderID, sku: sku, amount: amount, stock: stock))
        }
        return expired
    }

    public func log(orderID: String) async throws -> OrderRecord? {
        let reply = try await command(
            RedisCommand(
                "HMGET",
                [
                    .string(keys.order(orderID)), "sku", "user", "amount", "old", "new", "ts", "gen", "released",
                    "hold", "confirmed", "expired",
                ]
            )
        )
        guard let fields = reply.elements, fields.count == 11 else { throw unexpected("log", reply) }
        if fields[0].isNull { return nil }
        guard let sku = fields[0].string, let user = fields[1].string, let amount = fields[2].int64,
            let old = fields[3].int64, let new = fields[4].int64, let timestamp = fields[5].int64,
            let generation = fields[6].int64, let released = fields[7].int64
        else { throw unexpected("log", reply) }
        return OrderRecord(
            orderID: orderID,
            sku: sku,
            userID: user,
            amount: amount,
            oldStock: old,
            newStock: new,
            timestampMilliseconds: timestamp,
            generation: UInt64(generation),
            released: released == RedisInventoryScripts.OrderReleasedField.released.value,
            holdDeadlineMilliseconds: fields[8].int64,
            confirmed: !fields[9].isNull,
            expired: !fields[10].isNull
        )
    }

    public func items() async throws -> [ItemSnapshot] {
        try await scanItems(
            operation: "items",
            command: { Self.itemCommand($0) },
            value: { sku, reply in try itemSnapshot(sku: sku, reply: reply) }
        )
    }

    /// Reads every item with `command(itemKey)`, pipelining 500 per round trip, and turns each reply into a value
    /// (nil for an item deleted since the `SMEMBERS`).
    private func scanItems<Value>(
        operation: String,
        command: (String) -> RedisCommand,
        value: (String, RESPValue) throws -> Value?
    ) async throws -> [Value] {
        let members = try await self.command(RedisCommand("SMEMBERS", keys.items))
        guard let skus = members.elements?.compactMap(\.string) else { throw unexpected(operation, members) }
        var values: [Value] = []
        values.reserveCapacity(skus.count)
        var start = 0
        while start < skus.count {
            let chunk = skus[start..<min(start + 500, skus.count)]
            let replies: [RESPValue]
            do {
                replies = try await client.pipeline(chunk.map { command(keys.item($0)) })
            } catch {
                throw Self.storeError(error, operation: operation)
            }
            for (sku, reply) in zip(chunk, replies) {
                if let value = try value(sku, reply) { values.append(value) }
            }
            start += chunk.count
        }
        return values
    }

    // MARK: Reconciliation

    public func itemStates() async throws -> [ItemState] {
        try await scanItems(
            operation: "item states",
            command: { RedisCommand("HMGET", [.string($0), "gen", "initial", "stock", "sold", "reserved"]) },
            value: { sku, reply in
                guard let fields = reply.elements, fields.count == 5 else { throw unexpected("item state", reply) }
                if fields[0].isNull { return nil }
                guard let generation = fields[0].int64, let initial = fields[1].int64, let stock = fields[2].int64,
                    let sold = fields[3].int64
                else { throw unexpected("item state", reply) }
                return ItemState(
                    sku: sku,
                    generation: UInt64(generation),
                    initialStock: initial,
                    stock: stock,
                    sold: sold,
                    reserved: fields[4].int64 ?? 0
                )
            }
        )
    }

    /// Sets the item's taken units (sold + reserved) to `taken` (stock = initial − taken) by changing its sold
    /// units, if it is still at `generation` with `expectedTaken` taken (compare and set: a sale since the
    /// comparison leaves it alone). Reserved units, per-user counts and order records stay as they are.
    public func repairItem(
        sku: String,
        generation: UInt64,
        expectedTaken: Int64,
        taken: Int64
    ) async throws
        -> RepairOutcome
    {
        let reply = try await script(
            RedisInventoryScripts.repairItem,
            [
                .string(keys.prefix), .string(sku), .integer(Int64(generation)), .integer(expectedTaken),
                .integer(taken),
            ]
        )
        soldOut.invalidate(sku: sku)
        guard let value = reply.int64, let outcome = RedisInventoryScripts.RepairReply.outcome(value) else {
            throw unexpected("repair", reply)
        }
        return outcome
    }

    // MARK: Health

    /// Pings Redis every `interval` until cancelled, so readiness follows Redis and a lost pool reconnects.
    /// The first successful check warns when Redis is not configured to keep acknowledged writes.
    public func runHealthChecks(interval: Duration = .milliseconds(500)) async {
        while !Task.isCancelled {
            await checkHealth()
            try? await Task.sleep(for: interval)
        }
    }

    /// One health check: PING, and the first time it passes, a look at the persistence settings.
    public func checkHealth() async {
        let passed = (try? await client.send(RedisCommand("PING")))?.string == "PONG"
        let before = lastHealthCheckPassed.exchange(passed, ordering: .relaxed)
        if before != passed {
            if passed {
                logger.info("redis reachable", metadata: ["redis": "\(client.configuration.displayAddress)"])
            } else {
                logger.warning("redis unreachable", metadata: ["redis": "\(client.configuration.displayAddress)"])
            }
        }
        if passed && !checkedDurability.exchange(true, ordering: .relaxed) { await warnAboutDurability() }
    }

    private func warnAboutDurability() async {
        // CONFIG may be renamed or disabled on managed servers; then there is nothing to check.
        guard let reply = try? await client.send(RedisCommand("CONFIG", "GET", "append*")) else { return }
        var settings: [String: String] = [:]
        switch reply {
        case .map(let pairs):
            for pair in pairs { if let key = pair.key.string { settings[key] = pair.value.string } }
        case .array(let flat):
            for index in stride(from: 0, to: flat.count - 1, by: 2) {
                if let key = flat[index].string { settings[key] = flat[index + 1].string }
            }
        default:
            return
        }
        if settings["appendonly"] != "yes" || settings["appendfsync"] != "always" {
            logger.warning(
                "redis may lose acknowledged sales on a crash: set appendonly yes and appendfsync always",
                metadata: [
                    "appendonly": "\(settings["appendonly"] ?? "?")",
                    "appendfsync": "\(settings["appendfsync"] ?? "?")",
                ]
            )
        }
    }

    // MARK: Redis calls

    private func script(_ script: RedisScript, _ arguments: [RedisArgument]) async throws -> RESPValue {
        do {
            return try await client.evalSHA(script, arguments: arguments)
        } catch {
            throw Self.storeError(error, operation: "script")
        }
    }

    private func command(_ command: RedisCommand) async throws -> RESPValue {
        do {
            return try await client.send(command)
        } catch {
            throw Self.storeError(error, operation: command.name)
        }
    }

    private static func itemCommand(_ key: String) -> RedisCommand {
        RedisCommand("HMGET", [.string(key), "stock", "sold", "limit", "window", "reserved"])
    }

    private func itemSnapshot(sku: String, reply: RESPValue) throws -> ItemSnapshot? {
        guard let fields = reply.elements, fields.count == 5 else { throw unexpected("item", reply) }
        if fields[0].isNull { return nil }
        guard let stock = fields[0].int64, let sold = fields[1].int64, let window = fields[3].int64 else {
            throw unexpected("item", reply)
        }
        return ItemSnapshot(
            sku: sku,
            stock: stock,
            sold: sold,
            reserved: fields[4].int64 ?? 0,
            limitPerUser: fields[2].int64,
            rateWindowMilliseconds: window
        )
    }

    private func traceParent() -> String? {
        ledgerBacklogMax > 0 ? LedgerTraceContext.currentTraceParent() : nil
    }

    private func ledgerFull() -> InventoryStoreError {
        Self.ledgerFull(backlogMax: Int64(ledgerBacklogMax))
    }

    static func ledgerFull(backlogMax: Int64) -> InventoryStoreError {
        InventoryStoreError(.ledgerBacklogFull, context: "\(backlogMax) entries wait in the ledger stream")
    }

    private func unexpected(_ operation: String, _ reply: RESPValue) -> InventoryStoreError {
        InventoryStoreError(.corrupted, context: "\(operation): unexpected reply from Redis: \(reply)")
    }

    /// Maps a Redis failure to the store's codes. Only `unavailable`, `busy` and connect failures guarantee the
    /// command was not applied; after a timeout or a lost connection the outcome is unknown, and a retry with
    /// the same order id returns it.
    static func storeError(_ error: RedisError, operation: String) -> InventoryStoreError {
        let code: InventoryStoreError.Code
        switch error.code {
        case .timeout: code = .storeTimeout
        case .busy: code = .storageBusy
        case .server where error.context.hasPrefix("OOM"): code = .storageBusy
        default: code = .storeUnavailable
        }
        return InventoryStoreError(code, context: "redis \(operation)", underlying: error)
    }
}

/// The deduct script call for a list of deducts, shared by the coalescer and the batch API.
struct DeductScriptCall: Sendable {
    let client: RedisClient
    let prefix: String
    let ordersMax: Int64
    let ledgerBacklogMax: Int64
    let clock: @Sendable () -> Int64
    let soldOut: SoldOutCache

    /// One script call for `requests`, applied in order; feeds the sold-out cache with what Redis answered.
    func callAsFunction(_ requests: [DeductRequest]) -> EventLoopFuture<[DeductOutcome]> {
        var arguments: [RedisArgument] = [
            .string(prefix), .integer(clock()), .integer(ordersMax), .integer(ledgerBacklogMax),
        ]
        arguments.reserveCapacity(4 + requests.count * 6)
        for request in requests {
            arguments.append(.string(request.sku))
            arguments.append(.string(request.userID))
            arguments.append(.string(request.orderID))
            arguments.append(.integer(request.amount))
            arguments.append(.integer(request.holdMilliseconds ?? 0))
            arguments.append(.string(request.traceParent ?? ""))
        }
        return client.submitScript(RedisInventoryScripts.deduct, arguments: arguments).flatMapThrowing { reply in
            guard let values = reply.elements, values.count == requests.count * 4 else {
                if reply.elements?.first?.int64 == RedisInventoryScripts.DeductReply.ledgerFull.value {
                    throw RedisInventoryStore.ledgerFull(backlogMax: ledgerBacklogMax)
                }
                if let message = reply.errorMessage { throw RedisError(.server, message) }
                throw RedisError(.unexpectedReply, "deduct script: \(reply)")
            }
            let now = soldOut.isEnabled ? InventoryClock.monotonicNanoseconds() : 0
            var outcomes: [DeductOutcome] = []
            outcomes.reserveCapacity(requests.count)
            let replayedValue = RedisInventoryScripts.DeductReply.replayed.value
            for index in requests.indices {
                guard let raw = values[index * 4].int64, let code = RedisInventoryScripts.DeductReply.code(raw),
                    let stock = values[index * 4 + 1].int64, let replayed = values[index * 4 + 2].int64,
                    let deadline = values[index * 4 + 3].int64
                else { throw RedisError(.unexpectedReply, "deduct script: \(reply)") }
                let outcome = DeductOutcome(
                    code: code,
                    stock: stock,
                    replayed: replayed == replayedValue,
                    holdDeadlineMilliseconds: deadline > 0 ? deadline : nil
                )
                outcomes.append(outcome)
            }
            if soldOut.isEnabled { soldOut.observe(requests, outcomes, now: now) }
            return outcomes
        }
    }
}
