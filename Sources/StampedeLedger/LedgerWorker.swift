import Logging
import StampedeInventory
import Synchronization
import Tracing

/// Moves entries from the queue to the PostgreSQL ledger, in batches, until stopped.
///
/// One batch at a time: read up to `batchMax` entries, write them in one transaction, and acknowledge them only
/// after the commit. After a batch that was not full the worker lets entries gather until `linger` has passed
/// since that batch was read, so that under a steady load it writes few large batches rather than many small ones
/// (each costs a queue read, a commit and an acknowledgement, whatever its size). A failed write is retried (same batch) with exponential backoff and jitter, so PostgreSQL
/// being down only grows the queue, whose bound pushes back on the hot store. A batch PostgreSQL refuses as data
/// (SQLSTATE 22/23) is written entry by entry, and the entries refused alone go to the dead-letter store.
///
/// Each entry that carries a trace context gets a `ledger.write` span in the request's trace.
public final class LedgerWorker: Sendable {
    public struct Configuration: Sendable {
        /// Most entries per batch (and per transaction).
        public var batchMax: Int
        /// How long a read waits for entries before the loop checks for shutdown.
        public var readWait: Duration
        /// After a batch that was not full, the least time from its read to the next read.
        public var linger: Duration
        /// A batch write that takes longer is abandoned and retried (its outcome is unknown; a retry is idempotent).
        public var writeTimeout: Duration
        public var backoffMin: Duration
        public var backoffMax: Duration
        /// How often queue depth and age are published.
        public var depthInterval: Duration

        public init(
            batchMax: Int = 1000,
            readWait: Duration = .milliseconds(500),
            linger: Duration = .milliseconds(50),
            writeTimeout: Duration = .seconds(10),
            backoffMin: Duration = .milliseconds(100),
            backoffMax: Duration = .seconds(5),
            depthInterval: Duration = .seconds(1)
        ) {
            precondition(batchMax >= 1 && batchMax <= 4096, "batchMax is from 1 to 4096")
            self.batchMax = batchMax
            self.readWait = readWait
            self.linger = linger
            self.writeTimeout = writeTimeout
            self.backoffMin = backoffMin
            self.backoffMax = backoffMax
            self.depthInterval = depthInterval
        }
    }

    private let queue: any LedgerQueue
    private let ledger: PostgresLedger
    private let configuration: Configuration
    private let metrics: LedgerMetrics
    private let tracer: (any Tracer)?
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let clock: @Sendable () -> Int64

    public init(
        queue: any LedgerQueue,
        ledger: PostgresLedger,
        configuration: Configuration = Configuration(),
        metrics: LedgerMetrics,
        tracer: (any Tracer)?,
        logger: Logger,
        clock: @escaping @Sendable () -> Int64 = InventoryClock.wallClockMilliseconds
    ) {
        self.queue = queue
        self.ledger = ledger
        self.configuration = configuration
        self.metrics = metrics
        self.tracer = tracer
        self.logger = logger
        self.clock = clock
    }

    /// Asks ``run()`` to return after the batch in hand is written and acknowledged.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
    }

    /// Runs until ``stop()`` or cancellation; publishes queue depth meanwhile.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.publishDepth() }
            await moveEntries()
            group.cancelAll()
        }
        await queue.close()
    }

    /// Publishes depth until cancelled.
    private func publishDepth() async {
        while !Task.isCancelled {
            if let depth = try? await queue.depth() {
                let age = depth.oldestTimestampMilliseconds.map { max(0, Double(clock() - $0) / 1000) } ?? 0
                metrics.recordDepth(entries: depth.entries, oldestAgeSeconds: age)
            }
            try? await Task.sleep(for: configuration.depthInterval)
        }
    }

    private func moveEntries() async {
        var backoff = Backoff(min: configuration.backoffMin, max: configuration.backoffMax)
        let clock = ContinuousClock()
        while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
            let readAt = clock.now
            let batch: [LedgerEntry]
            do {
                batch = try await queue.next(max: configuration.batchMax, wait: configuration.readWait)
                backoff.reset()
            } catch {
                if Task.isCancelled { return }
                metrics.recordFailure(stage: "read")
                logger.warning("cannot read the ledger queue", metadata: ["error": "\(String(reflecting: error))"])
                try? await Task.sleep(for: backoff.next())
                continue
            }
            guard !batch.isEmpty else { continue }
            // One span per traced entry for the whole batch, however many attempts its write takes.
            let spans = startSpans(batch)
            defer { for span in spans { span.end() } }
            var errorRecorded = false
            // Entries already in the dead-letter store are not written or dead-lettered again when a retry follows.
            var deadLettered: Set<String> = []
            // The batch in hand is written and acknowledged even when a stop arrives meanwhile.
            while !Task.isCancelled {
                do {
                    try await write(batch, deadLettered: &deadLettered)
                    backoff.reset()
                    break
                } catch {
                    if !errorRecorded {
                        for span in spans { span.recordError(error) }
                        errorRecorded = true
                    }
                    metrics.recordFailure(stage: "write")
                    // Stopping with the batch unwritten is safe: its entries stay queued for the next worker.
                    if stopping.load(ordering: .relaxed) { return }
                    logger.warning(
                        "ledger write failed; retrying",
                        metadata: ["entries": "\(batch.count)", "error": "\(String(reflecting: error))"]
                    )
                    try? await Task.sleep(for: backoff.next())
                }
            }
            if Task.isCancelled { return }
            while !Task.isCancelled {
                do {
                    try await queue.acknowledge(batch)
                    break
                } catch {
                    // Unacknowledged entries are delivered again and written again, which the ledger ignores.
                    metrics.recordFailure(stage: "ack")
                    if stopping.load(ordering: .relaxed) { return }
                    logger.warning(
                        "cannot acknowledge ledger entries; retrying",
                        metadata: ["error": "\(String(reflecting: error))"]
                    )
                    try? await Task.sleep(for: backoff.next())
                }
            }
            if batch.count < configuration.batchMax && !stopping.load(ordering: .relaxed) {
                try? await Task.sleep(until: readAt + configuration.linger, clock: clock)
            }
        }
    }

    /// Writes the batch, or when PostgreSQL refuses its data, each entry alone, dead-lettering those refused.
    /// `deadLettered` holds the ids this batch has dead-lettered so far, across retries of the same batch.
    private func write(_ batch: [LedgerEntry], deadLettered: inout Set<String>) async throws {
        let start = ContinuousClock.now
        var written: Int
        let remaining = deadLettered.isEmpty ? batch : batch.filter { !deadLettered.contains($0.id) }
        do {
            written = try await withLedgerTimeout(configuration.writeTimeout, "ledger write") { [ledger] in
                try await ledger.write(remaining)
            }
        } catch  where PostgresLedger.refusedData(error) {
            logger.warning(
                "the ledger refused a batch; writing its entries one by one",
                metadata: ["error": "\(String(reflecting: error))"]
            )
            written = 0
            for entry in remaining {
                do {
                    written += try await withLedgerTimeout(configuration.writeTimeout, "ledger write") { [ledger] in
                        try await ledger.write([entry])
                    }
                } catch  where PostgresLedger.refusedData(error) {
                    try await queue.deadLetter(entry, reason: "refused by PostgreSQL: \(String(reflecting: error))")
                    deadLettered.insert(entry.id)
                    metrics.recordDeadLetter()
                }
            }
        }
        let elapsed = ContinuousClock.now - start
        metrics.recordBatch(
            size: batch.count,
            written: written,
            durationMilliseconds: Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds)
                * 1000
        )
        let now = clock()
        for entry in batch { metrics.recordLag(milliseconds: Double(max(0, now - entry.event.timestampMilliseconds))) }
    }

    /// A `ledger.write` span per entry that carries its request's trace context.
    private func startSpans(_ batch: [LedgerEntry]) -> [any Span] {
        guard let tracer else { return [] }
        var spans: [any Span] = []
        for entry in batch {
            guard let traceParent = entry.traceParent, LedgerTraceContext.isSampled(traceParent) else { continue }
            var context = ServiceContext.topLevel
            tracer.extract(["traceparent": traceParent], into: &context, using: DictionaryExtractor())
            let span = tracer.startSpan("ledger.write", context: context, ofKind: .consumer)
            guard span.isRecording else {
                span.end()
                continue
            }
            span.updateAttributes { attributes in
                attributes["ledger.entry.kind"] = entry.event.kind
                attributes["ledger.entry.id"] = entry.id
                attributes["ledger.batch.size"] = batch.count
                attributes["inventory.sku"] = entry.event.sku
                if let orderID = entry.event.orderID { attributes["order.id"] = orderID }
                attributes["db.system.name"] = "postgresql"
            }
            spans.append(span)
        }
        return spans
    }
}

private struct DictionaryExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}

/// Exponential backoff with full jitter between `min` and `max`.
struct Backoff {
    let min: Duration
    let max: Duration
    private var current: Duration

    init(min: Duration, max: Duration) {
        self.min = min
        self.max = max
        self.current = min
    }

    mutating func reset() { current = min }

    mutating func next() -> Duration {
        let ceiling = current
        current = Swift.min(current * 2, max)
        let nanoseconds = ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
        return .nanoseconds(Int64.random(in: nanoseconds / 2...Swift.max(nanoseconds / 2, nanoseconds)))
    }
}
