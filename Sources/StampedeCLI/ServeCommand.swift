import ArgumentParser
import Foundation
import StampedeApp
import StampedeConfiguration
import StampedeHTTPKit

/// `stampede serve`: the inventory service on the embedded store.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the inventory service (embedded durable store by default, or shared stock in Redis).",
        discussion: """
            Every option can also be set by its environment variable; a flag wins over the variable.
            Telemetry follows the standard OTEL_* variables (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_SAMPLER, \
            OTEL_TRACES_SAMPLER_ARG, OTEL_SERVICE_NAME, ...); nothing is exported unless an endpoint is set. \
            Traces that fail or take at least STAMPEDE_TRACE_SLOW_MS milliseconds (default 100) are exported \
            whatever the sampling ratio. Prometheus metrics are served at GET /metrics.
            """
    )

    @Option(help: "Address to listen on. Env: STAMPEDE_HOST. Default: 127.0.0.1.")
    var host: String?

    @Option(help: "Port to listen on (0 picks a free one). Env: STAMPEDE_PORT. Default: 8080.")
    var port: Int?

    @Option(help: "Directory of the durable journal and snapshot. Env: STAMPEDE_DATA_DIR. Default: ./stampede-data.")
    var dataDir: String?

    @Option(
        help: """
            sync: fsync every acknowledged change (group commit); async: fsync about once a second. \
            Env: STAMPEDE_DURABILITY. Default: sync.
            """
    )
    var durability: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical. Env: STAMPEDE_LOG_LEVEL. Default: info.")
    var logLevel: String?

    @Option(
        help: """
            Keep inventory in Redis, shared by every instance: redis://[[user]:password@]host[:port][/db]. \
            Env: STAMPEDE_REDIS_URL. Default: unset (embedded store in --data-dir).
            """
    )
    var redis: String?

    @OptionGroup var redisConnection: RedisConnectionOptions

    @Option(help: "Prefix of every Redis key. Env: STAMPEDE_REDIS_PREFIX. Default: stampede:.")
    var redisPrefix: String?

    @Option(
        help: """
            Deduct script calls in flight at once; deducts arriving meanwhile share the next call. \
            Env: STAMPEDE_REDIS_COALESCED_CALLS. Default: 2.
            """
    )
    var redisCoalescedCalls: Int?

    @Option(
        help: """
            Redis mode: answer "sold out" without asking Redis for this many ms after seeing a SKU at zero \
            (0 turns it off). Env: STAMPEDE_SOLD_OUT_CACHE_MS. Default: 100.
            """
    )
    var soldOutCacheMs: Int?

    @Flag(
        inversion: .prefixedNo,
        help: """
            Answer POST /api/v1/inventory/deduct on the connection's event loop instead of through the \
            router (same answers, spans and metrics; about half the CPU per deduct). \
            Env: STAMPEDE_DEDUCT_FAST_PATH. Default: on.
            """
    )
    var deductFastPath: Bool?

    @OptionGroup var ledgerOptions: LedgerOptions

    @OptionGroup var limitOptions: HTTPLimitOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let configuration: AppConfiguration
        do {
            configuration = AppConfiguration(
                serve: try ServeConfiguration(
                    host: host,
                    port: port,
                    dataDirectory: dataDir,
                    durability: durability,
                    logLevel: logLevel,
                    redisURL: redis,
                    redisConnections: redisConnection.redisConnections,
                    redisTimeoutMilliseconds: redisConnection.redisTimeoutMs,
                    redisKeyPrefix: redisPrefix,
                    redisCoalescedCalls: redisCoalescedCalls,
                    soldOutCacheMilliseconds: soldOutCacheMs,
                    deductFastPath: deductFastPath,
                    environment: environment
                ),
                ledger: try ledgerOptions.settings(environment: environment),
                limits: try limitOptions.limits(environment: environment)
            )
        } catch {
            throw ValidationError(error.description)
        }
        let process: BuiltProcess
        do {
            process = try await buildApplication(configuration: configuration, environment: environment)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        } catch is StoreOpenFailed {
            throw ExitCode.failure
        }
        try await process.run()
    }
}

/// The ledger flags of `serve` and `worker`.
struct LedgerOptions: ParsableArguments {
    @Option(
        help: """
            Write every sale, release and item reset behind to this PostgreSQL ledger: \
            postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require|verify-ca|verify-full]. \
            Env: STAMPEDE_POSTGRES_URL. Default: unset (no ledger).
            """
    )
    var postgres: String?

    @Flag(
        inversion: .prefixedNo,
        help: "Run the ledger worker in this process (serve only). Env: STAMPEDE_LEDGER_WORKER. Default: on."
    )
    var ledgerWorker: Bool?

    @Option(
        help: """
            Entries queued for the ledger before writes are refused with 503 ledger_backlog_full. \
            Env: STAMPEDE_LEDGER_BACKLOG_MAX. Default: 1000000.
            """
    )
    var ledgerBacklogMax: Int?

    @Option(help: "Entries per ledger transaction. Env: STAMPEDE_LEDGER_BATCH. Default: 1000.")
    var ledgerBatch: Int?

    @Option(
        help: """
            After a ledger batch that was not full, milliseconds from its read to the next read, so entries gather \
            into larger batches (0: read again at once). Env: STAMPEDE_LEDGER_LINGER_MS. Default: 50.
            """
    )
    var ledgerLingerMs: Int?

    @Option(help: "Consumer name of this worker (Redis mode). Env: STAMPEDE_WORKER_NAME. Default: the host name.")
    var workerName: String?

    @Option(
        help: """
            Take over ledger entries another worker left unacknowledged this long (Redis mode). \
            Env: STAMPEDE_LEDGER_CLAIM_IDLE_MS. Default: 30000.
            """
    )
    var ledgerClaimIdleMs: Int?

    @Option(
        help: """
            Seconds between reconciliations that refresh the ledger drift metrics (0: off). \
            Env: STAMPEDE_RECONCILE_INTERVAL_S. Default: 60.
            """
    )
    var reconcileIntervalS: Int?

    func settings(environment: [String: String]) throws(ConfigurationError) -> LedgerSettings {
        try LedgerSettings(
            postgresURL: postgres,
            runsWorker: ledgerWorker,
            backlogMax: ledgerBacklogMax,
            batchMax: ledgerBatch,
            lingerMilliseconds: ledgerLingerMs,
            workerName: workerName,
            claimIdleMilliseconds: ledgerClaimIdleMs,
            reconcileIntervalSeconds: reconcileIntervalS,
            environment: environment
        )
    }
}
