import ArgumentParser
import StampedeConfiguration
import StampedeHTTPKit

private typealias Limits = HTTPServerLimits.Settings

/// The HTTP server's limits, shared by `serve` and `worker` (``HTTPServerLimits``).
struct HTTPLimitOptions: ParsableArguments {
    @Option(name: .customLong(Limits.connectionsMax.flag), help: ArgumentHelp(Limits.connectionsMax.help))
    var connectionsMax: Int?

    @Option(name: .customLong(Limits.requestsInFlightMax.flag), help: ArgumentHelp(Limits.requestsInFlightMax.help))
    var requestsInFlightMax: Int?

    @Option(
        name: .customLong(Limits.idleTimeoutMilliseconds.flag),
        help: ArgumentHelp(Limits.idleTimeoutMilliseconds.help)
    )
    var idleTimeoutMs: Int?

    @Option(
        name: .customLong(Limits.readTimeoutMilliseconds.flag),
        help: ArgumentHelp(Limits.readTimeoutMilliseconds.help)
    )
    var readTimeoutMs: Int?

    func limits(environment: [String: String]) throws(ConfigurationError) -> HTTPServerLimits {
        try HTTPServerLimits(
            connectionsMax: connectionsMax,
            requestsInFlightMax: requestsInFlightMax,
            idleTimeoutMilliseconds: idleTimeoutMs,
            readTimeoutMilliseconds: readTimeoutMs,
            environment: environment
        )
    }
}
