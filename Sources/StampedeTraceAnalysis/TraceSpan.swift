/// One span of a kept trace, as the analysis needs it.
public struct TraceSpan: Sendable, Hashable {
    public var traceID: String
    public var spanID: String
    /// Nil (or unknown within the trace) for the trace's root.
    public var parentSpanID: String?
    public var name: String
    /// `service.name` of the span's resource.
    public var service: String
    public var startNanoseconds: UInt64
    public var endNanoseconds: UInt64

    public init(
        traceID: String,
        spanID: String,
        parentSpanID: String?,
        name: String,
        service: String,
        startNanoseconds: UInt64,
        endNanoseconds: UInt64
    ) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.name = name
        self.service = service
        self.startNanoseconds = startNanoseconds
        self.endNanoseconds = max(endNanoseconds, startNanoseconds)
    }

    public var durationNanoseconds: UInt64 { endNanoseconds - startNanoseconds }
}
