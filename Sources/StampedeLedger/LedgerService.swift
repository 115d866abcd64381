import Logging
import ServiceLifecycle
import Synchronization

/// Runs the ledger side of a process: migrations (retried until PostgreSQL answers), the worker, and periodic
/// reconciliation. A graceful shutdown lets the worker finish the batch in hand. The PostgreSQL pool is a service of
/// its own (``pool``), placed before this one in the group, so it stops only after the worker's last write.
///
/// PostgreSQL being down never stops the sale: entries wait in the queue, bounded by its maximum.
public final class LedgerService: Service {
    private let ledger: PostgresLedger
    private let worker: LedgerWorker
    private let reconciler: Reconciler?
    private let reconcileInterval: Duration
    private let metrics: LedgerMetrics
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let migrated = Atomic<Bool>(false)

    /// - Parameter reconcileInterval: how often `reconciler` runs (when given).
    public init(
        ledger: PostgresLedger,
        worker: LedgerWorker,
        reconciler: Reconciler?,
        reconcileInterval: Duration,
        metrics: LedgerMetrics,
        logger: Logger
    ) {
        self.ledger = ledger
        self.worker = worker
        self.reconciler = reconciler
        self.reconcileInterval = reconcileInterval
        self.metrics = metrics
        self.logger = logger
    }

    /// Whether the schema is in place (the worker writes only after that).
    public var isMigrated: Bool { migrated.load(ordering: .relaxed) }

    /// The PostgreSQL connection pool this service writes through, as a service to run before it.
    public var pool: PostgresPoolService { PostgresPoolService(ledger: ledger) }

    public func run() async {
        await withGracefulShutdownHandler {
            guard await migrate() else { return }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.worker.run() }
                if reconciler != nil { group.addTask { await self.reconcileUntilStopped() } }
            }
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .relaxed)
            self.worker.stop()
        }
    }

    /// Migrates, retrying with backoff while PostgreSQL is unreachable; false when stopped first.
    private func migrate() async -> Bool {
        var backoff = Backoff(min: .milliseconds(200), max: .seconds(5))
        while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
            do {
                let version = try await ledger.migrate()
                migrated.store(true, ordering: .relaxed)
                logger.info(
                    "ledger ready",
                    metadata: ["postgres": "\(ledger.configuration.displayAddress)", "schema": "\(version)"]
                )
                return true
            } catch {
                logger.warning(
                    "ledger not reachable yet; sales wait in the queue",
                    metadata: [
                        "postgres": "\(ledger.configuration.displayAddress)", "error": "\(String(reflecting: error))",
                    ]
                )
                await sleep(backoff.next())
            }
        }
        return false
    }

    private func reconcileUntilStopped() async {
        guard let reconciler else { return }
        while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
            await sleep(reconcileInterval)
            if stopping.load(ordering: .relaxed) { return }
            do {
                let result = try await reconciler.compare()
                Reconciler.record(result, metrics: metrics)
                if !result.drifting.isEmpty && result.queuedEntries == 0 {
                    logger.warning(
                        "hot store and ledger disagree with nothing queued; run `stampede reconcile`",
                        metadata: ["skus": "\(result.drifting.count)"]
                    )
                }
            } catch {
                logger.warning("reconciliation failed", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }

    /// Sleeps up to `duration`, waking early when stopping.
    private func sleep(_ duration: Duration) async {
        let deadline = ContinuousClock.now + duration
        while !stopping.load(ordering: .relaxed) && !Task.isCancelled && ContinuousClock.now < deadline {
            try? await Task.sleep(for: min(.milliseconds(100), deadline - ContinuousClock.now))
        }
    }
}

/// The PostgreSQL pool of a ledger as a service of the group: it runs until its own graceful shutdown, which the
/// group sends only after the services started after it (the ledger service) have stopped.
public struct PostgresPoolService: Service {
    let ledger: PostgresLedger

    public func run() async {
        await cancelWhenGracefulShutdown { await ledger.run() }
    }
}
