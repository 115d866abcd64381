import AsyncHTTPClient
import Foundation
import NIOHTTP1
import StampedeTesting
import Testing

/// A declined payment's trace is kept whole in every service, even when head sampling keeps nothing.
@Suite("A declined order's trace across processes", .serialized)
struct DeclinedOrderTraceTests {
    @Test func aDeclinedPaymentIsExportedFromEveryServiceAtRatioZero() async throws {
        let receiver = OTLPReceiver()
        try await receiver.run { endpoint in
            let directory = TemporaryDirectory()
            defer { directory.remove() }
            let telemetry = [
                "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
                "OTEL_BSP_SCHEDULE_DELAY": "100",
                "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
                "OTEL_TRACES_SAMPLER_ARG": "0",
                // Nothing is slow: only the keep rule can export these traces.
                "STAMPEDE_TRACE_SLOW_MS": "600000",
            ]
            try await withHTTPClient { http in
                let simulator = try await StampedeProcess.start(
                    subcommand: "payment-sim",
                    dataDirectory: directory.path,
                    extraArguments: ["--decline-rate", "1"],
                    environment: telemetry
                )
                let serve = try await StampedeProcess.start(
                    dataDirectory: directory.path,
                    extraArguments: ["--payment-url", simulator.baseURL],
                    environment: telemetry
                )
                let client = JSONClient(http: http, baseURL: serve.baseURL)
                #expect(try await client.createItem("HOT", stock: 10) == 201)
                let order =
                    #"{"request_id":"r1","user_id":"u1","items":[{"sku":"HOT","quantity":1}],"payment":{"amount_minor":100,"currency":"CNY","method":"card"}}"#
                let (declined, body) = try await client.send(.POST, "/api/v1/orders", order)
                #expect(declined == 402)
                let declinedID = try #require(body["order_id"] as? String)
                // A confirmed order at ratio 0 is not exported: the keep is the decline's.
                let payments = JSONClient(http: http, baseURL: simulator.baseURL)
                _ = try await payments.send(.PUT, "/v1/faults", #"{"decline_rate":0}"#)
                let (confirmed, other) = try await client.send(
                    .POST,
                    "/api/v1/orders",
                    order.replacingOccurrences(of: "r1", with: "r2")
                )
                #expect(confirmed == 201)
                let confirmedID = try #require(other["order_id"] as? String)
                #expect(try await serve.stop(signal: SIGTERM) == 0)
                #expect(try await simulator.stop(signal: SIGTERM) == 0)

                let spans = receiver.exports.filter { $0.path == "/v1/traces" }.flatMap {
                    OTLPExportTests.spans(in: $0.body)
                }
                let declinedSpans = spans.filter { OTLPExportTests.attributes(of: $0)["order.id"] == declinedID }
                let names = Set(declinedSpans.compactMap { $0["name"] as? String })
                for name in [
                    "order_service.create_order", "inventory.reserve", "payment.create", "saga.compensate",
                    "inventory.release", "payment_sim.decline",
                ] {
                    #expect(names.contains(name), "\(name) is exported: \(names)")
                }
                let traces = declinedSpans.map { "\($0["name"] as? String ?? "?")=\($0["traceId"] as? String ?? "?")" }
                #expect(Set(declinedSpans.compactMap { $0["traceId"] as? String }).count == 1, "one trace: \(traces)")
                #expect(!spans.contains { OTLPExportTests.attributes(of: $0)["order.id"] == confirmedID })
                // The order names its trace.
                let exportedTrace = try #require(declinedSpans.first?["traceId"] as? String)
                #expect(body["trace_id"] as? String == OTLPExportTests.hex(of: exportedTrace))
            }
        }
    }
}
