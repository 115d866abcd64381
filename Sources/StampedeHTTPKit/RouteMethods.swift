import HTTPTypes
import Hummingbird
import Synchronization

/// The methods each route of a router serves, so that a known path asked with another method is answered `405`
/// with `Allow` (RFC 9110 §15.5.6) rather than `404`.
///
/// Filled once the routes are added (``record(_:)``); read only when no route matched.
public final class RouteMethods: Sendable {
    private let routes = Mutex<[(path: RouterPath, methods: [HTTPRequest.Method])]>([])

    public init() {}

    /// Notes every route of `router`.
    public func record<Context>(_ router: Router<Context>) {
        var byPath: [String: (path: RouterPath, methods: [HTTPRequest.Method])] = [:]
        for route in router.routes {
            byPath[route.path.description, default: (route.path, [])].methods.append(route.method)
        }
        let table = byPath.values.sorted { $0.path.description < $1.path.description }
        routes.withLock { $0 = table }
    }

    /// The methods served at `path`, in a stable order; empty when no route has that path.
    public func allowed(at path: String) -> [HTTPRequest.Method] {
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        return routes.withLock { routes in
            var methods: [HTTPRequest.Method] = []
            for route in routes where Self.matches(route.path, components) { methods += route.methods }
            return methods.sorted { $0.rawValue < $1.rawValue }
        }
    }

    private static func matches(_ path: RouterPath, _ components: [Substring]) -> Bool {
        var index = 0
        for element in path.components {
            if element == .recursiveWildcard { return true }
            guard index < components.count, element ~= components[index] else { return false }
            index += 1
        }
        return index == components.count
    }
}
