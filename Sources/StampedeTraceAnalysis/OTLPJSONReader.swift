import Foundation

/// Reads spans from OTLP/JSON: one `ExportTraceServiceRequest` object (`{"resourceSpans": […]}`), or one per line
/// as the OpenTelemetry Collector's file exporter writes them.
public enum OTLPJSONReader {
    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    public static func spans(from data: Data) throws -> [TraceSpan] {
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            return try spans(fromRequest: object)
        }
        var spans: [TraceSpan] = []
        for (number, line) in data.split(separator: UInt8(ascii: "\n")).enumerated()
        where !line.allSatisfy(Self.isSpace) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw Problem(description: "line \(number + 1) is not a JSON object")
            }
            spans += try Self.spans(fromRequest: object)
        }
        return spans
    }

    static func spans(fromRequest request: [String: Any]) throws -> [TraceSpan] {
        guard let resources = request["resourceSpans"] as? [[String: Any]] else {
            throw Problem(description: "no resourceSpans: not OTLP/JSON traces")
        }
        var spans: [TraceSpan] = []
        for resource in resources {
            let service = serviceName(resource["resource"] as? [String: Any]) ?? "unknown"
            for scope in resource["scopeSpans"] as? [[String: Any]] ?? [] {
                for span in scope["spans"] as? [[String: Any]] ?? [] {
                    guard let traceID = span["traceId"] as? String, let spanID = span["spanId"] as? String,
                        let start = nanoseconds(span["startTimeUnixNano"]),
                        let end = nanoseconds(span["endTimeUnixNano"])
                    else { throw Problem(description: "a span lacks its ids or times") }
                    let parent = (span["parentSpanId"] as? String).flatMap { $0.isEmpty ? nil : $0 }
                    spans.append(
                        TraceSpan(
                            traceID: traceID,
                            spanID: spanID,
                            parentSpanID: parent,
                            name: span["name"] as? String ?? "",
                            service: service,
                            startNanoseconds: start,
                            endNanoseconds: end
                        )
                    )
                }
            }
        }
        return spans
    }

    /// OTLP/JSON writes 64-bit integers as strings; some writers use numbers.
    static func nanoseconds(_ value: Any?) -> UInt64? {
        if let text = value as? String { return UInt64(text) }
        if let number = value as? NSNumber { return number.uint64Value }
        return nil
    }

    static func serviceName(_ resource: [String: Any]?) -> String? {
        for attribute in resource?["attributes"] as? [[String: Any]] ?? []
        where attribute["key"] as? String == "service.name" {
            return (attribute["value"] as? [String: Any])?["stringValue"] as? String
        }
        return nil
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D }
}
