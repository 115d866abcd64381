import Hummingbird

/// Keeps routed requests within ``HTTPServerLimits/requestsInFlightMax`` (the fast path takes its slots from the
/// same ``ServerLoad``): past it a request is answered `503 overloaded` without reaching its route.
///
/// Added to each system's API group, inside the metrics and tracing middleware, so a refusal is counted and traced
/// as the fast path's is; health probes and `/metrics` stay outside it.
public struct RequestLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let load: ServerLoad

    public init(load: ServerLoad) { self.load = load }

    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard load.admitRequest() else { throw APIError.overloaded }
        defer { load.requestFinished() }
        return try await next(request, context)
    }
}
