import InMemoryTracing
import MetricsTestKit
import ServiceContextModule
import Synchronization
import Testing
import Tracing

@testable import StampedeTelemetry

@Suite("Trace context: ids, traceparent, head ratio, deferred attributes")
struct TraceContextTests {
    func tracer(
        ratio: Double,
        followsRemoteParent: Bool = true,
        slowMilliseconds: UInt64 = 10_000,
        propagates: Bool = true
    ) -> (TailKeepingTracer, InMemoryTracer) {
        let inner = InMemoryTracer()
        let configuration = TailSamplingConfiguration(
            headRatio: ratio,
            followsRemoteParent: followsRemoteParent,
            slowThresholdNanoseconds: slowMilliseconds * 1_000_000,
            propagatesTraceContext: propagates
        )
        return (TailKeepingTracer(inner: inner, configuration: configuration, metricsFactory: TestMetrics()), inner)
    }

    @Test func traceparentRoundTripsAndMalformedHeadersAreRefused() throws {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let parsed = try #require(W3CTraceParent(header: header))
        #expect(parsed.traceID == TraceID(high: 0x4bf9_2f35_77b3_4da6, low: 0xa3ce_929d_0e0e_4736))
        #expect(parsed.spanID == 0x00f0_67aa_0ba9_02b7)
        #expect(parsed.sampled)
        #expect(parsed.header == header)
        #expect(W3CTraceParent(header: header.uppercased())?.header == header, "read in either case, written lowercase")
        #expect(W3CTraceParent(header: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")?.sampled == false)
        // A later version may add fields after the flags.
        #expect(W3CTraceParent(header: "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later") != nil)
        for bad in [
            "", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
        ] {
            #expect(W3CTraceParent(header: bad) == nil, "\(bad)")
        }
    }

    @Test func generatedIdsAreDistinctAndNeverZero() {
        var seen = Set<UInt64>()
        for _ in 0..<100_000 { seen.insert(TraceRandom.next()) }
        #expect(seen.count == 100_000)
        #expect(!seen.contains(0))
        let id = TraceID.random()
        #expect(id.high | id.low != 0)
    }

    @Test func theHeadRatioSamplesItsShareOfNewTraces() {
        let ratio = 0.25
        let (tracer, inner) = tracer(ratio: ratio)
        let traces = 20_000
        for _ in 0..<traces { tracer.startSpan("root", context: .topLevel, ofKind: .server).end() }
        // Binomial: mean 5,000, standard deviation about 61; six of them is far outside chance.
        let sampled = inner.finishedSpans.count
        #expect(abs(Double(sampled) - Double(traces) * ratio) < 6 * (Double(traces) * ratio * (1 - ratio)).squareRoot())
        #expect(tracer.tailDecisions.dropped == traces - sampled)
    }

    @Test func theRatioDecidesByTraceIDSoServicesAgree() {
        let (tracer, _) = tracer(ratio: 0.5)
        for _ in 0..<1000 {
            let id = TraceID.random()
            let chosen = tracer.headSamples(id)
            #expect(tracer.headSamples(id) == chosen)
            #expect(chosen == (Double(id.low & 0x00FF_FFFF_FFFF_FFFF) < 0.5 * 72_057_594_037_927_936.0))
        }
        let (all, _) = self.tracer(ratio: 1)
        let (none, _) = self.tracer(ratio: 0)
        let extreme = TraceID(high: .max, low: .max)
        #expect(all.headSamples(extreme) && !none.headSamples(TraceID(high: 1, low: 0)))
    }

    static func context(
        traceparent: String,
        tracestate: String? = nil,
        into tracer: TailKeepingTracer
    ) -> ServiceContext {
        var headers = ["traceparent": traceparent]
        headers["tracestate"] = tracestate
        var context = ServiceContext.topLevel
        tracer.extract(headers, into: &context, using: DictionaryCarrier())
        return context
    }

    @Test func anUnsampledCallersTraceIsJoinedPassedOnAndKeptWholeWhenItFails() throws {
        let (tracer, inner) = tracer(ratio: 1)
        let caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
        let parent = Self.context(traceparent: caller, tracestate: "vendor=x", into: tracer)
        // The caller's unsampled flag decides (parent based), whatever the ratio.
        let root = tracer.startSpan("POST /deduct", context: parent, ofKind: .server)
        let child = tracer.startSpan("inventory.deduct", context: root.context, ofKind: .internal)
        var headers: [String: String] = [:]
        tracer.inject(child.context, into: &headers, using: DictionaryCarrier())
        let sent = try #require(headers["traceparent"].flatMap { W3CTraceParent(header: $0) })
        #expect(sent.traceID.high == 0x0af7_6519_16cd_43dd && !sent.sampled)
        #expect(sent.spanID != 0xb7ad_6b71_6920_3331, "our span's id, not the caller's")
        #expect(headers["tracestate"] == "vendor=x")
        // The same span is named the same way each time it is asked.
        var again: [String: String] = [:]
        tracer.inject(child.context, into: &again, using: DictionaryCarrier())
        #expect(again["traceparent"] == headers["traceparent"])
        child.setStatus(SpanStatus(code: .error))
        child.end()
        root.end()
        let spans = inner.finishedSpans
        #expect(spans.count == 2)
        // (The in-memory tracer propagates with its own headers, so the exported ids joining the caller's trace
        // are checked with swift-otel, in OTLPExportTests.)
        let exportedRoot = try #require(spans.first { $0.operationName == "POST /deduct" })
        #expect(spans.first { $0.operationName == "inventory.deduct" }?.parentSpanID == exportedRoot.spanID)
    }

    @Test func aSampledCallerGoesStraightToTheInnerTracerAndWithoutTraceContextNothingIsReadOrWritten() throws {
        let (tracer, inner) = tracer(ratio: 0)
        let caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        let root = tracer.startSpan("root", context: Self.context(traceparent: caller, into: tracer), ofKind: .server)
        root.end()
        #expect(inner.finishedSpans.count == 1, "the caller's sampled flag decided, whatever the ratio")
        #expect(tracer.tailDecisions == (kept: 0, dropped: 0))

        let (silent, silentInner) = self.tracer(ratio: 0, propagates: false)
        let parent = Self.context(traceparent: caller, into: silent)
        #expect(parent.tailContext.map { _ in true } == nil)
        let local = silent.startSpan("root", context: parent, ofKind: .server)
        var headers: [String: String] = [:]
        silent.inject(local.context, into: &headers, using: DictionaryCarrier())
        #expect(headers.isEmpty)
        local.end()
        #expect(silentInner.finishedSpans.isEmpty, "unsampled here: the caller's flag was never read")
    }

    /// Deferred attributes that count how often they are built.
    struct CountedAttributes: DeferredSpanAttributes {
        let builds: Builds
        let order: String
        func spanAttributes() -> SpanAttributes {
            builds.count.wrappingAdd(1, ordering: .relaxed)
            var attributes = SpanAttributes()
            attributes["order.id"] = order
            attributes["inventory.amount"] = 2
            return attributes
        }
        var estimatedBytes: Int { Self.estimate(attributes: 2, stringBytes: order.utf8.count) }
    }

    final class Builds: Sendable {
        let count = Atomic<Int>(0)
    }

    @Test func deferredAttributesAreBuiltOnlyForExportedSpansAndMatchDirectOnes() throws {
        let (tracer, inner) = tracer(ratio: 0)
        let builds = Builds()
        func request(fail: Bool, order: String) {
            let span = tracer.startSpan("inventory.deduct", context: .topLevel, ofKind: .internal)
            span.setAttributes(CountedAttributes(builds: builds, order: order))
            if fail { span.setStatus(SpanStatus(code: .error)) }
            span.end()
        }
        for index in 0..<50 { request(fail: false, order: "ok-\(index)") }
        #expect(builds.count.load(ordering: .relaxed) == 0, "nothing built for traces that were forgotten")
        request(fail: true, order: "failed-1")
        #expect(builds.count.load(ordering: .relaxed) == 1)
        let exported = try #require(inner.finishedSpans.first)
        #expect(exported.attributes["order.id"]?.toSpanAttribute() == "failed-1")
        #expect(exported.attributes["inventory.amount"]?.toSpanAttribute() == 2)

        // Another tracer's span gets them at once, the same.
        let direct = InMemoryTracer()
        let span = direct.startSpan("inventory.deduct", context: .topLevel, ofKind: .internal)
        span.setAttributes(CountedAttributes(builds: builds, order: "failed-1"))
        span.end()
        #expect(direct.finishedSpans.first?.attributes == exported.attributes)

        // Reading them builds them; setting attributes directly replaces them.
        let open = tracer.startSpan("inventory.deduct", context: .topLevel, ofKind: .internal)
        open.setAttributes(CountedAttributes(builds: builds, order: "read"))
        #expect(open.attributes["order.id"]?.toSpanAttribute() == "read")
        open.updateAttributes { $0["extra"] = "yes" }
        #expect(open.attributes["extra"]?.toSpanAttribute() == "yes" && open.attributes["order.id"] != nil)
        open.end()
    }

    @Test func aBurstPastTheBoundInSharesStaysBoundedAndCountsWhatWasDropped() async throws {
        let metrics = TestMetrics()
        let share = 4096
        let bytesMax = 10 * share
        let configuration = TailSamplingConfiguration(
            headRatio: 0,
            slowThresholdNanoseconds: .max,
            bufferedBytesMax: bytesMax,
            reservationBytes: share
        )
        let tracer = TailKeepingTracer(inner: InMemoryTracer(), configuration: configuration, metricsFactory: metrics)
        let burst = 500
        let requests = await withTaskGroup(of: TailKeepingTracerTests.OpenRequest.self) { group in
            for index in 0..<burst { group.addTask { TailKeepingTracerTests.open(tracer, index: index) } }
            var requests: [TailKeepingTracerTests.OpenRequest] = []
            for await request in group { requests.append(request) }
            return requests
        }
        // Each buffered trace took one share (its spans fit in it), so exactly ten are buffered.
        let buffered = requests.filter(\.root.isRecording)
        #expect(buffered.count == bytesMax / share)
        #expect(tracer.bufferedBytes == bytesMax)
        #expect(tracer.bufferDrops == (traces: burst - buffered.count, spans: 0, updates: 0))
        let meter = try metrics.expectMeter(TailBufferMetrics.bytesLabel)
        #expect((meter.values.max() ?? 0) <= Double(bytesMax))
        let dropped = try metrics.expectCounter(TailBufferMetrics.droppedLabel, [("what", "trace")])
        #expect(dropped.totalValue == Int64(burst - buffered.count))

        for request in requests {
            for span in request.spans.reversed() { span.end() }
            request.root.end()
        }
        #expect(tracer.bufferedBytes == 0 && meter.lastValue == 0)
        #expect(tracer.tailDecisions == (kept: 0, dropped: buffered.count))
    }
}
