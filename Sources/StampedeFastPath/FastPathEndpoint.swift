import HTTPTypes
import NIOCore
import NIOHTTP1

/// A route answered on the connection's event loop by ``FastPathHandler``, right behind SwiftNIO's HTTP/1
/// decoder, without the router's task. The handler knows HTTP/1 framing and ordering; the endpoint knows its route.
///
/// An endpoint must answer exactly as the router would (same bodies, statuses, header fields, spans and metrics),
/// so clients, dashboards and traces cannot tell the two paths apart.
///
/// The handler holds its endpoint as an existential, not as a generic parameter: a generic handler in this module,
/// used from another, runs unspecialized and looks up its state's type metadata on every event (BENCHMARKS.md).
public protocol FastPathEndpoint: AnyObject, Sendable {
    /// The largest body collected; past it ``answer(head:body:bodyTooLarge:started:on:respond:)`` is told so.
    var bodyBytesMax: Int { get }

    /// Whether a request head is one this endpoint answers; anything else goes to the router.
    func handles(_ head: HTTPRequestHead) -> Bool

    /// Called when a handled request's head arrives, on the connection's event loop.
    func start(_ head: HTTPRequestHead) -> FastPathStart

    /// A request whose connection went away before its body was complete: never answered.
    func abandoned(_ start: FastPathStart)

    /// One request, collected: answers through `respond` exactly once, on `eventLoop` (the connection's).
    func answer(
        head: HTTPRequestHead,
        body: ByteBuffer,
        bodyTooLarge: Bool,
        started: FastPathStart,
        on eventLoop: any EventLoop,
        respond: @escaping @Sendable (HTTPResponse.Status, ByteBuffer) -> Void
    )

    /// The answer's head, as the router's application would write it.
    func responseHead(_ status: HTTPResponse.Status, contentLength: Int, date: String, close: Bool) -> HTTPResponseHead
}

/// What an endpoint notes when a request's head arrives: when, on both clocks (its duration and its server span
/// start there, as the router's middleware starts them before the body is read), and whether it holds a slot of the
/// server's requests in flight.
public struct FastPathStart: Sendable {
    public var monotonicNanoseconds: Int64
    public var wallNanosecondsSinceEpoch: UInt64
    public var admitted: Bool

    public init(monotonicNanoseconds: Int64, wallNanosecondsSinceEpoch: UInt64, admitted: Bool) {
        self.monotonicNanoseconds = monotonicNanoseconds
        self.wallNanosecondsSinceEpoch = wallNanosecondsSinceEpoch
        self.admitted = admitted
    }
}

extension HTTPRequestHead {
    /// Whether the request asks to switch protocols (a WebSocket upgrade): its connection leaves HTTP/1 handlers.
    public var asksForUpgrade: Bool {
        // A WebSocket handshake is a GET (RFC 6455 §4.1): other requests skip the header scan.
        method == .GET && headers.joined("Upgrade") != nil
            && headers.joined("Connection")?.lowercased().contains("upgrade") == true
    }
}

/// Told of each request's head and end and of each answer's end on one connection, in order, on its event loop, by
/// the handler that sees them first (``FastPathHandler``, for both of its paths).
public protocol HTTPExchangeObserver: AnyObject {
    /// A request's head arrived; called before the request is handed on or answered.
    func requestHeadArrived(_ head: HTTPRequestHead)
    /// A request's end arrived; called before it is handed on or answered.
    func requestEnded()
    /// An answer's end was written.
    func answerEnded()
}
