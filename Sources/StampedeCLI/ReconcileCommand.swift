import ArgumentParser
import Foundation
import Logging
import StampedeApp
import StampedeConfiguration
import StampedeInventory
import StampedeInventoryRedis
import StampedeLedger
import StampedeRedis

/// `stampede reconcile`: compares stock and sold per SKU between the hot store and the ledger.
struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Compare each SKU's sold units in the hot store with the PostgreSQL ledger; optionally repair.",
        discussion: """
            Prints the SKUs that drift and exits 1 when any does (0 when all agree). With --repair, SKUs whose \
            hot store counts fewer sales than the ledger at the same generation take the ledger's count (stock = \
            initial - sold): the ledger is the committed record of every sale, the hot store the copy that can \
            lose its tail. A store counting more sales than the ledger is never lowered (that would resell \
            units). Repair \
            refuses to run while entries are still queued for the ledger (they are sales it has not seen yet), \
            and works on the Redis store only: the embedded store and its journal-fed ledger can only differ by \
            lag. The embedded data directory can be read only while `serve` is stopped.
            """
    )

    @Option(help: "The ledger. Env: STAMPEDE_POSTGRES_URL. Required.")
    var postgres: String?

    @Option(help: "The Redis store. Env: STAMPEDE_REDIS_URL. Default: the embedded store in --data-dir.")
    var redis: String?

    @Option(help: "Prefix of every Redis key. Env: STAMPEDE_REDIS_PREFIX. Default: stampede:.")
    var redisPrefix: String?

    @OptionGroup var redisConnection: RedisConnectionOptions

    @Option(help: "The embedded store's directory. Env: STAMPEDE_DATA_DIR. Default: ./stampede-data.")
    var dataDir: String?

    @Flag(help: "Set drifting SKUs' sold units from the ledger (Redis store).")
    var repair = false

    @Flag(help: "List every SKU, not only those that drift.")
    var all = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let settings: ServeConfiguration
        let ledgerSettings: LedgerSettings
        do {
            settings = try ServeConfiguration(
                host: nil,
                port: nil,
                dataDirectory: dataDir,
                durability: nil,
                logLevel: nil,
                redisURL: redis,
                redisConnections: redisConnection.redisConnections,
                redisTimeoutMilliseconds: redisConnection.redisTimeoutMs,
                redisKeyPrefix: redisPrefix,
                environment: environment
            )
            ledgerSettings = try LedgerSettings(
                postgresURL: postgres,
                runsWorker: nil,
                backlogMax: nil,
                batchMax: nil,
                lingerMilliseconds: nil,
                workerName: "reconcile",
                claimIdleMilliseconds: nil,
                reconcileIntervalSeconds: nil,
                environment: environment
            )
        } catch {
            throw ValidationError(error.description)
        }
        guard let postgresURL = ledgerSettings.postgresURL else {
            throw ValidationError("reconcile needs --postgres (or STAMPEDE_POSTGRES_URL)")
        }
        var logger = Logger(label: "stampede.reconcile")
        logger.logLevel = .warning
        let ledger = PostgresLedger(configuration: try PostgresLedgerConfiguration(url: postgresURL), logger: logger)
        let pool = Task { await ledger.run() }
        defer { pool.cancel() }

        let store: any ReconcilableStore
        let queue: any LedgerQueue
        var repairItem: (@Sendable (String, UInt64, Int64, Int64) async throws -> RepairOutcome)?
        var shutdown: @Sendable () async -> Void = {}
        if let url = settings.redisURL {
            let client = try OpenedStore.makeRedisClient(
                url: url,
                settings: settings,
                tracingEnabled: false,
                logger: logger
            )
            let redisStore = RedisInventoryStore(
                client: client,
                configuration: .init(keyPrefix: settings.redisKeyPrefix),
                logger: logger
            )
            store = redisStore
            queue = OpenedStore.makeRedisLedgerQueue(client: client, settings, ledgerSettings, logger)
            repairItem = { try await redisStore.repairItem(sku: $0, generation: $1, expectedTaken: $2, taken: $3) }
            shutdown = { await client.shutdown() }
        } else {
            guard !repair else {
                throw ValidationError("--repair works on the Redis store only (see --help)")
            }
            let embedded = try EmbeddedInventoryStore(
                configuration: .init(dataDirectory: settings.dataDirectory, ledgerBacklogMax: Int.max),
                logger: logger
            )
            store = embedded
            queue = EmbeddedLedgerQueue(store: embedded, dataDirectory: settings.dataDirectory)
            shutdown = { await embedded.close() }
        }
        let finish = shutdown
        let drifting: Bool
        do {
            drifting = try await reconcile(Reconciler(store: store, ledger: ledger, queue: queue), repairItem)
        } catch {
            await finish()
            throw error
        }
        await finish()
        if drifting { throw ExitCode(1) }
    }

    /// Prints the comparison (and repairs with `--repair`); returns whether SKUs still drift.
    private func reconcile(
        _ reconciler: Reconciler,
        _ repairItem: (@Sendable (String, UInt64, Int64, Int64) async throws -> RepairOutcome)?
    ) async throws -> Bool {
        let result = try await reconciler.compare()
        print(result.table(all: all))
        print(
            "\(result.rows.count) SKUs, \(result.drifting.count) drifting, "
                + "\(result.queuedEntries ?? 0) entries queued for the ledger"
        )
        guard repair, !result.drifting.isEmpty, let repairItem else { return !result.drifting.isEmpty }
        let outcomes = try await reconciler.repair(result, using: repairItem)
        for (sku, outcome) in outcomes.sorted(by: { $0.key < $1.key }) { print("repair \(sku): \(outcome)") }
        let after = try await reconciler.compare()
        print("after repair: \(after.drifting.count) drifting")
        return !after.drifting.isEmpty
    }
}
