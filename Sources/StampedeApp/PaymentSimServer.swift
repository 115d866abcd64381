import Hummingbird
import Logging
import StampedeHTTPKit
import StampedePaymentSim
import StampedeTelemetry
import Tracing

/// The composition root of `stampede payment-sim`: the simulator's provider API, traced like the other services
/// (its server spans join the orders' traces through `traceparent`), with `/health/*` and `/metrics`.
public func buildPaymentSimulator(
    host: String,
    port: Int,
    faults: PaymentSimulator.Faults,
    seed: UInt64,
    logLevel: String,
    environment: [String: String]
) async throws -> BuiltProcess {
    var telemetryConfiguration = TelemetryConfiguration()
    telemetryConfiguration.logLevel = Logger.Level(rawValue: logLevel) ?? .info
    telemetryConfiguration.serviceName = "stampede-payment-sim"
    let telemetry = try Telemetry.bootstrap(configuration: telemetryConfiguration, environment: environment)
    let logger = Logger(label: "stampede.payment-sim")
    let simulator = PaymentSimulator(faults: faults, seed: seed)
    let readiness = Readiness()
    let router = Router(context: AppRequestContext.self)
    let routeMethods = RouteMethods()
    router.add(middleware: ErrorMiddleware(routeMethods: routeMethods))
    if telemetry.environment.tracesEndpointSet { router.add(middleware: TracingMiddleware()) }
    HealthController(dependencyReady: { true }, readiness: readiness, prometheus: telemetry.prometheus)
        .addRoutes(to: router)
    PaymentSimController(simulator: simulator).addRoutes(to: router)
    routeMethods.record(router)
    let app = Application(
        router: router,
        configuration: ApplicationConfiguration(
            address: .hostname(host, port: port),
            serverName: "stampede-payment-sim"
        ),
        onServerRunning: { channel in
            logger.info(
                "payment-sim ready",
                metadata: ["port": "\(channel.localAddress?.port ?? port)", "faults": "\(faults)"]
            )
        },
        logger: logger
    )
    return BuiltProcess(
        services: telemetry.services + [app, ReadinessService(readiness: readiness)],
        logger: logger
    )
}
