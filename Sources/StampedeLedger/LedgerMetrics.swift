import CoreMetrics
import Synchronization

/// The ledger worker's metrics. Prometheus names replace dots by underscores, e.g. `ledger_queue_depth`.
public final class LedgerMetrics: Sendable {
    /// Entries waiting in the queue (delivered or not).
    public static let queueDepth = "ledger.queue.depth"
    /// Seconds since the oldest waiting entry was written (0 when the queue is empty).
    public static let oldestAge = "ledger.queue.oldest_age_seconds"
    /// Entries per written batch (histogram).
    public static let batchSize = "ledger.batch.size"
    /// Milliseconds to write and commit one batch (histogram).
    public static let writeDuration = "ledger.write.duration"
    /// Milliseconds from the change in the hot store to its commit in the ledger (histogram).
    public static let lag = "ledger.lag"
    /// Entries committed, by `result`: `written` or `duplicate` (already in the ledger: a redelivery).
    public static let entries = "ledger.entries"
    /// Entries moved to the dead-letter store.
    public static let deadLetters = "ledger.dead_letters"
    /// Failed attempts, by `stage`: `read`, `write`, `ack`.
    public static let failures = "ledger.failures"
    /// SKUs whose sold count differs between the hot store and the ledger at the last reconciliation.
    public static let driftSKUs = "ledger.drift.skus"
    /// Hot-store sold minus ledger sold, per SKU that drifts, at the last reconciliation.
    public static let driftUnits = "ledger.drift.units"

    public static let histogramBuckets: [String: [Double]] = [
        batchSize: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 4096],
        writeDuration: [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
        lag: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000],
    ]

    private let factory: any MetricsFactory
    private let depthGauge: Gauge
    private let ageGauge: Gauge
    private let batchRecorder: Recorder
    private let durationRecorder: Recorder
    private let lagRecorder: Recorder
    private let written: Counter
    private let duplicates: Counter
    private let deadLetterCounter: Counter
    private let failureCounters: [String: Counter]
    private let driftSKUGauge: Gauge
    private let driftGauges = Mutex<[String: Gauge]>([:])
    private let driftSeriesMax: Int

    public init(factory: any MetricsFactory, driftSeriesMax: Int = 1000) {
        self.factory = factory
        self.driftSeriesMax = driftSeriesMax
        depthGauge = Gauge(label: Self.queueDepth, dimensions: [], factory: factory)
        ageGauge = Gauge(label: Self.oldestAge, dimensions: [], factory: factory)
        batchRecorder = Recorder(label: Self.batchSize, dimensions: [], aggregate: true, factory: factory)
        durationRecorder = Recorder(label: Self.writeDuration, dimensions: [], aggregate: true, factory: factory)
        lagRecorder = Recorder(label: Self.lag, dimensions: [], aggregate: true, factory: factory)
        written = Counter(label: Self.entries, dimensions: [("result", "written")], factory: factory)
        duplicates = Counter(label: Self.entries, dimensions: [("result", "duplicate")], factory: factory)
        deadLetterCounter = Counter(label: Self.deadLetters, dimensions: [], factory: factory)
        var failures: [String: Counter] = [:]
        for stage in ["read", "write", "ack"] {
            failures[stage] = Counter(label: Self.failures, dimensions: [("stage", stage)], factory: factory)
        }
        failureCounters = failures
        driftSKUGauge = Gauge(label: Self.driftSKUs, dimensions: [], factory: factory)
    }

    public func recordDepth(entries: Int, oldestAgeSeconds: Double) {
        depthGauge.record(entries)
        ageGauge.record(oldestAgeSeconds)
    }

    public func recordBatch(size: Int, written: Int, durationMilliseconds: Double) {
        batchRecorder.record(size)
        durationRecorder.record(durationMilliseconds)
        self.written.increment(by: written)
        if size > written { duplicates.increment(by: size - written) }
    }

    public func recordLag(milliseconds: Double) {
        lagRecorder.record(milliseconds)
    }

    public func recordDeadLetter() {
        deadLetterCounter.increment()
    }

    /// `stage` is `read`, `write` or `ack`.
    public func recordFailure(stage: String) {
        failureCounters[stage]?.increment()
    }

    /// Replaces the drift gauges with this reconciliation's result (SKU → hot sold − ledger sold, non-zero only).
    public func recordDrift(_ drift: [String: Int64]) {
        driftSKUGauge.record(drift.count)
        driftGauges.withLock { gauges in
            for (sku, gauge) in gauges where drift[sku] == nil { gauge.record(0) }
            for (sku, units) in drift {
                if let gauge = gauges[sku] {
                    gauge.record(units)
                } else if gauges.count < driftSeriesMax {
                    let gauge = Gauge(label: Self.driftUnits, dimensions: [("sku", sku)], factory: factory)
                    gauge.record(units)
                    gauges[sku] = gauge
                }
            }
        }
    }
}
