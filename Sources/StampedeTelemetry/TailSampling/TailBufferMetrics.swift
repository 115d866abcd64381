import CoreMetrics

/// What the tail buffer holds and drops.
///
/// Prometheus names: `stampede_trace_buffer_bytes` (estimated bytes of undecided unsampled traces) and
/// `stampede_trace_buffer_dropped{what="trace"|"span"|"update"}` (refused by a bound: a whole trace, a span,
/// or a change to a buffered span).
struct TailBufferMetrics: Sendable {
    static let bytesLabel = "stampede.trace.buffer.bytes"
    static let droppedLabel = "stampede.trace.buffer.dropped"

    /// A meter rather than a gauge: changes are added, so concurrent updates never leave a stale value.
    let bytes: Meter
    let droppedTraces: Counter
    let droppedSpans: Counter
    let droppedUpdates: Counter

    init(factory: any MetricsFactory) {
        self.bytes = Meter(label: Self.bytesLabel, dimensions: [], factory: factory)
        self.droppedTraces = Counter(label: Self.droppedLabel, dimensions: [("what", "trace")], factory: factory)
        self.droppedSpans = Counter(label: Self.droppedLabel, dimensions: [("what", "span")], factory: factory)
        self.droppedUpdates = Counter(label: Self.droppedLabel, dimensions: [("what", "update")], factory: factory)
    }
}
