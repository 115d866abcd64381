import ArgumentParser
import StampedeConfiguration
import StampedeHTTPKit

/// The HTTP server's limits, shared by `serve` and `worker` (``HTTPServerLimits``).
struct HTTPLimitOptions: ParsableArguments {
    @Option(
        help: """
            Open client connections; past it a new one is answered 503 too_many_connections and closed. \
            Env: STAMPEDE_CONNECTIONS_MAX. Default: 10000.
            """
    )
    var connectionsMax: Int?

    @Option(
        help: """
            Requests answered at once; past it a request is answered 503 overloaded. \
            Env: STAMPEDE_REQUESTS_IN_FLIGHT_MAX. Default: 4096.
            """
    )
    var requestsInFlightMax: Int?

    @Option(
        help: "Close a keep-alive connection idle this long (ms). Env: STAMPEDE_IDLE_TIMEOUT_MS. Default: 60000."
    )
    var idleTimeoutMs: Int?

    @Option(
        help: """
            Close a connection whose request (head and body) is not complete this long (ms) after its first byte. \
            Env: STAMPEDE_READ_TIMEOUT_MS. Default: 10000.
            """
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
