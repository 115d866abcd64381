import Hummingbird
import Logging
import Metrics
import ServiceLifecycle
import StampedeConfiguration
import StampedeHTTPKit
import StampedeInventory
import StampedeLedger
import StampedeOrders
import StampedeTelemetry
import Tracing

/// Everything `stampede serve` is configured with.
public struct AppConfiguration: Sendable, Equatable {
    public var serve: ServeConfiguration
    public var ledger: LedgerSettings
    public var limits: HTTPServerLimits

    public init(serve: ServeConfiguration, ledger: LedgerSettings, limits: HTTPServerLimits) {
        self.serve = serve
        self.ledger = ledger
        self.limits = limits
    }

    /// Refuses settings that cannot work together.
    public func validate() throws(ConfigurationError) {
        if ledger.postgresURL != nil && !ledger.runsWorker && serve.redisURL == nil {
            // Only this process reads the embedded journal: nothing would ever write its sales to the ledger.
            throw ConfigurationError(
                "ledger-worker",
                "--no-ledger-worker needs --redis: the embedded journal is written behind by serve"
            )
        }
    }
}

/// A built process: its services, in start order (shutdown runs in reverse), and its logger.
public struct BuiltProcess: Sendable {
    public var services: [any Service]
    public var logger: Logger

    /// Runs the services until SIGTERM or SIGINT, then shuts them down in reverse order.
    public func run() async throws {
        try await ServiceRunner.run(services, logger: logger)
    }
}

/// A store that cannot be opened; the process exits with a failure.
public struct StoreOpenFailed: Error, CustomStringConvertible {
    public var underlying: any Error
    public var description: String { "cannot open the inventory store: \(underlying)" }
}

/// The composition root of `stampede serve`: bootstraps telemetry, opens the store (embedded or Redis) and the
/// ledger, fills the HTTP layer's dependencies and returns the one service group's services.
///
/// Bootstraps the process-wide logging, metrics and tracing systems: call once per process.
public func buildApplication(
    configuration: AppConfiguration,
    environment: [String: String]
) async throws -> BuiltProcess {
    try configuration.validate()
    let settings = configuration.serve
    let ledger = configuration.ledger
    var telemetryConfiguration = TelemetryConfiguration()
    telemetryConfiguration.logLevel = Logger.Level(rawValue: settings.logLevel) ?? .info
    telemetryConfiguration.histogramBuckets = InventoryMetrics.histogramBuckets.merging(
        LedgerMetrics.histogramBuckets,
        uniquingKeysWith: { first, _ in first }
    ).merging(OrderMetrics.histogramBuckets, uniquingKeysWith: { first, _ in first })
    let telemetry = try Telemetry.bootstrap(configuration: telemetryConfiguration, environment: environment)
    let logger = Logger(label: "stampede")

    let tracingEnabled = telemetry.environment.tracesEndpointSet
    let opened: OpenedStore
    do {
        opened = try OpenedStore.open(
            settings: settings,
            ledger: ledger,
            tracingEnabled: tracingEnabled,
            logger: logger
        )
    } catch {
        logger.critical("cannot open the inventory store", metadata: ["error": "\(String(reflecting: error))"])
        throw StoreOpenFailed(underlying: error)
    }
    var dependencies = AppDependencies(
        store: opened.store,
        metrics: InventoryMetrics(factory: MetricsSystem.factory),
        tracer: InstrumentationSystem.tracer,
        prometheus: telemetry.prometheus,
        tracingEnabled: tracingEnabled,
        propagatesBaggage: telemetry.environment.baggageRequested
    )
    dependencies.deductFastPath = settings.deductFastPath
    let orders: OrdersAssembly
    do {
        orders = try OrdersAssembly.open(
            dataDirectory: settings.dataDirectory,
            durability: settings.durability,
            inventory: opened.store,
            tracer: tracingEnabled ? InstrumentationSystem.tracer : nil,
            metricsFactory: MetricsSystem.factory,
            configuration: OrderService.Configuration(
                orderTimeout: .milliseconds(settings.orderTimeoutMilliseconds),
                holdMilliseconds: Int64(settings.orderHoldMilliseconds),
                inFlightMax: settings.ordersInFlightMax
            ),
            paymentURL: settings.paymentURL,
            logger: logger
        )
    } catch {
        logger.critical("cannot open the order store", metadata: ["error": "\(String(reflecting: error))"])
        throw StoreOpenFailed(underlying: error)
    }
    if settings.paymentURL == nil {
        logger.notice("payments go to the built-in payment simulator: no money moves (set --payment-url)")
    }
    dependencies.orders = orders.service
    dependencies.load = ServerLoad(limits: configuration.limits, factory: MetricsSystem.factory)
    do {
        for item in try await opened.store.items() {
            dependencies.metrics.recordStock(sku: item.sku, stock: item.stock)
        }
    } catch {
        logger.warning("stock gauges start empty: the store cannot list items yet", metadata: ["error": "\(error)"])
    }
    let app = buildApplication(dependencies, host: settings.host, port: settings.port, logger: logger) { port in
        logger.info("ready", metadata: ["port": "\(port)", "store": "\(opened.description)"])
    }
    // Shutdown runs in reverse: readiness flips, HTTP drains, the store flushes or disconnects, telemetry last.
    // The ledger stops before the store closes: the worker's last acknowledgement is a journal record.
    let ledgerServices: [any Service] =
        try opened.ledgerService(ledger: ledger, tracingEnabled: tracingEnabled, logger: logger).map { [$0.pool, $0] }
        ?? []
    // Every instance sweeps expired holds: in Redis mode the script expires each hold once.
    let sweeper = HoldSweeper(store: opened.store, metrics: dependencies.metrics, logger: logger)
    let services: [any Service] =
        telemetry.services + [opened.service] + ledgerServices
        + [
            HoldSweeperService(sweeper: sweeper), orders.lifecycle, app,
            ReadinessService(readiness: dependencies.readiness),
        ]
    return BuiltProcess(services: services, logger: logger)
}

/// The composition root of `stampede worker`: the ledger worker with its health and metrics server.
public func buildWorker(
    serve settings: ServeConfiguration,
    ledger: LedgerSettings,
    limits: HTTPServerLimits,
    environment: [String: String]
) async throws -> BuiltProcess {
    var ledger = ledger
    ledger.runsWorker = true
    let workerName = ledger.workerName
    var telemetryConfiguration = TelemetryConfiguration()
    telemetryConfiguration.logLevel = Logger.Level(rawValue: settings.logLevel) ?? .info
    telemetryConfiguration.serviceName = "stampede-worker"
    telemetryConfiguration.histogramBuckets = LedgerMetrics.histogramBuckets
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
        load: ServerLoad(limits: limits, factory: MetricsSystem.factory),
        host: settings.host,
        port: settings.port,
        logger: logger,
        onServerRunning: { port in
            logger.info(
                "worker ready",
                metadata: ["port": "\(port)", "consumer": "\(workerName)", "store": "\(opened.description)"]
            )
        }
    )
    let services: [any Service] =
        telemetry.services + [opened.service, service.pool, service, app, ReadinessService(readiness: readiness)]
    return BuiltProcess(services: services, logger: logger)
}
