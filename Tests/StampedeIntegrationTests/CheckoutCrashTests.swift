import AsyncHTTPClient
import Foundation
import NIOHTTP1
import StampedeTesting
import Testing

/// The checkout across real processes: `serve` with its payments at `payment-sim`, killed mid-saga.
@Suite("Checkout across processes and crashes", .serialized)
struct CheckoutCrashTests {
    @Test func everyOrderFinishesAfterSigkillAndNoneIsChargedTwice() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let stock = 100
        let orders = 40
        try await withHTTPClient(connections: 16) { http in
            // Slow payments keep sagas in flight when the kill comes; some answers are lost after the charge.
            let simulator = try await StampedeProcess.start(
                subcommand: "payment-sim",
                dataDirectory: directory.path,
                extraArguments: ["--latency-ms", "300", "--timeout-after-commit-rate", "0.2"]
            )
            let payments = JSONClient(http: http, baseURL: simulator.baseURL)
            let arguments = ["--payment-url", simulator.baseURL, "--order-timeout-ms", "20000"]
            let first = try await StampedeProcess.start(dataDirectory: directory.path, extraArguments: arguments)
            var client = JSONClient(http: http, baseURL: first.baseURL)
            #expect(try await client.createItem("HOT", stock: stock) == 201)

            var ids: [String] = []
            for index in 0..<orders {
                let (status, body) = try await client.send(
                    .POST,
                    "/api/v1/orders?wait=false",
                    #"{"request_id":"r\#(index)","user_id":"u\#(index)","items":[{"sku":"HOT","quantity":2}],"payment":{"amount_minor":500,"currency":"CNY","method":"card"}}"#
                )
                #expect(status == 202)
                ids.append(try #require(body["order_id"] as? String))
            }
            try await Task.sleep(for: .milliseconds(400))
            try await first.stop(signal: SIGKILL)

            let second = try await StampedeProcess.start(dataDirectory: directory.path, extraArguments: arguments)
            client = JSONClient(http: http, baseURL: second.baseURL)
            var statuses: [String: String] = [:]
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                for id in ids where statuses[id] == nil {
                    let (_, order) = try await client.send(.GET, "/api/v1/orders/\(id)")
                    if let status = order["status"] as? String,
                        ["confirmed", "cancelled", "expired", "failed"].contains(status)
                    {
                        statuses[id] = status
                    }
                }
                if statuses.count == orders { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(statuses.count == orders, "every order ends after the restart: \(statuses.count) of \(orders)")
            #expect(!statuses.values.contains("failed"))
            let confirmed = statuses.values.count { $0 == "confirmed" }
            #expect(confirmed > 0)

            let (_, item) = try await client.send(.GET, "/api/v1/inventory/HOT")
            let sold = item["sold"] as? Int ?? -1
            #expect(sold == confirmed * 2, "sold units are exactly the confirmed orders' units")
            #expect(item["reserved"] as? Int == 0)
            #expect((item["stock"] as? Int ?? -1) + sold == stock)

            let (_, totals) = try await payments.send(.GET, "/v1/stats")
            #expect(totals["orders_charged_twice"] as? Int == 0)
            let net = (totals["succeeded"] as? Int ?? -1) - (totals["refunded"] as? Int ?? -1)
            #expect(net == confirmed, "one net charge per confirmed order, none for the others")
            #expect(second.log.contains("resumed unfinished orders"))

            try await second.stop(signal: SIGTERM)
            // Not SIGTERM: a lost answer is held for 30 s, and a graceful stop would wait for it.
            try await simulator.stop(signal: SIGKILL)
        }
    }
}
