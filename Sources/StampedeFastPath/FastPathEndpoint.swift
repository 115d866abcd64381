import HTTPTypes
import NIOCore
import NIOHTTP1

/// A route answered on the connection's event loop by ``FastPathHandler``, right behind SwiftNIO's HTTP/1
/// decoder, without the router's task. The handler knows HTTP/1 framing and ordering; the endpoint knows its route.
///
/// An endpoint must answer exactly as the router would (same bodies, statuses, header fields, spans and metrics),
/// so clients, dashboards and traces cannot tell the two paths apart.
public protocol FastPathEndpoint: AnyObject, Sendable {
    /// What the endpoint notes when a request's head arrives (its clocks, an admission).
    associatedtype Start: Sendable

    /// The largest body collected; past it ``answer(head:body:bodyTooLarge:started:on:respond:)`` is told so.
    var bodyBytesMax: Int { get }

    /// Whether a request head is one this endpoint answers; anything else goes to the router.
    func handles(_ head: HTTPRequestHead) -> Bool

    /// Called when a handled request's head arrives, on the connection's event loop.
    func start(_ head: HTTPRequestHead) -> Start

    /// A request whose connection went away before its body was complete: never answered.
    func abandoned(_ start: Start)

    /// One request, collected: answers through `respond` exactly once, on `eventLoop` (the connection's).
    func answer(
        head: HTTPRequestHead,
        body: ByteBuffer,
        bodyTooLarge: Bool,
        started: Start,
        on eventLoop: any EventLoop,
        respond: @escaping @Sendable (HTTPResponse.Status, ByteBuffer) -> Void
    )

    /// The answer's head, as the router's application would write it.
    func responseHead(_ status: HTTPResponse.Status, contentLength: Int, date: String, close: Bool) -> HTTPResponseHead
}

extension HTTPRequestHead {
    /// Whether the request asks to switch protocols (a WebSocket upgrade): its connection leaves HTTP/1 handlers.
    public var asksForUpgrade: Bool {
        headers.joined("Upgrade") != nil && headers.joined("Connection")?.lowercased().contains("upgrade") == true
    }
}
