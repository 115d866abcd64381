import AsyncHTTPClient
import Foundation
import NIOHTTP1
import StampedeTesting
import Synchronization
import Testing

/// The real binary in Redis mode: several instances on one `redis-server`, and Redis failing under load.
@Suite("Redis mode of the real binary", .serialized)
struct RedisModeTests {
    static func startInstance(
        _ redis: RedisServerProcess,
        _ directory: TemporaryDirectory
    ) async throws -> StampedeProcess {
        try await StampedeProcess.start(
            dataDirectory: directory.path + "/unused-\(UUID().uuidString)",
            extraArguments: ["--redis", redis.url, "--redis-timeout-ms", "500"]
        )
    }

    @Test func twoInstancesOnOneRedisSellExactlyTheStock() async throws {
        let redis = try await RedisServerProcess.start()
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let instances = [
            try await Self.startInstance(redis, directory), try await Self.startInstance(redis, directory),
        ]
        let stock = 1000
        try await withHTTPClient(connections: 64) { http in
            let clients = instances.map { JSONClient(http: http, baseURL: $0.baseURL) }
            #expect(try await clients[0].createItem("HOT", stock: stock, limitPerUser: 2) == 201)
            // 1,500 users × 2 orders each, every order sent to both instances at once: demand 3,000 > stock 1,000.
            let sold = try await withThrowingTaskGroup(of: Set<String>.self) { group in
                for worker in 0..<32 {
                    group.addTask {
                        var sold: Set<String> = []
                        for index in stride(from: worker, to: 3000, by: 32) {
                            let order = "o\(index)"
                            let user = "u\(index / 2)"
                            async let first = clients[0].deduct(sku: "HOT", user: user, order: order)
                            async let second = clients[1].deduct(sku: "HOT", user: user, order: order)
                            let (a, b) = try await (first, second)
                            #expect([200, 409].contains(a.status) && [200, 409].contains(b.status))
                            if a.status == 200 && b.status == 200 {
                                #expect(a.json["new_stock"] as? Int == b.json["new_stock"] as? Int)
                            }
                            if a.status == 200 || b.status == 200 { sold.insert(order) }
                        }
                        return sold
                    }
                }
                return try await group.reduce(into: Set<String>()) { $0.formUnion($1) }
            }
            #expect(sold.count == stock, "exactly the stock sold, each order once")
            for client in clients {
                let (status, item) = try await client.send(.GET, "/api/v1/inventory/HOT")
                #expect(status == 200)
                #expect(item["stock"] as? Int == 0 && item["sold"] as? Int == stock)
            }
            for order in sold.prefix(50) {
                let (status, log) = try await clients[1].send(.GET, "/api/v1/inventory/log/\(order)")
                #expect(status == 200 && log["amount"] as? Int == 1)
            }
        }
        for instance in instances { #expect(try await instance.stop(signal: SIGTERM) == 0) }
        await redis.stop()
    }

    @Test func redisKilledAndRestartedUnderLoadAnswers503AndRecovers() async throws {
        let redis = try await RedisServerProcess.start()
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let instance = try await Self.startInstance(redis, directory)
        let initial = 1_000_000
        try await withHTTPClient(connections: 16) { http in
            let client = JSONClient(http: http, baseURL: instance.baseURL)
            #expect(try await client.createItem("HOT", stock: initial) == 201)
            let acknowledged = Acknowledged()
            let counters = OutageCounters()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<16 {
                    group.addTask {
                        for index in 0..<300 {
                            let order = "w\(worker)-\(index)"
                            let started = ContinuousClock.now
                            let status: Int
                            let json: [String: Any]
                            do {
                                (status, json) = try await client.deduct(sku: "HOT", user: order, order: order)
                            } catch {
                                // Never a hang: say which request and what the server logged meanwhile.
                                let elapsed = ContinuousClock.now - started
                                Issue.record(
                                    "deduct \(order) failed after \(elapsed): \(error); log: \(instance.log.suffix(4000))"
                                )
                                throw error
                            }
                            switch status {
                            case 200: acknowledged.orders.withLock { $0[order] = 1 }
                            case 503:
                                counters.unavailable.add(1, ordering: .relaxed)
                                #expect(["store_unavailable", "store_timeout"].contains(json["code"] as? String))
                                try await Task.sleep(for: .milliseconds(10))
                            default: Issue.record("unexpected status \(status) \(json)")
                            }
                        }
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(300))
                    try await redis.kill()
                    counters.outage.store(true, ordering: .relaxed)
                    try await Task.sleep(for: .milliseconds(1200))
                    let started = ContinuousClock.now
                    let status: Int
                    let ready: [String: Any]
                    do {
                        (status, ready) = try await client.send(.GET, "/health/ready")
                    } catch {
                        let elapsed = ContinuousClock.now - started
                        Issue.record(
                            "/health/ready failed after \(elapsed): \(error); log: \(instance.log.suffix(4000))"
                        )
                        throw error
                    }
                    #expect(status == 503 && ready["store_ready"] as? Bool == false)
                    try await redis.restart()
                }
                try await group.waitForAll()
            }
            let sawOutage = counters.outage.load(ordering: .relaxed)
            let failures = counters.unavailable.load(ordering: .relaxed)
            #expect(sawOutage)
            #expect(failures > 0, "the outage was seen as 503s")
            var ready = false
            for _ in 0..<100 where !ready {
                ready = try await client.send(.GET, "/health/ready").status == 200
                if !ready { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(ready, "readiness comes back with Redis")
            #expect(try await client.deduct(sku: "HOT", user: "after", order: "after").status == 200)
            // Every 200 is in Redis after the restart: no success was reported for a deduct that was not stored.
            let acked = acknowledged.orders.withLock { $0 }
            #expect(acked.count > 0)
            var missing: [String] = []
            for order in acked.keys {
                let (status, _) = try await client.send(.GET, "/api/v1/inventory/log/\(order)")
                if status != 200 { missing.append(order) }
            }
            #expect(missing.isEmpty, "acknowledged but lost: \(missing.prefix(10))")
            let (_, item) = try await client.send(.GET, "/api/v1/inventory/HOT")
            let stock = try #require(item["stock"] as? Int)
            let sold = try #require(item["sold"] as? Int)
            #expect(stock + sold == initial)
            #expect(sold >= acked.count + 1)
        }
        #expect(try await instance.stop(signal: SIGTERM) == 0)
        await redis.stop()
    }
}

final class OutageCounters: Sendable {
    let unavailable = Atomic<Int>(0)
    let outage = Atomic<Bool>(false)
}
