import AsyncHTTPClient
import Foundation
import NIOHTTP1
import StampedeTesting
import Testing

/// The real binary exports to a real OTLP/HTTP receiver; the test decodes what arrived.
@Suite("OTLP export of the real binary", .serialized)
struct OTLPExportTests {
    @Test func spansAndMetricsReachAnOTLPReceiverAndJoinTheCallersTrace() async throws {
        let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        let exports = try await Self.exports(
            environment: [
                "OTEL_SERVICE_NAME": "stampede-under-test",
                // Values swift-otel 1.6 would abort on: they must only warn.
                "OTEL_PROPAGATORS": "tracecontext,baggage",
                "OTEL_TRACES_SAMPLER": "jaeger_remote",
                "OTEL_METRIC_EXPORT_INTERVAL": "200",
            ]
        ) { process, client in
            let traced = try await client.send(
                .POST,
                "/api/v1/inventory/deduct",
                #"{"sku":"HOT","user_id":"alice","order_id":"traced-1","amount":1}"#,
                headers: [("traceparent", "00-\(traceID)-00f067aa0ba902b7-01"), ("baggage", "tenant=acme")]
            )
            #expect(traced.status == 200)
            #expect(process.log.contains("telemetry setting ignored"))
        }

        let traces = exports.filter { $0.path == "/v1/traces" }
        #expect(!traces.isEmpty)
        #expect(traces.allSatisfy { $0.contentType.hasPrefix("application/json") })
        let spans = traces.flatMap { Self.spans(in: $0.body) }
        let deduct = try #require(spans.first { $0["name"] as? String == "inventory.deduct" })
        let attributes = Self.attributes(of: deduct)
        #expect(attributes["inventory.sku"] == "HOT")
        #expect(attributes["user.id"] == "alice")
        #expect(attributes["order.id"] == "traced-1")
        #expect(attributes["inventory.amount"] == "1")
        #expect(attributes["inventory.result"] == "success")
        // The span joined the caller's trace (ids are hex, or base64 of the bytes in proto3 JSON).
        let exportedTraceID = try #require(deduct["traceId"] as? String)
        #expect(Self.hex(of: exportedTraceID) == traceID)
        #expect(spans.contains { ($0["name"] as? String)?.contains("/api/v1/inventory/deduct") == true })

        let metrics = exports.filter { $0.path == "/v1/metrics" }
        let metricNames = Set(metrics.flatMap { Self.metricNames(in: $0.body) })
        #expect(metricNames.contains("inventory.deduct.total"))
        #expect(metricNames.contains("inventory.deduct.duration"))
        #expect(metricNames.contains("inventory.stock.current"))
    }

    @Test func aTraceDroppedByHeadSamplingIsStillExportedWhenSlow() async throws {
        let exports = try await Self.exports(
            environment: [
                "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
                "OTEL_TRACES_SAMPLER_ARG": "0",
                // Every request counts as slow: the tail decision must keep it.
                "STAMPEDE_TRACE_SLOW_MS": "0",
            ]
        ) { _, client in
            let result = try await client.deduct(sku: "HOT", user: "bob", order: "tail-1")
            #expect(result.status == 200)
            // A caller that did not sample: its flag decides at the head, the tail keeps the trace in its trace id.
            let joined = try await client.send(
                .POST,
                "/api/v1/inventory/deduct",
                #"{"sku":"HOT","user_id":"dan","order_id":"tail-2","amount":1}"#,
                headers: [("traceparent", "00-\(Self.unsampledCaller)-00f067aa0ba902b7-00")]
            )
            #expect(joined.status == 200)
        }
        let spans = exports.filter { $0.path == "/v1/traces" }.flatMap { Self.spans(in: $0.body) }
        let deduct = try #require(spans.first { Self.attributes(of: $0)["order.id"] == "tail-1" })
        #expect(deduct["name"] as? String == "inventory.deduct")
        // Kept as records until the trace was chosen, then built: the same attributes as a sampled span's.
        let attributes = Self.attributes(of: deduct)
        #expect(attributes["inventory.sku"] == "HOT")
        #expect(attributes["user.id"] == "bob")
        #expect(attributes["inventory.amount"] == "1")
        #expect(attributes["inventory.result"] == "success")
        #expect(attributes["inventory.new_stock"] == "9")
        let server = try #require(
            spans.first {
                ($0["name"] as? String)?.contains("/api/v1/inventory/deduct") == true
                    && $0["spanId"] as? String == deduct["parentSpanId"] as? String
            }
        )
        #expect(deduct["traceId"] as? String == server["traceId"] as? String)
        let http = Self.attributes(of: server)
        #expect(http["http.request.method"] == "POST")
        #expect(http["url.path"] == "/api/v1/inventory/deduct")
        #expect(http["http.route"] == "/api/v1/inventory/deduct")
        #expect(http["http.response.status_code"] == "200")
        #expect(http["http.response.body.size"] != nil)

        let joined = try #require(spans.first { Self.attributes(of: $0)["order.id"] == "tail-2" })
        #expect(Self.hex(of: joined["traceId"] as? String ?? "") == Self.unsampledCaller)
        let joinedServer = try #require(spans.first { $0["spanId"] as? String == joined["parentSpanId"] as? String })
        #expect(Self.hex(of: joinedServer["parentSpanId"] as? String ?? "") == "00f067aa0ba902b7")
    }

    static let unsampledCaller = "5bf92f3577b34da6a3ce929d0e0e4737"

    @Test func redisModeDeductsAnsweredOnTheEventLoopJoinTheCallersTrace() async throws {
        let redis = try await RedisServerProcess.start()
        let traceID = "0af7651916cd43dd8448eb211c80319c"
        let exports = try await Self.exports(environment: [:], extraArguments: ["--redis", redis.url]) { _, client in
            let traced = try await client.send(
                .POST,
                "/api/v1/inventory/deduct",
                #"{"sku":"HOT","user_id":"carol","order_id":"redis-traced-1","amount":1}"#,
                headers: [("traceparent", "00-\(traceID)-b7ad6b7169203331-01")]
            )
            #expect(traced.status == 200)
        }
        await redis.stop()
        let spans = exports.filter { $0.path == "/v1/traces" }.flatMap { Self.spans(in: $0.body) }
            .filter { Self.hex(of: $0["traceId"] as? String ?? "") == traceID }
        let server = try #require(spans.first { $0["name"] as? String == "/api/v1/inventory/deduct" })
        #expect(Self.hex(of: server["parentSpanId"] as? String ?? "") == "b7ad6b7169203331")
        #expect(Self.attributes(of: server)["http.response.status_code"] == "200")
        #expect(Self.attributes(of: server)["http.route"] == "/api/v1/inventory/deduct")
        let deduct = try #require(spans.first { $0["name"] as? String == "inventory.deduct" })
        #expect(deduct["parentSpanId"] as? String == server["spanId"] as? String)
        #expect(Self.attributes(of: deduct)["inventory.result"] == "success")
        // The script call that carried the deduct is a Redis client span inside the deduct's span.
        let call = try #require(spans.first { Self.attributes(of: $0)["db.system.name"] == "redis" })
        #expect(call["parentSpanId"] as? String == deduct["spanId"] as? String)
    }

    /// Runs the real binary exporting OTLP/HTTP JSON to a receiver, with an item HOT of 10 units, runs
    /// `requests`, stops the binary with SIGTERM (which flushes telemetry) and returns what arrived.
    static func exports(
        environment: [String: String],
        extraArguments: [String] = [],
        _ requests: @escaping @Sendable (StampedeProcess, JSONClient) async throws -> Void
    ) async throws -> [OTLPReceiver.Export] {
        let receiver = OTLPReceiver()
        try await receiver.run { endpoint in
            let directory = TemporaryDirectory()
            defer { directory.remove() }
            try await withHTTPClient { http in
                var settings = environment
                settings["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
                settings["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/json"
                settings["OTEL_BSP_SCHEDULE_DELAY"] = "100"
                let process = try await StampedeProcess.start(
                    dataDirectory: directory.path,
                    extraArguments: extraArguments,
                    environment: settings
                )
                let client = JSONClient(http: http, baseURL: process.baseURL)
                let (status, _) = try await client.send(
                    .PUT,
                    "/api/v1/inventory/HOT",
                    #"{"stock":10,"rate_window_ms":0}"#
                )
                #expect(status == 201)
                try await requests(process, client)
                #expect(try await process.stop(signal: SIGTERM) == 0)
            }
        }
        return receiver.exports
    }

    static func json(_ bytes: [UInt8]) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:]
    }

    static func spans(in body: [UInt8]) -> [[String: Any]] {
        let resources = json(body)["resourceSpans"] as? [[String: Any]] ?? []
        return resources.flatMap {
            ($0["scopeSpans"] as? [[String: Any]] ?? []).flatMap { $0["spans"] as? [[String: Any]] ?? [] }
        }
    }

    static func metricNames(in body: [UInt8]) -> [String] {
        let resources = json(body)["resourceMetrics"] as? [[String: Any]] ?? []
        return resources.flatMap {
            ($0["scopeMetrics"] as? [[String: Any]] ?? []).flatMap {
                ($0["metrics"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            }
        }
    }

    static func attributes(of span: [String: Any]) -> [String: String] {
        var result: [String: String] = [:]
        for attribute in span["attributes"] as? [[String: Any]] ?? [] {
            guard let key = attribute["key"] as? String, let value = attribute["value"] as? [String: Any] else {
                continue
            }
            if let string = value["stringValue"] as? String { result[key] = string }
            if let int = value["intValue"] { result[key] = "\(int)" }
        }
        return result
    }

    static func hex(of id: String) -> String {
        if id.count == 32, id.allSatisfy(\.isHexDigit) { return id.lowercased() }
        guard let data = Data(base64Encoded: id) else { return id }
        return data.map { String(format: "%02x", $0) }.joined()
    }
}
