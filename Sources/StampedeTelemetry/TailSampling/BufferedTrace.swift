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
    /// ``BufferedSize/attributes(_:)`` of `attributes`, so a change is charged by its difference.
    var attributesBytes = 0
    var events: [SpanEvent] = []
    var status: SpanStatus?
    var failed = false
}

/// The spans of one local trace that head sampling dropped, kept until its root ends.
///
/// Every span and change is charged to the tracer's byte budget (``TailKeepingTracer/reserve(_:)``) under this
/// trace's lock before it is kept, and the trace gives its bytes back when its root ends (or, if the root is never
/// ended, when the trace is freed). A root that does not fit leaves the whole trace unbuffered.
final class BufferedTrace<Inner: Tracer>: Sendable where Inner: Sendable {
    private struct State: Sendable {
        var spans: [BufferedSpanRecord] = []
        var spanIDs: [String] = []
        /// Bytes of the tracer's budget this trace holds.
        var bytes = 0
        /// The root ended (the trace is decided) or was never buffered: nothing more is recorded.
        var closed = false
    }

    let remoteParent: W3CTraceParent?
    let traceID: String
    let rootContext: ServiceContext
    private let tracer: TailKeepingTracer<Inner>
    private let state = Mutex(State())

    init(tracer: TailKeepingTracer<Inner>, remoteParent: W3CTraceParent?, rootContext: ServiceContext) {
        self.tracer = tracer
        self.remoteParent = remoteParent
        self.traceID = remoteParent?.traceID ?? W3CTraceParent.randomTraceID()
        self.rootContext = rootContext
    }

    deinit {
        // A root that was never ended must not hold its bytes forever.
        let bytes = state.withLock { $0.bytes }
        tracer.release(bytes)
    }

    /// Starts the local root; when it does not fit in the tracer's budget the trace is not buffered at all
    /// (counted once, as a trace) and every span of it records nothing.
    func openRoot(_ name: String, kind: SpanKind, start: UInt64, context: ServiceContext) -> BufferedSpan<Inner> {
        let bytes = BufferedSize.traceBase + BufferedSize.span(named: name)
        let index: Int? = state.withLock { state in
            guard tracer.reserve(bytes) else {
                state.closed = true
                return nil
            }
            state.bytes = bytes
            state.spans.append(BufferedSpanRecord(name: name, kind: kind, start: start, parentIndex: nil))
            state.spanIDs.append(W3CTraceParent.randomSpanID())
            return 0
        }
        if index == nil { tracer.countDropped(.trace) }
        return span(index: index, name: name, context: context)
    }

    /// Starts a span under `parentIndex`; nil index (the span records nothing) when the trace is decided or was
    /// never buffered, and a counted drop when its parent was dropped or the span would pass `spansPerTraceMax`
    /// or the tracer's byte budget.
    func openChild(
        _ name: String,
        kind: SpanKind,
        start: UInt64,
        parentIndex: Int?,
        context: ServiceContext
    ) -> BufferedSpan<Inner> {
        let bytes = BufferedSize.span(named: name)
        let (index, dropped): (Int?, Bool) = state.withLock { state in
            guard !state.closed else { return (nil, false) }
            // A span under a dropped one is dropped too: replayed without its parent, it would become a root.
            guard let parentIndex, state.spans.count < tracer.configuration.spansPerTraceMax, tracer.reserve(bytes)
            else { return (nil, true) }
            state.bytes += bytes
            state.spans.append(BufferedSpanRecord(name: name, kind: kind, start: start, parentIndex: parentIndex))
            state.spanIDs.append(W3CTraceParent.randomSpanID())
            return (state.spans.count - 1, false)
        }
        if dropped { tracer.countDropped(.span) }
        return span(index: index, name: name, context: context)
    }

    private func span(index: Int?, name: String, context: ServiceContext) -> BufferedSpan<Inner> {
        var spanContext = context
        spanContext.tailLocalSpan = .buffered(AnyBufferedTrace(self), index)
        return BufferedSpan(trace: self, index: index, name: name, context: spanContext)
    }

    func spanID(of index: Int) -> String { state.withLock { $0.spanIDs[index] } }

    /// The span's attributes; empty once the trace is decided.
    func attributes(of index: Int) -> SpanAttributes {
        state.withLock { $0.closed ? SpanAttributes() : $0.spans[index].attributes }
    }

    func setAttributes(_ attributes: SpanAttributes, of index: Int) {
        let bytes = BufferedSize.attributes(attributes)
        let dropped: Bool = state.withLock { state in
            guard !state.closed else { return false }
            guard resize(&state, by: bytes - state.spans[index].attributesBytes) else { return true }
            state.spans[index].attributes = attributes
            state.spans[index].attributesBytes = bytes
            return false
        }
        if dropped { tracer.countDropped(.update) }
    }

    /// Appends an event; `failed` marks the span failed even when the event itself does not fit.
    func addEvent(_ event: SpanEvent, failed: Bool, of index: Int) {
        let bytes = BufferedSize.event(event)
        let dropped: Bool = state.withLock { state in
            guard !state.closed else { return false }
            if failed { state.spans[index].failed = true }
            guard resize(&state, by: bytes) else { return true }
            state.spans[index].events.append(event)
            return false
        }
        if dropped { tracer.countDropped(.update) }
    }

    /// Sets the status; when its message does not fit, the code is kept without it (an error still decides).
    func setStatus(_ status: SpanStatus, of index: Int) {
        let bytes = BufferedSize.status(status)
        let dropped: Bool = state.withLock { state in
            guard !state.closed else { return false }
            if status.code == .error { state.spans[index].failed = true }
            let previous = BufferedSize.status(state.spans[index].status)
            if resize(&state, by: bytes - previous) {
                state.spans[index].status = status
                return false
            }
            _ = resize(&state, by: -previous)
            state.spans[index].status = SpanStatus(code: status.code)
            return true
        }
        if dropped { tracer.countDropped(.update) }
    }

    func rename(_ index: Int, to name: String) {
        let dropped: Bool = state.withLock { state in
            guard !state.closed else { return false }
            guard resize(&state, by: name.utf8.count - state.spans[index].name.utf8.count) else { return true }
            state.spans[index].name = name
            return false
        }
        if dropped { tracer.countDropped(.update) }
    }

    /// Ends a span; the root's end decides the trace, hands its records to the tracer and gives its bytes back.
    func end(_ index: Int, at nanoseconds: UInt64) {
        let decided: (records: [BufferedSpanRecord], bytes: Int)? = state.withLock { state in
            guard !state.closed else { return nil }
            state.spans[index].end = nanoseconds
            guard index == 0 else { return nil }
            state.closed = true
            let result = (records: state.spans, bytes: state.bytes)
            state.spans = []
            state.bytes = 0
            return result
        }
        guard let decided else { return }
        tracer.finish(self, records: decided.records)
        tracer.release(decided.bytes)
    }

    /// Grows this trace's share of the tracer's budget (false, and nothing taken, when it would pass the bound)
    /// or shrinks it.
    private func resize(_ state: inout State, by delta: Int) -> Bool {
        if delta > 0 {
            guard tracer.reserve(delta) else { return false }
        } else {
            tracer.release(-delta)
        }
        state.bytes += delta
        return true
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
