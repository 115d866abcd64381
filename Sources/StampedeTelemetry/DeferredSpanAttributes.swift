import Tracing

/// A span's attributes kept as the plain values they come from, and built into `SpanAttributes` only when the
/// span is exported.
///
/// Most spans of a busy server are never exported (99% at the default head ratio, unless they fail or are slow),
/// yet `span.attributes = …` builds a dictionary for each: hashing every key and boxing every value costs more
/// than the rest of the span. ``Tracing/Span/setAttributes(_:)`` hands a ``TailSpan`` this value instead, which
/// it keeps as it is; any other span gets `spanAttributes()` at once, so both give the same attributes.
public protocol DeferredSpanAttributes: Sendable {
    /// The attributes, exactly as `span.attributes = …` would have set them.
    func spanAttributes() -> SpanAttributes
    /// An estimate of what the value holds, in bytes, charged to the tail buffer's bound: see
    /// ``estimate(attributes:stringBytes:)``.
    var estimatedBytes: Int { get }
}

extension DeferredSpanAttributes {
    /// The tail buffer's estimate for `attributes` attributes whose strings hold `stringBytes` UTF-8 bytes: the same
    /// fixed cost per attribute as attributes set directly, plus the bytes.
    public static func estimate(attributes: Int, stringBytes: Int) -> Int {
        attributes * BufferedSize.attributeBase + stringBytes
    }
}

extension Span {
    /// Replaces the span's attributes, as `span.attributes = attributes.spanAttributes()` does; a ``TailSpan``
    /// whose trace is not yet chosen keeps `attributes` unbuilt until the trace is exported, and a span that
    /// records nothing never builds them.
    public func setAttributes(_ attributes: some DeferredSpanAttributes) {
        if let span = self as? TailSpan {
            span.setDeferredAttributes(attributes)
        } else if isRecording {
            self.attributes = attributes.spanAttributes()
        }
    }
}
