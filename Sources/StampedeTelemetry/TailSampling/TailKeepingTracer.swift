import CoreMetrics
import Instrumentation
import ServiceContextModule
import Synchronization
import Tracing

/// A tracer that keeps every trace whose local root failed or was slow, even when head sampling dropped it.
///
/// A head sampler decides when a trace starts, before anyone knows whether it will fail (seed 001's
/// `force_sample` attribute, set later, changes nothing). Here the decision for a local root is made twice:
/// at start, by ratio (or by the remote parent's flag), and again at its end. Spans of a trace that head
/// sampling dropped are buffered in memory, and handed to the inner tracer with their original start and end
/// times if the root ended with an error status, recorded an error, or lasted at least the slow threshold;
/// otherwise they are dropped. The inner tracer must sample every root it is given (`parentbased_always_on`).
/// Downstream services see the unsampled flag for such traces, so only this service's spans of a failed request
/// are kept.
///
/// The buffer is bounded per trace (`spansPerTraceMax`) and in total (`bufferedBytesMax`, an estimate of what
/// records, names, attributes and events hold): past the total, a new unsampled trace is not buffered (its spans
/// record nothing), and a span or change that would not fit is dropped; each is counted (``bufferDrops``, the
/// metric `stampede.trace.buffer.dropped`), and ``bufferedBytes`` is the metric `stampede.trace.buffer.bytes`.
public final class TailKeepingTracer<Inner: Tracer>: Tracer, Sendable where Inner: Sendable {
    public typealias Span = TailSpan<Inner>

    let inner: Inner
    let configuration: TailSamplingConfiguration
    private let counters = Mutex((kept: 0, dropped: 0))
    /// Estimated bytes of the undecided traces; taken (``reserve(_:)``) before anything is buffered, so it never
    /// passes `bufferedBytesMax`. Atomics rather than `counters`: they change on every buffered span.
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
        inner: Inner,
        configuration: TailSamplingConfiguration,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.inner = inner
        self.configuration = configuration
        self.metrics = TailBufferMetrics(factory: metricsFactory)
    }

    /// Unsampled local traces exported because they failed or were slow, and those dropped.
    public var tailDecisions: (kept: Int, dropped: Int) { counters.withLock { $0 } }

    /// Estimated bytes that undecided unsampled traces hold now; at most `configuration.bufferedBytesMax`.
    public var bufferedBytes: Int { bufferedBytesNow.load(ordering: .relaxed) }

    /// What the buffer bounds refused: unsampled traces not buffered at all (their spans record nothing, and are
    /// not counted again), spans of buffered traces (past `spansPerTraceMax` or `bufferedBytesMax`, or under a
    /// dropped span), and updates of buffered spans (attributes, events, names, status messages) that did not fit.
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
    ) -> TailSpan<Inner> {
        let parent = context()
        let start = instant().nanosecondsSinceEpoch
        func forward() -> TailSpan<Inner> {
            let span = inner.startSpan(
                operationName,
                context: parent,
                ofKind: kind,
                at: FixedInstant(start),
                function: function,
                file: fileID,
                line: line
            )
            return TailSpan(forwarding: span)
        }
        if let local = parent.tailLocalSpan {
            switch local {
            case .forwarded:
                return forward()
            case .buffered(let erased, let parentIndex):
                if let trace = erased.base as? BufferedTrace<Inner> {
                    return TailSpan(
                        buffering: trace.openChild(
                            operationName,
                            kind: kind,
                            start: start,
                            parentIndex: parentIndex,
                            context: parent
                        )
                    )
                }
            }
        }
        var headers: [String: String] = [:]
        inner.inject(parent, into: &headers, using: DictionaryCarrier())
        let remote = headers["traceparent"].flatMap(W3CTraceParent.init(header:))
        let sampled: Bool
        if let remote, configuration.followsRemoteParent {
            sampled = remote.sampled
        } else {
            sampled = configuration.headRatio > 0 && Double.random(in: 0..<1) < configuration.headRatio
        }
        if sampled {
            return forward()
        }
        let trace = BufferedTrace(tracer: self, remoteParent: remote, rootContext: parent)
        return TailSpan(buffering: trace.openRoot(operationName, kind: kind, start: start, context: parent))
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

    /// Called by a buffered trace when its local root ends.
    func finish(_ trace: BufferedTrace<Inner>, records: [BufferedSpanRecord]) {
        guard let root = records.first else { return }
        let end = root.end ?? root.start
        let failed = records.contains { $0.failed }
        let slow = end &- root.start >= configuration.slowThresholdNanoseconds
        guard failed || slow else {
            counters.withLock { $0.dropped += 1 }
            return
        }
        counters.withLock { $0.kept += 1 }
        // The root joins the remote trace as a sampled child, or starts a trace of its own.
        var rootContext = ServiceContext.topLevel
        if let remote = trace.remoteParent {
            let header = W3CTraceParent(traceID: remote.traceID, spanID: remote.spanID, sampled: true).header
            inner.extract(["traceparent": header], into: &rootContext, using: DictionaryCarrier())
        }
        rootContext.w3cBaggage = trace.rootContext.w3cBaggage
        var replayed: [Inner.Span] = []
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
            span.attributes = record.attributes
            for event in record.events { span.addEvent(event) }
            if let status = record.status { span.setStatus(status) }
            replayed.append(span)
        }
        // End children before parents, each at its own time (an unfinished child ends with the root).
        for (index, record) in records.enumerated().reversed() {
            replayed[index].end(at: FixedInstant(record.end ?? end))
        }
    }

    public func forceFlush() { inner.forceFlush() }

    /// Incoming W3C baggage is read by the HTTP layer (`BaggageMiddleware`), not here, so it is parsed once.
    public func extract<Carrier, Extract>(
        _ carrier: Carrier,
        into context: inout ServiceContext,
        using extractor: Extract
    )
    where Extract: Extractor, Extract.Carrier == Carrier {
        inner.extract(carrier, into: &context, using: extractor)
    }

    public func inject<Carrier, Inject>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject: Injector, Inject.Carrier == Carrier {
        if case .buffered(let trace, let index) = context.tailLocalSpan, let index {
            let header = W3CTraceParent(traceID: trace.traceID, spanID: trace.spanID(of: index), sampled: false).header
            injector.inject(header, forKey: "traceparent", into: &carrier)
        } else {
            inner.inject(context, into: &carrier, using: injector)
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
