/// What a slow trace spent its time on: each span's self time (its duration minus the time covered by its
/// children) and the critical path (the chain of spans that decided when the root ended).
///
/// The seed's analysis divided each span's duration by the trace's, so the root always came out "100%" and
/// overlapping children were counted twice; self time and the critical path count each nanosecond once.
public struct TraceReport: Sendable {
    public struct PathSegment: Sendable, Hashable {
        public var span: TraceSpan
        /// Time of the root's duration this span accounts for on the critical path (its own work there).
        public var nanoseconds: UInt64
    }

    public var traceID: String
    public var root: TraceSpan
    public var spans: [TraceSpan]
    /// Self time by span id.
    public var selfNanoseconds: [String: UInt64]
    /// The critical path, from the root down, each span once with its share; the shares add up to the root's
    /// duration.
    public var criticalPath: [PathSegment]
}

public enum TraceAnalysis {
    /// One report per trace whose root lasted at least `minimumNanoseconds`, slowest first.
    public static func slowTraces(_ spans: [TraceSpan], minimumNanoseconds: UInt64) -> [TraceReport] {
        var byTrace: [String: [TraceSpan]] = [:]
        for span in spans { byTrace[span.traceID, default: []].append(span) }
        return byTrace.compactMap { traceID, spans in
            guard let report = report(traceID: traceID, spans: spans),
                report.root.durationNanoseconds >= minimumNanoseconds
            else { return nil }
            return report
        }
        .sorted { ($0.root.durationNanoseconds, $0.traceID) > ($1.root.durationNanoseconds, $1.traceID) }
    }

    /// The report of one trace; its root is the earliest span whose parent is not in the trace.
    public static func report(traceID: String, spans: [TraceSpan]) -> TraceReport? {
        let ids = Set(spans.map(\.spanID))
        var children: [String: [TraceSpan]] = [:]
        var roots: [TraceSpan] = []
        for span in spans {
            if let parent = span.parentSpanID, ids.contains(parent), parent != span.spanID {
                children[parent, default: []].append(span)
            } else {
                roots.append(span)
            }
        }
        guard let root = roots.min(by: { ($0.startNanoseconds, $0.spanID) < ($1.startNanoseconds, $1.spanID) })
        else { return nil }
        var selfTimes: [String: UInt64] = [:]
        for span in spans {
            selfTimes[span.spanID] = span.durationNanoseconds - covered(by: children[span.spanID] ?? [], within: span)
        }
        var path: [TraceReport.PathSegment] = []
        var visited = Set<String>()
        walk(root, until: root.endNanoseconds, children: children, path: &path, visited: &visited)
        return TraceReport(traceID: traceID, root: root, spans: spans, selfNanoseconds: selfTimes, criticalPath: path)
    }

    /// Length of the union of the children's intervals, clipped to the parent.
    static func covered(by children: [TraceSpan], within parent: TraceSpan) -> UInt64 {
        let intervals = children.map {
            (max($0.startNanoseconds, parent.startNanoseconds), min($0.endNanoseconds, parent.endNanoseconds))
        }
        .filter { $0.0 < $0.1 }
        .sorted { $0 < $1 }
        var total: UInt64 = 0
        var current: (UInt64, UInt64)?
        for interval in intervals {
            if let open = current, interval.0 <= open.1 {
                current = (open.0, max(open.1, interval.1))
            } else {
                if let open = current { total += open.1 - open.0 }
                current = interval
            }
        }
        if let open = current { total += open.1 - open.0 }
        return total
    }

    /// Walks back from `until`: the child that ended last before that moment is on the path; the gaps between
    /// such children are the span's own time on the path.
    static func walk(
        _ span: TraceSpan,
        until end: UInt64,
        children: [String: [TraceSpan]],
        path: inout [TraceReport.PathSegment],
        visited: inout Set<String>
    ) {
        guard visited.insert(span.spanID).inserted else { return }
        let index = path.count
        path.append(TraceReport.PathSegment(span: span, nanoseconds: 0))
        var cursor = min(end, span.endNanoseconds)
        var own: UInt64 = 0
        let candidates = (children[span.spanID] ?? []).sorted { $0.endNanoseconds > $1.endNanoseconds }
        for child in candidates where cursor > span.startNanoseconds {
            let childEnd = min(child.endNanoseconds, cursor)
            guard child.endNanoseconds <= cursor, childEnd > child.startNanoseconds else { continue }
            own += cursor - childEnd
            walk(child, until: childEnd, children: children, path: &path, visited: &visited)
            cursor = max(child.startNanoseconds, span.startNanoseconds)
        }
        if cursor > span.startNanoseconds { own += cursor - span.startNanoseconds }
        path[index].nanoseconds = own
    }
}
