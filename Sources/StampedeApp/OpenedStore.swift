import Logging
import Metrics
import ServiceLifecycle
import StampedeHTTPKit
import StampedeInventory
import StampedeInventoryRedis
import StampedeLedger
import StampedeRedis
import StampedeTelemetry
import Tracing

/// The inventory store `serve` runs on, with the service that keeps it healthy and closes it at shutdown, and
/// with a ledger, the queue its sales go through.
public struct OpenedStore: CustomStringConvertible, Sendable {
    public var store: any ReconcilableStore
    public var service: any Service
    public var description: String
    /// The ledger queue: the journal (embedded) or the ledger stream (Redis); nil without `--postgres`.
    public var ledgerQueue: (any LedgerQueue)?

    /// The embedded store in `--data-dir`, or the Redis store when `--redis` is set.
    public static func open(
        settings: ServeConfiguration,
        ledger: LedgerSettings,
        tracingEnabled: Bool,
        logger: Logger
    ) throws -> OpenedStore {
        let backlogMax = ledger.postgresURL == nil ? nil : ledger.backlogMax
        guard let url = settings.redisURL else {
            let store = try EmbeddedInventoryStore(
                configuration: .init(
                    dataDirectory: settings.dataDirectory,
                    durability: settings.durability,
                    ledgerBacklogMax: backlogMax
                ),
                logger: logger
            )
            return OpenedStore(
                store: store,
                service: EmbeddedStoreService(store: store),
                description: "embedded \(settings.dataDirectory)",
                ledgerQueue: backlogMax == nil
                    ? nil : EmbeddedLedgerQueue(store: store, dataDirectory: settings.dataDirectory)
            )
        }
        let client = try makeRedisClient(url: url, settings: settings, tracingEnabled: tracingEnabled, logger: logger)
        let store = RedisInventoryStore(
            client: client,
            configuration: .init(
                keyPrefix: settings.redisKeyPrefix,
                soldOutCacheTTL: .milliseconds(settings.soldOutCacheMilliseconds),
                coalescedCallsMax: settings.redisCoalescedCalls,
                ledgerBacklogMax: backlogMax ?? 0
            ),
            logger: logger
        )
        return OpenedStore(
            store: store,
            service: RedisStoreService(store: store, client: client),
            description: "redis \(client.configuration.displayAddress)",
            ledgerQueue: backlogMax == nil ? nil : makeRedisLedgerQueue(client: client, settings, ledger, logger)
        )
    }

    public static func makeRedisClient(
        url: String,
        settings: ServeConfiguration,
        tracingEnabled: Bool,
        logger: Logger
    ) throws -> RedisClient {
        var configuration = try RedisConfiguration(url: url)
        configuration.connectionCount = settings.redisConnections
        configuration.connectTimeout = .milliseconds(settings.redisTimeoutMilliseconds)
        configuration.commandTimeout = .milliseconds(settings.redisTimeoutMilliseconds)
        return try RedisClient(
            configuration: configuration,
            logger: logger,
            tracer: tracingEnabled ? InstrumentationSystem.tracer : nil
        )
    }

    public static func makeRedisLedgerQueue(
        client: RedisClient,
        _ settings: ServeConfiguration,
        _ ledger: LedgerSettings,
        _ logger: Logger
    ) -> RedisLedgerQueue {
        RedisLedgerQueue(
            client: client,
            configuration: .init(
                keyPrefix: settings.redisKeyPrefix,
                consumer: ledger.workerName,
                claimIdle: .milliseconds(ledger.claimIdleMilliseconds)
            ),
            logger: logger
        )
    }

    /// The ledger service for `--postgres` with the worker on: the worker and periodic reconciliation. With
    /// `--no-ledger-worker` the process only writes the queue; the workers migrate, write and reconcile.
    public func ledgerService(
        ledger settings: LedgerSettings,
        tracingEnabled: Bool,
        logger: Logger
    ) throws -> LedgerService? {
        guard let url = settings.postgresURL, settings.runsWorker, let queue = ledgerQueue else { return nil }
        let ledger = PostgresLedger(configuration: try PostgresLedgerConfiguration(url: url), logger: logger)
        let metrics = LedgerMetrics(factory: MetricsSystem.factory)
        let worker = LedgerWorker(
            queue: queue,
            ledger: ledger,
            configuration: .init(
                batchMax: settings.batchMax,
                linger: .milliseconds(settings.lingerMilliseconds)
            ),
            metrics: metrics,
            tracer: tracingEnabled ? InstrumentationSystem.tracer : nil,
            logger: logger
        )
        let reconciler =
            settings.reconcileIntervalSeconds > 0 ? Reconciler(store: store, ledger: ledger, queue: queue) : nil
        return LedgerService(
            ledger: ledger,
            worker: worker,
            reconciler: reconciler,
            reconcileInterval: .seconds(max(1, settings.reconcileIntervalSeconds)),
            metrics: metrics,
            logger: logger
        )
    }
}

/// Keeps the Redis store's readiness current (and its pool connected) until shutdown, then disconnects.
struct RedisStoreService: Service {
    let store: RedisInventoryStore
    let client: RedisClient

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await store.runHealthChecks() }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        await client.shutdown()
    }
}
