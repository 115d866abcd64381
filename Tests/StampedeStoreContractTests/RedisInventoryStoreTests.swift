import Logging
import MetricsTestKit
import StampedeInventory
import StampedeInventoryRedis
import StampedeRedis
import StampedeTesting
import Synchronization
import Testing

/// What only the Redis store has: several instances on one Redis, the sold-out cache, Redis faults.
@Suite("Redis store: instances sharing stock, sold-out cache, faults")
struct RedisInventoryStoreTests {
    func makeStore(
        _ server: RedisServerProcess,
        soldOutCacheTTL: Duration = .milliseconds(100),
        metrics: TestMetrics = TestMetrics(),
        commandTimeout: Duration = .seconds(1)
    ) throws -> (RedisClient, RedisInventoryStore) {
        var configuration = try RedisConfiguration(url: server.url)
        configuration.commandTimeout = commandTimeout
        let client = try RedisClient(configuration: configuration, logger: StoreHarness.logger, metricsFactory: metrics)
        let store = RedisInventoryStore(
            client: client,
            configuration: .init(soldOutCacheTTL: soldOutCacheTTL),
            logger: StoreHarness.logger,
            metricsFactory: metrics
        )
        return (client, store)
    }

    @Test func instancesSharingOneRedisSellExactlyTheStockAndReplayEachOthersOrders() async throws {
        let server = try await RedisServerProcess.start()
        let instances = try (0..<3).map { _ in try makeStore(server) }
        _ = try await instances[0].1.putItem(sku: "HOT", config: ItemConfig(stock: 500, rateWindowMilliseconds: 0))
        // 1,500 orders, each sent to two different instances.
        let successes = try await withThrowingTaskGroup(of: (String, DeductOutcome).self) { group in
            for index in 0..<1500 {
                for copy in 0..<2 {
                    group.addTask {
                        let store = instances[(index + copy) % instances.count].1
                        let request = DeductRequest(sku: "HOT", userID: "u\(index)", orderID: "o\(index)", amount: 1)
                        return (request.orderID, try await store.deduct(request))
                    }
                }
            }
            var successes: [String: [DeductOutcome]] = [:]
            for try await (order, outcome) in group where outcome.isSuccess {
                successes[order, default: []].append(outcome)
            }
            return successes
        }
        let item = try #require(try await instances[1].1.item(sku: "HOT"))
        #expect(item.sold == 500 && item.stock == 0)
        #expect(successes.count == 500, "exactly the stock, once per order id")
        // Both copies of a sold order agree on its stock; a copy may also have seen "sold out" from a cache
        // only if its instance did not acknowledge it (see SoldOutCache).
        for outcomes in successes.values { #expect(Set(outcomes.map(\.stock)).count == 1) }
        for (client, _) in instances { await client.shutdown() }
        await server.stop()
    }

    @Test func aSoldOutSkuIsAnsweredFromTheCacheButNeverWithSuccess() async throws {
        let server = try await RedisServerProcess.start()
        let metrics = TestMetrics()
        let (client, store) = try makeStore(server, soldOutCacheTTL: .seconds(30), metrics: metrics)
        _ = try await store.putItem(sku: "HOT", config: ItemConfig(stock: 2, rateWindowMilliseconds: 0))
        #expect(try await store.deduct(DeductRequest(sku: "HOT", userID: "a", orderID: "o1", amount: 2)).isSuccess)
        let commandsBefore = try metrics.expectCounter("redis.client.commands", [("result", "ok")]).totalValue
        for index in 0..<50 {
            let outcome = try await store.deduct(
                DeductRequest(sku: "HOT", userID: "b\(index)", orderID: "n\(index)", amount: 1)
            )
            #expect(outcome == DeductOutcome(code: .insufficientStock, stock: 0))
        }
        #expect(try metrics.expectCounter("redis.client.commands", [("result", "ok")]).totalValue == commandsBefore)
        #expect(try metrics.expectCounter("inventory.cache.hit").totalValue == 50)
        // The order this instance acknowledged still replays its success instead of "sold out".
        let replay = try await store.deduct(DeductRequest(sku: "HOT", userID: "a", orderID: "o1", amount: 2))
        #expect(replay == DeductOutcome(code: .success, stock: 0, replayed: true))
        // A release through this instance clears the cache: the returned units sell again at once.
        #expect(try await store.release(orderID: "o1").code == .released)
        #expect(try await store.deduct(DeductRequest(sku: "HOT", userID: "c", orderID: "o9", amount: 1)).isSuccess)
        await client.shutdown()
        await server.stop()
    }

    @Test func redisKilledUnderLoadNeverYieldsAnUnstoredSuccessAndTheStoreRecovers() async throws {
        let server = try await RedisServerProcess.start()
        let (client, store) = try makeStore(server, soldOutCacheTTL: .zero, commandTimeout: .milliseconds(500))
        await store.checkHealth()
        #expect(store.isReady)
        _ = try await store.putItem(sku: "HOT", config: ItemConfig(stock: 1_000_000, rateWindowMilliseconds: 0))
        // The load runs until Redis has been killed, restarted and found ready again, and a little longer.
        let load = LoadFlags()
        let acknowledged = try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<16 {
                group.addTask {
                    var acknowledged: [String] = []
                    for index in 0..<1_000_000 where !load.done.load(ordering: .relaxed) {
                        let order = "w\(worker)-\(index)"
                        do {
                            let outcome = try await store.deduct(
                                DeductRequest(sku: "HOT", userID: order, orderID: order, amount: 1)
                            )
                            if outcome.isSuccess { acknowledged.append(order) }
                        } catch let error as InventoryStoreError {
                            #expect([.storeUnavailable, .storeTimeout, .storageBusy].contains(error.code))
                            load.failures.add(1, ordering: .relaxed)
                            try await Task.sleep(for: .milliseconds(5))
                        }
                    }
                    return acknowledged
                }
            }
            group.addTask {
                defer { load.done.store(true, ordering: .relaxed) }
                try await Task.sleep(for: .milliseconds(150))
                try await server.kill()
                await store.checkHealth()
                #expect(!store.isReady, "readiness follows Redis")
                try await Task.sleep(for: .milliseconds(300))
                try await server.restart()
                for _ in 0..<100 {
                    await store.checkHealth()
                    if store.isReady { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                try await Task.sleep(for: .milliseconds(200))
                return []
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let failed = load.failures.load(ordering: .relaxed)
        #expect(failed > 0, "the outage happened under load")
        var recovered = false
        for _ in 0..<100 where !recovered {
            await store.checkHealth()
            recovered = store.isReady
            if !recovered { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(recovered)
        // Every success reported before, during or after the outage is in Redis (AOF, appendfsync always).
        for order in acknowledged { #expect(try await store.log(orderID: order) != nil, "acknowledged \(order) lost") }
        let item = try #require(try await store.item(sku: "HOT"))
        #expect(item.stock + item.sold == 1_000_000)
        #expect(item.sold >= Int64(acknowledged.count))
        #expect(acknowledged.count > 0)
        await client.shutdown()
        await server.stop()
    }
}

/// Shared by the load's tasks: when to stop, and how many requests failed.
final class LoadFlags: Sendable {
    let done = Atomic<Bool>(false)
    let failures = Atomic<Int>(0)
}
