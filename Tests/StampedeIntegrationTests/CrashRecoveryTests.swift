import AsyncHTTPClient
import Foundation
import NIOHTTP1
import StampedeTesting
import Synchronization
import Testing

/// Runs the real `stampede` binary, kills it with SIGKILL mid-load, and checks every acknowledged sale survived.
@Suite("Crash recovery of the real binary", .serialized)
struct CrashRecoveryTests {
    @Test func everyAcknowledgedDeductSurvivesSigkill() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let initial = 1_000_000
        try await withHTTPClient(connections: 32) { http in

            let first = try await StampedeProcess.start(dataDirectory: directory.path)
            let client = JSONClient(http: http, baseURL: first.baseURL)
            #expect(try await client.createItem("HOT", stock: initial) == 201)

            let acknowledged = Acknowledged()
            let workers = 32
            let killAfterAcknowledged = 3000
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<workers {
                    group.addTask {
                        var index = 0
                        while true {
                            let order = "w\(worker)-\(index)"
                            index += 1
                            let amount = index % 3 + 1
                            guard
                                let result = try? await client.deduct(
                                    sku: "HOT",
                                    user: "user-\(worker)",
                                    order: order,
                                    amount: amount
                                )
                            else {
                                return  // the server died under us
                            }
                            if result.status == 200 {
                                acknowledged.orders.withLock { $0[order] = amount }
                            }
                        }
                    }
                }
                group.addTask {
                    while acknowledged.orders.withLock({ $0.count }) < killAfterAcknowledged {
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    try await first.stop(signal: SIGKILL)
                }
                try await group.waitForAll()
            }
            let acked = acknowledged.orders.withLock { $0 }
            #expect(acked.count >= killAfterAcknowledged)

            let second = try await StampedeProcess.start(dataDirectory: directory.path)
            let after = JSONClient(http: http, baseURL: second.baseURL)
            let (status, item) = try await after.send(.GET, "/api/v1/inventory/HOT")
            #expect(status == 200)
            let stock = try #require(item["stock"] as? Int)
            let sold = try #require(item["sold"] as? Int)
            #expect(stock + sold == initial)
            // Sold may include deducts made durable whose answer never reached the client, never fewer.
            #expect(sold >= acked.values.reduce(0, +))
            // As many readers as pooled connections: thousands of queued requests would wait past the
            // client's connect timeout on a busy machine.
            let orders = Array(acked)
            var missing: [String] = []
            try await withThrowingTaskGroup(of: [String].self) { group in
                for reader in 0..<workers {
                    group.addTask {
                        var notFound: [String] = []
                        for index in stride(from: reader, to: orders.count, by: workers) {
                            let (order, amount) = orders[index]
                            let (status, log) = try await after.send(.GET, "/api/v1/inventory/log/\(order)")
                            if status != 200 || log["amount"] as? Int != amount { notFound.append(order) }
                        }
                        return notFound
                    }
                }
                for try await orders in group { missing += orders }
            }
            #expect(missing.isEmpty, "acknowledged orders without a log record after restart: \(missing.prefix(10))")
            // A retry of an acknowledged order is answered from its record and takes nothing more.
            let (order, amount) = acked.first!
            let retry = try await after.deduct(
                sku: "HOT",
                user: "user-\(order.split(separator: "-")[0].dropFirst())",
                order: order,
                amount: amount
            )
            #expect(retry.status == 200)
            #expect(retry.json["replayed"] as? Bool == true)
            let (_, itemAfterRetry) = try await after.send(.GET, "/api/v1/inventory/HOT")
            #expect(itemAfterRetry["sold"] as? Int == sold)
            #expect(try await second.stop(signal: SIGTERM) == 0)
        }
    }

    @Test func sigtermDrainsAndExitsCleanly() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try await withHTTPClient { http in
            let process = try await StampedeProcess.start(dataDirectory: directory.path)
            let client = JSONClient(http: http, baseURL: process.baseURL)
            _ = try await client.send(.PUT, "/api/v1/inventory/HOT", #"{"stock":10,"rate_window_ms":0}"#)
            for index in 0..<5 { _ = try await client.deduct(sku: "HOT", user: "u", order: "o\(index)") }
            #expect(try await process.stop(signal: SIGTERM) == 0)
            #expect(process.log.contains("stopped"))

            let again = try await StampedeProcess.start(dataDirectory: directory.path)
            let (_, item) = try await JSONClient(http: http, baseURL: again.baseURL).send(.GET, "/api/v1/inventory/HOT")
            #expect(item["sold"] as? Int == 5)
            #expect(try await again.stop(signal: SIGINT) == 0)
        }
    }

    @Test func aSecondServerOnTheSameDataDirectoryRefusesToStart() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let first = try await StampedeProcess.start(dataDirectory: directory.path)
        await #expect(throws: TestSupportError.self) {
            _ = try await StampedeProcess.start(dataDirectory: directory.path, readyTimeoutSeconds: 10)
        }
        #expect(try await first.stop(signal: SIGTERM) == 0)
    }
}

/// Orders the server answered 200, as seen by the load workers.
final class Acknowledged: Sendable {
    let orders = Mutex<[String: Int]>([:])
}
