import ServiceContextModule
import Tracing

/// A span of ``TailKeepingTracer``: the inner tracer's span (head sampled), or a record in a ``LocalTrace``.
///
/// A value of three words, so that as `any Span` it fits in the existential's inline buffer: a buffered span
/// allocates nothing of its own (its record lives in its trace).
public struct TailSpan: Tracing.Span {
    private enum Storage: Sendable {
        case forwarded(ForwardedSpan)
        /// A negative index: the span records nothing (its trace is not buffered, or a bound dropped it).
        case buffered(LocalTrace, Int)
    }

    private let storage: Storage
    public let context: ServiceContext

    init(forwarding span: any Tracing.Span) {
        self.storage = .forwarded(ForwardedSpan(span))
        var context = span.context
        context.tailContext = .forwarded
        self.context = context
    }

    init(trace: LocalTrace, index: Int, parent: ServiceContext) {
        self.storage = .buffered(trace, index)
        var context = parent
        context.tailContext = .buffered(trace, index)
        self.context = context
    }

    public var operationName: String {
        get {
            switch storage {
            case .forwarded(let box): box.span.operationName
            case .buffered(let trace, let index): index >= 0 ? trace.name(of: index) ?? "" : ""
            }
        }
        nonmutating set {
            switch storage {
            case .forwarded(let box): box.span.operationName = newValue
            case .buffered(let trace, let index): if index >= 0 { trace.rename(index, to: newValue) }
            }
        }
    }

    /// Set attributes in one assignment (or `updateAttributes`, or ``Tracing/Span/setAttributes(_:)``) rather
    /// than one subscript at a time: each assignment to a buffered span copies and measures the whole set.
    public var attributes: SpanAttributes {
        get {
            switch storage {
            case .forwarded(let box): box.span.attributes
            case .buffered(let trace, let index): index >= 0 ? trace.attributes(of: index) : SpanAttributes()
            }
        }
        nonmutating set {
            switch storage {
            case .forwarded(let box): box.span.attributes = newValue
            case .buffered(let trace, let index): if index >= 0 { trace.setAttributes(newValue, of: index) }
            }
        }
    }

    /// Replaces the attributes with `deferred`, kept unbuilt while the span is buffered.
    func setDeferredAttributes(_ deferred: some DeferredSpanAttributes) {
        switch storage {
        case .forwarded(let box): box.span.attributes = deferred.spanAttributes()
        case .buffered(let trace, let index): if index >= 0 { trace.setDeferredAttributes(deferred, of: index) }
        }
    }

    /// Buffered spans record: their trace may still be exported if it fails or is slow.
    public var isRecording: Bool {
        switch storage {
        case .forwarded(let box): box.span.isRecording
        case .buffered(_, let index): index >= 0
        }
    }

    public func setStatus(_ status: SpanStatus) {
        switch storage {
        case .forwarded(let box): box.span.setStatus(status)
        case .buffered(let trace, let index): if index >= 0 { trace.setStatus(status, of: index) }
        }
    }

    public func addEvent(_ event: SpanEvent) {
        switch storage {
        case .forwarded(let box): box.span.addEvent(event)
        case .buffered(let trace, let index):
            // The keep event asks for the trace like a failure does (a business outcome worth seeing whole).
            if index >= 0 {
                trace.addEvent(event, failed: event.name == TailKeepingTracer.keepEventName, of: index)
            }
        }
    }

    public func recordError<Instant: TracerInstant>(
        _ error: any Error,
        attributes: SpanAttributes,
        at instant: @autoclosure () -> Instant
    ) {
        switch storage {
        case .forwarded(let box): box.span.recordError(error, attributes: attributes, at: instant())
        case .buffered(let trace, let index):
            guard index >= 0 else { return }
            var eventAttributes = attributes
            eventAttributes["exception.type"] = "\(type(of: error))"
            eventAttributes["exception.message"] = "\(error)"
            let event = SpanEvent(name: "exception", at: instant(), attributes: eventAttributes)
            trace.addEvent(event, failed: true, of: index)
        }
    }

    public func addLink(_ link: SpanLink) {
        switch storage {
        case .forwarded(let box): box.span.addLink(link)
        case .buffered(let trace, let index): if index >= 0 { trace.addLink(link, of: index) }
        }
    }

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        switch storage {
        case .forwarded(let box): box.span.end(at: instant())
        case .buffered(let trace, let index): if index >= 0 { trace.end(index, at: instant().nanosecondsSinceEpoch) }
        }
    }
}

/// The inner tracer's span, boxed so a ``TailSpan`` stays three words.
final class ForwardedSpan: Sendable {
    let span: any Tracing.Span
    init(_ span: any Tracing.Span) { self.span = span }
}
