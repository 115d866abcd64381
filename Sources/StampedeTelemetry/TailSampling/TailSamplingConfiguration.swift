/// How ``TailKeepingTracer`` decides which traces to export.
public struct TailSamplingConfiguration: Sendable, Equatable {
    /// The default of ``bufferedBytesMax``: 64 MiB.
    public static let bufferedBytesMaxDefault = 64 * 1024 * 1024

    /// Share of new traces (local roots without a remote parent) exported whatever their outcome.
    public var headRatio: Double
    /// Whether a remote parent's sampled flag decides for its trace (`parentbased_*` samplers).
    public var followsRemoteParent: Bool
    /// A local root that lasts at least this long is exported even when head sampling dropped it.
    public var slowThresholdNanoseconds: UInt64
    /// Most spans buffered per unsampled local trace; later spans of that trace are dropped.
    public var spansPerTraceMax: Int
    /// Most bytes (estimated) that all undecided unsampled traces hold together; environment variable
    /// `STAMPEDE_TRACE_BUFFER_BYTES_MAX`, default ``bufferedBytesMaxDefault`` (64 MiB). Past it, a new unsampled
    /// trace is not buffered and a span or change that would not fit is dropped (both counted).
    public var bufferedBytesMax: Int
    /// Whether `traceparent`/`tracestate` are read and written (`tracecontext` in `OTEL_PROPAGATORS`, the default).
    public var propagatesTraceContext: Bool
    /// Bytes a buffered trace takes from `bufferedBytesMax` at a time (or what it needs, if more), so a typical trace
    /// touches the shared budget once when it starts and once when it ends; when a whole share does not fit, the
    /// trace takes only what it needs. 1 charges every span and change exactly.
    public var reservationBytes: Int

    public init(
        headRatio: Double = 0.01,
        followsRemoteParent: Bool = true,
        slowThresholdNanoseconds: UInt64 = 100_000_000,
        spansPerTraceMax: Int = 64,
        bufferedBytesMax: Int = TailSamplingConfiguration.bufferedBytesMaxDefault,
        propagatesTraceContext: Bool = true,
        reservationBytes: Int = 4096
    ) {
        precondition((0...1).contains(headRatio), "a ratio is between 0 and 1")
        precondition(spansPerTraceMax >= 1)
        precondition(bufferedBytesMax >= 1)
        precondition(reservationBytes >= 1)
        self.headRatio = headRatio
        self.followsRemoteParent = followsRemoteParent
        self.slowThresholdNanoseconds = slowThresholdNanoseconds
        self.spansPerTraceMax = spansPerTraceMax
        self.bufferedBytesMax = bufferedBytesMax
        self.propagatesTraceContext = propagatesTraceContext
        self.reservationBytes = reservationBytes
    }

    /// Reads the standard sampler variables (already validated), `STAMPEDE_TRACE_SLOW_MS` and
    /// `STAMPEDE_TRACE_BUFFER_BYTES_MAX`, and whether `OTEL_PROPAGATORS` (already validated) names `tracecontext`.
    /// No value can make it trap: what does not parse takes the default.
    public init(environment: [String: String], defaultRatio: Double) {
        let sampler = environment["OTEL_TRACES_SAMPLER"] ?? "parentbased_traceidratio"
        let argument = environment["OTEL_TRACES_SAMPLER_ARG"].flatMap(Double.init) ?? defaultRatio
        let ratio: Double
        switch sampler {
        case "always_on", "parentbased_always_on": ratio = 1
        case "always_off", "parentbased_always_off": ratio = 0
        default: ratio = argument.isNaN ? 0 : min(max(argument, 0), 1)
        }
        let slowMilliseconds = environment["STAMPEDE_TRACE_SLOW_MS"].flatMap(UInt64.init) ?? 100
        let (slowNanoseconds, slowOverflow) = slowMilliseconds.multipliedReportingOverflow(by: 1_000_000)
        let bytesMax = environment["STAMPEDE_TRACE_BUFFER_BYTES_MAX"].flatMap { Int($0.trimmingWhitespace()) }
        self.init(
            headRatio: ratio,
            followsRemoteParent: sampler.hasPrefix("parentbased_"),
            slowThresholdNanoseconds: slowOverflow ? .max : slowNanoseconds,
            bufferedBytesMax: bytesMax.flatMap { $0 >= 1 ? $0 : nil } ?? Self.bufferedBytesMaxDefault,
            propagatesTraceContext: environment["OTEL_PROPAGATORS"].map {
                $0.split(separator: ",").contains { $0.trimmingWhitespace().lowercased() == "tracecontext" }
            } ?? true
        )
    }
}
