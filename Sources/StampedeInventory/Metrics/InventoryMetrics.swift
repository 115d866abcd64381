import CoreMetrics
import Synchronization

/// The inventory metrics, with seed 001's names. Handles are created once, so the hot path only increments.
///
/// Prometheus names replace dots by underscores: `inventory_deduct_total{result}`,
/// `inventory_deduct_duration_bucket`, `inventory_stock_current{sku}`, `inventory_qps`; reservations add
/// `inventory_reserve_total{result}`, `inventory_confirm_total{result}` and `inventory_hold_expired_total`.
public final class InventoryMetrics: Sendable {
    public static let deductTotal = "inventory.deduct.total"
    public static let deductDuration = "inventory.deduct.duration"
    public static let stockCurrent = "inventory.stock.current"
    public static let requests = "inventory.qps"
    public static let reserveTotal = "inventory.reserve.total"
    public static let confirmTotal = "inventory.confirm.total"
    public static let holdExpiredTotal = "inventory.hold.expired.total"
    /// Bucket bounds of `inventory.deduct.duration`, in milliseconds.
    public static let durationBucketsMilliseconds: [Double] = [
        0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500,
    ]
    /// Bucket bounds of this domain's value histograms, by label, for the telemetry bootstrap.
    public static let histogramBuckets: [String: [Double]] = [deductDuration: durationBucketsMilliseconds]
    /// The values of the `result` dimension besides the deduct codes.
    public static let errorResult = "error"
    public static let invalidResult = "invalid_request"

    private let factory: any MetricsFactory
    private let resultCounters: [String: Counter]
    private let duration: Recorder
    private let requestCounter: Counter
    private let reserveCounters: [String: Counter]
    private let confirmCounters: [String: Counter]
    private let holdExpired: Counter
    private let stockGauges = Mutex<[String: Gauge]>([:])
    /// Bounds the number of `sku` series; past it stock gauges are not created.
    private let stockSeriesMax: Int

    public init(factory: any MetricsFactory, stockSeriesMax: Int = 10_000) {
        self.factory = factory
        self.stockSeriesMax = stockSeriesMax
        var counters: [String: Counter] = [:]
        let results = DeductCode.allCases.map(\.name) + [Self.errorResult, Self.invalidResult]
        for result in results {
            counters[result] = Counter(label: Self.deductTotal, dimensions: [("result", result)], factory: factory)
        }
        self.resultCounters = counters
        self.duration = Recorder(label: Self.deductDuration, dimensions: [], aggregate: true, factory: factory)
        self.requestCounter = Counter(label: Self.requests, dimensions: [], factory: factory)
        var reserveCounters: [String: Counter] = [:]
        for result in results {
            reserveCounters[result] = Counter(
                label: Self.reserveTotal,
                dimensions: [("result", result)],
                factory: factory
            )
        }
        self.reserveCounters = reserveCounters
        var confirmCounters: [String: Counter] = [:]
        for result in ConfirmCode.allCases.map(\.name) + [Self.errorResult] {
            confirmCounters[result] = Counter(
                label: Self.confirmTotal,
                dimensions: [("result", result)],
                factory: factory
            )
        }
        self.confirmCounters = confirmCounters
        self.holdExpired = Counter(label: Self.holdExpiredTotal, dimensions: [], factory: factory)
    }

    /// Counts one reservation with its result (a deduct code, `error` or `invalid_request`).
    public func recordReservation(result: String) {
        (reserveCounters[result] ?? reserveCounters[Self.errorResult]!).increment()
    }

    /// Counts one confirm with its result.
    public func recordConfirm(result: String) {
        (confirmCounters[result] ?? confirmCounters[Self.errorResult]!).increment()
    }

    /// Counts holds whose deadline passed.
    public func recordExpired(_ count: Int) {
        if count > 0 { holdExpired.increment(by: count) }
    }

    /// Counts one deduct (or one item of a batch) with its result and duration.
    public func recordDeduct(result: String, durationNanoseconds: Int64) {
        requestCounter.increment()
        (resultCounters[result] ?? resultCounters[Self.errorResult]!).increment()
        duration.record(Double(durationNanoseconds) / 1_000_000)
    }

    /// Sets the stock gauge of `sku`.
    public func recordStock(sku: String, stock: Int64) {
        let gauge: Gauge? = stockGauges.withLock { gauges in
            if let gauge = gauges[sku] { return gauge }
            guard gauges.count < stockSeriesMax else { return nil }
            let gauge = Gauge(label: Self.stockCurrent, dimensions: [("sku", sku)], factory: factory)
            gauges[sku] = gauge
            return gauge
        }
        gauge?.record(stock)
    }
}
