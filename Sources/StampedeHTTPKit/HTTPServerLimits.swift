import StampedeConfiguration

/// The limits every Stampede HTTP server keeps, whatever its clients do.
///
/// Each has a flag (`stampede serve --help`), an environment variable, a default, a metric and an answer when it
/// is reached (docs/operations.md, "Connection limits").
public struct HTTPServerLimits: Sendable, Equatable {
    /// `STAMPEDE_CONNECTIONS_MAX`, default 10,000: open client connections. Past it a new connection is accepted,
    /// answered `503 too_many_connections` with `Connection: close` at once, and closed; the others carry on.
    public var connectionsMax = 10_000
    /// `STAMPEDE_REQUESTS_IN_FLIGHT_MAX`, default 4,096: requests being answered at once, on every route and the
    /// fast path. Past it a request is answered `503 overloaded` with `Retry-After: 1`, having changed nothing.
    public var requestsInFlightMax = 4096
    /// `STAMPEDE_IDLE_TIMEOUT_MS`, default 60,000: a keep-alive connection with no request for this long is closed.
    public var idleTimeoutMilliseconds = 60_000
    /// `STAMPEDE_READ_TIMEOUT_MS`, default 10,000: a request, its head and then its body, must arrive in full within
    /// this long of its first byte (of the connection's opening, for its first request); a slower client is closed.
    public var readTimeoutMilliseconds = 10_000

    public init() {}

    /// Reads each limit from its environment variable; a value that is not a number in range is an error naming it.
    public init(environment: [String: String]) throws(ConfigurationError) {
        try self.init(
            connectionsMax: nil,
            requestsInFlightMax: nil,
            idleTimeoutMilliseconds: nil,
            readTimeoutMilliseconds: nil,
            environment: environment
        )
    }

    /// Each limit, declared once: flag, variable, default and help (``Setting``).
    public enum Settings {
        public static let connectionsMax = Setting.integer(
            "connections-max",
            "STAMPEDE_CONNECTIONS_MAX",
            default: HTTPServerLimits().connectionsMax,
            1...1_000_000,
            "Open client connections; past it a new one is answered 503 too_many_connections and closed."
        )
        public static let requestsInFlightMax = Setting.integer(
            "requests-in-flight-max",
            "STAMPEDE_REQUESTS_IN_FLIGHT_MAX",
            default: HTTPServerLimits().requestsInFlightMax,
            1...1_000_000,
            "Requests answered at once; past it a request is answered 503 overloaded."
        )
        public static let idleTimeoutMilliseconds = Setting.integer(
            "idle-timeout-ms",
            "STAMPEDE_IDLE_TIMEOUT_MS",
            default: HTTPServerLimits().idleTimeoutMilliseconds,
            1...86_400_000,
            "Close a keep-alive connection idle this long (ms)."
        )
        public static let readTimeoutMilliseconds = Setting.integer(
            "read-timeout-ms",
            "STAMPEDE_READ_TIMEOUT_MS",
            default: HTTPServerLimits().readTimeoutMilliseconds,
            1...3_600_000,
            "Close a connection whose request (head and body) is not complete this long (ms) after its first byte."
        )
    }

    /// Resolves each limit: the flag if given, else its variable, else the default.
    public init(
        connectionsMax: Int?,
        requestsInFlightMax: Int?,
        idleTimeoutMilliseconds: Int?,
        readTimeoutMilliseconds: Int?,
        environment: [String: String]
    ) throws(ConfigurationError) {
        self.connectionsMax = try Settings.connectionsMax.value(connectionsMax, environment)
        self.requestsInFlightMax = try Settings.requestsInFlightMax.value(requestsInFlightMax, environment)
        self.idleTimeoutMilliseconds = try Settings.idleTimeoutMilliseconds.value(idleTimeoutMilliseconds, environment)
        self.readTimeoutMilliseconds = try Settings.readTimeoutMilliseconds.value(readTimeoutMilliseconds, environment)
    }
}
