import CoreMetrics
import Instrumentation
import Logging
import Metrics
import OTel
import Prometheus
import ServiceLifecycle
import Tracing

/// Telemetry settings that are not `OTEL_*` variables.
public struct TelemetryConfiguration: Sendable {
    /// `service.name`, unless `OTEL_SERVICE_NAME` says otherwise.
    public var serviceName: String = "stampede"
    /// The head sampling ratio used when `OTEL_TRACES_SAMPLER` is unset (seed 001: 1%). Failed or slow
    /// traces are kept whatever the ratio (see ``TailKeepingTracer``).
    public var defaultSampleRatio: Double = 0.01
    public var logLevel: Logger.Level = .info
    /// Bucket bounds of the value histograms, by metric label (each domain's `…Metrics` type declares its own).
    /// Histograms not named here get the backends' defaults.
    public var histogramBuckets: [String: [Double]] = [:]

    public init() {}
}

/// The bootstrapped telemetry of a process: Prometheus registry, OTLP services, and what was warned about.
public struct Telemetry: Sendable {
    /// Renders `GET /metrics`.
    public let prometheus: PrometheusCollectorRegistry
    /// OTLP exporters to run (and flush on shutdown) in the service group; empty when no endpoint is set.
    public let services: [any Service]
    public let environment: TelemetryEnvironment

    /// Bootstraps logging, metrics and tracing for the whole process. Call once, from `main`.
    ///
    /// Metrics always go to Prometheus, and also to OTLP when an endpoint is set. Traces and logs are exported
    /// only when an endpoint is set. The environment is validated first: no `OTEL_*` value can crash the server.
    public static func bootstrap(
        configuration: TelemetryConfiguration,
        environment: [String: String]
    ) throws -> Telemetry {
        var checked = TelemetryEnvironment(environment)
        let tailSampling = TailSamplingConfiguration(
            environment: checked.sanitized,
            defaultRatio: configuration.defaultSampleRatio
        )
        if checked.tracesEndpointSet {
            // Stampede makes the sampling decision (TailKeepingTracer); swift-otel records what it is given.
            checked.sanitized["OTEL_TRACES_SAMPLER"] =
                tailSampling.followsRemoteParent ? "parentbased_always_on" : "always_on"
            checked.sanitized["OTEL_TRACES_SAMPLER_ARG"] = nil
        }
        checked.apply(over: environment)

        var otel = OTel.Configuration.default
        otel.serviceName = configuration.serviceName
        otel.diagnosticLogLevel = .warning
        otel.traces.sampler = .parentBasedAlwaysOn
        otel.metrics.exportInterval = .seconds(10)
        for (label, buckets) in configuration.histogramBuckets { otel.metrics.valueHistogramBuckets[label] = buckets }
        var services: [any Service] = []

        let stderrFactory: @Sendable (String) -> any LogHandler = { label in
            var handler = StreamLogHandler.standardError(
                label: label,
                metadataProvider: OTel.makeLoggingMetadataProvider()
            )
            handler.logLevel = configuration.logLevel
            return handler
        }
        if checked.logsEndpointSet {
            let backend = try OTel.makeLoggingBackend(configuration: otel)
            services.append(backend.service)
            LoggingSystem.bootstrap { label in
                MultiplexLogHandler([stderrFactory(label), backend.factory(label)])
            }
        } else {
            LoggingSystem.bootstrap(stderrFactory)
        }
        let logger = Logger(label: "stampede.telemetry")
        for warning in checked.warnings { logger.warning("telemetry setting ignored: \(warning)") }

        let registry = PrometheusCollectorRegistry()
        var prometheus = PrometheusMetricsFactory(registry: registry)
        for (label, buckets) in configuration.histogramBuckets { prometheus.valueHistogramBuckets[label] = buckets }
        if checked.metricsEndpointSet {
            let backend = try OTel.makeMetricsBackend(configuration: otel)
            services.append(backend.service)
            MetricsSystem.bootstrap(MultiplexMetricsHandler(factories: [prometheus, backend.factory]))
        } else {
            MetricsSystem.bootstrap(prometheus)
        }

        if checked.tracesEndpointSet {
            let backend = try OTel.makeTracingBackend(configuration: otel)
            services.append(backend.service)
            InstrumentationSystem.bootstrap(
                TailKeepingTracer(
                    inner: backend.factory,
                    configuration: tailSampling,
                    metricsFactory: MetricsSystem.factory
                )
            )
        }
        logger.info(
            "telemetry ready",
            metadata: [
                "otlp.traces": "\(checked.tracesEndpointSet)", "otlp.metrics": "\(checked.metricsEndpointSet)",
                "otlp.logs": "\(checked.logsEndpointSet)",
            ]
        )
        return Telemetry(prometheus: registry, services: services, environment: checked)
    }
}
