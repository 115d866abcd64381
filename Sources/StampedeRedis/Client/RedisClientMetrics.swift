import CoreMetrics
import Synchronization

/// Metrics of one Redis client: commands by result, their latency, and the state of the pool.
///
/// Prometheus names: `redis_client_commands{result}`, `redis_client_command_duration` (seconds),
/// `redis_pool_connections`, `redis_pool_connect_failures`, `redis_pool_commands_in_flight`.
final class RedisClientMetrics: Sendable {
    static let commands = "redis.client.commands"
    static let commandDuration = "redis.client.command.duration"
    static let connections = "redis.pool.connections"
    static let connectFailures = "redis.pool.connect.failures"
    static let inFlight = "redis.pool.commands.in_flight"

    private let results: [String: Counter]
    private let other: Counter
    private let duration: Timer
    private let connectionsGauge: Gauge
    private let connectFailureCounter: Counter
    private let inFlightGauge: Gauge
    private let inFlightCount = Atomic<Int>(0)

    init(factory: any MetricsFactory) {
        var results: [String: Counter] = [:]
        let codes: [RedisError.Code] = [
            .server, .timeout, .connectionClosed, .unavailable, .busy, .connectFailed, .protocolError, .shutdown,
        ]
        for name in ["ok"] + codes.map(\.description) {
            results[name] = Counter(label: Self.commands, dimensions: [("result", name)], factory: factory)
        }
        self.results = results
        self.other = Counter(label: Self.commands, dimensions: [("result", "other")], factory: factory)
        self.duration = Timer(label: Self.commandDuration, dimensions: [], factory: factory)
        self.connectionsGauge = Gauge(label: Self.connections, dimensions: [], factory: factory)
        self.connectFailureCounter = Counter(label: Self.connectFailures, dimensions: [], factory: factory)
        self.inFlightGauge = Gauge(label: Self.inFlight, dimensions: [], factory: factory)
    }

    func commandStarted() {
        let now = inFlightCount.wrappingAdd(1, ordering: .relaxed).newValue
        inFlightGauge.record(now)
    }

    func commandFinished(result: String, durationNanoseconds: Int64) {
        let now = inFlightCount.wrappingSubtract(1, ordering: .relaxed).newValue
        inFlightGauge.record(now)
        (results[result] ?? other).increment()
        duration.recordNanoseconds(durationNanoseconds)
    }

    func connectionsChanged(connected: Int) {
        connectionsGauge.record(connected)
    }

    func connectFailed() {
        connectFailureCounter.increment()
    }
}
