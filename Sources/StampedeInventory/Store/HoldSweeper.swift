import Logging

/// Expires holds whose deadline passed, so an unpaid reservation gives its units back by itself.
///
/// Every `interval` it asks the store for up to `batchMax` due holds, and asks again at once while batches come
/// back full. The deadline is decided by the store's clock, not by this loop: a confirm after the deadline is
/// refused even if the sweep has not run yet; the interval only bounds how late the units return to sale.
/// Several instances on one Redis may all sweep: each hold expires once.
public struct HoldSweeper: Sendable {
    public static let intervalDefault: Duration = .milliseconds(100)
    public static let batchMaxDefault = 1000

    let store: any InventoryStore
    let metrics: InventoryMetrics
    let interval: Duration
    let batchMax: Int
    let logger: Logger

    public init(
        store: any InventoryStore,
        metrics: InventoryMetrics,
        interval: Duration = HoldSweeper.intervalDefault,
        batchMax: Int = HoldSweeper.batchMaxDefault,
        logger: Logger
    ) {
        precondition(batchMax > 0, "a sweep expires at least one hold")
        self.store = store
        self.metrics = metrics
        self.interval = interval
        self.batchMax = batchMax
        self.logger = logger
    }

    /// Sweeps until the task is cancelled. Store failures are logged and retried at the next tick.
    public func run() async {
        var failing = false
        while !Task.isCancelled {
            do {
                try await sweep()
                if failing {
                    logger.info("hold expiry works again")
                    failing = false
                }
            } catch {
                if !failing {
                    logger.warning(
                        "hold expiry failed; due holds stay reserved until it works",
                        metadata: [
                            "error": "\(error)"
                        ]
                    )
                    failing = true
                }
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Expires every hold due now, a batch at a time; returns how many expired.
    @discardableResult
    public func sweep() async throws -> Int {
        var total = 0
        while !Task.isCancelled {
            let expired = try await store.expireHolds(max: batchMax)
            metrics.recordExpired(expired.count)
            var stocks: [String: Int64] = [:]
            for hold in expired { stocks[hold.sku] = hold.stock }
            for (sku, stock) in stocks { metrics.recordStock(sku: sku, stock: stock) }
            total += expired.count
            if expired.count < batchMax { break }
        }
        return total
    }
}
