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
