import Logging
import MetricsTestKit
import StampedeInventory
import StampedeInventoryRedis
import StampedeLedger
import StampedeRedis
import StampedeTelemetry
import StampedeTesting
import Synchronization
import Testing

/// The write-behind ledger against real servers: PostgreSQL (its own cluster) and Redis.
@Suite("Ledger: queue, worker, PostgreSQL, reconciliation", .serialized)
struct LedgerTests {
    static let logger: Logger = {
        var logger = Logger(label: "ledger-test")
        logger.logLevel = .warning
        return logger
    }()

    /// Runs `body` with a migrated ledger on a fresh PostgreSQL, whose pool runs meanwhile.
    func withLedger(_ body: (PostgresLedger, PostgresServerProcess) async throws -> Void) async throws {
        let postgres = try await PostgresServerProcess.start()
        let ledger = PostgresLedger(
            configuration: try PostgresLedgerConfiguration(url: postgres.url),
            logger: Self.logger
        )
        let pool = Task { await ledger.run() }
        do {
            try await ledger.migrate()
            try await body(ledger, postgres)
        } catch {
            pool.cancel()
            await postgres.destroy()
            throw error
        }
        pool.cancel()
        await postgres.destroy()
    }

    func makeRedisStore(
        _ redis: RedisServerProcess,
        ledgerBacklogMax: Int = 100_000
    ) throws -> (RedisClient, RedisInventoryStore) {
        let client = try RedisClient(configuration: try RedisConfiguration(url: redis.url), logger: Self.logger)
        let store = RedisInventoryStore(
            client: client,
            configuration: .init(soldOutCacheTTL: .zero, ledgerBacklogMax: ledgerBacklogMax),
            logger: Self.logger
        )
        return (client, store)
    }

    func queue(_ client: RedisClient, consumer: String = "w1", claimIdle: Duration = .seconds(30)) -> RedisLedgerQueue {
        RedisLedgerQueue(
            client: client,
            configuration: .init(consumer: consumer, claimIdle: claimIdle),
            logger: Self.logger
        )
    }

    /// Sells `count` units of SKU "A", one per order `o0`, `o1`, ….
    func sell(_ count: Int, on store: RedisInventoryStore) async throws {
        for index in 0..<count {
            _ = try await store.deduct(DeductRequest(sku: "A", userID: "u", orderID: "o\(index)", amount: 1))
        }
    }

    /// Runs a worker until the queue is empty (or `timeout`), then stops it.
    func drain(
        _ queue: any LedgerQueue,
        _ ledger: PostgresLedger,
        metrics: TestMetrics = TestMetrics(),
        batchMax: Int = 100,
        linger: Duration = .zero,
        timeout: Duration = .seconds(30),
        whileRunning: () async throws -> Void = {}
    ) async throws {
        let worker = LedgerWorker(
            queue: queue,
            ledger: ledger,
            configuration: .init(
                batchMax: batchMax,
                readWait: .milliseconds(50),
                linger: linger,
                depthInterval: .milliseconds(50)
            ),
            metrics: LedgerMetrics(factory: metrics),
            tracer: nil,
            logger: Self.logger
        )
        let running = Task { await worker.run() }
        try await whileRunning()
        let deadline = ContinuousClock.now + timeout
        while try await queue.depth().entries > 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        worker.stop()
        await running.value
        #expect(try await queue.depth().entries == 0, "the worker drained the queue")
    }

    func count(_ postgres: PostgresServerProcess, _ sql: String) throws -> Int {
        Int(try postgres.psql(sql)) ?? -1
    }

    @Test func migrationsRunOnceAndRedeliveredEntriesAreWrittenOnce() async throws {
        try await withLedger { (ledger: PostgresLedger, postgres: PostgresServerProcess) async throws in
            #expect(try await ledger.migrate() == 2, "a second start finds the schema in place")
            let order = OrderRecord(
                orderID: "o1",
                sku: "A",
                userID: "u1",
                amount: 2,
                oldStock: 10,
                newStock: 8,
                timestampMilliseconds: 1_700_000_000_000,
                generation: 1,
                released: false
            )
            let entries = [
                LedgerEntry(
                    id: "1",
                    event: .item(
                        sku: "A",
                        generation: 1,
                        config: ItemConfig(stock: 10, limitPerUser: 3, rateWindowMilliseconds: 0),
                        timestampMilliseconds: 1_700_000_000_000
                    ),
                    traceParent: nil
                ),
                LedgerEntry(id: "2", event: .sale(order), traceParent: nil),
                LedgerEntry(
                    id: "3",
                    event: .release(
                        orderID: "o1",
                        sku: "A",
                        generation: 1,
                        amount: 2,
                        timestampMilliseconds: 1_700_000_000_500
                    ),
                    traceParent: nil
                ),
            ]
            #expect(try await ledger.write(entries) == 3)
            #expect(try await ledger.write(entries) == 0, "a redelivered batch adds nothing")
            #expect(
                try postgres.psql("SELECT order_id, sku, user_id, amount, old_stock, new_stock FROM sales")
                    == "o1|A|u1|2|10|8"
            )
            #expect(try postgres.psql("SELECT limit_per_user FROM items") == "3")
            #expect(try await ledger.totals() == [LedgerItemTotals(sku: "A", generation: 1, initialStock: 10, sold: 0)])
        }
    }

    @Test func everyRedisSaleAndReleaseReachesTheLedgerExactlyOnce() async throws {
        let redis = try await RedisServerProcess.start()
        let (client, store) = try makeRedisStore(redis)
        try await withLedger { (ledger: PostgresLedger, postgres: PostgresServerProcess) async throws in
            _ = try await store.putItem(sku: "HOT", config: ItemConfig(stock: 300, rateWindowMilliseconds: 0))
            // 500 orders, each sent twice, for 300 units; then 20 releases, one of them twice.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<1000 {
                    group.addTask {
                        _ = try await store.deduct(
                            DeductRequest(sku: "HOT", userID: "u\(index / 2)", orderID: "o\(index / 2)", amount: 1)
                        )
                    }
                }
                try await group.waitForAll()
            }
            var sold: [String] = []
            for index in 0..<500 where try await store.log(orderID: "o\(index)") != nil { sold.append("o\(index)") }
            #expect(sold.count == 300)
            for order in sold.prefix(20) { _ = try await store.release(orderID: order) }
            _ = try await store.release(orderID: sold[0])
            let metrics = TestMetrics()
            try await drain(queue(client), ledger, metrics: metrics)
            #expect(try count(postgres, "SELECT count(*) FROM sales") == 300)
            #expect(try count(postgres, "SELECT count(DISTINCT order_id) FROM sales") == 300)
            #expect(try count(postgres, "SELECT count(*) FROM releases") == 20)
            #expect(try count(postgres, "SELECT count(*) FROM items") == 1)
            let item = try #require(try await store.item(sku: "HOT"))
            #expect(
                try await ledger.totals() == [
                    LedgerItemTotals(sku: "HOT", generation: 1, initialStock: 300, sold: item.sold)
                ]
            )
            #expect(try await client.xlen("stampede:ledger") == 0, "acknowledged entries are deleted")
            let written = try metrics.expectCounter(LedgerMetrics.entries, [("result", "written")]).totalValue
            #expect(written == 321)
        }
        await client.shutdown()
        await redis.stop()
    }

    @Test func aLingeringWorkerWritesASteadyTrickleInFewBatches() async throws {
        let redis = try await RedisServerProcess.start()
        let (client, store) = try makeRedisStore(redis)
        try await withLedger { (ledger: PostgresLedger, postgres: PostgresServerProcess) async throws in
            _ = try await store.putItem(sku: "A", config: ItemConfig(stock: 1000, rateWindowMilliseconds: 0))
            // 40 sales 25 ms apart, once to a worker that reads again at once, once to one that lingers 500 ms.
            var batches: [Duration: Int] = [:]
            var lingeringTrickle = Duration.zero
            for linger in [Duration.zero, .milliseconds(500)] {
                _ = try await store.deduct(DeductRequest(sku: "A", userID: "u", orderID: "first-\(linger)", amount: 1))
                let metrics = TestMetrics()
                let started = ContinuousClock.now
                try await drain(queue(client), ledger, metrics: metrics, linger: linger) {
                    defer { if linger > .zero { lingeringTrickle = ContinuousClock.now - started } }
                    for index in 0..<40 {
                        try await Task.sleep(for: .milliseconds(25))
                        let order = "o\(index)-\(linger)"
                        _ = try await store.deduct(DeductRequest(sku: "A", userID: "u", orderID: order, amount: 1))
                    }
                }
                batches[linger] = try metrics.expectRecorder(LedgerMetrics.batchSize).values.count
            }
            #expect(try count(postgres, "SELECT count(*) FROM sales") == 82)
            let eager = try #require(batches[.zero])
            let lingering = try #require(batches[.milliseconds(500)])
            #expect(eager > 12, "without linger a trickle is written almost entry by entry (\(eager) batches)")
            // About 1 s of trickle (longer on a busy machine): one batch per 500 ms, plus the first and the last.
            let bound = Int(lingeringTrickle / .milliseconds(500)) + 3
            #expect(lingering <= bound, "\(lingering) batches for a \(lingeringTrickle) trickle (at most \(bound))")
        }
        await client.shutdown()
        await redis.stop()
    }

    @Test func theWorkerRidesOutARedisRestartAndLosesNothing() async throws {
        let redis = try await RedisServerProcess.start()
        let (client, store) = try makeRedisStore(redis)
        try await withLedger { (ledger: PostgresLedger, postgres: PostgresServerProcess) async throws in
            _ = try await store.putItem(sku: "A", config: ItemConfig(stock: 1000, rateWindowMilliseconds: 0))
            /// Deducts until Redis answers: a deduct sent as Redis died may have been applied, and its retry is
            /// then answered from the order record.
            func sell(_ order: String) async throws {
                let deadline = ContinuousClock.now + .seconds(15)
                while true {
                    do {
                        let outcome = try await store.deduct(
                            DeductRequest(sku: "A", userID: "u", orderID: order, amount: 1)
                        )
                        #expect(outcome.isSuccess)
                        return
                    } catch  where ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                }
            }
            let metrics = TestMetrics()
            try await drain(queue(client), ledger, metrics: metrics) {
                for index in 0..<100 { try await sell("before-\(index)") }
                try await redis.kill()
                // Longer than the client's 1 s command timeout: the worker's reads fail meanwhile.
                try await Task.sleep(for: .seconds(3))
                try await redis.restart()
                for index in 0..<100 { try await sell("after-\(index)") }
            }
            #expect(try count(postgres, "SELECT count(*) FROM sales") == 200)
            #expect(try count(postgres, "SELECT count(DISTINCT order_id) FROM sales") == 200)
            var failures: Int64 = 0
            for stage in ["read", "ack"] {
                failures += try metrics.expectCounter(LedgerMetrics.failures, [("stage", stage)]).totalValue
            }
            #expect(failures >= 1, "the worker saw Redis gone (reading or acknowledging) and kept going")
        }
        await client.shutdown()
        await redis.stop()
    }

    @Test func entriesDeliveredByAReadWhoseReplyWasLostComeBackAtOnce() async throws {
        let redis = try await RedisServerProcess.start()
        let (client, store) = try makeRedisStore(redis)
        _ = try await store.putItem(sku: "A", config: ItemConfig(stock: 100, rateWindowMilliseconds: 0))
        let ledgerQueue = queue(client, consumer: "w1")
        try await ledgerQueue.acknowledge(try await ledgerQueue.next(max: 100, wait: .zero))
        try await sell(5, on: store)
        // Redis delivers the five to w1, but w1 never sees the reply; its next read fails (Redis is gone).
        let delivered = try await client.xreadgroup(
            "stampede:ledger",
            group: RedisLedgerQueue.group,
            consumer: "w1",
            count: 100
        )
        #expect(delivered.count == 5)
        try await redis.kill()
        await #expect(throws: (any Error).self) { _ = try await ledgerQueue.next(max: 100, wait: .zero) }
        try await redis.restart()
        var entries: [LedgerEntry] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while entries.isEmpty && ContinuousClock.now < deadline {
            // The claim of idle entries is 30 s away: only re-reading its own pending entries finds them now.
            entries = (try? await ledgerQueue.next(max: 100, wait: .milliseconds(100))) ?? []
        }
        let orders = entries.map { entry -> String in
            if case .sale(let order) = entry.event { return order.orderID }
            return "not a sale"
        }
        #expect(orders == (0..<5).map { "o\($0)" })
        await client.shutdown()
        await redis.stop()
    }

    @Test func anIdleRedisQueueWaitsOnOneBlockingReadThatEndsWhenAnEntryComesOrTheReadIsCancelled() async throws {
        let redis = try await RedisServerProcess.start()
        var configuration = try RedisConfiguration(url: redis.url)
        configuration.commandTimeout = .seconds(20)
        let client = try RedisClient(configuration: configuration, logger: Self.logger)
        let store = RedisInventoryStore(
            client: client,
            configuration: .init(soldOutCacheTTL: .zero, ledgerBacklogMax: 1000),
            logger: Self.logger
        )
        _ = try await store.putItem(sku: "A", config: ItemConfig(stock: 100, rateWindowMilliseconds: 0))
        let ledgerQueue = queue(client)
        try await ledgerQueue.acknowledge(try await ledgerQueue.next(max: 100, wait: .zero))
        func reads() async throws -> Int {
            let info = try await client.send(RedisCommand("INFO", ["commandstats"])).string ?? ""
            let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_xreadgroup:") }
            let calls = line?.split(separator: ",").first?.split(separator: "=").last
            return try #require(calls.flatMap { Int($0) })
        }

        // Nothing comes for 600 ms: one read waits the whole time (polling would have sent dozens).
        let before = try await reads()
        #expect(try await ledgerQueue.next(max: 100, wait: .milliseconds(600)).isEmpty)
        #expect(try await reads() - before == 1)

        // A sale made while a read waits ends that read, with the sale, long before its wait.
        let clock = ContinuousClock()
        let started = clock.now
        async let waiting = ledgerQueue.next(max: 100, wait: .seconds(8))
        try await Task.sleep(for: .milliseconds(100))
        _ = try await store.deduct(DeductRequest(sku: "A", userID: "u", orderID: "b1", amount: 1))
        let entries = try await waiting
        #expect(entries.count == 1)
        #expect(clock.now - started < .seconds(4))
        try await ledgerQueue.acknowledge(entries)

        // Cancelling a waiting read ends it at once, and the next read opens a new connection.
        let cancelled = Task { try await ledgerQueue.next(max: 100, wait: .seconds(8)) }
        try await Task.sleep(for: .milliseconds(100))
        let cancelledAt = clock.now
        cancelled.cancel()
        _ = await cancelled.result
        #expect(clock.now - cancelledAt < .seconds(4))
        _ = try await store.deduct(DeductRequest(sku: "A", userID: "u", orderID: "b2", amount: 1))
        let next = try await ledgerQueue.next(max: 100, wait: .seconds(2))
        #expect(next.count == 1)
        await ledgerQueue.close()
        await client.shutdown()
        await redis.stop()
    }

    @Test func entriesOfAWorkerThatDiedAreClaimedByAnother() async throws {
        let redis = try await RedisServerProcess.start()
        let (client, store) = try makeRedisStore(redis)
        try await withLedger { (ledger: PostgresLedger, postgres: PostgresServerProcess) async throws in
            _ = try await store.putItem(sku: "A", config: ItemConfig(stock: 100, rateWindowMilliseconds: 0))
            try await sell(50, on: store)
            // The first worker takes a batch and dies before acknowledging it.
            let taken = try await queue(client, consumer: "dead").next(max: 40, wait: .zero)
            #expect(taken.count == 40)
            let survivor = queue(client, consumer: "alive", claimIdle: .milliseconds(200))
            try await Task.sleep(for: .milliseconds(300))
            try await drain(survivor, ledger)
            #expect(try count(postgres, "SELECT count(*) FROM sales") == 50)
        }
        await client.shutdown()
        await redis.stop()
    }

    @Test func aDeadWorkersWholeBacklogIsTakenOverBatchAfterBatch() async throws {
        let redis = try await RedisServerProcess.start()
        let (client, store) = try makeRedisStore(redis)
        _ = try await store.putItem(sku: "A", config: ItemConfig(stock: 1000, rateWindowMilliseconds: 0))
        try await sell(299, on: store)
        let taken = try await queue(client, consumer: "dead").next(max: 1000, wait: .zero)
        #expect(taken.count == 300)
        let survivor = queue(client, consumer: "alive", claimIdle: .seconds(2))
        try await Task.sleep(for: .milliseconds(2100))
        // Claims are due every claimIdle / 2 (1 s), but a scan in progress goes on at the next read.
        var claimed: Set<String> = []
        for _ in 0..<8 {
            for entry in try await survivor.next(max: 50, wait: .zero) { claimed.insert(entry.id) }
        }
        #expect(claimed.count == taken.count)
        #expect(claimed.isSubset(of: Set(taken.map(\.id))))
        await client.shutdown()
        await redis.stop()
    }

    @Test func poisonEntriesGoToTheDeadLetterStreamAndTheRestIsWritten() async throws {
        let redis = try await RedisServerProcess.start()
        let (client, store) = try makeRedisStore(redis)
        try await withLedger { (ledger: PostgresLedger, postgres: PostgresServerProcess) async throws in
            _ = try await store.putItem(sku: "A", config: ItemConfig(stock: 100, rateWindowMilliseconds: 0))
            _ = try await store.deduct(DeductRequest(sku: "A", userID: "u", orderID: "good-1", amount: 1))
            // Not a ledger entry at all, and a well-formed one PostgreSQL refuses (a NUL byte in text).
            _ = try await client.xadd("stampede:ledger", fields: [("k", "sale"), ("junk", "1")])
            _ = try await client.xadd(
                "stampede:ledger",
                fields: [
                    ("k", "sale"), ("o", "bad\u{0}order"), ("s", "A"), ("u", "u"), ("a", "1"), ("os", "5"), ("ns", "4"),
                    ("t", "1700000000000"), ("g", "1"),
                ]
            )
            _ = try await store.deduct(DeductRequest(sku: "A", userID: "u", orderID: "good-2", amount: 1))
            let metrics = TestMetrics()
            try await drain(queue(client), ledger, metrics: metrics)
            #expect(
                try postgres.psql("SELECT string_agg(order_id, ',' ORDER BY order_id) FROM sales") == "good-1,good-2"
            )
            #expect(try await client.xlen("stampede:ledger:dead") == 2)
            #expect(try metrics.expectCounter(LedgerMetrics.deadLetters).totalValue == 1, "one refused by PostgreSQL")
        }
        await client.shutdown()
        await redis.stop()
    }

    @Test func aRetriedBatchDoesNotDeadLetterAnEntryTwice() async throws {
        let redis = try await RedisServerProcess.start()
        let (client, store) = try makeRedisStore(redis)
        try await withLedger { (ledger: PostgresLedger, postgres: PostgresServerProcess) async throws in
            _ = try await store.putItem(sku: "A", config: ItemConfig(stock: 100, rateWindowMilliseconds: 0))
            _ = try await store.deduct(DeductRequest(sku: "A", userID: "u", orderID: "good-1", amount: 1))
            for name in ["bad\u{0}1", "bad\u{0}2"] {
                _ = try await client.xadd(
                    "stampede:ledger",
                    fields: [
                        ("k", "sale"), ("o", .string(name)), ("s", "A"), ("u", "u"), ("a", "1"), ("os", "5"),
                        ("ns", "4"),
                        ("t", "1700000000000"), ("g", "1"),
                    ]
                )
            }
            _ = try await store.deduct(DeductRequest(sku: "A", userID: "u", orderID: "good-2", amount: 1))
            // The second dead-lettering fails once, so the batch is retried after the first entry was dead-lettered.
            let flaky = FlakyDeadLetterQueue(inner: queue(client), failingCall: 2)
            let metrics = TestMetrics()
            try await drain(flaky, ledger, metrics: metrics)
            #expect(flaky.deadLettered == ["bad\u{0}1", "bad\u{0}2"])
            #expect(try await client.xlen("stampede:ledger:dead") == 2)
            #expect(try metrics.expectCounter(LedgerMetrics.deadLetters).totalValue == 2)
            #expect(
                try postgres.psql("SELECT string_agg(order_id, ',' ORDER BY order_id) FROM sales") == "good-1,good-2"
            )
        }
        await client.shutdown()
        await redis.stop()
    }

    @Test func aFullLedgerStreamRefusesWritesAndChangesNothing() async throws {
        let redis = try await RedisServerProcess.start()
        let (client, store) = try makeRedisStore(redis, ledgerBacklogMax: 3)
        _ = try await store.putItem(sku: "A", config: ItemConfig(stock: 10, rateWindowMilliseconds: 0))
        _ = try await store.deduct(DeductRequest(sku: "A", userID: "u", orderID: "o1", amount: 1))
        _ = try await store.deduct(DeductRequest(sku: "A", userID: "u", orderID: "o2", amount: 1))
        await #expect(throws: InventoryStoreError.self) {
            _ = try await store.deduct(DeductRequest(sku: "A", userID: "u", orderID: "o3", amount: 1))
        }
        do {
            _ = try await store.deduct(DeductRequest(sku: "A", userID: "u", orderID: "o3", amount: 1))
            Issue.record("a deduct past the ledger bound was applied")
        } catch let error as InventoryStoreError {
            #expect(error.code == .ledgerBacklogFull)
        }
        #expect(try await store.item(sku: "A")?.stock == 8)
        #expect(try await store.log(orderID: "o3") == nil)
        await client.shutdown()
        await redis.stop()
    }

    @Test func theEmbeddedJournalKeepsUnsentEntriesAcrossRestartsAndCompaction() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let configuration = EmbeddedInventoryStore.Configuration(dataDirectory: directory.path, ledgerBacklogMax: 1000)
        var store = try EmbeddedInventoryStore(configuration: configuration, logger: Self.logger)
        _ = try await store.putItem(sku: "A", config: ItemConfig(stock: 100, rateWindowMilliseconds: 0))
        // Two sales come from traced requests: o28 unsampled, o29 sampled (its trace context is kept on disk).
        let trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-"
        for index in 0..<30 {
            let traceParent = index == 28 ? trace + "00" : index == 29 ? trace + "01" : nil
            _ = try await store.deduct(
                DeductRequest(sku: "A", userID: "u", orderID: "o\(index)", amount: 1, traceParent: traceParent)
            )
        }
        _ = try await store.release(orderID: "o0")
        #expect(store.ledgerDepth.entries == 32)
        func traceParents(_ store: EmbeddedInventoryStore) -> [String: String] {
            var found: [String: String] = [:]
            for entry in store.ledgerEntries(max: 100) {
                if case .sale(let order) = entry.event, let traceParent = entry.traceParent {
                    found[order.orderID] = traceParent
                }
            }
            return found
        }
        #expect(traceParents(store) == ["o28": trace + "00", "o29": trace + "01"])
        await store.close()
        // Reopening replays the journal and compacts it into a snapshot; the 32 entries survive in its pending
        // section, and the sampled trace context with them.
        store = try EmbeddedInventoryStore(configuration: configuration, logger: Self.logger)
        #expect(store.ledgerDepth.entries == 32)
        #expect(traceParents(store) == ["o29": trace + "01"])
        let first = store.ledgerEntries(max: 10)
        try store.acknowledgeLedger(through: UInt64(first.last!.id)!)
        #expect(store.ledgerDepth.entries == 22)
        await store.close()
        store = try EmbeddedInventoryStore(configuration: configuration, logger: Self.logger)
        #expect(store.ledgerDepth.entries == 22, "the acknowledgement is durable too")
        #expect(traceParents(store) == ["o29": trace + "01"], "read back from the snapshot's pending section")
        try await withLedger { (ledger: PostgresLedger, postgres: PostgresServerProcess) async throws in
            try await drain(EmbeddedLedgerQueue(store: store, dataDirectory: directory.path), ledger)
            #expect(try count(postgres, "SELECT count(*) FROM sales") == 21, "sales o9…o29 (o0…o8 were acknowledged)")
            #expect(try count(postgres, "SELECT count(*) FROM releases") == 1)
        }
        await store.close()
        store = try EmbeddedInventoryStore(configuration: configuration, logger: Self.logger)
        #expect(store.ledgerDepth.entries == 0)
        await store.close()
    }

    /// Reserves four holds of SKU "R" (stock 10): r1 confirmed, r2 released, r3 expired, r4 still held.
    func holdEveryWay(_ store: any InventoryStore, clock: ManualClock) async throws {
        _ = try await store.putItem(sku: "R", config: ItemConfig(stock: 10, rateWindowMilliseconds: 0))
        for (index, ms) in [(1, 5_000), (2, 5_000), (3, 1_000), (4, 60_000)] {
            let request = DeductRequest(
                sku: "R",
                userID: "u\(index)",
                orderID: "r\(index)",
                amount: Int64(index),
                holdMilliseconds: Int64(ms)
            )
            #expect(try await store.deduct(request).isSuccess)
        }
        #expect(try await store.confirm(orderID: "r1").code == .confirmed)
        #expect(try await store.release(orderID: "r2").code == .released)
        clock.advance(milliseconds: 1_000)
        #expect(try await store.expireHolds(max: 10).map(\.orderID) == ["r3"])
    }

    /// What the ledger holds after ``holdEveryWay(_:clock:)``.
    func expectHoldsInLedger(_ postgres: PostgresServerProcess, _ ledger: PostgresLedger) async throws {
        #expect(try count(postgres, "SELECT count(*) FROM sales WHERE sku = 'R' AND hold_until IS NOT NULL") == 4)
        #expect(try postgres.psql("SELECT order_id FROM confirmations") == "r1")
        #expect(
            try postgres.psql("SELECT string_agg(order_id || ':' || reason, ',' ORDER BY order_id) FROM releases")
                == "r2:release,r3:expire"
        )
        // Taken: the confirmed r1 (1) and the live hold r4 (4).
        #expect(try await ledger.totals() == [LedgerItemTotals(sku: "R", generation: 1, initialStock: 10, sold: 5)])
    }

    @Test func reservationsConfirmsReleasesAndExpiriesReachTheLedgerFromRedis() async throws {
        let redis = try await RedisServerProcess.start()
        let client = try RedisClient(configuration: try RedisConfiguration(url: redis.url), logger: Self.logger)
        let clock = ManualClock()
        let store = RedisInventoryStore(
            client: client,
            configuration: .init(soldOutCacheTTL: .zero, ledgerBacklogMax: 1000),
            logger: Self.logger,
            clock: clock.closure
        )
        try await withLedger { (ledger: PostgresLedger, postgres: PostgresServerProcess) async throws in
            try await holdEveryWay(store, clock: clock)
            try await drain(queue(client), ledger)
            try await expectHoldsInLedger(postgres, ledger)
            let state = try #require(try await store.itemStates().first)
            #expect(state.taken == 5 && state.reserved == 4)
            #expect(try await Reconciler(store: store, ledger: ledger, queue: nil).compare().drifting.isEmpty)
        }
        await client.shutdown()
        await redis.stop()
    }

    @Test func reservationEventsWaitingInTheEmbeddedJournalSurviveARestart() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let configuration = EmbeddedInventoryStore.Configuration(dataDirectory: directory.path, ledgerBacklogMax: 1000)
        let clock = ManualClock()
        var store = try EmbeddedInventoryStore(configuration: configuration, logger: Self.logger, clock: clock.closure)
        try await holdEveryWay(store, clock: clock)
        #expect(store.ledgerDepth.entries == 8)
        await store.close()
        // Reopened, the snapshot's pending section holds the confirm, release and expiry with their orders.
        store = try EmbeddedInventoryStore(configuration: configuration, logger: Self.logger, clock: clock.closure)
        #expect(store.ledgerDepth.entries == 8)
        try await withLedger { (ledger: PostgresLedger, postgres: PostgresServerProcess) async throws in
            try await drain(EmbeddedLedgerQueue(store: store, dataDirectory: directory.path), ledger)
            try await expectHoldsInLedger(postgres, ledger)
            #expect(try await Reconciler(store: store, ledger: ledger, queue: nil).compare().drifting.isEmpty)
        }
        await store.close()
    }

    @Test func reconciliationFindsInjectedDriftAndRepairsItFromTheLedger() async throws {
        let redis = try await RedisServerProcess.start()
        let (client, store) = try makeRedisStore(redis)
        try await withLedger { (ledger: PostgresLedger, _: PostgresServerProcess) async throws in
            _ = try await store.putItem(sku: "A", config: ItemConfig(stock: 100, rateWindowMilliseconds: 0))
            _ = try await store.putItem(sku: "B", config: ItemConfig(stock: 50, rateWindowMilliseconds: 0))
            for index in 0..<10 {
                _ = try await store.deduct(DeductRequest(sku: "A", userID: "u", orderID: "a\(index)", amount: 1))
            }
            for index in 0..<5 {
                _ = try await store.deduct(DeductRequest(sku: "B", userID: "u", orderID: "b\(index)", amount: 1))
            }
            let redisQueue = queue(client)
            try await drain(redisQueue, ledger)
            let reconciler = Reconciler(store: store, ledger: ledger, queue: redisQueue)
            #expect(try await reconciler.compare().drifting.isEmpty)
            // Redis "forgets" three sales of A (as after a crash with appendfsync everysec).
            _ = try await client.send(RedisCommand("HSET", "stampede:item:A", "stock", "93", "sold", "7"))
            let drift = try await reconciler.compare()
            #expect(drift.drifting.map(\.sku) == ["A"])
            #expect(drift.drifting.first?.driftUnits == -3)
            #expect(drift.table().contains("drift"))
            let metrics = TestMetrics()
            Reconciler.record(drift, metrics: LedgerMetrics(factory: metrics))
            #expect(try metrics.expectGauge(LedgerMetrics.driftUnits, [("sku", "A")]).lastValue == -3)
            // While a sale is still queued the ledger is behind: repairing from it would take the sale back.
            _ = try await store.deduct(DeductRequest(sku: "B", userID: "u", orderID: "b-queued", amount: 1))
            let behind = try await reconciler.compare()
            #expect(behind.queuedEntries == 1)
            await #expect(throws: RepairRefusedError.self) {
                _ = try await reconciler.repair(behind) {
                    try await store.repairItem(sku: $0, generation: $1, expectedTaken: $2, taken: $3)
                }
            }
            try await drain(redisQueue, ledger)
            // B counts two sales more than the ledger (say, entries dead-lettered): lowering it would resell them.
            _ = try await client.send(RedisCommand("HSET", "stampede:item:B", "stock", "42", "sold", "8"))
            let compared = try await reconciler.compare()
            #expect(compared.drifting.map(\.sku) == ["A", "B"])
            // A sale of A after the comparison: the repair must not overwrite it with a count that misses it.
            _ = try await store.deduct(DeductRequest(sku: "A", userID: "u", orderID: "a-late", amount: 1))
            let raced = try await reconciler.repair(compared) {
                try await store.repairItem(sku: $0, generation: $1, expectedTaken: $2, taken: $3)
            }
            #expect(raced == ["A": .soldChanged, "B": .storeAhead])
            try await drain(redisQueue, ledger)
            let outcomes = try await reconciler.repair(try await reconciler.compare()) {
                try await store.repairItem(sku: $0, generation: $1, expectedTaken: $2, taken: $3)
            }
            #expect(outcomes == ["A": .repaired, "B": .storeAhead])
            #expect(try await reconciler.compare().drifting.map(\.sku) == ["B"])
            let item = try #require(try await store.item(sku: "A"))
            #expect(item.stock == 89 && item.sold == 11)
            let untouched = try #require(try await store.item(sku: "B"))
            #expect(untouched.stock == 42 && untouched.sold == 8)
        }
        await client.shutdown()
        await redis.stop()
    }
}

/// A ledger queue whose `failingCall`-th dead-lettering fails once; records the order ids it dead-lettered.
final class FlakyDeadLetterQueue: LedgerQueue {
    struct Failure: Error {}

    let inner: any LedgerQueue
    let failingCall: Int
    private let state = Mutex<(calls: Int, orders: [String])>((0, []))

    init(inner: any LedgerQueue, failingCall: Int) {
        self.inner = inner
        self.failingCall = failingCall
    }

    var deadLettered: [String] { state.withLock { $0.orders } }

    func next(max: Int, wait: Duration) async throws -> [LedgerEntry] { try await inner.next(max: max, wait: wait) }
    func acknowledge(_ entries: [LedgerEntry]) async throws { try await inner.acknowledge(entries) }
    func depth() async throws -> LedgerQueueDepth { try await inner.depth() }

    func deadLetter(_ entry: LedgerEntry, reason: String) async throws {
        let call = state.withLock { state in
            state.calls += 1
            return state.calls
        }
        if call == failingCall { throw Failure() }
        try await inner.deadLetter(entry, reason: reason)
        guard case .sale(let order) = entry.event else { return }
        state.withLock { $0.orders.append(order.orderID) }
    }
}
