import InMemoryTracing
import MetricsTestKit
import ServiceContextModule
import Testing
import Tracing

@testable import StampedeTelemetry

@Suite("Tail keeping: failed and slow traces survive 1% head sampling")
struct TailKeepingTracerTests {
    func tracer(
        ratio: Double,
        slowMilliseconds: UInt64 = 10_000,
        spansMax: Int = 64,
        bytesMax: Int = TailSamplingConfiguration.bufferedBytesMaxDefault,
        reservationBytes: Int = 1,
        metrics: TestMetrics = TestMetrics()
    ) -> (TailKeepingTracer, InMemoryTracer) {
        let inner = InMemoryTracer()
        let configuration = TailSamplingConfiguration(
            headRatio: ratio,
            slowThresholdNanoseconds: slowMilliseconds * 1_000_000,
            spansPerTraceMax: spansMax,
            bufferedBytesMax: bytesMax,
            reservationBytes: reservationBytes
        )
        return (TailKeepingTracer(inner: inner, configuration: configuration, metricsFactory: metrics), inner)
    }

    func request(_ tracer: TailKeepingTracer, fail: Bool) {
        let root = tracer.startSpan("POST /deduct", context: .topLevel, ofKind: .server)
        root.attributes["http.request.method"] = "POST"
        let child = tracer.startSpan("inventory.deduct", context: root.context, ofKind: .internal)
        child.attributes["inventory.sku"] = "HOT"
        if fail { child.recordError(TestError(), attributes: [:], at: DefaultTracerClock.now) }
        child.end()
        if fail { root.setStatus(SpanStatus(code: .error)) }
        root.end()
    }

    struct TestError: Error {}

    @Test func successfulUnsampledTracesAreDropped() {
        let (tracer, inner) = tracer(ratio: 0)
        for _ in 0..<10 { request(tracer, fail: false) }
        #expect(inner.finishedSpans.isEmpty)
        #expect(tracer.tailDecisions == (kept: 0, dropped: 10))
    }

    @Test func failedUnsampledTracesAreKeptWholeWithParentsAndTimes() throws {
        let (tracer, inner) = tracer(ratio: 0)
        request(tracer, fail: false)
        request(tracer, fail: true)
        let spans = inner.finishedSpans
        #expect(spans.count == 2)
        let root = try #require(spans.first { $0.operationName == "POST /deduct" })
        let child = try #require(spans.first { $0.operationName == "inventory.deduct" })
        #expect(child.parentSpanID == root.spanID)
        #expect(child.traceID == root.traceID)
        #expect(child.attributes["inventory.sku"]?.toSpanAttribute() == "HOT")
        #expect(root.attributes["http.request.method"]?.toSpanAttribute() == "POST")
        #expect(root.status?.code == .error)
        #expect(child.events.contains { $0.name == "exception" })
        #expect(child.startInstant.nanosecondsSinceEpoch >= root.startInstant.nanosecondsSinceEpoch)
        #expect(child.endInstant.nanosecondsSinceEpoch <= root.endInstant.nanosecondsSinceEpoch)
        #expect(tracer.tailDecisions == (kept: 1, dropped: 1))
    }

    @Test func slowUnsampledTracesAreKept() {
        let (tracer, inner) = tracer(ratio: 0, slowMilliseconds: 0)
        request(tracer, fail: false)
        #expect(inner.finishedSpans.count == 2)
    }

    @Test func headSampledTracesGoStraightToTheInnerTracer() {
        let (tracer, inner) = tracer(ratio: 1)
        let root = tracer.startSpan("root", context: .topLevel, ofKind: .server)
        let child = tracer.startSpan("child", context: root.context, ofKind: .internal)
        child.end()
        #expect(inner.finishedSpans.map(\.operationName) == ["child"])
        root.end()
        #expect(inner.finishedSpans.count == 2)
        #expect(tracer.tailDecisions == (kept: 0, dropped: 0))
    }

    @Test func unsampledSpansPropagateTheUnsampledFlagDownstream() throws {
        let (tracer, _) = tracer(ratio: 0)
        let root = tracer.startSpan("root", context: .topLevel, ofKind: .server)
        var headers: [String: String] = [:]
        tracer.inject(root.context, into: &headers, using: DictionaryCarrier())
        let traceparent = try #require(headers["traceparent"].flatMap { W3CTraceParent(header: $0) })
        #expect(!traceparent.sampled)
        root.end()
    }

    @Test func bufferIsBoundedPerTrace() {
        let (tracer, inner) = tracer(ratio: 0, spansMax: 3)
        let root = tracer.startSpan("root", context: .topLevel, ofKind: .server)
        for index in 0..<10 {
            let span = tracer.startSpan("child-\(index)", context: root.context, ofKind: .internal)
            span.end()
        }
        root.setStatus(SpanStatus(code: .error))
        root.end()
        #expect(inner.finishedSpans.count == 3)
        #expect(tracer.bufferDrops == (traces: 0, spans: 8, updates: 0))
    }

    @Test func samplerSettingsMapToTheHeadRatio() {
        #expect(TailSamplingConfiguration(environment: [:], defaultRatio: 0.01).headRatio == 0.01)
        #expect(TailSamplingConfiguration(environment: [:], defaultRatio: 0.01).followsRemoteParent)
        let ratio = TailSamplingConfiguration(
            environment: ["OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.5"],
            defaultRatio: 0.01
        )
        #expect(ratio.headRatio == 0.5 && !ratio.followsRemoteParent)
        #expect(
            TailSamplingConfiguration(environment: ["OTEL_TRACES_SAMPLER": "always_on"], defaultRatio: 0.01).headRatio
                == 1
        )
        #expect(
            TailSamplingConfiguration(environment: ["STAMPEDE_TRACE_SLOW_MS": "250"], defaultRatio: 0.01)
                .slowThresholdNanoseconds == 250_000_000
        )
    }

    /// A request left open: its root and the spans under it, innermost last.
    struct OpenRequest: Sendable {
        let root: TailSpan
        let spans: [TailSpan]
    }

    static func open(_ tracer: TailKeepingTracer, index: Int) -> OpenRequest {
        let root = tracer.startSpan("POST /deduct", context: .topLevel, ofKind: .server)
        root.attributes["http.request.method"] = "POST"
        let store = tracer.startSpan("inventory.deduct", context: root.context, ofKind: .internal)
        store.attributes["inventory.sku"] = "SKU-\(index)"
        let journal = tracer.startSpan("journal.append", context: store.context, ofKind: .internal)
        return OpenRequest(root: root, spans: [store, journal])
    }

    @Test func aBurstOfUnsampledTracesStaysWithinTheByteBound() async throws {
        let metrics = TestMetrics()
        // Room for a handful of the burst's traces (each about traceBase + 3 spanBase + its strings).
        let bytesMax = 6 * (BufferedSize.traceBase + 3 * BufferedSize.spanBase + 256)
        let (tracer, inner) = tracer(ratio: 0, bytesMax: bytesMax, metrics: metrics)
        let burst = 200

        // Every request starts, from many tasks at once, before any ends.
        let requests = await withTaskGroup(of: OpenRequest.self, returning: [OpenRequest].self) { group in
            for index in 0..<burst { group.addTask { Self.open(tracer, index: index) } }
            var requests: [OpenRequest] = []
            for await request in group { requests.append(request) }
            return requests
        }

        #expect(tracer.bufferedBytes <= bytesMax)
        let meter = try metrics.expectMeter(TailBufferMetrics.bytesLabel)
        #expect(Double(tracer.bufferedBytes) == meter.lastValue)
        #expect((meter.values.max() ?? 0) <= Double(bytesMax))

        let buffered = requests.filter(\.root.isRecording)
        let drops = tracer.bufferDrops
        #expect(!buffered.isEmpty)
        #expect(drops.traces == burst - buffered.count)
        #expect(drops.traces > 0)
        // Spans of a dropped trace record nothing and are not counted again; those of a buffered trace are.
        #expect(requests.filter { !$0.root.isRecording }.allSatisfy { $0.spans.allSatisfy { !$0.isRecording } })
        #expect(drops.spans == buffered.flatMap(\.spans).filter { !$0.isRecording }.count)
        let dropped = TailBufferMetrics.droppedLabel
        #expect(try metrics.expectCounter(dropped, [("what", "trace")]).totalValue == Int64(drops.traces))
        #expect(try metrics.expectCounter(dropped, [("what", "span")]).totalValue == Int64(drops.spans))
        #expect(try metrics.expectCounter(dropped, [("what", "update")]).totalValue == Int64(drops.updates))

        for request in requests {
            for span in request.spans.reversed() { span.end() }
            request.root.end()
        }
        #expect(tracer.bufferedBytes == 0)
        #expect(meter.lastValue == 0)
        #expect(tracer.tailDecisions == (kept: 0, dropped: buffered.count))
        #expect(inner.finishedSpans.isEmpty)
    }

    @Test func aFailedTraceWithinTheBoundIsExportedWhole() throws {
        // What one failed request holds at its peak, measured with room to spare.
        let measured = TestMetrics()
        let (probe, _) = tracer(ratio: 0, metrics: measured)
        request(probe, fail: true)
        let peak = try #require(try measured.expectMeter(TailBufferMetrics.bytesLabel).values.max())

        let (tracer, inner) = tracer(ratio: 0, bytesMax: Int(peak))
        request(tracer, fail: true)
        let spans = inner.finishedSpans
        #expect(spans.count == 2)
        let root = try #require(spans.first { $0.operationName == "POST /deduct" })
        let child = try #require(spans.first { $0.operationName == "inventory.deduct" })
        #expect(child.parentSpanID == root.spanID)
        #expect(root.attributes["http.request.method"]?.toSpanAttribute() == "POST")
        #expect(child.attributes["inventory.sku"]?.toSpanAttribute() == "HOT")
        #expect(child.events.contains { $0.name == "exception" })
        #expect(root.status?.code == .error)
        #expect(tracer.bufferDrops == (traces: 0, spans: 0, updates: 0))
        #expect(tracer.tailDecisions == (kept: 1, dropped: 0))
        #expect(tracer.bufferedBytes == 0)
    }

    @Test func pastTheBoundNewTracesSpansAndChangesAreDroppedAndCounted() throws {
        let metrics = TestMetrics()
        // Room for the root "held" and one child "held.child", and 10 bytes more.
        let bytesMax =
            BufferedSize.traceBase + BufferedSize.span(named: "held") + BufferedSize.span(named: "held.child") + 10
        let (tracer, inner) = tracer(ratio: 0, bytesMax: bytesMax, metrics: metrics)

        let held = tracer.startSpan("held", context: .topLevel, ofKind: .server)
        let refused = tracer.startSpan("refused", context: .topLevel, ofKind: .server)
        let underRefused = tracer.startSpan("under.refused", context: refused.context, ofKind: .internal)
        let heldChild = tracer.startSpan("held.child", context: held.context, ofKind: .internal)
        let late = tracer.startSpan("late", context: held.context, ofKind: .internal)
        let underLate = tracer.startSpan("under.late", context: late.context, ofKind: .internal)
        #expect(held.isRecording && heldChild.isRecording)
        #expect(!refused.isRecording && !underRefused.isRecording && !late.isRecording && !underLate.isRecording)
        #expect(tracer.bufferedBytes == bytesMax - 10)

        heldChild.attributes["inventory.sku"] = "HOT"
        #expect(heldChild.attributes["inventory.sku"] == nil)
        // The exception event does not fit, but the error still decides the trace.
        held.recordError(TestError(), attributes: [:], at: DefaultTracerClock.now)
        #expect(tracer.bufferDrops == (traces: 1, spans: 2, updates: 2))

        for span in [underLate, late, heldChild, held, underRefused, refused] { span.end() }
        #expect(inner.finishedSpans.map(\.operationName).sorted() == ["held", "held.child"])
        #expect(tracer.tailDecisions == (kept: 1, dropped: 0))
        #expect(tracer.bufferedBytes == 0)
        let dropped = TailBufferMetrics.droppedLabel
        #expect(try metrics.expectCounter(dropped, [("what", "trace")]).totalValue == 1)
        #expect(try metrics.expectCounter(dropped, [("what", "span")]).totalValue == 2)
        #expect(try metrics.expectCounter(dropped, [("what", "update")]).totalValue == 2)
        #expect(try metrics.expectMeter(TailBufferMetrics.bytesLabel).lastValue == 0)
    }

    @Test func bufferBoundComesFromTheEnvironmentAndNoValueTraps() {
        func bytesMax(_ value: String) -> Int {
            TailSamplingConfiguration(environment: ["STAMPEDE_TRACE_BUFFER_BYTES_MAX": value], defaultRatio: 0.01)
                .bufferedBytesMax
        }
        let standard = TailSamplingConfiguration.bufferedBytesMaxDefault
        #expect(standard == 64 * 1024 * 1024)
        #expect(TailSamplingConfiguration(environment: [:], defaultRatio: 0.01).bufferedBytesMax == standard)
        #expect(bytesMax("1048576") == 1_048_576)
        #expect(bytesMax(" 2048 ") == 2048)
        for invalid in ["0", "-5", "", "64MiB", "1e9", "99999999999999999999999", "NaN"] {
            #expect(bytesMax(invalid) == standard, "\(invalid)")
        }
        let slow = TailSamplingConfiguration(
            environment: ["STAMPEDE_TRACE_SLOW_MS": "18446744073709551615"],
            defaultRatio: 0.01
        )
        #expect(slow.slowThresholdNanoseconds == .max)
    }
}
