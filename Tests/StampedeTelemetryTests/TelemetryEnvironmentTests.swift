import Testing

@testable import StampedeTelemetry

@Suite("OTEL_* validation: no setting may crash the server")
struct TelemetryEnvironmentTests {
    @Test func baggagePropagatorIsTakenOverByStampede() {
        let checked = TelemetryEnvironment(["OTEL_PROPAGATORS": "tracecontext, baggage"])
        #expect(checked.sanitized["OTEL_PROPAGATORS"] == "tracecontext")
        #expect(checked.baggageRequested)
        #expect(checked.warnings.isEmpty)
        let only = TelemetryEnvironment(["OTEL_PROPAGATORS": "baggage"])
        #expect(only.sanitized["OTEL_PROPAGATORS"] == "tracecontext")
    }

    @Test func unsupportedPropagatorsAreDroppedWithAWarning() {
        let checked = TelemetryEnvironment(["OTEL_PROPAGATORS": "b3,jaeger,xray"])
        #expect(checked.sanitized["OTEL_PROPAGATORS"] == "none")
        #expect(checked.warnings.count == 3)
        #expect(!checked.baggageRequested)
    }

    @Test func samplersThatWouldAbortAreReplaced() {
        for name in ["jaeger_remote", "parentbased_jaeger_remote", "xray", "nonsense"] {
            let checked = TelemetryEnvironment(["OTEL_TRACES_SAMPLER": name])
            #expect(checked.sanitized["OTEL_TRACES_SAMPLER"] == nil)
            #expect(checked.warnings.count == 1)
        }
        #expect(
            TelemetryEnvironment(["OTEL_TRACES_SAMPLER": " Always_On "]).sanitized["OTEL_TRACES_SAMPLER"] == "always_on"
        )
    }

    @Test func samplerRatioMustBeBetweenZeroAndOne() {
        #expect(
            TelemetryEnvironment(["OTEL_TRACES_SAMPLER_ARG": "0.25"]).sanitized["OTEL_TRACES_SAMPLER_ARG"] == "0.25"
        )
        for bad in ["2", "-0.1", "abc", ""] {
            #expect(TelemetryEnvironment(["OTEL_TRACES_SAMPLER_ARG": bad]).sanitized["OTEL_TRACES_SAMPLER_ARG"] == nil)
        }
    }

    @Test func grpcProtocolFallsBackToHTTPProtobuf() {
        let checked = TelemetryEnvironment([
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json",
        ])
        #expect(checked.sanitized["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf")
        #expect(checked.sanitized["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] == "http/json")
        #expect(checked.warnings.count == 1)
    }

    @Test func unreadableCertificatesAndUnknownExportersAreDropped() {
        let checked = TelemetryEnvironment([
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_CERTIFICATE": "/nonexistent/ca.pem",
            "OTEL_TRACES_EXPORTER": "zipkin",
        ])
        #expect(checked.sanitized["OTEL_EXPORTER_OTLP_CERTIFICATE"] == nil)
        #expect(checked.sanitized["OTEL_TRACES_EXPORTER"] == "otlp")
        #expect(checked.warnings.count == 2)
    }

    @Test func exportIsOnlyEnabledWhereAnEndpointIsSet() {
        let none = TelemetryEnvironment([:])
        #expect(!none.tracesEndpointSet && !none.metricsEndpointSet && !none.logsEndpointSet)
        let shared = TelemetryEnvironment(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318"])
        #expect(shared.tracesEndpointSet && shared.metricsEndpointSet && shared.logsEndpointSet)
        let tracesOnly = TelemetryEnvironment(["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://x/v1/traces"])
        #expect(tracesOnly.tracesEndpointSet && !tracesOnly.metricsEndpointSet)
        let disabled = TelemetryEnvironment(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_SDK_DISABLED": "true"])
        #expect(!disabled.tracesEndpointSet)
        let noneExporter = TelemetryEnvironment([
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_METRICS_EXPORTER": "none",
        ])
        #expect(!noneExporter.metricsEndpointSet && noneExporter.tracesEndpointSet)
    }
}

@Suite("W3C baggage")
struct W3CBaggageTests {
    @Test func parsesMembersAndRendersThemBack() throws {
        let baggage = try #require(W3CBaggage(header: "userId=alice, tenant = acme;ttl=10,flag=%20x"))
        #expect(baggage["userId"] == "alice")
        #expect(baggage["tenant"] == "acme")
        #expect(baggage.headerValue == "userId=alice,tenant=acme,flag=%20x")
    }

    @Test func rejectsMalformedOrOversizedHeaders() {
        #expect(W3CBaggage(header: "novalue") == nil)
        #expect(W3CBaggage(header: "bad key=1") == nil)
        #expect(W3CBaggage(header: String(repeating: "a=1,", count: 181)) == nil)
        #expect(W3CBaggage(header: "k=" + String(repeating: "v", count: 8200)) == nil)
    }
}
