/// How ``TailKeepingTracer`` decides which traces to export.
public struct TailSamplingConfiguration: Sendable, Equatable {
    /// Share of new traces (local roots without a remote parent) exported whatever their outcome.
    public var headRatio: Double
    /// Whether a remote parent's sampled flag decides for its trace (`parentbased_*` samplers).
    public var followsRemoteParent: Bool
    /// A local root that lasts at least this long is exported even when head sampling dropped it.
    public var slowThresholdNanoseconds: UInt64
    /// Most spans buffered per unsampled local trace; later spans of that trace are dropped.
    public var spansPerTraceMax: Int

    public init(
        headRatio: Double = 0.01,
        followsRemoteParent: Bool = true,
        slowThresholdNanoseconds: UInt64 = 100_000_000,
        spansPerTraceMax: Int = 64
    ) {
        precondition((0...1).contains(headRatio), "a ratio is between 0 and 1")
        precondition(spansPerTraceMax >= 1)
        self.headRatio = headRatio
        self.followsRemoteParent = followsRemoteParent
        self.slowThresholdNanoseconds = slowThresholdNanoseconds
        self.spansPerTraceMax = spansPerTraceMax
    }

    /// Reads the standard sampler variables (already validated) and `STAMPEDE_TRACE_SLOW_MS`.
    public init(environment: [String: String], defaultRatio: Double) {
        let sampler = environment["OTEL_TRACES_SAMPLER"] ?? "parentbased_traceidratio"
        let argument = environment["OTEL_TRACES_SAMPLER_ARG"].flatMap(Double.init) ?? defaultRatio
        let ratio: Double
        switch sampler {
        case "always_on", "parentbased_always_on": ratio = 1
        case "always_off", "parentbased_always_off": ratio = 0
        default: ratio = min(max(argument, 0), 1)
        }
        let slowMilliseconds = environment["STAMPEDE_TRACE_SLOW_MS"].flatMap(UInt64.init) ?? 100
        self.init(
            headRatio: ratio,
            followsRemoteParent: sampler.hasPrefix("parentbased_"),
            slowThresholdNanoseconds: slowMilliseconds * 1_000_000
        )
    }
}
