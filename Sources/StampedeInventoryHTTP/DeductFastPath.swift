import CoreMetrics
import HTTPTypes
import Hummingbird
import Instrumentation
import Logging
import NIOCore
import NIOHTTP1
import ServiceContextModule
import StampedeFastPath
import StampedeHTTPKit
import StampedeInventory
import StampedeTelemetry
import Tracing

/// What the event-loop deduct path shares across connections: the endpoint, the HTTP telemetry the router's
/// middleware would add, and the answer's bytes.
///
/// It answers exactly as the router does (same bodies, statuses, header fields, spans and metrics;
/// `DeductFastPathTests.answersEveryOutcomeExactlyAsTheRouterDoes` checks the answers) and exists only because
/// the router costs a Swift task and two thread hops per request, which on the hot route is most of a deduct's
/// CPU (BENCHMARKS.md). It reads and writes SwiftNIO's HTTP/1 types, as the codec gives them: converting each
/// deduct's head and answer to and from HTTP types was a tenth of the server's CPU.
///
/// It takes its requests' slots from the server's ``ServerLoad``, as the router's ``RequestLimitMiddleware`` does.
///
/// A class: each request's closures capture it with one retain, not one for each of its fields.
public final class DeductFastPath: FastPathEndpoint {
    let endpoint: DeductEndpoint
    let store: any CallbackDeductStore
    let tracingEnabled: Bool
    let propagatesBaggage: Bool
    let routeMetrics: RouteMetrics
    let load: ServerLoad?
    let serverName: String?
    let logger: Logger

    init(
        endpoint: DeductEndpoint,
        store: any CallbackDeductStore,
        tracingEnabled: Bool,
        propagatesBaggage: Bool,
        routeMetrics: RouteMetrics,
        load: ServerLoad?,
        serverName: String?,
        logger: Logger
    ) {
        self.endpoint = endpoint
        self.store = store
        self.tracingEnabled = tracingEnabled
        self.propagatesBaggage = propagatesBaggage
        self.routeMetrics = routeMetrics
        self.load = load
        self.serverName = serverName
        self.logger = logger
    }

    /// The event-loop endpoint of `POST /api/v1/inventory/deduct`, when the store can answer without a task
    /// (``CallbackDeductStore``: both stores); nil otherwise.
    public convenience init?(
        store: any InventoryStore,
        metrics: InventoryMetrics,
        tracer: any Tracer,
        tracingEnabled: Bool,
        propagatesBaggage: Bool,
        httpMetricsFactory: any MetricsFactory,
        load: ServerLoad?,
        serverName: String?,
        logger: Logger
    ) {
        guard let store = store as? any CallbackDeductStore else { return nil }
        self.init(
            endpoint: DeductEndpoint(store: store, metrics: metrics, tracer: tracer),
            store: store,
            tracingEnabled: tracingEnabled,
            propagatesBaggage: propagatesBaggage,
            routeMetrics: RouteMetrics(route: DeductEndpoint.path, method: .post, factory: httpMetricsFactory),
            load: load,
            serverName: serverName,
            logger: logger
        )
    }

    public var bodyBytesMax: Int { AppRequestContext.requestBodyBytesMax }

    /// Whether a request head is one this path answers; anything else goes to the router.
    public func handles(_ head: HTTPRequestHead) -> Bool {
        guard head.method == .POST, head.uri.hasPrefix(DeductEndpoint.path) else { return false }
        let rest = head.uri.utf8.dropFirst(DeductEndpoint.path.utf8.count)
        return rest.isEmpty || rest.first == UInt8(ascii: "?")
    }

    /// Called when a deduct's head arrives: the request counts as active from here.
    public func start(_ head: HTTPRequestHead) -> FastPathStart {
        let start = FastPathStart(
            monotonicNanoseconds: InventoryClock.monotonicNanoseconds(),
            wallNanosecondsSinceEpoch: DefaultTracerClock.now.nanosecondsSinceEpoch,
            admitted: load?.admitRequest() ?? true
        )
        routeMetrics.requestStarted()
        return start
    }

    /// A deduct whose connection went away before its body was complete: no longer active, never answered.
    public func abandoned(_ start: FastPathStart) {
        routeMetrics.requestAbandoned()
        if start.admitted { load?.requestFinished() }
    }

    /// One request, collected: answers through `respond` exactly once, on `eventLoop` (the connection's).
    ///
    /// The store's callback hops to the connection's loop before any of the answer's work (span, metrics,
    /// JSON), so the journal writer's thread, which completes a whole group commit's deducts, only hands off.
    public func answer(
        head: HTTPRequestHead,
        body: ByteBuffer,
        bodyTooLarge: Bool,
        started start: FastPathStart,
        on eventLoop: any EventLoop,
        respond: @escaping @Sendable (HTTPResponse.Status, ByteBuffer) -> Void
    ) {
        let started = start.monotonicNanoseconds
        let load = start.admitted ? self.load : nil
        let serverSpan =
            tracingEnabled
            ? startServerSpan(
                head,
                at: DefaultTracerClock.Instant(nanosecondsSinceEpoch: start.wallNanosecondsSinceEpoch)
            ) : nil
        // Each request starts from a fresh context, as each routed one does in its own task: an answer given
        // inline can start the next pipelined deduct inside this one's `withValue`.
        let context = serverSpan?.context ?? baggageContext(head) ?? .topLevel
        let finish: @Sendable (Result<DeductOutcome, any Error>) -> Void = { result in
            let status: HTTPResponse.Status
            let bytes: ByteBuffer
            switch result {
            case .success(let outcome):
                status = DeductResponses.status(of: outcome.code)
                bytes = DeductResponses.json(outcome).byteBuffer
                self.routeMetrics.answered(
                    status: status,
                    durationNanoseconds: InventoryClock.monotonicNanoseconds() - started
                )
                if let serverSpan {
                    serverSpan.setAttributes(
                        ServerSpanAttributes(
                            head: head,
                            route: DeductEndpoint.path,
                            status: Int(status.code),
                            responseBodySize: bytes.readableBytes
                        )
                    )
                }
            case .failure(let error):
                let apiError = self.apiError(error, context: context)
                status = apiError.status
                bytes = apiError.json.byteBuffer
                self.routeMetrics.failed(status: status)
                if let serverSpan {
                    // As the router's tracing middleware records a thrown error.
                    serverSpan.setAttributes(
                        ServerSpanAttributes(
                            head: head,
                            route: DeductEndpoint.path,
                            status: Int(status.code),
                            responseBodySize: nil
                        )
                    )
                    if status.kind == .serverError { serverSpan.setStatus(SpanStatus(code: .error)) }
                    serverSpan.recordError(error)
                }
            }
            serverSpan?.end()
            load?.requestFinished()
            respond(status, bytes)
        }
        guard start.admitted else {
            // As the router's limit refuses it: before the route, so no deduct is counted.
            finish(.failure(APIError.overloaded))
            return
        }
        ServiceContext.withValue(context) {
            let deduct: DeductRequest
            do {
                // The router's order: the content type before the body is read, then the body's size.
                if let problem = APIError.unsupportedMediaType(head.headers.joined("Content-Type")) { throw problem }
                if bodyTooLarge { throw APIError.payloadTooLarge(bytesMax: AppRequestContext.requestBodyBytesMax) }
                deduct = try endpoint.decode(body)
            } catch {
                endpoint.recordInvalid(started: started)
                finish(.failure(error))
                return
            }
            let span = endpoint.startSpan(deduct)
            ServiceContext.withValue(span.context) {
                store.deduct(deduct) { result in
                    let deliver: @Sendable () -> Void = {
                        finish(self.endpoint.finish(result, of: deduct, span: span, started: started))
                    }
                    if eventLoop.inEventLoop { deliver() } else { eventLoop.execute(deliver) }
                }
            }
        }
    }

    /// The answer's head, as the router's application writes it and the HTTP types codec turns it into HTTP/1.
    public func responseHead(
        _ status: HTTPResponse.Status,
        contentLength: Int,
        date: String,
        close: Bool
    ) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(5)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(contentLength))
        headers.add(name: "Date", value: date)
        if let serverName { headers.add(name: "Server", value: serverName) }
        if close { headers.add(name: "Connection", value: "close") }
        return HTTPResponseHead(
            version: .http1_1,
            status: HTTPResponseStatus(statusCode: status.code, reasonPhrase: status.reasonPhrase),
            headers: headers
        )
    }

    /// The answer to a failure; one no layer maps is logged, in the request's `context` (the store may answer on
    /// another thread), so the line carries the request's trace as the router's does, and an id of its own.
    private func apiError(_ error: any Error, context: ServiceContext) -> APIError {
        if let error = error as? APIError { return error }
        ServiceContext.withValue(context) {
            logger.error(
                "request failed",
                metadata: ["error": "\(String(reflecting: error))", "hb.request.id": .stringConvertible(RequestID())]
            )
        }
        return APIError.internal
    }

    /// The service context with the request's W3C baggage, as `BaggageMiddleware` builds it; nil without one.
    private func baggageContext(_ head: HTTPRequestHead) -> ServiceContext? {
        guard propagatesBaggage, let header = head.headers.joined("baggage"), let baggage = W3CBaggage(header: header)
        else { return nil }
        var context = ServiceContext.topLevel
        context.w3cBaggage = baggage
        return context
    }

    /// The server span the router's `TracingMiddleware` starts, named after the route; its attributes are set
    /// when the answer is known (``ServerSpanAttributes``), in one assignment.
    private func startServerSpan(_ head: HTTPRequestHead, at instant: DefaultTracerClock.Instant) -> any Span {
        var context = baggageContext(head) ?? .topLevel
        endpoint.tracer.extract(head.headers, into: &context, using: HTTPHeadersExtractor())
        return endpoint.tracer.startSpan(DeductEndpoint.path, context: context, ofKind: .server, at: instant)
    }
}

private struct HTTPHeadersExtractor: Extractor {
    func extract(key name: String, from headers: HTTPHeaders) -> String? { headers.joined(name) }
}
