import HTTPTypes
import Hummingbird
import Instrumentation
import Logging
import NIOCore
import ServiceContextModule
import StampedeInventory
import StampedeTelemetry
import Tracing

/// What the event-loop deduct path shares across connections: the endpoint, the HTTP telemetry the router's
/// middleware would add, and the answer's bytes.
///
/// It answers exactly as the router does (same bodies, statuses, spans and metrics;
/// `DeductFastPathTests.answersEveryOutcomeExactlyAsTheRouterDoes` checks the answers) and exists only because
/// the router costs a Swift task and two thread hops per request, which on the hot route is most of a deduct's
/// CPU (BENCHMARKS.md).
struct DeductFastPath: Sendable {
    let endpoint: DeductEndpoint
    let store: any CallbackDeductStore
    let tracingEnabled: Bool
    let propagatesBaggage: Bool
    let routeMetrics: RouteMetrics
    let serverName: String?
    let logger: Logger

    /// Whether a request head is one this path answers; anything else goes to the router.
    static func handles(_ head: HTTPRequest) -> Bool {
        guard head.method == .post, let path = head.path else { return false }
        guard path.hasPrefix(DeductEndpoint.path) else { return false }
        let rest = path.utf8.dropFirst(DeductEndpoint.path.utf8.count)
        return rest.isEmpty || rest.first == UInt8(ascii: "?")
    }

    /// When a request's head arrived, on both clocks: its duration and its server span start there, as the
    /// router's middleware starts them before the body is read.
    struct Start: Sendable {
        var monotonicNanoseconds: Int64
        var wall: DefaultTracerClock.Instant
    }

    /// Called when a deduct's head arrives: the request counts as active from here.
    func start() -> Start {
        let start = Start(monotonicNanoseconds: InventoryClock.monotonicNanoseconds(), wall: DefaultTracerClock.now)
        routeMetrics.requestStarted()
        return start
    }

    /// A deduct whose connection went away before its body was complete: no longer active, never answered.
    func abandoned() { routeMetrics.requestAbandoned() }

    /// One request, collected: answers through `respond` exactly once, on `eventLoop` (the connection's).
    ///
    /// The store's callback hops to the connection's loop before any of the answer's work (span, metrics,
    /// JSON), so the journal writer's thread, which completes a whole group commit's deducts, only hands off.
    func answer(
        head: HTTPRequest,
        body: ByteBuffer,
        bodyTooLarge: Bool,
        started start: Start,
        on eventLoop: any EventLoop,
        respond: @escaping @Sendable (HTTPResponse.Status, ByteBuffer) -> Void
    ) {
        let started = start.monotonicNanoseconds
        let serverSpan = tracingEnabled ? startServerSpan(head, at: start.wall) : nil
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
                routeMetrics.answered(
                    status: status,
                    durationNanoseconds: InventoryClock.monotonicNanoseconds() - started
                )
                if let serverSpan, serverSpan.isRecording {
                    serverSpan.attributes["http.response.status_code"] = Int(status.code)
                    serverSpan.attributes["http.response.body.size"] = bytes.readableBytes
                }
            case .failure(let error):
                let apiError = self.apiError(error, context: context)
                status = apiError.status
                bytes = apiError.json.byteBuffer
                routeMetrics.failed(status: status)
                if let serverSpan {
                    // As the router's tracing middleware records a thrown error.
                    if serverSpan.isRecording { serverSpan.attributes["http.response.status_code"] = Int(status.code) }
                    if status.kind == .serverError { serverSpan.setStatus(SpanStatus(code: .error)) }
                    serverSpan.recordError(error)
                }
            }
            serverSpan?.end()
            respond(status, bytes)
        }
        ServiceContext.withValue(context) {
            let deduct: DeductRequest
            do {
                // The router's order: the content type before the body is read, then the body's size.
                if let problem = APIError.unsupportedMediaType(head.headerFields[.contentType]) { throw problem }
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
                        finish(endpoint.finish(result, of: deduct, span: span, started: started))
                    }
                    if eventLoop.inEventLoop { deliver() } else { eventLoop.execute(deliver) }
                }
            }
        }
    }

    /// The answer's header fields, as the router's application writes them.
    func headerFields(contentLength: Int, date: String, close: Bool) -> HTTPFields {
        var fields = HTTPFields()
        fields.reserveCapacity(5)
        fields[.contentType] = "application/json"
        fields[.contentLength] = String(contentLength)
        fields[.date] = date
        if let serverName { fields[.server] = serverName }
        if close { fields[.connection] = "close" }
        return fields
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
    private func baggageContext(_ head: HTTPRequest) -> ServiceContext? {
        guard propagatesBaggage, let header = head.headerFields[.baggage], let baggage = W3CBaggage(header: header)
        else { return nil }
        var context = ServiceContext.topLevel
        context.w3cBaggage = baggage
        return context
    }

    /// The server span the router's `TracingMiddleware` starts, with its attributes, named after the route.
    private func startServerSpan(_ head: HTTPRequest, at instant: DefaultTracerClock.Instant) -> any Span {
        var context = baggageContext(head) ?? .topLevel
        endpoint.tracer.extract(head.headerFields, into: &context, using: HTTPFieldsExtractor())
        let span = endpoint.tracer.startSpan(DeductEndpoint.path, context: context, ofKind: .server, at: instant)
        if span.isRecording {
            let path = head.path ?? ""
            let query = path.firstIndex(of: "?")
            span.attributes["http.request.method"] = head.method.rawValue
            span.attributes["url.path"] = query.map { String(path[..<$0]) } ?? path
            span.attributes["url.query"] = query.map { String(path[path.index(after: $0)...]) }
            span.attributes["user_agent.original"] = head.headerFields[.userAgent]
            span.attributes["http.request.body.size"] = head.headerFields[.contentLength].flatMap { Int($0) }
            span.attributes["http.route"] = DeductEndpoint.path
        }
        return span
    }
}

private struct HTTPFieldsExtractor: Extractor {
    func extract(key name: String, from fields: HTTPFields) -> String? {
        guard let name = HTTPField.Name(name) else { return nil }
        return fields[name]
    }
}
