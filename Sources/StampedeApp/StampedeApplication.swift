import CoreMetrics
import Hummingbird
import HummingbirdCore
import Logging
import Prometheus
import ServiceLifecycle
import StampedeFastPath
import StampedeHTTPKit
import StampedeInventory
import StampedeInventoryHTTP
import StampedeOrders
import StampedeOrdersHTTP
import StampedeTelemetry
import Tracing

/// Everything the HTTP layer needs, injected so tests can build the same app with in-memory pieces.
public struct AppDependencies: Sendable {
    public var store: any InventoryStore
    public var metrics: InventoryMetrics
    public var tracer: any Tracer
    public var prometheus: PrometheusCollectorRegistry?
    public var readiness: Readiness
    /// Whether spans go anywhere. Off, the HTTP tracing middleware is left out (it costs even with a no-op tracer).
    public var tracingEnabled: Bool
    /// Whether the incoming W3C `baggage` header is kept for downstream calls (`OTEL_PROPAGATORS`).
    public var propagatesBaggage: Bool
    /// Whether `POST /api/v1/inventory/deduct` is answered on the connection's event loop, without the router's
    /// task, when the store can (``CallbackDeductStore``: both stores). Same answers, spans and metrics.
    public var deductFastPath: Bool = true
    /// Where the fast path's HTTP metrics go; nil: the global factory when the application is built, as the
    /// router's metrics middleware uses.
    public var httpMetricsFactory: (any MetricsFactory)?
    /// The server's connection and request limits, shared by the router and the fast path; nil: none (tests that
    /// do not exercise them).
    public var load: ServerLoad?
    /// The orders system; nil: no `/api/v1/orders` routes.
    public var orders: OrderService?

    public init(
        store: any InventoryStore,
        metrics: InventoryMetrics,
        tracer: any Tracer,
        prometheus: PrometheusCollectorRegistry?,
        readiness: Readiness = Readiness(),
        tracingEnabled: Bool = true,
        propagatesBaggage: Bool = true
    ) {
        self.store = store
        self.metrics = metrics
        self.tracer = tracer
        self.prometheus = prometheus
        self.readiness = readiness
        self.tracingEnabled = tracingEnabled
        self.propagatesBaggage = propagatesBaggage
    }
}

/// Builds the router: JSON errors first, then HTTP metrics and tracing, the log of unexpected errors, the routes.
public func buildRouter(_ dependencies: AppDependencies) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    let routeMethods = RouteMethods()
    router.add(middleware: ErrorMiddleware(routeMethods: routeMethods))
    if dependencies.propagatesBaggage { router.add(middleware: BaggageMiddleware()) }
    router.add(middleware: MetricsMiddleware())
    if dependencies.tracingEnabled { router.add(middleware: TracingMiddleware()) }
    router.add(middleware: UnexpectedErrorLogMiddleware())
    let store = dependencies.store
    HealthController(
        dependencyReady: { store.isReady },
        readiness: dependencies.readiness,
        prometheus: dependencies.prometheus
    ).addRoutes(to: router)
    // The API's requests count against the server's requests in flight (as the fast path's do); health probes and
    // the scrape do not, so an overloaded instance is not also reported dead.
    let inventory = router.group("api/v1/inventory")
    if let load = dependencies.load { inventory.add(middleware: RequestLimitMiddleware(load: load)) }
    InventoryController(store: dependencies.store, metrics: dependencies.metrics, tracer: dependencies.tracer)
        .addRoutes(to: inventory)
    if let orders = dependencies.orders {
        let group = router.group("api/v1/orders")
        if let load = dependencies.load { group.add(middleware: RequestLimitMiddleware(load: load)) }
        OrdersController(service: orders, tracer: dependencies.tracer).addRoutes(to: group)
    }
    routeMethods.record(router)
    return router
}

/// Builds the application bound to `host:port`. `onServerRunning` receives the bound port (useful with port 0).
public func buildApplication(
    _ dependencies: AppDependencies,
    host: String,
    port: Int,
    logger: Logger,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    Application(
        router: buildRouter(dependencies),
        server: .stampede(
            fastPath: deductFastPath(dependencies, serverName: serverName, logger: logger),
            load: dependencies.load
        ),
        configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: serverName),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
        logger: logger
    )
}

private let serverName = "stampede"

/// The event-loop deduct path, when the dependencies allow it.
func deductFastPath(_ dependencies: AppDependencies, serverName: String?, logger: Logger) -> DeductFastPath? {
    guard dependencies.deductFastPath else { return nil }
    return DeductFastPath(
        store: dependencies.store,
        metrics: dependencies.metrics,
        tracer: dependencies.tracer,
        tracingEnabled: dependencies.tracingEnabled,
        propagatesBaggage: dependencies.propagatesBaggage,
        httpMetricsFactory: dependencies.httpMetricsFactory ?? MetricsSystem.factory,
        load: dependencies.load,
        serverName: serverName,
        logger: logger
    )
}

extension HTTPServerBuilder {
    /// HTTP/1.1, with the deduct fast path when there is one, within the server's limits when there are some.
    static func stampede(fastPath: DeductFastPath?, load: ServerLoad?) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            let http1 = HTTP1Channel(responder: responder)
            switch (fastPath, load) {
            case (nil, nil): return http1
            case (let fastPath?, nil): return FastPathChannel(base: http1, endpoint: fastPath)
            case (nil, let load?): return LimitedChannel(base: http1, load: load)
            case (let fastPath?, let load?):
                return LimitedChannel(base: FastPathChannel(base: http1, endpoint: fastPath), load: load)
            }
        }
    }
}

/// The ledger worker's own small server: `/health/live`, `/health/ready` (following `isReady`) and `/metrics`.
public func buildWorkerApplication(
    prometheus: PrometheusCollectorRegistry?,
    readiness: Readiness,
    isReady: @escaping @Sendable () -> Bool,
    load: ServerLoad?,
    host: String,
    port: Int,
    logger: Logger,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = Router(context: AppRequestContext.self)
    let routeMethods = RouteMethods()
    router.add(middleware: ErrorMiddleware(routeMethods: routeMethods))
    router.add(middleware: UnexpectedErrorLogMiddleware())
    HealthController(dependencyReady: isReady, readiness: readiness, prometheus: prometheus).addRoutes(to: router)
    routeMethods.record(router)
    return Application(
        router: router,
        server: .stampede(fastPath: nil, load: load),
        configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "stampede-worker"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
        logger: logger
    )
}

/// Flips readiness to false when a graceful shutdown begins, before the HTTP server stops.
public struct ReadinessService: Service {
    let readiness: Readiness

    public init(readiness: Readiness) { self.readiness = readiness }

    public func run() async throws {
        try? await gracefulShutdown()
        readiness.beginDraining()
    }
}

/// Closes the embedded store (flush, fsync, unlock) after the HTTP server has drained.
public struct EmbeddedStoreService: Service {
    let store: EmbeddedInventoryStore

    public init(store: EmbeddedInventoryStore) { self.store = store }

    public func run() async throws {
        try? await gracefulShutdown()
        await store.close()
    }
}
