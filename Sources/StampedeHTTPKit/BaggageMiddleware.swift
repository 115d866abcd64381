import HTTPTypes
import Hummingbird
import ServiceContextModule
import StampedeTelemetry

/// Carries the incoming W3C `baggage` header in the request's service context (swift-otel 1.6 cannot).
public struct BaggageMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.baggage], let baggage = W3CBaggage(header: header) else {
            return try await next(request, context)
        }
        var serviceContext = ServiceContext.current ?? .topLevel
        serviceContext.w3cBaggage = baggage
        return try await ServiceContext.withValue(serviceContext) {
            try await next(request, context)
        }
    }
}

extension HTTPField.Name {
    static let baggage = HTTPField.Name("baggage")!
}
