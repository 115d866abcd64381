import ArgumentParser
import Foundation
import StampedeApp
import StampedeConfiguration
import StampedeHTTPKit

private typealias Serve = ServeConfiguration.Settings
private typealias Ledger = LedgerSettings.Settings
private typealias Orders = ServeConfiguration.OrderSettings

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

    @Option(name: .customLong(Serve.host.flag), help: ArgumentHelp(Serve.host.help))
    var host: String?

    @Option(name: .customLong(Serve.port.flag), help: ArgumentHelp(Serve.port.help))
    var port: Int?

    @Option(name: .customLong(Serve.dataDirectory.flag), help: ArgumentHelp(Serve.dataDirectory.help))
    var dataDir: String?

    @Option(name: .customLong(Serve.durability.flag), help: ArgumentHelp(Serve.durability.help))
    var durability: String?

    @Option(name: .customLong(Serve.logLevel.flag), help: ArgumentHelp(Serve.logLevel.help))
    var logLevel: String?

    @Option(name: .customLong(Serve.redisURL.flag), help: ArgumentHelp(Serve.redisURL.help))
    var redis: String?

    @OptionGroup var redisConnection: RedisConnectionOptions

    @Option(name: .customLong(Serve.redisKeyPrefix.flag), help: ArgumentHelp(Serve.redisKeyPrefix.help))
    var redisPrefix: String?

    @Option(name: .customLong(Serve.redisCoalescedCalls.flag), help: ArgumentHelp(Serve.redisCoalescedCalls.help))
    var redisCoalescedCalls: Int?

    @Option(
        name: .customLong(Serve.soldOutCacheMilliseconds.flag),
        help: ArgumentHelp(Serve.soldOutCacheMilliseconds.help)
    )
    var soldOutCacheMs: Int?

    @Flag(
        name: .customLong(Serve.deductFastPath.flag),
        inversion: .prefixedNo,
        help: ArgumentHelp(Serve.deductFastPath.help)
    )
    var deductFastPath: Bool?

    @Option(name: .customLong(Orders.paymentURL.flag), help: ArgumentHelp(Orders.paymentURL.help))
    var paymentURL: String?

    @Option(
        name: .customLong(Orders.orderTimeoutMilliseconds.flag),
        help: ArgumentHelp(Orders.orderTimeoutMilliseconds.help)
    )
    var orderTimeoutMs: Int?

    @Option(name: .customLong(Orders.orderHoldMilliseconds.flag), help: ArgumentHelp(Orders.orderHoldMilliseconds.help))
    var orderHoldMs: Int?

    @Option(name: .customLong(Orders.ordersInFlightMax.flag), help: ArgumentHelp(Orders.ordersInFlightMax.help))
    var ordersInFlightMax: Int?

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
                    paymentURL: paymentURL,
                    orderTimeoutMilliseconds: orderTimeoutMs,
                    orderHoldMilliseconds: orderHoldMs,
                    ordersInFlightMax: ordersInFlightMax,
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
    @Option(name: .customLong(Ledger.postgresURL.flag), help: ArgumentHelp(Ledger.postgresURL.help))
    var postgres: String?

    @Flag(name: .customLong(Ledger.runsWorker.flag), inversion: .prefixedNo, help: ArgumentHelp(Ledger.runsWorker.help))
    var ledgerWorker: Bool?

    @Option(name: .customLong(Ledger.backlogMax.flag), help: ArgumentHelp(Ledger.backlogMax.help))
    var ledgerBacklogMax: Int?

    @Option(name: .customLong(Ledger.batchMax.flag), help: ArgumentHelp(Ledger.batchMax.help))
    var ledgerBatch: Int?

    @Option(name: .customLong(Ledger.lingerMilliseconds.flag), help: ArgumentHelp(Ledger.lingerMilliseconds.help))
    var ledgerLingerMs: Int?

    @Option(name: .customLong(Ledger.workerName.flag), help: ArgumentHelp(Ledger.workerName.help))
    var workerName: String?

    @Option(
        name: .customLong(Ledger.claimIdleMilliseconds.flag),
        help: ArgumentHelp(Ledger.claimIdleMilliseconds.help)
    )
    var ledgerClaimIdleMs: Int?

    @Option(
        name: .customLong(Ledger.reconcileIntervalSeconds.flag),
        help: ArgumentHelp(Ledger.reconcileIntervalSeconds.help)
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
