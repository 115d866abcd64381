import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InMemoryTracing
import Logging
import MetricsTestKit
import NIOCore
import ServiceLifecycle
import StampedeApp
import StampedeHTTPKit
import StampedeInventory
import StampedeTelemetry
import StampedeTesting
import Synchronization
import Testing
import Tracing

#if canImport(Glibc)
import Glibc
#endif

/// A live server on an embedded store, with or without the event-loop deduct path.
struct FastPathApp: Sendable {
    let app: TestApp
    let fastPath: Bool
    let httpMetrics = TestMetrics()

    /// A deduct of this order id fails with an error no layer maps (see ``OrderFailingStore``).
    let failingOrder: String?
    let logger: Logger

    init(fastPath: Bool, durability: Durability = .sync, failingOrder: String? = nil, logger: Logger? = nil) throws {
        app = try TestApp(durability: durability)
        self.fastPath = fastPath
        self.failingOrder = failingOrder
        var quiet = Logger(label: "test")
        quiet.logLevel = .warning
        self.logger = logger ?? quiet
    }

    var application: some ApplicationProtocol { application() }

    func application(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let store: any InventoryStore = failingOrder.map { OrderFailingStore(base: app.store, order: $0) } ?? app.store
        var dependencies = AppDependencies(
            store: store,
            metrics: InventoryMetrics(factory: app.metrics),
            tracer: app.tracer,
            prometheus: nil,
            readiness: app.readiness
        )
        dependencies.deductFastPath = fastPath
        dependencies.httpMetricsFactory = httpMetrics
        return buildApplication(
            dependencies,
            host: "127.0.0.1",
            port: 0,
            logger: logger,
            onServerRunning: onServerRunning
        )
    }

    /// Runs `body` against the live server; the item HOT holds `stock` units, at most 2 per user.
    static func run(
        fastPath: Bool,
        stock: Int = 10,
        durability: Durability = .sync,
        failingOrder: String? = nil,
        logger: Logger? = nil,
        _ body: @escaping @Sendable (FastPathApp, any TestClientProtocol) async throws -> Void
    ) async throws {
        let server = try FastPathApp(
            fastPath: fastPath,
            durability: durability,
            failingOrder: failingOrder,
            logger: logger
        )
        do {
            try await server.application.test(.live) { client in
                let (status, _) = try await client.putItem(
                    "HOT",
                    #"{"stock":\#(stock),"limit_per_user":2,"rate_window_ms":0}"#
                )
                #expect(status == .created)
                try await body(server, client)
            }
        } catch {
            await server.app.close()
            throw error
        }
        await server.app.close()
    }

    /// Waits (on the calling thread, a client's) until the server counts a deduct active, i.e. has its head.
    func waitForDeductHead() {
        for _ in 0..<500 {
            let active = try? httpMetrics.expectMeter("http.server.active_requests", [("http.request.method", "POST")])
            if active?.lastValue == 1 { return }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    /// Deducts answered by the fast path, by HTTP status (the router's middleware records in the global factory).
    func fastPathAnswers(_ status: Int) -> Int64 {
        httpMetrics.counters.filter {
            $0.label == "hb.requests"
                && $0.dimensions.contains { $0 == ("http.response.status_code", "\(status)") }
                && $0.dimensions.contains { $0 == ("http.route", "/api/v1/inventory/deduct") }
        }.map(\.totalValue).reduce(0, +)
    }
}

/// The embedded store, except that a deduct of `order` fails with an error no layer maps to an answer: what a bug
/// looks like to the HTTP layer.
struct OrderFailingStore: CallbackDeductStore {
    struct Unexpected: Error {}

    let base: EmbeddedInventoryStore
    let order: String

    var limits: InventoryLimits { base.limits }
    var isReady: Bool { base.isReady }

    func putItem(sku: String, config: ItemConfig) async throws -> PutItemOutcome {
        try await base.putItem(sku: sku, config: config)
    }

    func item(sku: String) async throws -> ItemSnapshot? { try await base.item(sku: sku) }

    func deduct(_ request: DeductRequest) async throws -> DeductOutcome {
        if request.orderID == order { throw Unexpected() }
        return try await base.deduct(request)
    }

    func deduct(_ request: DeductRequest, completion: @escaping @Sendable (Result<DeductOutcome, any Error>) -> Void) {
        // Later and from elsewhere, as Redis answers: none of the request's context is current there.
        if request.orderID == order { return Thread.detachNewThread { completion(.failure(Unexpected())) } }
        base.deduct(request, completion: completion)
    }

    func deductBatch(_ requests: [DeductRequest]) async throws -> [DeductOutcome] {
        try await base.deductBatch(requests)
    }

    func release(orderID: String, recordingIfUnknown: Bool) async throws -> ReleaseOutcome {
        try await base.release(orderID: orderID, recordingIfUnknown: recordingIfUnknown)
    }

    func confirm(orderID: String) async throws -> ConfirmOutcome { try await base.confirm(orderID: orderID) }

    func expireHolds(max: Int) async throws -> [ExpiredHold] { try await base.expireHolds(max: max) }

    func log(orderID: String) async throws -> OrderRecord? { try await base.log(orderID: orderID) }

    func items() async throws -> [ItemSnapshot] { try await base.items() }
}

@Suite("Deducts answered on the event loop")
struct DeductFastPathTests {
    /// Every kind of deduct answer, in an order that reaches each outcome on an item of 2 units, 2 per user.
    static let cases: [(name: String, contentType: String, body: String)] = [
        ("success", "application/json", #"{"sku":"HOT","user_id":"u1","order_id":"o1","amount":1}"#),
        ("replay", "application/json", #"{"sku":"HOT","user_id":"u1","order_id":"o1","amount":1}"#),
        ("order conflict", "application/json", #"{"sku":"HOT","user_id":"u1","order_id":"o1","amount":2}"#),
        ("user limit", "application/json", #"{"sku":"HOT","user_id":"u1","order_id":"o2","amount":2}"#),
        ("insufficient", "application/json", #"{"sku":"HOT","user_id":"u2","order_id":"o3","amount":2}"#),
        ("unknown sku", "application/json", #"{"sku":"NONE","user_id":"u2","order_id":"o4","amount":1}"#),
        ("escaped json", "application/json", #"{"sku":"H\u004fT","user_id":"u3","order_id":"o5","amount":1}"#),
        ("bad json", "application/json", "{bad"),
        ("missing field", "application/json", #"{"sku":"HOT","user_id":"u2","amount":1}"#),
        ("zero amount", "application/json", #"{"sku":"HOT","user_id":"u2","order_id":"o6","amount":0}"#),
        ("fractional amount", "application/json", #"{"sku":"HOT","user_id":"u2","order_id":"o7","amount":1.5}"#),
        ("text body", "text/plain", #"{"sku":"HOT","user_id":"u2","order_id":"o8","amount":1}"#),
        ("too large", "application/json", "[" + String(repeating: "1,", count: 40_000) + "1]"),
    ]

    static func answers(fastPath: Bool) async throws -> [(Int, String, String?)] {
        let collected = Mutex<[(Int, String, String?)]>([])
        try await FastPathApp.run(fastPath: fastPath, stock: 2) { server, client in
            for (_, contentType, body) in Self.cases {
                let response = try await client.execute(
                    uri: "/api/v1/inventory/deduct",
                    method: .post,
                    headers: [.contentType: contentType],
                    body: ByteBuffer(string: body)
                )
                collected.withLock {
                    $0.append(
                        (Int(response.status.code), String(buffer: response.body), response.headers[.contentType])
                    )
                }
            }
            #expect((server.fastPathAnswers(200) > 0) == fastPath, "the path under test answered")
        }
        return collected.withLock { $0 }
    }

    @Test func answersEveryOutcomeExactlyAsTheRouterDoes() async throws {
        let router = try await Self.answers(fastPath: false)
        let fast = try await Self.answers(fastPath: true)
        #expect(router.count == Self.cases.count && fast.count == Self.cases.count)
        for (index, (routed, answered)) in zip(router, fast).enumerated() {
            let name = Self.cases[index].name
            #expect(routed.0 == answered.0, "status of \(name)")
            #expect(routed.1 == answered.1, "body of \(name)")
            #expect(answered.2 == "application/json", "content type of \(name)")
        }
        // The cases reached the outcomes they are named after.
        #expect(fast.map(\.0) == [200, 200, 409, 409, 409, 404, 200, 400, 400, 400, 400, 415, 413])
    }

    /// Each answer's head: the status line, then the fields in order, the date's value masked.
    static func rawHeads(fastPath: Bool) async throws -> [String] {
        let collected = Mutex<[String]>([])
        try await FastPathApp.run(fastPath: fastPath, stock: 2) { _, client in
            let port = try #require(client.port)
            let requests = Self.cases.map { RawHTTP.deduct(body: $0.body, contentType: $0.contentType) }
            let answers = try await RawHTTP.exchange(port: port, requests)
            let heads = answers.map { answer in
                answer.head.split(separator: "\r\n", omittingEmptySubsequences: false)
                    .map { $0.hasPrefix("Date: ") ? "Date: <masked>" : String($0) }
                    .joined(separator: "\r\n")
            }
            collected.withLock { $0 = heads }
        }
        return collected.withLock { $0 }
    }

    @Test func answerHeadsAreTheRoutersByteForByte() async throws {
        let router = try await Self.rawHeads(fastPath: false)
        let fast = try await Self.rawHeads(fastPath: true)
        #expect(fast.count == Self.cases.count)
        #expect(fast == router)
        #expect(fast.first?.hasPrefix("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ") == true)
        #expect(fast.last?.hasPrefix("HTTP/1.1 413 ") == true)
    }

    @Test func pipelinedRequestsAreAnsweredInTheirOrder() async throws {
        try await FastPathApp.run(fastPath: true, stock: 100) { server, client in
            let port = try #require(client.port)
            // A routed GET between deducts must see the first deduct and not the second; the deducts behind it
            // wait for it (they go to the router too).
            let mixed = try await RawHTTP.exchange(
                port: port,
                [
                    RawHTTP.deduct(user: "a", order: "p1"), RawHTTP.getItem, RawHTTP.deduct(user: "b", order: "p2"),
                    RawHTTP.deduct(user: "a", order: "p1"),
                ]
            )
            #expect(mixed.count == 4)
            #expect(mixed[0].body.contains(#""new_stock":99"#))
            #expect(mixed[1].body.contains(#""stock":99"#), "the GET answered in its place: \(mixed[1].body)")
            #expect(mixed[2].body.contains(#""new_stock":98"#))
            #expect(mixed[3].body.contains(#""replayed":true"#) && mixed[3].body.contains(#""new_stock":99"#))
            #expect(server.fastPathAnswers(200) == 1)
            // Deducts alone, pipelined: each waits for the one before, all answered here, in order.
            let deducts = (0..<40).map { RawHTTP.deduct(user: "u\($0)", order: "q\($0)") }
            let answers = try await RawHTTP.exchange(port: port, deducts)
            #expect(answers.count == deducts.count)
            for (offset, answer) in answers.enumerated() {
                #expect(answer.status == 200 && answer.body.contains(#""new_stock":\#(97 - offset)"#))
            }
            #expect(server.fastPathAnswers(200) == 41)
        }
    }

    @Test func pipelinedDeductsAnsweredInlineKeepTheirOrder() async throws {
        // Refusals need nothing written, so the store answers them inside its call: behind a sale that waits
        // for the journal, a read of many of them is answered in a loop, each in its place.
        try await FastPathApp.run(fastPath: true, stock: 100) { server, client in
            let port = try #require(client.port)
            var requests: [String] = []
            for index in 0..<40 {
                switch index % 10 {
                case 0: requests.append(RawHTTP.deduct(user: "u\(index)", order: "sale\(index)"))
                case 5: requests.append(RawHTTP.deduct(user: "u0", order: "again\(index)", amount: 3))  // over the cap
                default: requests.append(RawHTTP.deduct(user: "u\(index)", order: "bad\(index)", amount: 0))
                }
            }
            let answers = try await RawHTTP.exchange(port: port, requests)
            #expect(answers.count == requests.count)
            for (index, answer) in answers.enumerated() {
                switch index % 10 {
                case 0: #expect(answer.status == 200 && answer.body.contains(#""new_stock":\#(99 - index / 10)"#))
                case 5: #expect(answer.status == 409 && answer.body.contains("user_limit_exceeded"))
                default: #expect(answer.status == 400 && answer.body.contains(#""field":"amount""#))
                }
            }
            #expect(server.fastPathAnswers(200) == 4)
        }
    }

    @Test func connectionCloseIsHonouredAfterTheAnswer() async throws {
        try await FastPathApp.run(fastPath: true) { _, client in
            let port = try #require(client.port)
            let answers = try await RawHTTP.exchange(
                port: port,
                [RawHTTP.deduct(user: "a", order: "c1", close: true)],
                expectClose: true
            )
            #expect(answers.count == 1)
            #expect(answers.first?.status == 200)
            #expect(answers.first?.headers["connection"] == "close")
            #expect(answers.first?.headers["date"]?.hasSuffix(" GMT") == true)
            #expect(answers.first?.headers["server"] == "stampede")
        }
    }

    /// The connection state handler never sees a deduct: the fast path holds a graceful shutdown's quiesce until the
    /// deduct whose head it has is answered, and the server then stops.
    @Test(.timeLimit(.minutes(1)))
    func aGracefulShutdownLetsTheDeductInProgressBeAnswered() async throws {
        let server = try FastPathApp(fastPath: true)
        let (ports, port) = AsyncStream.makeStream(of: Int.self)
        let application = server.application { port.yield($0) }
        let group = ServiceGroup(
            configuration: .init(services: [application], gracefulShutdownSignals: [], logger: server.logger)
        )
        let running = Task { try await group.run() }
        do {
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            let item = #"{"stock":10,"rate_window_ms":0}"#
            let put =
                "PUT /api/v1/inventory/HOT HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(item.utf8.count)\r\n\r\n\(item)"
            #expect(try await RawHTTP.exchange(port: port, [put]).map(\.status) == [201])
            let answer = try await RawHTTP.headThenBody(
                port: port,
                RawHTTP.deduct(user: "a", order: "q1"),
                between: {
                    server.waitForDeductHead()
                    let begun = DispatchSemaphore(value: 0)
                    Task {
                        await group.triggerGracefulShutdown()
                        begun.signal()
                    }
                    begun.wait()
                    Thread.sleep(forTimeInterval: 0.3)  // the quiesce reaches the connection
                }
            )
            #expect(answer?.status == 200)
            #expect(answer?.body.contains(#""new_stock":9"#) == true)
            try await running.value
        } catch {
            running.cancel()
            await server.app.close()
            throw error
        }
        await server.app.close()
    }

    @Test func aClientThatHalfClosesAfterItsDeductStillGetsTheAnswer() async throws {
        try await FastPathApp.run(fastPath: true) { _, client in
            let port = try #require(client.port)
            let answers = try await RawHTTP.exchange(
                port: port,
                [RawHTTP.deduct(user: "a", order: "h1")],
                halfClose: true,
                expectClose: true
            )
            #expect(answers.count == 1)
            #expect(answers.first?.status == 200 && answers.first?.body.contains(#""new_stock":9"#) == true)
        }
    }

    @Test func aParseErrorAfterADeductIsAnsweredAfterIt() async throws {
        try await FastPathApp.run(fastPath: true) { _, client in
            let port = try #require(client.port)
            let answers = try await RawHTTP.exchange(
                port: port,
                [RawHTTP.deduct(user: "a", order: "g1"), "GARBAGE\r\n\r\n"],
                expectClose: true
            )
            #expect(answers.map(\.status) == [200, 400])
            #expect(answers.first?.body.contains(#""new_stock":9"#) == true)
        }
    }

    @Test func aPipelinedDeductDoesNotInheritTheTraceOfTheOneBeforeIt() async throws {
        try await FastPathApp.run(fastPath: true) { server, client in
            let port = try #require(client.port)
            // The second and third wait while the first goes to the store; then the second, invalid, is answered
            // inline, and the third starts from inside that answer.
            let traced = "\(InMemoryTracer.traceIDKey): trace-A\r\n\(InMemoryTracer.spanIDKey): caller\r\n"
            let answers = try await RawHTTP.exchange(
                port: port,
                [
                    RawHTTP.deduct(user: "c", order: "x0"),
                    RawHTTP.deduct(user: "a", order: "x1", amount: 0, extraHeaders: traced),
                    RawHTTP.deduct(user: "b", order: "x2"),
                ]
            )
            #expect(answers.map(\.status) == [200, 400, 200])
            let servers = server.app.tracer.finishedSpans.filter { $0.kind == .server }
            #expect(servers.count == 3)
            #expect(servers.filter { $0.traceID == "trace-A" }.count == 1, "only the second joined the caller's trace")
        }
    }

    @Test func serverAndDeductSpansJoinTheCallersTraceAndHTTPMetricsAreRecorded() async throws {
        try await FastPathApp.run(fastPath: true) { server, client in
            let response = try await client.execute(
                uri: "/api/v1/inventory/deduct?source=test",
                method: .post,
                headers: [
                    .contentType: "application/json",
                    HTTPField.Name(InMemoryTracer.traceIDKey)!: "trace-1",
                    HTTPField.Name(InMemoryTracer.spanIDKey)!: "caller-span",
                ],
                body: ByteBuffer(string: #"{"sku":"HOT","user_id":"u1","order_id":"t1","amount":1}"#)
            )
            #expect(response.status == .ok)
            try await client.deduct(order: "bad", amount: 0)
            let spans = server.app.tracer.finishedSpans
            let http = try #require(spans.first { $0.kind == .server && $0.traceID == "trace-1" })
            #expect(http.operationName == "/api/v1/inventory/deduct")
            #expect(http.parentSpanID == "caller-span")
            #expect(http.attributes["http.route"]?.toSpanAttribute() == "/api/v1/inventory/deduct")
            #expect(http.attributes["http.response.status_code"]?.toSpanAttribute() == 200)
            #expect(http.attributes["url.query"]?.toSpanAttribute() == "source=test")
            let deduct = try #require(spans.first { $0.operationName == "inventory.deduct" && $0.traceID == "trace-1" })
            #expect(deduct.parentSpanID == http.spanID)
            #expect(deduct.attributes["order.id"]?.toSpanAttribute() == "t1")
            #expect(deduct.attributes["inventory.result"]?.toSpanAttribute() == "success")

            let labels = [
                ("http.route", "/api/v1/inventory/deduct"), ("http.request.method", "POST"),
                ("http.response.status_code", "200"),
            ]
            #expect(try server.httpMetrics.expectCounter("hb.requests", labels).totalValue == 1)
            #expect(try server.httpMetrics.expectTimer("http.server.request.duration", labels).values.count == 1)
            let errors = [
                ("http.route", "/api/v1/inventory/deduct"), ("http.request.method", "POST"), ("error.type", "400"),
            ]
            #expect(try server.httpMetrics.expectCounter("hb.request.errors", errors).totalValue == 1)
            #expect(
                try server.httpMetrics.expectMeter("http.server.active_requests", [("http.request.method", "POST")])
                    .lastValue == 0
            )
            #expect(
                try server.app.metrics.expectCounter("inventory.deduct.total", [("result", "invalid_request")])
                    .totalValue == 1
            )
        }
    }

    /// What the log says of an unexpected failure, on either path.
    static func unexpectedFailureLog(fastPath: Bool) async throws -> [RecordingLogHandler.Records.Entry] {
        let records = RecordingLogHandler.Records()
        // As swift-otel's provider adds the trace of the current service context to every line; the baggage shows
        // the line was logged in the request's context on the router's path too, whose tracing middleware uses the
        // global tracer (not bootstrapped in tests).
        let traceProvider = Logger.MetadataProvider {
            var metadata: Logger.Metadata = [:]
            if let span = ServiceContext.current?.inMemorySpanContext { metadata["trace_id"] = "\(span.traceID)" }
            if let baggage = ServiceContext.current?.w3cBaggage { metadata["baggage"] = "\(baggage.headerValue)" }
            return metadata
        }
        let logger = RecordingLogHandler.logger(records, level: .error, metadataProvider: traceProvider)
        try await FastPathApp.run(fastPath: fastPath, failingOrder: "boom", logger: logger) { server, client in
            let response = try await client.execute(
                uri: "/api/v1/inventory/deduct",
                method: .post,
                headers: [
                    .contentType: "application/json",
                    HTTPField.Name(InMemoryTracer.traceIDKey)!: "trace-boom",
                    HTTPField.Name(InMemoryTracer.spanIDKey)!: "caller",
                    HTTPField.Name("baggage")!: "case=boom",
                ],
                body: ByteBuffer(string: #"{"sku":"HOT","user_id":"u1","order_id":"boom","amount":1}"#)
            )
            #expect(response.status == .internalServerError)
            #expect(String(buffer: response.body).contains(#""code":"internal_error""#))
            #expect((server.fastPathAnswers(500) > 0) == fastPath, "the path under test answered")
        }
        return records.entries(at: .error).filter { $0.message == "request failed" }
    }

    @Test func anUnexpectedFailureIsLoggedWithARequestIDInTheRequestsContextOnBothPaths() async throws {
        for fastPath in [false, true] {
            let logged = try await Self.unexpectedFailureLog(fastPath: fastPath)
            #expect(logged.count == 1, "one line (fast path: \(fastPath))")
            let metadata = try #require(logged.first?.metadata)
            #expect(metadata["hb.request.id"] != nil, "a request id (fast path: \(fastPath))")
            #expect(metadata["baggage"]?.description == "case=boom", "the request's context (fast path: \(fastPath))")
            if fastPath { #expect(metadata["trace_id"]?.description == "trace-boom", "the caller's trace") }
            #expect(metadata["error"]?.description.contains("Unexpected") == true)
        }
    }

    @Test func aDeductIsTimedFromItsHeadAndOneCutOffMidBodyIsNoLongerActive() async throws {
        try await FastPathApp.run(fastPath: true) { server, client in
            let port = try #require(client.port)
            let request = RawHTTP.deduct(user: "a", order: "slow1")
            let split = try #require(request.range(of: "\r\n\r\n")).upperBound
            // The body comes 300 ms after the server has the head: the server span and the request duration
            // include the wait, as the router's middleware, which starts before the body is read, counts it.
            let answer = try await RawHTTP.headThenBody(
                port: port,
                request,
                between: {
                    server.waitForDeductHead()
                    Thread.sleep(forTimeInterval: 0.3)
                }
            )
            #expect(answer?.status == 200)
            let span = try #require(server.app.tracer.finishedSpans.first { $0.kind == .server })
            let spanNanoseconds = span.endInstant.nanosecondsSinceEpoch - span.startInstant.nanosecondsSinceEpoch
            #expect(spanNanoseconds >= 300_000_000)
            let labels = [
                ("http.route", "/api/v1/inventory/deduct"), ("http.request.method", "POST"),
                ("http.response.status_code", "200"),
            ]
            let timer = try server.httpMetrics.expectTimer("http.server.request.duration", labels)
            #expect(timer.values.first.map { $0 >= 300_000_000 } == true)

            // A head and half a body, then the client goes away: counted active at its head, then no longer.
            _ = try await RawHTTP.slowExchange(
                port: port,
                [String(request[..<split]), "{\"sku\":"],
                between: server.waitForDeductHead,
                readAnswer: false
            )
            let active = try server.httpMetrics.expectMeter(
                "http.server.active_requests",
                [("http.request.method", "POST")]
            )
            var waited = 0
            while active.lastValue != 0 && waited < 100 {
                try await Task.sleep(for: .milliseconds(20))
                waited += 1
            }
            #expect(active.lastValue == 0)
            #expect(active.values.contains(1), "the cut-off request was active once its head came")
            #expect(server.fastPathAnswers(200) == 1)
        }
    }
}
