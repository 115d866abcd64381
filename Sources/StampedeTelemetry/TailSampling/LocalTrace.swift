import ServiceContextModule
import Synchronization
import Tracing

/// What a buffered span recorded, to replay it into the inner tracer if its trace is kept.
struct BufferedSpanRecord: Sendable {
    var name: String
    var kind: SpanKind
    var start: UInt64
    /// Zero while the span is open.
    var end: UInt64 = 0
    var parentIndex: Int?
    /// Drawn when first asked for (to propagate); zero until then. A replayed span gets the inner tracer's id.
    var spanID: UInt64 = 0
    var attributes = SpanAttributes()
    /// Attributes not yet built; when set, they are the span's attributes and `attributes` is empty.
    var deferred: (any DeferredSpanAttributes)?
    /// ``BufferedSize/attributes(_:)`` of `attributes`, or the estimate of `deferred`, so a change is charged by
    /// its difference.
    var attributesBytes = 0

    /// The span's attributes, built.
    var builtAttributes: SpanAttributes { deferred?.spanAttributes() ?? attributes }
    var events: [SpanEvent] = []
    var links: [SpanLink] = []
    var status: SpanStatus?
}

/// The spans of one local trace that head sampling did not choose, kept as plain records until its root ends and
/// the trace is kept (it failed or was slow) or forgotten.
///
/// One object and one lock per trace; each span is a record in one array. Memory is charged to the tracer's byte
/// budget before anything is kept, in shares of ``TailSamplingConfiguration/reservationBytes``
/// (``TailKeepingTracer/reserve(_:)``): a typical trace touches the shared counter when it starts and when it
/// ends, and otherwise spends from its own share under its own lock. A root that does not fit leaves the whole
/// trace unbuffered.
final class LocalTrace: Sendable {
    private struct State: Sendable {
        var spans: [BufferedSpanRecord] = []
        /// Bytes taken from the tracer's budget, and how many of them the records use.
        var reserved = 0
        var used = 0
        /// A span recorded an error or ended with an error status.
        var failed = false
        /// The root ended (the trace is decided) or was never buffered: nothing more is recorded.
        var closed = false
    }

    let traceID: TraceID
    let remoteParent: W3CTraceParent?
    /// The root's parent context, for the baggage of a replayed root.
    let rootContext: ServiceContext
    private let tracer: TailKeepingTracer
    private let state = Mutex(State())

    init(tracer: TailKeepingTracer, traceID: TraceID, remoteParent: W3CTraceParent?, rootContext: ServiceContext) {
        self.tracer = tracer
        self.traceID = traceID
        self.remoteParent = remoteParent
        self.rootContext = rootContext
    }

    deinit {
        // A root that was never ended must not hold its bytes forever.
        tracer.release(state.withLock { $0.reserved })
    }

    /// Starts the local root; when it does not fit in the tracer's budget the trace is not buffered at all
    /// (counted once, as a trace) and every span of it records nothing.
    func openRoot(_ name: String, kind: SpanKind, start: UInt64, context: ServiceContext) -> TailSpan {
        let bytes = BufferedSize.traceBase + BufferedSize.span(named: name)
        let index: Int? = state.withLock { state in
            guard spend(&state, bytes) else {
                state.closed = true
                return nil
            }
            state.spans.reserveCapacity(2)
            state.spans.append(BufferedSpanRecord(name: name, kind: kind, start: start))
            return 0
        }
        if index == nil { tracer.countDropped(.trace) }
        return TailSpan(trace: self, index: index ?? -1, parent: context)
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
    ) -> TailSpan {
        let bytes = BufferedSize.span(named: name)
        let (index, dropped): (Int?, Bool) = state.withLock { state in
            guard !state.closed else { return (nil, false) }
            // A span under a dropped one is dropped too: replayed without its parent, it would become a root.
            guard let parentIndex, state.spans.count < tracer.configuration.spansPerTraceMax, spend(&state, bytes)
            else { return (nil, true) }
            state.spans.append(
                BufferedSpanRecord(name: name, kind: kind, start: start, parentIndex: parentIndex)
            )
            return (state.spans.count - 1, false)
        }
        if dropped { tracer.countDropped(.span) }
        return TailSpan(trace: self, index: index ?? -1, parent: context)
    }

    func spanID(of index: Int) -> UInt64 {
        state.withLock { state in
            if state.spans.isEmpty { return TraceRandom.next() }  // decided: nothing will refer to it
            if state.spans[index].spanID == 0 { state.spans[index].spanID = TraceRandom.next() }
            return state.spans[index].spanID
        }
    }

    func name(of index: Int) -> String? { state.withLock { $0.closed ? nil : $0.spans[index].name } }

    /// The span's attributes; empty once the trace is decided.
    func attributes(of index: Int) -> SpanAttributes {
        state.withLock { $0.closed ? SpanAttributes() : $0.spans[index].builtAttributes }
    }

    func setAttributes(_ attributes: SpanAttributes, of index: Int) {
        let bytes = BufferedSize.attributes(attributes)
        update(
            index,
            growingBy: { bytes - $0.attributesBytes },
            change: { record in
                record.attributes = attributes
                record.deferred = nil
                record.attributesBytes = bytes
            }
        )
    }

    func setDeferredAttributes(_ deferred: some DeferredSpanAttributes, of index: Int) {
        let bytes = BufferedSize.deferredBase + deferred.estimatedBytes
        update(
            index,
            growingBy: { bytes - $0.attributesBytes },
            change: { record in
                record.attributes = SpanAttributes()
                record.deferred = deferred
                record.attributesBytes = bytes
            }
        )
    }

    /// Appends an event; `failed` (a recorded error) marks the trace failed even when the event does not fit.
    func addEvent(_ event: SpanEvent, failed: Bool, of index: Int) {
        let bytes = BufferedSize.event(event)
        update(index, growingBy: { _ in bytes }, marksFailed: failed, change: { $0.events.append(event) })
    }

    func addLink(_ link: SpanLink, of index: Int) {
        let bytes = BufferedSize.link(link)
        update(index, growingBy: { _ in bytes }, change: { $0.links.append(link) })
    }

    /// Sets the status; when its message does not fit, the code is kept without it (an error still decides).
    func setStatus(_ status: SpanStatus, of index: Int) {
        let bytes = BufferedSize.status(status)
        let dropped: Bool = state.withLock { state in
            guard !state.closed else { return false }
            if status.code == .error { state.failed = true }
            let previous = BufferedSize.status(state.spans[index].status)
            if spend(&state, bytes - previous) {
                state.spans[index].status = status
                return false
            }
            _ = spend(&state, -previous)
            state.spans[index].status = SpanStatus(code: status.code)
            return true
        }
        if dropped { tracer.countDropped(.update) }
    }

    func rename(_ index: Int, to name: String) {
        update(index, growingBy: { name.utf8.count - $0.name.utf8.count }, change: { $0.name = name })
    }

    /// Changes span `index` when the bytes the change adds (`growingBy`, from the record as it is) fit, else
    /// counts a dropped update; `marksFailed` marks the trace failed either way. Nothing once the trace is decided.
    private func update(
        _ index: Int,
        growingBy delta: (BufferedSpanRecord) -> Int,
        marksFailed: Bool = false,
        change: (inout BufferedSpanRecord) -> Void
    ) {
        let dropped: Bool = state.withLock { state in
            guard !state.closed else { return false }
            if marksFailed { state.failed = true }
            guard spend(&state, delta(state.spans[index])) else { return true }
            change(&state.spans[index])
            return false
        }
        if dropped { tracer.countDropped(.update) }
    }

    /// Ends a span; the root's end decides the trace, hands its records to the tracer and gives its bytes back.
    func end(_ index: Int, at nanoseconds: UInt64) {
        let decided: (records: [BufferedSpanRecord], failed: Bool, bytes: Int)? = state.withLock { state in
            guard !state.closed else { return nil }
            // An end before the start (a clock step) still ends the span.
            state.spans[index].end = max(nanoseconds, state.spans[index].start, 1)
            guard index == 0 else { return nil }
            state.closed = true
            let result = (records: state.spans, failed: state.failed, bytes: state.reserved)
            state.spans = []
            state.reserved = 0
            state.used = 0
            return result
        }
        guard let decided else { return }
        tracer.finish(self, records: decided.records, failed: decided.failed)
        tracer.release(decided.bytes)
    }

    /// Spends `delta` bytes of this trace's share, taking another share from the tracer when it runs out (false,
    /// and nothing spent, when even the bytes needed do not fit), or gives bytes back to the share.
    private func spend(_ state: inout State, _ delta: Int) -> Bool {
        let short = state.used + delta - state.reserved
        if short > 0 {
            let share = max(short, tracer.configuration.reservationBytes)
            if tracer.reserve(share) {
                state.reserved += share
            } else if share > short, tracer.reserve(short) {
                state.reserved += short
            } else {
                return false
            }
        }
        state.used += delta
        return true
    }
}

/// What ``TailKeepingTracer`` keeps in a service context, under one key (each lookup hashes and casts): the span
/// the context belongs to, or the caller's `traceparent` for a root still to start.
enum TailContext: Sendable {
    /// A span of the inner tracer, which has its own key.
    case forwarded
    /// A buffered span; a negative index for one that records nothing.
    case buffered(LocalTrace, Int)
    /// The caller's `traceparent` and `tracestate`, as ``TailKeepingTracer/extract(_:into:using:)`` read them.
    case remote(RemoteParent)
}

/// A remote parent, boxed to keep ``TailContext`` small.
final class RemoteParent: Sendable {
    let parent: W3CTraceParent
    init(_ parent: W3CTraceParent) { self.parent = parent }
}

extension ServiceContext {
    private enum TailContextKey: ServiceContextKey {
        typealias Value = TailContext
    }

    var tailContext: TailContext? {
        get { self[TailContextKey.self] }
        set { self[TailContextKey.self] = newValue }
    }
}
