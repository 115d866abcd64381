import InMemoryTracing
import ServiceContextModule
import Testing
import Tracing

@testable import StampedeTelemetry

@Suite("Tail keeping: failed and slow traces survive 1% head sampling")
struct TailKeepingTracerTests {
    func tracer(
        ratio: Double,
        slowMilliseconds: UInt64 = 10_000,
        spansMax: Int = 64
    ) -> (TailKeepingTracer<InMemoryTracer>, InMemoryTracer) {
        let inner = InMemoryTracer()
        let configuration = TailSamplingConfiguration(
            headRatio: ratio,
            slowThresholdNanoseconds: slowMilliseconds * 1_000_000,
            spansPerTraceMax: spansMax
        )
        return (TailKeepingTracer(inner: inner, configuration: configuration), inner)
    }

    func request(_ tracer: TailKeepingTracer<InMemoryTracer>, fail: Bool) {
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
        let traceparent = try #require(headers["traceparent"].flatMap(W3CTraceParent.init(header:)))
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
}
