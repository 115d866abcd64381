import HTTPTypes
import Hummingbird
import NIOCore

/// An error answered as `{"success":false,"code":…,"message":…}` with an HTTP status; optionally names a field.
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var field: String?
    /// Header fields the answer carries besides the body's (`Allow` of a 405, `Retry-After` of a 503).
    public var headers: HTTPFields

    public init(
        _ status: HTTPResponse.Status,
        code: String,
        message: String,
        field: String? = nil,
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers
    }

    public static func invalidRequest(field: String?, _ message: String) -> APIError {
        APIError(.badRequest, code: "invalid_request", message: message, field: field)
    }

    /// A body that is not JSON; nil when `contentType` says it is.
    public static func unsupportedMediaType(_ contentType: String?) -> APIError? {
        let contentType = contentType ?? ""
        guard !contentType.lowercased().hasPrefix("application/json") else { return nil }
        return APIError(
            .unsupportedMediaType,
            code: "unsupported_media_type",
            message: "Content-Type must be application/json, got '\(contentType)'"
        )
    }

    public static func payloadTooLarge(bytesMax: Int) -> APIError {
        APIError(.contentTooLarge, code: "payload_too_large", message: "request body is larger than \(bytesMax) bytes")
    }

    /// What a client sees of an unexpected failure; the failure itself goes to the log.
    public static let `internal` = APIError(.internalServerError, code: "internal_error", message: "internal error")

    /// A known path asked with a method it does not serve.
    public static func methodNotAllowed(
        _ method: HTTPRequest.Method,
        path: String,
        allowed: [HTTPRequest.Method]
    )
        -> APIError
    {
        let allow = allowed.map(\.rawValue).joined(separator: ", ")
        return APIError(
            .methodNotAllowed,
            code: "method_not_allowed",
            message: "\(method) is not served at \(path); allowed: \(allow)",
            headers: [.allow: allow]
        )
    }

    /// The server holds as many requests as it may (``HTTPServerLimits/requestsInFlightMax``).
    public static let overloaded = APIError(
        .serviceUnavailable,
        code: "overloaded",
        message: "too many requests in progress; retry shortly"
    )

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = json.response(status: status)
        if !headers.isEmpty { response.headers.append(contentsOf: headers) }
        return response
    }

    /// The answer's body.
    public var json: JSONWriter {
        var json = JSONWriter()
        json.beginObject()
        json.field("success", false)
        json.field("code", code)
        json.field("message", message)
        if let field { json.field("field", field) }
        json.endObject()
        return json
    }
}
