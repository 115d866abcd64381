import ServiceContextModule
import Synchronization
import Tracing

/// A span of ``TailKeepingTracer``: either the inner tracer's span, or a buffered one.
public final class TailSpan<Inner: Tracer>: Tracing.Span, Sendable where Inner: Sendable {
    private enum Storage: Sendable {
        case forwarded(Inner.Span)
        case buffered(BufferedSpan<Inner>)
    }

    private let storage: Storage
    private let forwardedContext: ServiceContext?

    init(forwarding span: Inner.Span) {
        self.storage = .forwarded(span)
        var context = span.context
        context.tailLocalSpan = .forwarded
        self.forwardedContext = context
    }

    init(buffering span: BufferedSpan<Inner>) {
        self.storage = .buffered(span)
        self.forwardedContext = nil
    }

    public var context: ServiceContext {
        switch storage {
        case .forwarded: forwardedContext!
        case .buffered(let span): span.context
        }
    }

    public var operationName: String {
        get {
            switch storage {
            case .forwarded(let span): span.operationName
            case .buffered(let span): span.name.withLock { $0 }
            }
        }
        set {
            switch storage {
            case .forwarded(let span): span.operationName = newValue
            case .buffered(let span): span.rename(newValue)
            }
        }
    }

    public var attributes: SpanAttributes {
        get {
            switch storage {
            case .forwarded(let span): span.attributes
            case .buffered(let span): span.attributes
            }
        }
        set {
            switch storage {
            case .forwarded(let span): span.attributes = newValue
            case .buffered(let span): span.setAttributes(newValue)
            }
        }
    }

    /// Buffered spans record: their trace may still be exported if it fails.
    public var isRecording: Bool {
        switch storage {
        case .forwarded(let span): span.isRecording
        case .buffered(let span): span.index != nil
        }
    }

    public func setStatus(_ status: SpanStatus) {
        switch storage {
        case .forwarded(let span): span.setStatus(status)
        case .buffered(let span): span.setStatus(status)
        }
    }

    public func addEvent(_ event: SpanEvent) {
        switch storage {
        case .forwarded(let span): span.addEvent(event)
        case .buffered(let span): span.addEvent(event, failed: false)
        }
    }

    public func recordError<Instant: TracerInstant>(
        _ error: any Error,
        attributes: SpanAttributes,
        at instant: @autoclosure () -> Instant
    ) {
        switch storage {
        case .forwarded(let span): span.recordError(error, attributes: attributes, at: instant())
        case .buffered(let span):
            guard span.index != nil else { return }
            var eventAttributes = attributes
            eventAttributes["exception.type"] = "\(type(of: error))"
            eventAttributes["exception.message"] = "\(error)"
            let event = SpanEvent(name: "exception", at: instant(), attributes: eventAttributes)
            span.addEvent(event, failed: true)
        }
    }

    public func addLink(_ link: SpanLink) {
        if case .forwarded(let span) = storage { span.addLink(link) }
    }

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        switch storage {
        case .forwarded(let span): span.end(at: instant())
        case .buffered(let span): span.end(at: instant().nanosecondsSinceEpoch)
        }
    }
}

/// A span held in a ``BufferedTrace`` until its local root ends.
final class BufferedSpan<Inner: Tracer>: Sendable where Inner: Sendable {
    let trace: BufferedTrace<Inner>
    let index: Int?
    let name: Mutex<String>
    let context: ServiceContext

    init(trace: BufferedTrace<Inner>, index: Int?, name: String, context: ServiceContext) {
        self.trace = trace
        self.index = index
        self.name = Mutex(name)
        self.context = context
    }

    var attributes: SpanAttributes {
        guard let index else { return SpanAttributes() }
        return trace.attributes(of: index)
    }

    func rename(_ newName: String) {
        name.withLock { $0 = newName }
        if let index { trace.rename(index, to: newName) }
    }

    func setAttributes(_ attributes: SpanAttributes) {
        if let index { trace.setAttributes(attributes, of: index) }
    }

    func setStatus(_ status: SpanStatus) {
        if let index { trace.setStatus(status, of: index) }
    }

    /// Appends an event; `failed` (a recorded error) marks the span failed even when the event does not fit.
    func addEvent(_ event: SpanEvent, failed: Bool) {
        if let index { trace.addEvent(event, failed: failed, of: index) }
    }

    func end(at nanoseconds: UInt64) {
        if let index { trace.end(index, at: nanoseconds) }
    }
}
