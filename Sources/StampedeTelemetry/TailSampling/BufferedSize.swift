import Tracing

/// Estimates, in bytes, of what the tail buffer holds, to bound it (``TailSamplingConfiguration/bufferedBytesMax``).
///
/// A fixed cost per trace, span, attribute and event, plus the UTF-8 sizes of the strings kept: cheap to compute
/// (the UTF-8 count of a native string is stored) and allocation-free. Values that only format themselves
/// (`stringConvertible`) get a fixed cost rather than being formatted.
enum BufferedSize {
    /// A trace: its `LocalTrace` object, lock, records array and the caller's parent.
    static let traceBase = 256
    /// A span: its record (the `TailSpan` and its context live only while it is open).
    static let spanBase = 256
    /// An attribute: its dictionary slot, key and value storage.
    static let attributeBase = 64
    /// An event or a link: its array slot, name or context, and attributes storage.
    static let eventBase = 64
    /// Deferred attributes (``DeferredSpanAttributes``): their box, besides their own estimate.
    static let deferredBase = 64
    /// A `stringConvertible` value, or an element of a `stringConvertibleArray`.
    static let describedValue = 64

    static func span(named name: String) -> Int { spanBase + name.utf8.count }

    static func attributes(_ attributes: SpanAttributes) -> Int {
        var bytes = 0
        // swift-format-ignore: ReplaceForEachWithForLoop
        // `SpanAttributes` is not a sequence: `forEach` is its only iteration.
        attributes.forEach { key, value in bytes += Self.attributeBase + key.utf8.count + Self.value(value) }
        return bytes
    }

    static func value(_ value: SpanAttribute) -> Int {
        switch value {
        case .string(let string): string.utf8.count
        case .stringArray(let strings): strings.reduce(0) { $0 + 16 + $1.utf8.count }
        case .int32Array(let values): values.count * 4
        case .int64Array(let values): values.count * 8
        case .doubleArray(let values): values.count * 8
        case .boolArray(let values): values.count
        case .stringConvertible: describedValue
        case .stringConvertibleArray(let values): values.count * describedValue
        default: 0
        }
    }

    static func event(_ event: SpanEvent) -> Int { eventBase + event.name.utf8.count + attributes(event.attributes) }

    static func link(_ link: SpanLink) -> Int { eventBase + attributes(link.attributes) }

    static func status(_ status: SpanStatus?) -> Int { status?.message?.utf8.count ?? 0 }
}
