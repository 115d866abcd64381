import Foundation
import Testing

@testable import StampedeTraceAnalysis

@Suite("Slow-trace analysis: self time and the critical path")
struct TraceAnalysisTests {
    static let ms: UInt64 = 1_000_000

    func span(_ id: String, _ parent: String?, _ name: String, _ start: UInt64, _ end: UInt64) -> TraceSpan {
        TraceSpan(
            traceID: "t1",
            spanID: id,
            parentSpanID: parent,
            name: name,
            service: name.hasPrefix("payment") ? "payment" : "orders",
            startNanoseconds: start * Self.ms,
            endNanoseconds: end * Self.ms
        )
    }

    /// A checkout of 1 s: a reserve of 600 ms, then a payment of 400 ms whose provider call takes 300 ms; a
    /// metrics push runs beside the reserve.
    var checkout: [TraceSpan] {
        [
            span("root", nil, "order_service.create_order", 0, 1000),
            span("a", "root", "inventory.reserve", 0, 600),
            span("d", "root", "metrics.push", 100, 300),
            span("b", "root", "payment.create", 600, 1000),
            span("c", "b", "payment.provider", 650, 950),
        ]
    }

    @Test func selfTimeCountsEachNanosecondOnce() throws {
        let report = try #require(TraceAnalysis.report(traceID: "t1", spans: checkout))
        #expect(report.root.spanID == "root")
        // The root did nothing of its own: the seed's share (span / trace) would have called it 100%.
        #expect(
            report.selfNanoseconds == [
                "root": 0, "a": 600 * Self.ms, "d": 200 * Self.ms, "b": 100 * Self.ms, "c": 300 * Self.ms,
            ]
        )
    }

    @Test func theCriticalPathLeavesOutWorkThatRanBeside() throws {
        let report = try #require(TraceAnalysis.report(traceID: "t1", spans: checkout))
        let path = report.criticalPath.filter { $0.nanoseconds > 0 }.map {
            "\($0.span.spanID):\($0.nanoseconds / Self.ms)"
        }
        #expect(path == ["b:100", "c:300", "a:600"])
        #expect(report.criticalPath.reduce(0) { $0 + $1.nanoseconds } == 1000 * Self.ms)
        #expect(!report.criticalPath.contains { $0.span.spanID == "d" })
    }

    @Test func onlyTracesAtOrAboveTheThresholdAreReportedSlowestFirst() {
        var spans = checkout
        spans.append(
            TraceSpan(
                traceID: "t2",
                spanID: "x",
                parentSpanID: nil,
                name: "fast",
                service: "orders",
                startNanoseconds: 0,
                endNanoseconds: 5 * Self.ms
            )
        )
        spans.append(
            TraceSpan(
                traceID: "t3",
                spanID: "y",
                parentSpanID: "gone",
                name: "slowest",
                service: "orders",
                startNanoseconds: 0,
                endNanoseconds: 2000 * Self.ms
            )
        )
        let reports = TraceAnalysis.slowTraces(spans, minimumNanoseconds: 1000 * Self.ms)
        #expect(reports.map(\.traceID) == ["t3", "t1"])
        let text = SlowTraceReport.render(reports, top: 10)
        #expect(text.contains(" 60.0%  600.0 ms  inventory.reserve (orders)"))
        #expect(text.contains("  0.0 ms"))
    }

    @Test func otlpJSONIsReadFromARequestOrOnePerLine() throws {
        let request =
            #"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"stampede"}}]},"scopeSpans":[{"spans":[{"traceId":"abc","spanId":"01","parentSpanId":"","name":"root","startTimeUnixNano":"1000","endTimeUnixNano":"5000"},{"traceId":"abc","spanId":"02","parentSpanId":"01","name":"child","startTimeUnixNano":1500,"endTimeUnixNano":"2500"}]}]}]}"#
        let one = try OTLPJSONReader.spans(from: Data(request.utf8))
        #expect(
            one.count == 2 && one[0].service == "stampede" && one[0].parentSpanID == nil && one[1].parentSpanID == "01"
        )
        let lines = try OTLPJSONReader.spans(from: Data((request + "\n" + request + "\n").utf8))
        #expect(lines.count == 4)
        #expect(throws: OTLPJSONReader.Problem.self) { try OTLPJSONReader.spans(from: Data("{\"other\":1}".utf8)) }
        #expect(throws: OTLPJSONReader.Problem.self) { try OTLPJSONReader.spans(from: Data("not json\n".utf8)) }
    }
}
