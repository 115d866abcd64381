import Logging
import StampedeInventory
import StampedeInventoryRedis
import StampedeRedis
import StampedeTesting

/// The stores that must behave the same: every contract test runs against each.
enum StoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case embedded
    case redis

    var description: String { rawValue }
}

enum StoreHarness {
    static let logger: Logger = {
        var logger = Logger(label: "contract")
        logger.logLevel = .critical
        return logger
    }()

    /// Opens a fresh, empty store of `kind` (a new data directory, or a new `redis-server`), runs `body`, closes.
    /// With `clock`, the store reads the time from it (deadlines, log timestamps).
    static func with(
        _ kind: StoreKind,
        limits: InventoryLimits = .default,
        clock: ManualClock? = nil,
        _ body: (any InventoryStore) async throws -> Void
    ) async throws {
        let clock = clock?.closure ?? InventoryClock.wallClockMilliseconds
        switch kind {
        case .embedded:
            let directory = TemporaryDirectory()
            defer { directory.remove() }
            let store = try EmbeddedInventoryStore(
                configuration: .init(dataDirectory: directory.path, limits: limits),
                logger: logger,
                clock: clock
            )
            do {
                try await body(store)
            } catch {
                await store.close()
                throw error
            }
            await store.close()
        case .redis:
            let server = try await RedisServerProcess.start()
            let client = try RedisClient(configuration: RedisConfiguration(url: server.url), logger: logger)
            let store = RedisInventoryStore(
                client: client,
                configuration: .init(limits: limits),
                logger: logger,
                clock: clock
            )
            do {
                try await body(store)
            } catch {
                await client.shutdown()
                await server.stop()
                throw error
            }
            await client.shutdown()
            await server.stop()
        }
    }
}
