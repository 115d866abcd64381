import CoreMetrics
import Instrumentation
import ServiceContextModule
import Synchronization
import Tracing

/// A tracer that keeps every trace whose local root failed or was slow, even when head sampling dropped it.
///
/// A head sampler decides when a trace starts, before anyone knows whether it will fail (seed 001's
/// `force_sample` attribute, set later, changes nothing). Here the decision for a local root is made twice:
/// at start, by ratio on the trace id (or by the remote parent's flag), and again at its end. A trace that head
/// sampling chose goes straight to the inner tracer. The others (99% at the default ratio) are recorded cheaply:
/// one ``LocalTrace`` per trace holding its spans as plain records under one lock, ids drawn from a splitmix64
/// sequence rather than the system's random source, no call into the inner tracer. When the root ends, the
/// records are replayed into the inner tracer, with their original times, if a span recorded an error or ended
/// with an error status, or the root lasted at least the slow threshold; otherwise they are forgotten. The inner
/// tracer must sample every root it is given (`parentbased_always_on`). Downstream services see the unsampled
/// flag for such traces, so only this service's spans of a failed request are kept.
///
/// The tracer reads and writes `traceparent`/`tracestate` itself (``extract(_:into:using:)``), so an unsampled
/// request never reaches the inner tracer's propagator; the inner tracer gets the remote parent only for spans it
/// exports.
///
/// The buffer is bounded per trace (`spansPerTraceMax`) and in total (`bufferedBytesMax`, an estimate of what
/// records, names, attributes and events hold, taken in shares of `reservationBytes`): past the total, a new
/// unsampled trace is not buffered (its spans record nothing), and a span or change that would not fit is dropped;
/// each is counted (``bufferDrops``, the metric `stampede.trace.buffer.dropped`), and ``bufferedBytes`` is the
/// metric `stampede.trace.buffer.bytes`.
public final class TailKeepingTracer: Tracer, Sendable {
    /// A span event of this name keeps its trace as a failure would, without marking anything as an error: how
    /// a business outcome worth a whole trace (a declined payment) asks for it. Domains spell the same name
    /// (`OrderTelemetry.keepTraceEvent`); the orders' OTLP test checks they agree.
    public static let keepEventName = "stampede.keep_trace"
    public typealias Span = TailSpan

    let inner: any Tracer
    let configuration: TailSamplingConfiguration
    /// Trace ids whose low 56 bits are below this are head sampled (the W3C and OpenTelemetry
    /// `TraceIdRatioBased` rule, so services that share a ratio agree on a trace).
    private let headThreshold: UInt64
    private let kept = Atomic<Int>(0)
    private let dropped = Atomic<Int>(0)
    /// Bytes taken by the undecided traces; taken (``reserve(_:)``) before anything is buffered, so it never
    /// passes `bufferedBytesMax`.
    private let bufferedBytesNow = Atomic<Int>(0)
    private let droppedTraces = Atomic<Int>(0)
    private let droppedSpans = Atomic<Int>(0)
    private let droppedUpdates = Atomic<Int>(0)
    private let metrics: TailBufferMetrics

    /// - Parameters:
    ///   - inner: The tracer that exports; it must sample every root it is given.
    ///   - configuration: Head ratio, slow threshold and buffer bounds.
    ///   - metricsFactory: Where `stampede.trace.buffer.bytes` and `stampede.trace.buffer.dropped` go.
    public init(
        inner: some Tracer,
        configuration: TailSamplingConfiguration,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.inner = inner
        self.configuration = configuration
        let scale = 72_057_594_037_927_936.0  // 2^56
        self.headThreshold =
            configuration.headRatio >= 1 ? .max : UInt64((configuration.headRatio * scale).rounded(.down))
        self.metrics = TailBufferMetrics(factory: metricsFactory)
    }

    /// Unsampled local traces exported because they failed or were slow, and those dropped.
    public var tailDecisions: (kept: Int, dropped: Int) {
        (kept.load(ordering: .relaxed), dropped.load(ordering: .relaxed))
    }

    /// Estimated bytes that undecided unsampled traces hold now; at most `configuration.bufferedBytesMax`.
    public var bufferedBytes: Int { bufferedBytesNow.load(ordering: .relaxed) }

    /// What the buffer bounds refused: unsampled traces not buffered at all (their spans record nothing, and are
    /// not counted again), spans of buffered traces (past `spansPerTraceMax` or `bufferedBytesMax`, or under a
    /// dropped span), and updates of buffered spans (attributes, events, links, names, status messages) that did
    /// not fit.
    public var bufferDrops: (traces: Int, spans: Int, updates: Int) {
        (
            droppedTraces.load(ordering: .relaxed), droppedSpans.load(ordering: .relaxed),
            droppedUpdates.load(ordering: .relaxed)
        )
    }

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String,
        context: @autoclosure () -> ServiceContext,
        ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant,
        function: String,
        file fileID: String,
        line: UInt
    ) -> TailSpan {
        let parent = context()
        let start = instant().nanosecondsSinceEpoch
        var remote: W3CTraceParent?
        switch parent.tailContext {
        case .forwarded:
            return forward(operationName, parent, kind, start, function, fileID, line)
        case .buffered(let trace, let parentIndex):
            return trace.openChild(
                operationName,
                kind: kind,
                start: start,
                parentIndex: parentIndex >= 0 ? parentIndex : nil,
                context: parent
            )
        case .remote(let box):
            remote = box.parent
        case nil:
            break
        }
        let traceID = remote?.traceID ?? TraceID.random()
        let sampled: Bool
        if let remote, configuration.followsRemoteParent {
            sampled = remote.sampled
        } else {
            sampled = headSamples(traceID)
        }
        if sampled {
            var context = parent
            if let remote { inner.extract(remote.headers, into: &context, using: DictionaryCarrier()) }
            return forward(operationName, context, kind, start, function, fileID, line)
        }
        let trace = LocalTrace(tracer: self, traceID: traceID, remoteParent: remote, rootContext: parent)
        return trace.openRoot(operationName, kind: kind, start: start, context: parent)
    }

    /// Whether the head ratio chooses this trace.
    func headSamples(_ traceID: TraceID) -> Bool {
        headThreshold == .max || traceID.low & 0x00FF_FFFF_FFFF_FFFF < headThreshold
    }

    private func forward(
        _ operationName: String,
        _ context: ServiceContext,
        _ kind: SpanKind,
        _ start: UInt64,
        _ function: String,
        _ fileID: String,
        _ line: UInt
    ) -> TailSpan {
        let span = inner.startSpan(
            operationName,
            context: context,
            ofKind: kind,
            at: FixedInstant(start),
            function: function,
            file: fileID,
            line: line
        )
        return TailSpan(forwarding: span)
    }

    /// Takes `bytes` from the buffer budget; false, and nothing taken, when that would pass `bufferedBytesMax`.
    func reserve(_ bytes: Int) -> Bool {
        var current = bufferedBytesNow.load(ordering: .relaxed)
        // Ends when the exchange wins or the budget is short; each retry means another caller's exchange won.
        while bytes <= configuration.bufferedBytesMax - current {
            let (exchanged, original) = bufferedBytesNow.compareExchange(
                expected: current,
                desired: current + bytes,
                ordering: .relaxed
            )
            if exchanged {
                metrics.bytes.increment(by: Double(bytes))
                return true
            }
            current = original
        }
        return false
    }

    /// Gives `bytes` back to the buffer budget.
    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        let now = bufferedBytesNow.wrappingSubtract(bytes, ordering: .relaxed).newValue
        assert(now >= 0, "released more buffered bytes than were reserved")
        metrics.bytes.decrement(by: Double(bytes))
    }

    /// What a buffer bound refused.
    enum BufferDrop {
        case trace
        case span
        case update
    }

    func countDropped(_ what: BufferDrop) {
        switch what {
        case .trace:
            droppedTraces.wrappingAdd(1, ordering: .relaxed)
            metrics.droppedTraces.increment()
        case .span:
            droppedSpans.wrappingAdd(1, ordering: .relaxed)
            metrics.droppedSpans.increment()
        case .update:
            droppedUpdates.wrappingAdd(1, ordering: .relaxed)
            metrics.droppedUpdates.increment()
        }
    }

    /// Called by a local trace when its root ends: replays it into the inner tracer if it failed or was slow.
    func finish(_ trace: LocalTrace, records: [BufferedSpanRecord], failed: Bool) {
        guard let root = records.first else { return }
        let slow = root.end &- root.start >= configuration.slowThresholdNanoseconds
        guard failed || slow else {
            dropped.wrappingAdd(1, ordering: .relaxed)
            return
        }
        kept.wrappingAdd(1, ordering: .relaxed)
        // The root joins the remote trace as a sampled child. A local root joins its own trace id, the one this
        // process already sent downstream in `traceparent`, so the services of one request export one trace; its
        // parent is named with the root's own first id (the inner tracer gives replayed spans new ids, so the
        // exported root names a parent that is not exported, as downstream spans already do).
        var rootContext = ServiceContext.topLevel
        if var remote = trace.remoteParent {
            remote.sampled = true
            inner.extract(remote.headers, into: &rootContext, using: DictionaryCarrier())
        } else {
            let own = W3CTraceParent(traceID: trace.traceID, spanID: trace.spanID(of: 0), sampled: true)
            inner.extract(own.headers, into: &rootContext, using: DictionaryCarrier())
        }
        rootContext.w3cBaggage = trace.rootContext.w3cBaggage
        var replayed: [any Tracing.Span] = []
        replayed.reserveCapacity(records.count)
        for record in records {
            let context = record.parentIndex.map { replayed[$0].context } ?? rootContext
            let span = inner.startSpan(
                record.name,
                context: context,
                ofKind: record.kind,
                at: FixedInstant(record.start),
                function: #function,
                file: #fileID,
                line: #line
            )
            span.attributes = record.builtAttributes
            for event in record.events { span.addEvent(event) }
            for link in record.links { span.addLink(link) }
            if let status = record.status { span.setStatus(status) }
            replayed.append(span)
        }
        // End children before parents, each at its own time (an unfinished child ends with the root).
        for (index, record) in records.enumerated().reversed() {
            replayed[index].end(at: FixedInstant(record.end == 0 ? root.end : record.end))
        }
    }

    /// Deprecated as the protocol's requirement is (swift-otel flushes when its service shuts down).
    @available(*, deprecated)
    public func forceFlush() { inner.forceFlush() }

    /// Reads `traceparent` and `tracestate` (when `tracecontext` is a propagator). Incoming W3C baggage is read by
    /// the HTTP layer (`BaggageMiddleware`), not here, so it is parsed once.
    public func extract<Carrier, Extract>(
        _ carrier: Carrier,
        into context: inout ServiceContext,
        using extractor: Extract
    )
    where Extract: Extractor, Extract.Carrier == Carrier {
        guard configuration.propagatesTraceContext, let header = extractor.extract(key: "traceparent", from: carrier),
            let parent = W3CTraceParent(header: header, traceState: extractor.extract(key: "tracestate", from: carrier))
        else { return }
        context.tailContext = .remote(RemoteParent(parent))
    }

    public func inject<Carrier, Inject>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject: Injector, Inject.Carrier == Carrier {
        if configuration.propagatesTraceContext {
            switch context.tailContext {
            case .forwarded:
                inner.inject(context, into: &carrier, using: injector)
            case .buffered(let trace, let index):
                // A span that records nothing has no id to name as the parent.
                guard index >= 0 else { break }
                let header = W3CTraceParent.header(
                    traceID: trace.traceID,
                    spanID: trace.spanID(of: index),
                    sampled: false
                )
                injector.inject(header, forKey: "traceparent", into: &carrier)
                if let state = trace.remoteParent?.traceState {
                    injector.inject(state, forKey: "tracestate", into: &carrier)
                }
            case .remote(let box):
                // No local span yet: what came in goes on.
                injector.inject(box.parent.header, forKey: "traceparent", into: &carrier)
                if let state = box.parent.traceState { injector.inject(state, forKey: "tracestate", into: &carrier) }
            case nil:
                break
            }
        }
        if let baggage = context.w3cBaggage, !baggage.entries.isEmpty {
            injector.inject(baggage.headerValue, forKey: "baggage", into: &carrier)
        }
    }
}

/// A fixed point in time, to give a replayed span its original start and end.
struct FixedInstant: TracerInstant {
    let nanosecondsSinceEpoch: UInt64
    init(_ nanoseconds: UInt64) { self.nanosecondsSinceEpoch = nanoseconds }
    static func < (lhs: FixedInstant, rhs: FixedInstant) -> Bool {
        lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
    }
}
