import HTTPTypes
import Hummingbird
import NIOCore

/// An error answered as `{"success":false,"code":…,"message":…}` with an HTTP status; optionally names a field.
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var field: String?

    public init(_ status: HTTPResponse.Status, code: String, message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    public static func invalidRequest(field: String?, _ message: String) -> APIError {
        APIError(.badRequest, code: "invalid_request", message: message, field: field)
    }

    /// A body that is not JSON; nil when `contentType` says it is.
    static func unsupportedMediaType(_ contentType: String?) -> APIError? {
        let contentType = contentType ?? ""
        guard !contentType.lowercased().hasPrefix("application/json") else { return nil }
        return APIError(
            .unsupportedMediaType,
            code: "unsupported_media_type",
            message: "Content-Type must be application/json, got '\(contentType)'"
        )
    }

    static func payloadTooLarge(bytesMax: Int) -> APIError {
        APIError(.contentTooLarge, code: "payload_too_large", message: "request body is larger than \(bytesMax) bytes")
    }

    /// What a client sees of an unexpected failure; the failure itself goes to the log.
    static let `internal` = APIError(.internalServerError, code: "internal_error", message: "internal error")

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        json.response(status: status)
    }

    /// The answer's body.
    var json: JSONWriter {
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
