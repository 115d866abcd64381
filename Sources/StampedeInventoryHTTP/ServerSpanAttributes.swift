import NIOHTTP1
import StampedeFastPath
import StampedeTelemetry
import Tracing

/// The attributes the router's `TracingMiddleware` gives a server span, and the answer's, for a request answered
/// on the fast path; built only if the span is exported.
struct ServerSpanAttributes: DeferredSpanAttributes {
    let head: HTTPRequestHead
    let route: String
    let status: Int
    /// The answer's body size; nil for a thrown error, as the router records it.
    let responseBodySize: Int?

    func spanAttributes() -> SpanAttributes {
        var attributes = SpanAttributes()
        attributes.reserveCapacity(8)
        let uri = head.uri
        let query = uri.firstIndex(of: "?")
        attributes["http.request.method"] = head.method.rawValue
        attributes["url.path"] = query.map { String(uri[..<$0]) } ?? uri
        attributes["url.query"] = query.map { String(uri[uri.index(after: $0)...]) }
        attributes["user_agent.original"] = head.headers.joined("User-Agent")
        attributes["http.request.body.size"] = head.headers.joined("Content-Length").flatMap { Int($0) }
        attributes["http.route"] = route
        attributes["http.response.status_code"] = status
        attributes["http.response.body.size"] = responseBodySize
        return attributes
    }

    /// The head is the request's own and lives as long as the request; what the trace adds is the attributes
    /// built from it, estimated with room for a user agent.
    var estimatedBytes: Int {
        Self.estimate(attributes: 8, stringBytes: head.uri.utf8.count + Self.userAgentAllowance)
    }

    static let userAgentAllowance = 128
}
