import ArgumentParser
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import StampedeHTTP
import StampedeInventoryRedis
import StampedeLedger
import StampedeTelemetry
import Tracing

/// `stampede worker`: the ledger worker on its own, for Redis mode (the embedded journal is read in `serve`).
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Write the Redis ledger stream behind to PostgreSQL (run as many as you like).",
        discussion: """
            Workers share the stream through the consumer group "ledger". A worker restarted under the same \
            --worker-name resumes its unacknowledged entries; entries of a worker that is gone are taken over \
            after --ledger-claim-idle-ms. Serves /health/live, /health/ready and /metrics on --port.
            """
    )

    @Option(help: "Address of the health and metrics server. Env: STAMPEDE_HOST. Default: 127.0.0.1.")
    var host: String?

    @Option(help: "Port of the health and metrics server (0 picks one). Env: STAMPEDE_WORKER_PORT. Default: 8081.")
    var port: Int?

    @Option(help: "The Redis the instances sell from. Env: STAMPEDE_REDIS_URL. Required.")
    var redis: String?

    @Option(help: "Prefix of every Redis key. Env: STAMPEDE_REDIS_PREFIX. Default: stampede:.")
    var redisPrefix: String?

    @OptionGroup var redisConnection: RedisConnectionOptions

    @Option(help: "trace, debug, info, notice, warning, error or critical. Env: STAMPEDE_LOG_LEVEL. Default: info.")
    var logLevel: String?

    @OptionGroup var ledgerOptions: LedgerOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let settings: ServeConfiguration
        var ledger: LedgerSettings
        do {
            let workerPort = try ConfigurationError.integer(
                port,
                environment,
                "STAMPEDE_WORKER_PORT",
                "port",
                0...65535,
                default: 8081
            )
            settings = try ServeConfiguration(
                host: host,
                port: workerPort,
                dataDirectory: nil,
                durability: nil,
                logLevel: logLevel,
                redisURL: redis,
                redisConnections: redisConnection.redisConnections,
                redisTimeoutMilliseconds: redisConnection.redisTimeoutMs,
                redisKeyPrefix: redisPrefix,
                environment: environment
            )
            ledger = try ledgerOptions.settings(environment: environment)
        } catch {
            throw ValidationError(error.description)
        }
        guard settings.redisURL != nil else {
            throw ValidationError("worker needs --redis (or STAMPEDE_REDIS_URL)")
        }
        guard ledger.postgresURL != nil else {
            throw ValidationError("worker needs --postgres (or STAMPEDE_POSTGRES_URL)")
        }
        ledger.runsWorker = true
        let workerName = ledger.workerName
        var telemetryConfiguration = TelemetryConfiguration()
        telemetryConfiguration.logLevel = Logger.Level(rawValue: settings.logLevel) ?? .info
        telemetryConfiguration.serviceName = "stampede-worker"
        let telemetry = try Telemetry.bootstrap(configuration: telemetryConfiguration, environment: environment)
        let logger = Logger(label: "stampede.worker")
        let tracingEnabled = telemetry.environment.tracesEndpointSet

        let opened = try OpenedStore.open(
            settings: settings,
            ledger: ledger,
            tracingEnabled: tracingEnabled,
            logger: logger
        )
        guard let service = try opened.ledgerService(ledger: ledger, tracingEnabled: tracingEnabled, logger: logger)
        else { preconditionFailure("a store opened with --postgres and the worker on has a ledger service") }
        let readiness = Readiness()
        let app = buildWorkerApplication(
            prometheus: telemetry.prometheus,
            readiness: readiness,
            isReady: { opened.store.isReady && service.isMigrated },
            host: settings.host,
            port: settings.port,
            logger: logger,
            onServerRunning: { port in
                logger.info(
                    "worker ready",
                    metadata: [
                        "port": "\(port)", "consumer": "\(workerName)",
                        "store": "\(opened.description)",
                    ]
                )
            }
        )
        let services: [any Service] =
            telemetry.services + [
                opened.service, service, app, ReadinessService(readiness: readiness),
            ]
        try await ServiceRunner.run(services, logger: logger)
    }
}
