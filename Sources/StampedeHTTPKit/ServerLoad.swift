import CoreMetrics
import Synchronization

/// What a server holds right now against its ``HTTPServerLimits``: open connections and requests in flight, with
/// the metrics of both and of what was refused or timed out. One per server, shared by every connection.
///
/// Metrics: `stampede.http.connections` and `stampede.http.requests.in_flight` (gauges),
/// `stampede.http.connections.refused`, `stampede.http.requests.refused` and
/// `stampede.http.connections.timed_out{reason=idle|header|body}` (counters).
public final class ServerLoad: Sendable {
    public static let connectionsLabel = "stampede.http.connections"
    public static let connectionsRefusedLabel = "stampede.http.connections.refused"
    public static let requestsInFlightLabel = "stampede.http.requests.in_flight"
    public static let requestsRefusedLabel = "stampede.http.requests.refused"
    public static let timedOutLabel = "stampede.http.connections.timed_out"

    public let limits: HTTPServerLimits
    private let connections = Atomic<Int>(0)
    private let requests = Atomic<Int>(0)
    private let connectionsGauge: Gauge
    private let connectionsRefused: Counter
    private let requestsGauge: Gauge
    private let requestsRefused: Counter
    private let idleTimeouts: Counter
    private let headerTimeouts: Counter
    private let bodyTimeouts: Counter

    public init(limits: HTTPServerLimits, factory: any MetricsFactory) {
        self.limits = limits
        connectionsGauge = Gauge(label: Self.connectionsLabel, dimensions: [], factory: factory)
        connectionsRefused = Counter(label: Self.connectionsRefusedLabel, dimensions: [], factory: factory)
        requestsGauge = Gauge(label: Self.requestsInFlightLabel, dimensions: [], factory: factory)
        requestsRefused = Counter(label: Self.requestsRefusedLabel, dimensions: [], factory: factory)
        idleTimeouts = Counter(label: Self.timedOutLabel, dimensions: [("reason", "idle")], factory: factory)
        headerTimeouts = Counter(label: Self.timedOutLabel, dimensions: [("reason", "header")], factory: factory)
        bodyTimeouts = Counter(label: Self.timedOutLabel, dimensions: [("reason", "body")], factory: factory)
        connectionsGauge.record(0)
        requestsGauge.record(0)
    }

    /// Open connections now.
    public var openConnections: Int { connections.load(ordering: .relaxed) }
    /// Requests being answered now.
    public var requestsInFlight: Int { requests.load(ordering: .relaxed) }

    /// Takes a connection slot; false (and counted as refused) when all are taken.
    public func admitConnection() -> Bool {
        let (admitted, open) = Self.take(connections, max: limits.connectionsMax)
        if admitted { connectionsGauge.record(open) } else { connectionsRefused.increment() }
        return admitted
    }

    public func connectionClosed() {
        let open = connections.subtract(1, ordering: .relaxed).newValue
        assert(open >= 0, "a connection closed more often than it opened")
        connectionsGauge.record(open)
    }

    /// Takes a request slot; false (and counted as refused) when all are taken. Every admitted request must be
    /// given back once with ``requestFinished()``.
    public func admitRequest() -> Bool {
        let (admitted, inFlight) = Self.take(requests, max: limits.requestsInFlightMax)
        if admitted { requestsGauge.record(inFlight) } else { requestsRefused.increment() }
        return admitted
    }

    public func requestFinished() {
        let inFlight = requests.subtract(1, ordering: .relaxed).newValue
        assert(inFlight >= 0, "a request finished more often than it was admitted")
        requestsGauge.record(inFlight)
    }

    /// Why a connection was closed: idle, or its request's head or body too slow.
    enum TimeoutReason { case idle, header, body }

    func timedOut(_ reason: TimeoutReason) {
        switch reason {
        case .idle: idleTimeouts.increment()
        case .header: headerTimeouts.increment()
        case .body: bodyTimeouts.increment()
        }
    }

    /// Adds one to `counter` unless it is at `max`; the count after.
    private static func take(_ counter: borrowing Atomic<Int>, max: Int) -> (Bool, Int) {
        var current = counter.load(ordering: .relaxed)
        while current < max {
            let (exchanged, original) = counter.compareExchange(
                expected: current,
                desired: current + 1,
                ordering: .relaxed
            )
            if exchanged { return (true, current + 1) }
            current = original
        }
        return (false, current)
    }
}
