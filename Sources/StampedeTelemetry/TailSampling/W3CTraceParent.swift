import Instrumentation

/// A W3C `traceparent` header: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`.
struct W3CTraceParent: Sendable, Hashable {
    var traceID: String
    var spanID: String
    var sampled: Bool

    init(traceID: String, spanID: String, sampled: Bool) {
        self.traceID = traceID
        self.spanID = spanID
        self.sampled = sampled
    }

    init?(header: String) {
        let parts = header.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, parts[1].count == 32, parts[2].count == 16, parts[3].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isHexDigit) }), let flags = UInt8(parts[3], radix: 16),
            parts[1].contains(where: { $0 != "0" }), parts[2].contains(where: { $0 != "0" })
        else { return nil }
        self.traceID = parts[1].lowercased()
        self.spanID = parts[2].lowercased()
        self.sampled = flags & 1 == 1
    }

    var header: String { "00-\(traceID)-\(spanID)-\(sampled ? "01" : "00")" }

    static func randomTraceID() -> String {
        hex(UInt64.random(in: 1...UInt64.max)) + hex(UInt64.random(in: 0...UInt64.max))
    }
    static func randomSpanID() -> String { hex(UInt64.random(in: 1...UInt64.max)) }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// Reads and writes headers in a plain dictionary, to ask an instrument what it would propagate.
struct DictionaryCarrier: Extractor, Injector {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}
