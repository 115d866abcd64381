import ServiceContextModule

/// W3C Baggage (`baggage` header), carried by Stampede itself because swift-otel 1.6 cannot.
///
/// Entries are kept as given (percent-encoded values are not decoded) and bounded by the W3C limits:
/// at most 180 entries and 8192 bytes; a header beyond them is dropped whole.
public struct W3CBaggage: Sendable, Hashable {
    public static let entriesMax = 180
    public static let bytesMax = 8192

    public private(set) var entries: [(key: String, value: String)] = []

    public init() {}

    /// Parses a `baggage` header; nil when it is malformed or too large.
    public init?(header: String) {
        guard header.utf8.count <= Self.bytesMax else { return nil }
        for member in header.split(separator: ",", omittingEmptySubsequences: true) {
            let pair = member.split(separator: ";", maxSplits: 1)[0]
            guard let equals = pair.firstIndex(of: "=") else { return nil }
            let key = pair[..<equals].trimmingWhitespace()
            let value = pair[pair.index(after: equals)...].trimmingWhitespace()
            guard !key.isEmpty, key.utf8.allSatisfy(Self.isTokenByte) else { return nil }
            entries.append((key, value))
            guard entries.count <= Self.entriesMax else { return nil }
        }
    }

    public subscript(key: String) -> String? {
        entries.last { $0.key == key }?.value
    }

    /// The header value to send on an outgoing request.
    public var headerValue: String {
        entries.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    public static func == (lhs: W3CBaggage, rhs: W3CBaggage) -> Bool {
        lhs.entries.elementsEqual(rhs.entries) { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(headerValue)
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}

extension ServiceContext {
    private enum BaggageKey: ServiceContextKey {
        typealias Value = W3CBaggage
        static var nameOverride: String? { "w3c-baggage" }
    }

    /// The W3C baggage that arrived with the request, to pass on to downstream calls.
    public var w3cBaggage: W3CBaggage? {
        get { self[BaggageKey.self] }
        set { self[BaggageKey.self] = newValue }
    }
}
