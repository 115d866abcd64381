import ServiceContextModule
import Synchronization
import Tracing

/// What a buffered span recorded, to replay it into the inner tracer.
struct BufferedSpanRecord: Sendable {
    var name: String
    var kind: SpanKind
    var start: UInt64
    var end: UInt64?
    var parentIndex: Int?
    var attributes = SpanAttributes()
    var events: [SpanEvent] = []
    var status: SpanStatus?
    var failed = false
}

/// The spans of one local trace that head sampling dropped, kept until its root ends.
final class BufferedTrace<Inner: Tracer>: Sendable where Inner: Sendable {
    let remoteParent: W3CTraceParent?
    let traceID: String
    let rootContext: ServiceContext
    private let tracer: TailKeepingTracer<Inner>
    private let records = Mutex<(spans: [BufferedSpanRecord], spanIDs: [String], finished: Bool)>(([], [], false))

    init(tracer: TailKeepingTracer<Inner>, remoteParent: W3CTraceParent?, rootContext: ServiceContext) {
        self.tracer = tracer
        self.remoteParent = remoteParent
        self.traceID = remoteParent?.traceID ?? W3CTraceParent.randomTraceID()
        self.rootContext = rootContext
    }

    /// Starts a span; nil index when the trace is full or already finished (the span then records nothing).
    func open(
        _ name: String,
        kind: SpanKind,
        start: UInt64,
        parentIndex: Int?,
        context: ServiceContext
    ) -> BufferedSpan<Inner> {
        let index: Int? = records.withLock { state in
            guard !state.finished, state.spans.count < tracer.configuration.spansPerTraceMax else { return nil }
            state.spans.append(BufferedSpanRecord(name: name, kind: kind, start: start, parentIndex: parentIndex))
            state.spanIDs.append(W3CTraceParent.randomSpanID())
            return state.spans.count - 1
        }
        var spanContext = context
        spanContext.tailLocalSpan = .buffered(AnyBufferedTrace(self), index)
        return BufferedSpan(trace: self, index: index, name: name, context: spanContext)
    }

    func spanID(of index: Int) -> String { records.withLock { $0.spanIDs[index] } }

    func update(_ index: Int, _ body: (inout BufferedSpanRecord) -> Void) {
        records.withLock { state in
            guard !state.finished else { return }
            body(&state.spans[index])
        }
    }

    func end(_ index: Int, at nanoseconds: UInt64) {
        let finished: [BufferedSpanRecord]? = records.withLock { state in
            guard !state.finished else { return nil }
            state.spans[index].end = nanoseconds
            guard index == 0 else { return nil }
            state.finished = true
            return state.spans
        }
        if let finished { tracer.finish(self, records: finished) }
    }
}

/// A type-erased buffered trace, to keep it in a service context.
struct AnyBufferedTrace: Sendable {
    let base: any AnyObject & Sendable
    let traceID: String
    private let spanIDOf: @Sendable (Int) -> String

    init<Inner>(_ trace: BufferedTrace<Inner>) {
        self.base = trace
        self.traceID = trace.traceID
        self.spanIDOf = { trace.spanID(of: $0) }
    }

    func spanID(of index: Int) -> String { spanIDOf(index) }
}

/// Where a span of a local trace lives: forwarded to the inner tracer, or buffered.
enum TailLocalSpan: Sendable {
    case forwarded
    case buffered(AnyBufferedTrace, Int?)
}

extension ServiceContext {
    private enum TailLocalSpanKey: ServiceContextKey {
        typealias Value = TailLocalSpan
    }

    var tailLocalSpan: TailLocalSpan? {
        get { self[TailLocalSpanKey.self] }
        set { self[TailLocalSpanKey.self] = newValue }
    }
}
