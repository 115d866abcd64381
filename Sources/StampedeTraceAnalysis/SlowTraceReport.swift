/// The text `stampede traces slow` prints.
public enum SlowTraceReport {
    public static func render(_ reports: [TraceReport], top: Int) -> String {
        guard !reports.isEmpty else { return "no trace at or above the threshold\n" }
        var out = ""
        for report in reports.prefix(top) {
            let total = report.root.durationNanoseconds
            out += "trace \(report.traceID)  \(report.root.name) (\(report.root.service))  \(ms(total)) ms, "
            out += "\(report.spans.count) spans\n"
            out += "  critical path (share of the trace):\n"
            for segment in report.criticalPath where segment.nanoseconds > 0 {
                out += "    \(percent(segment.nanoseconds, of: total))  \(ms(segment.nanoseconds)) ms  "
                out += "\(segment.span.name) (\(segment.span.service))\n"
            }
        }
        // Self time by span name over the traces shown, most first.
        var bySelf: [String: (UInt64, Int)] = [:]
        var overall: UInt64 = 0
        for report in reports.prefix(top) {
            overall += report.root.durationNanoseconds
            for span in report.spans {
                let key = "\(span.name) (\(span.service))"
                let entry = bySelf[key] ?? (0, 0)
                bySelf[key] = (entry.0 + (report.selfNanoseconds[span.spanID] ?? 0), entry.1 + 1)
            }
        }
        out += "self time by span name over these \(min(top, reports.count)) traces:\n"
        for (name, entry) in bySelf.sorted(by: { ($0.value.0, $0.key) > ($1.value.0, $1.key) }) {
            out += "  \(percent(entry.0, of: overall))  \(ms(entry.0)) ms  \(entry.1)×  \(name)\n"
        }
        return out
    }

    static func ms(_ nanoseconds: UInt64) -> String {
        let tenths = (nanoseconds + 50_000) / 100_000
        return "\(tenths / 10).\(tenths % 10)"
    }

    static func percent(_ part: UInt64, of whole: UInt64) -> String {
        guard whole > 0 else { return "  0.0%" }
        let tenths = (part * 1000 + whole / 2) / whole
        let text = "\(tenths / 10).\(tenths % 10)%"
        return String(repeating: " ", count: max(0, 6 - text.count)) + text
    }
}
