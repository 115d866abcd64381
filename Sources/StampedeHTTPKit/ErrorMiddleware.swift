import Hummingbird
import Logging
import NIOCore

/// Turns every error into a JSON answer, so no client ever gets an empty body or a dropped connection.
///
/// Registered first, so it also sees what routing and the body limit throw. An error it answers with 500 was
/// logged by ``UnexpectedErrorLogMiddleware``, registered last, where the request's trace is still current.
public struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The routes' methods, so a known path asked with another method answers 405 rather than 404.
    let routeMethods: RouteMethods?

    public init(routeMethods: RouteMethods? = nil) { self.routeMethods = routeMethods }

    /// Whether `error` has no answer of its own: a bug, or a failure no layer mapped. It is answered with 500.
    static func isUnexpected(_ error: any Error) -> Bool {
        !(error is APIError || error is NIOTooManyBytesError || error is any HTTPResponseError)
    }

    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch is NIOTooManyBytesError {
            return try APIError.payloadTooLarge(bytesMax: context.maxUploadSize).response(
                from: request,
                context: context
            )
        } catch let error as HTTPError {
            if error.status == .notFound, let routeMethods {
                let allowed = routeMethods.allowed(at: request.uri.path)
                if !allowed.isEmpty, !allowed.contains(request.method) {
                    return try APIError.methodNotAllowed(request.method, path: request.uri.path, allowed: allowed)
                        .response(from: request, context: context)
                }
            }
            let code = error.status == .notFound ? "not_found" : "http_error"
            let message =
                error.body
                ?? (error.status == .notFound
                    ? "no route for \(request.method) \(request.uri.path)" : error.status.reasonPhrase)
            return try APIError(error.status, code: code, message: message).response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            return try APIError(error.status, code: "http_error", message: error.status.reasonPhrase)
                .response(from: request, context: context)
        } catch {
            assert(Self.isUnexpected(error), "every answered error is caught above")
            return try APIError.internal.response(from: request, context: context)
        }
    }
}

/// Logs an error ``ErrorMiddleware`` will answer with 500, then throws it on unchanged (so the tracing and metrics
/// middlewares still record it). Registered last, inside tracing, so the log line carries the request's trace.
public struct UnexpectedErrorLogMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            if ErrorMiddleware<Context>.isUnexpected(error) {
                context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            throw error
        }
    }
}
