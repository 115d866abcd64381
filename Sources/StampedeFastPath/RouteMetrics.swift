import CoreMetrics
import HTTPTypes
import Synchronization

/// The HTTP metrics Hummingbird's `MetricsMiddleware` records, with the same names and dimensions, for the one
/// route the fast path answers outside the router: dashboards and alerts see both paths as one.
public final class RouteMetrics: Sendable {
    private struct StatusMetrics: Sendable {
        let requests: Counter
        let duration: Timer
        let errors: Counter
    }

    private let route: String
    private let method: HTTPRequest.Method
    private let factory: any MetricsFactory
    private let activeRequests: Meter
    private let byStatus = Mutex<[Int: StatusMetrics]>([:])

    public init(route: String, method: HTTPRequest.Method, factory: any MetricsFactory) {
        self.route = route
        self.method = method
        self.factory = factory
        self.activeRequests = Meter(
            label: "http.server.active_requests",
            dimensions: [("http.request.method", method.rawValue)],
            factory: factory
        )
    }

    public func requestStarted() { activeRequests.increment() }

    /// An answer written by the route: counted and timed.
    public func answered(status: HTTPResponse.Status, durationNanoseconds: Int64) {
        let metrics = self.metrics(status.code)
        metrics.requests.increment()
        metrics.duration.recordNanoseconds(durationNanoseconds)
        activeRequests.decrement()
    }

    /// A request that ended without an answer (its connection closed mid-body).
    public func requestAbandoned() { activeRequests.decrement() }

    /// An error answer (the router's middleware sees these thrown): counted as a request and as an error, not timed.
    public func failed(status: HTTPResponse.Status) {
        let metrics = self.metrics(status.code)
        metrics.requests.increment()
        metrics.errors.increment()
        activeRequests.decrement()
    }

    private func metrics(_ code: Int) -> StatusMetrics {
        byStatus.withLock { cache in
            if let metrics = cache[code] { return metrics }
            let dimensions = [
                ("http.route", route), ("http.request.method", method.rawValue),
                ("http.response.status_code", "\(code)"),
            ]
            let metrics = StatusMetrics(
                requests: Counter(label: "hb.requests", dimensions: dimensions, factory: factory),
                duration: Timer(
                    label: "http.server.request.duration",
                    dimensions: dimensions,
                    preferredDisplayUnit: .seconds,
                    factory: factory
                ),
                errors: Counter(
                    label: "hb.request.errors",
                    dimensions: [
                        ("http.route", route), ("http.request.method", method.rawValue), ("error.type", "\(code)"),
                    ],
                    factory: factory
                )
            )
            cache[code] = metrics
            return metrics
        }
    }
}
