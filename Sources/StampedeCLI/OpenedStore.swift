import Logging
import ServiceLifecycle
import StampedeHTTP
import StampedeInventory
import StampedeInventoryRedis
import StampedeRedis
import Tracing

/// The inventory store `serve` runs on, with the service that keeps it healthy and closes it at shutdown.
struct OpenedStore: CustomStringConvertible {
    var store: any InventoryStore
    var service: any Service
    var description: String

    /// The embedded store in `--data-dir`, or the Redis store when `--redis` is set.
    static func open(settings: ServeConfiguration, tracingEnabled: Bool, logger: Logger) throws -> OpenedStore {
        guard let url = settings.redisURL else {
            let store = try EmbeddedInventoryStore(
                configuration: .init(dataDirectory: settings.dataDirectory, durability: settings.durability),
                logger: logger
            )
            return OpenedStore(
                store: store,
                service: EmbeddedStoreService(store: store),
                description: "embedded \(settings.dataDirectory)"
            )
        }
        var configuration = try RedisConfiguration(url: url)
        configuration.connectionCount = settings.redisConnections
        configuration.connectTimeout = .milliseconds(settings.redisTimeoutMilliseconds)
        configuration.commandTimeout = .milliseconds(settings.redisTimeoutMilliseconds)
        let client = try RedisClient(
            configuration: configuration,
            logger: logger,
            tracer: tracingEnabled ? InstrumentationSystem.tracer : nil
        )
        let store = RedisInventoryStore(
            client: client,
            configuration: .init(
                keyPrefix: settings.redisKeyPrefix,
                soldOutCacheTTL: .milliseconds(settings.soldOutCacheMilliseconds),
                coalescedCallsMax: settings.redisCoalescedCalls
            ),
            logger: logger
        )
        return OpenedStore(
            store: store,
            service: RedisStoreService(store: store, client: client),
            description: "redis \(configuration.displayAddress)"
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
