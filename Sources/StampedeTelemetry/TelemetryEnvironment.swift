/// Validates the `OTEL_*` environment before swift-otel sees it.
///
/// swift-otel 1.6 calls `fatalError` on some values it parses but does not implement (the `baggage`, `b3`,
/// `jaeger` and `xray` propagators, the `jaeger_remote` and `xray` samplers, the `grpc` protocol in an HTTP-only
/// build). A setting must never crash the server, so each such value is replaced by a safe one, with a warning.
/// W3C `baggage` is carried by Stampede itself (see ``W3CBaggage``).
public struct TelemetryEnvironment: Sendable, Equatable {
    /// The environment to hand to swift-otel.
    public var sanitized: [String: String]
    /// One line per value that was changed or dropped, for the log.
    public var warnings: [String]
    /// Whether W3C baggage propagation was asked for (by default, or in `OTEL_PROPAGATORS`).
    public var baggageRequested: Bool
    /// Signals that have an OTLP endpoint; Stampede exports only those.
    public var tracesEndpointSet: Bool
    public var metricsEndpointSet: Bool
    public var logsEndpointSet: Bool

    static let samplers: Set<String> = [
        "always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off",
        "parentbased_traceidratio",
    ]
    static let protocols: Set<String> = ["http/protobuf", "http/json"]

    public init(_ environment: [String: String]) {
        var env = environment
        var warnings: [String] = []
        var baggage = true

        if let value = env["OTEL_PROPAGATORS"] {
            let names = value.split(separator: ",").map { $0.trimmingWhitespace().lowercased() }
            var kept: [String] = []
            baggage = false
            for name in names {
                switch name {
                case "tracecontext", "none": kept.append(name)
                case "baggage": baggage = true
                default: warnings.append("OTEL_PROPAGATORS: '\(name)' is not supported; ignored")
                }
            }
            if kept.contains("none") && kept.count > 1 { kept.removeAll { $0 == "none" } }
            env["OTEL_PROPAGATORS"] = kept.isEmpty ? (baggage ? "tracecontext" : "none") : kept.joined(separator: ",")
        }

        if let value = env["OTEL_TRACES_SAMPLER"] {
            let name = value.trimmingWhitespace().lowercased()
            if Self.samplers.contains(name) {
                env["OTEL_TRACES_SAMPLER"] = name
            } else {
                warnings.append("OTEL_TRACES_SAMPLER: '\(value)' is not supported; using parentbased_traceidratio")
                env["OTEL_TRACES_SAMPLER"] = nil
            }
        }
        if let value = env["OTEL_TRACES_SAMPLER_ARG"] {
            if let ratio = Double(value.trimmingWhitespace()), ratio >= 0, ratio <= 1 {
                env["OTEL_TRACES_SAMPLER_ARG"] = String(ratio)
            } else {
                warnings.append("OTEL_TRACES_SAMPLER_ARG: '\(value)' is not a ratio from 0 to 1; ignored")
                env["OTEL_TRACES_SAMPLER_ARG"] = nil
            }
        }

        for signal in ["", "TRACES_", "METRICS_", "LOGS_"] {
            let key = "OTEL_EXPORTER_OTLP_\(signal)PROTOCOL"
            guard let value = env[key] else { continue }
            let name = value.trimmingWhitespace().lowercased()
            if Self.protocols.contains(name) {
                env[key] = name
            } else {
                warnings.append(
                    "\(key): '\(value)' is not supported (use http/protobuf or http/json); using http/protobuf"
                )
                env[key] = "http/protobuf"
            }
            for file in ["CERTIFICATE", "CLIENT_KEY", "CLIENT_CERTIFICATE"] {
                let fileKey = "OTEL_EXPORTER_OTLP_\(signal)\(file)"
                if let path = env[fileKey], access(path, R_OK) != 0 {
                    warnings.append("\(fileKey): '\(path)' cannot be read; ignored")
                    env[fileKey] = nil
                }
            }
        }

        for (signal, allowed) in [
            ("TRACES", ["otlp", "none"]), ("METRICS", ["otlp", "none"]), ("LOGS", ["otlp", "none"]),
        ] {
            let key = "OTEL_\(signal)_EXPORTER"
            guard let value = env[key] else { continue }
            let name = value.trimmingWhitespace().lowercased()
            if allowed.contains(name) {
                env[key] = name
            } else {
                warnings.append("\(key): '\(value)' is not supported; using otlp")
                env[key] = "otlp"
            }
        }

        let disabled = env["OTEL_SDK_DISABLED"]?.trimmingWhitespace().lowercased() == "true"
        func endpointSet(_ signal: String) -> Bool {
            guard !disabled, env["OTEL_\(signal)_EXPORTER"] != "none" else { return false }
            let specific = env["OTEL_EXPORTER_OTLP_\(signal)_ENDPOINT"] ?? ""
            let shared = env["OTEL_EXPORTER_OTLP_ENDPOINT"] ?? ""
            return !specific.isEmpty || !shared.isEmpty
        }

        self.sanitized = env
        self.warnings = warnings
        self.baggageRequested = baggage
        self.tracesEndpointSet = endpointSet("TRACES")
        self.metricsEndpointSet = endpointSet("METRICS")
        self.logsEndpointSet = endpointSet("LOGS")
    }

    /// Writes the sanitized values into the process environment, which swift-otel's backends read.
    public func apply(over original: [String: String]) {
        for key in Set(original.keys).union(sanitized.keys) where key.hasPrefix("OTEL_") {
            switch sanitized[key] {
            case .some(let value) where value != original[key]: setenv(key, value, 1)
            case .none where original[key] != nil: unsetenv(key)
            default: break
            }
        }
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
