import Hummingbird
import Prometheus
import Synchronization

/// Liveness, readiness and the Prometheus scrape endpoint.
public struct HealthController: Sendable {
    /// Whether what the process depends on can take work (the store, or the worker's queue).
    let dependencyReady: @Sendable () -> Bool
    let readiness: Readiness
    let prometheus: PrometheusCollectorRegistry?

    public init(
        dependencyReady: @escaping @Sendable () -> Bool,
        readiness: Readiness,
        prometheus: PrometheusCollectorRegistry?
    ) {
        self.dependencyReady = dependencyReady
        self.readiness = readiness
        self.prometheus = prometheus
    }

    public func addRoutes(to router: Router<AppRequestContext>) {
        router.get("health/live") { _, _ in
            var json = JSONWriter()
            json.beginObject()
            json.field("status", "ok")
            json.endObject()
            return json.response(status: .ok)
        }
        router.get("health/ready") { _, _ in
            let storeReady = dependencyReady()
            let ready = readiness.isAcceptingTraffic && storeReady
            var json = JSONWriter()
            json.beginObject()
            json.field("status", ready ? "ready" : "not_ready")
            json.field("store_ready", storeReady)
            json.field("draining", !readiness.isAcceptingTraffic)
            json.endObject()
            return json.response(status: ready ? .ok : .serviceUnavailable)
        }
        if let prometheus {
            router.get("metrics") { _, _ in
                var bytes: [UInt8] = []
                bytes.reserveCapacity(16 * 1024)
                prometheus.emit(into: &bytes)
                return Response(
                    status: .ok,
                    headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
                )
            }
        }
    }
}

/// Whether the process takes traffic: false from the moment a graceful shutdown begins.
public final class Readiness: Sendable {
    private let draining = Atomic<Bool>(false)

    public init() {}

    public var isAcceptingTraffic: Bool { !draining.load(ordering: .relaxed) }

    public func beginDraining() { draining.store(true, ordering: .relaxed) }
}
