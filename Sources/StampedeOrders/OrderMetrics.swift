import CoreMetrics

/// The orders' metrics. Prometheus names replace dots by underscores: `order_saga_duration{outcome}`,
/// `order_saga_step_duration{step,result}`, `order_saga_compensations_total{step}`, `order_saga_in_flight`,
/// `order_saga_oldest_age` (milliseconds: alert on it for stuck sagas) and `order_created_total{result}`.
public final class OrderMetrics: Sendable {
    public static let sagaDuration = "order.saga.duration"
    public static let stepDuration = "order.saga.step.duration"
    public static let compensations = "order.saga.compensations.total"
    public static let inFlight = "order.saga.in_flight"
    public static let oldestAge = "order.saga.oldest_age"
    public static let created = "order.created.total"
    /// Bucket bounds of the duration histograms, in milliseconds.
    public static let durationBucketsMilliseconds: [Double] = [
        1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000,
    ]
    public static let histogramBuckets: [String: [Double]] = [
        sagaDuration: durationBucketsMilliseconds, stepDuration: durationBucketsMilliseconds,
    ]
    /// The values of `order.created.total{result}`.
    public enum CreatedResult: String, CaseIterable, Sendable {
        case placed, replayed, conflict, busy, invalid, error
    }
    /// The values of the step duration's `result`: a participant's own codes collapse into `refused`, so the
    /// series stay few.
    static let stepResults = ["done", "refused", "not_found", "pending", "uncertain", "not_applied"]

    private let sagaDurations: [OrderStatus: Recorder]
    private let stepDurations: [String: Recorder]
    private let compensationCounters: [CheckoutStep: Counter]
    private let createdCounters: [CreatedResult: Counter]
    private let inFlightGauge: Gauge
    private let oldestAgeGauge: Gauge

    public init(factory: any MetricsFactory) {
        var sagaDurations: [OrderStatus: Recorder] = [:]
        for status in OrderStatus.allCases where status.isFinal {
            sagaDurations[status] = Recorder(
                label: Self.sagaDuration,
                dimensions: [("outcome", status.rawValue)],
                aggregate: true,
                factory: factory
            )
        }
        self.sagaDurations = sagaDurations
        var stepDurations: [String: Recorder] = [:]
        for step in CheckoutStep.allCases {
            for result in Self.stepResults {
                stepDurations[step.rawValue + "/" + result] = Recorder(
                    label: Self.stepDuration,
                    dimensions: [("step", step.rawValue), ("result", result)],
                    aggregate: true,
                    factory: factory
                )
            }
        }
        self.stepDurations = stepDurations
        var compensations: [CheckoutStep: Counter] = [:]
        for step in CheckoutStep.allCases where step.isCompensation {
            compensations[step] = Counter(
                label: Self.compensations,
                dimensions: [("step", step.rawValue)],
                factory: factory
            )
        }
        self.compensationCounters = compensations
        var created: [CreatedResult: Counter] = [:]
        for result in CreatedResult.allCases {
            created[result] = Counter(label: Self.created, dimensions: [("result", result.rawValue)], factory: factory)
        }
        self.createdCounters = created
        self.inFlightGauge = Gauge(label: Self.inFlight, dimensions: [], factory: factory)
        self.oldestAgeGauge = Gauge(label: Self.oldestAge, dimensions: [], factory: factory)
    }

    public func recordSaga(outcome: OrderStatus, durationMilliseconds: Int64) {
        sagaDurations[outcome]?.record(Double(durationMilliseconds))
    }

    func recordStep(_ step: CheckoutStep, result: StepResult, durationNanoseconds: Int64) {
        let name = if case .refused = result { "refused" } else { result.name }
        stepDurations[step.rawValue + "/" + name]?.record(Double(durationNanoseconds) / 1_000_000)
        if step.isCompensation, !result.isFault { compensationCounters[step]?.increment() }
    }

    public func recordCreated(_ result: CreatedResult) {
        createdCounters[result]?.increment()
    }

    func recordRunning(count: Int, oldestAgeMilliseconds: Int64) {
        inFlightGauge.record(count)
        oldestAgeGauge.record(oldestAgeMilliseconds)
    }
}
