import ArgumentParser
import Foundation
import StampedeApp
import StampedeConfiguration
import StampedeHTTPKit

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

    /// The worker's own port setting: it runs beside `serve`, so its default and variable differ.
    static let port = Setting.integer(
        "port",
        "STAMPEDE_WORKER_PORT",
        default: 8081,
        0...65535,
        "Port of the health and metrics server (0 picks one)."
    )

    @Option(name: .customLong(Self.port.flag), help: ArgumentHelp(Self.port.help))
    var port: Int?

    @Option(help: "The Redis the instances sell from. Env: STAMPEDE_REDIS_URL. Required.")
    var redis: String?

    @Option(
        name: .customLong(ServeConfiguration.Settings.redisKeyPrefix.flag),
        help: ArgumentHelp(ServeConfiguration.Settings.redisKeyPrefix.help)
    )
    var redisPrefix: String?

    @OptionGroup var redisConnection: RedisConnectionOptions

    @Option(
        name: .customLong(ServeConfiguration.Settings.logLevel.flag),
        help: ArgumentHelp(ServeConfiguration.Settings.logLevel.help)
    )
    var logLevel: String?

    @OptionGroup var ledgerOptions: LedgerOptions

    @OptionGroup var limitOptions: HTTPLimitOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let settings: ServeConfiguration
        let ledger: LedgerSettings
        let limits: HTTPServerLimits
        do {
            let workerPort = try Self.port.value(port, environment)
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
            limits = try limitOptions.limits(environment: environment)
        } catch {
            throw ValidationError(error.description)
        }
        guard settings.redisURL != nil else {
            throw ValidationError("worker needs --redis (or STAMPEDE_REDIS_URL)")
        }
        guard ledger.postgresURL != nil else {
            throw ValidationError("worker needs --postgres (or STAMPEDE_POSTGRES_URL)")
        }
        let process = try await buildWorker(
            serve: settings,
            ledger: ledger,
            limits: limits,
            environment: environment
        )
        try await process.run()
    }
}
