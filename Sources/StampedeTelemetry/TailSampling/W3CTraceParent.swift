import Instrumentation

/// A W3C `traceparent` header: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, and the `tracestate`
/// that came with it.
struct W3CTraceParent: Sendable, Hashable {
    var traceID: TraceID
    var spanID: UInt64
    var sampled: Bool
    /// The caller's `tracestate` header, passed on unchanged.
    var traceState: String?

    init(traceID: TraceID, spanID: UInt64, sampled: Bool, traceState: String? = nil) {
        self.traceID = traceID
        self.spanID = spanID
        self.sampled = sampled
        self.traceState = traceState
    }

    /// Parses a header; nil for anything the W3C rules refuse (version `ff`, a version `00` header of another
    /// length, a later version without a `-` after the flags, non-hex digits, an all-zero trace or parent id).
    init?(header: String, traceState: String? = nil) {
        var header = header
        let parsed: (TraceID, UInt64, UInt8)? = header.withUTF8 { bytes in
            guard bytes.count >= 55, bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"),
                bytes[52] == UInt8(ascii: "-"), let version = Hex.read(bytes, at: 0, count: 2), version != 0xFF,
                version == 0 ? bytes.count == 55 : (bytes.count == 55 || bytes[55] == UInt8(ascii: "-")),
                let high = Hex.read(bytes, at: 3), let low = Hex.read(bytes, at: 19),
                let span = Hex.read(bytes, at: 36), let flags = Hex.read(bytes, at: 53, count: 2),
                high | low != 0, span != 0
            else { return nil }
            return (TraceID(high: high, low: low), span, UInt8(flags))
        }
        guard let (traceID, spanID, flags) = parsed else { return nil }
        self.init(traceID: traceID, spanID: spanID, sampled: flags & 1 == 1, traceState: traceState)
    }

    /// The header, version `00`.
    var header: String { Self.header(traceID: traceID, spanID: spanID, sampled: sampled) }

    static func header(traceID: TraceID, spanID: UInt64, sampled: Bool) -> String {
        String(unsafeUninitializedCapacity: 55) { buffer in
            buffer[0] = UInt8(ascii: "0")
            buffer[1] = UInt8(ascii: "0")
            buffer[2] = UInt8(ascii: "-")
            var offset = Hex.write(traceID.high, into: buffer, at: 3)
            offset = Hex.write(traceID.low, into: buffer, at: offset)
            buffer[offset] = UInt8(ascii: "-")
            offset = Hex.write(spanID, into: buffer, at: offset + 1)
            buffer[offset] = UInt8(ascii: "-")
            buffer[offset + 1] = UInt8(ascii: "0")
            buffer[offset + 2] = sampled ? UInt8(ascii: "1") : UInt8(ascii: "0")
            return offset + 3
        }
    }

    /// The headers that carry it, for an instrument's `extract`.
    var headers: [String: String] {
        var headers = ["traceparent": header]
        if let traceState { headers["tracestate"] = traceState }
        return headers
    }
}

/// Reads and writes headers in a plain dictionary, to hand an instrument a remote parent.
struct DictionaryCarrier: Extractor, Injector {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}
