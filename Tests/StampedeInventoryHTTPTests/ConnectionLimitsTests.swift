import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTesting
import HummingbirdWebSocket
import Logging
import MetricsTestKit
import NIOCore
import ServiceLifecycle
import StampedeApp
import StampedeConfiguration
import StampedeFastPath
import StampedeHTTPKit
import StampedeInventory
import StampedeInventoryHTTP
import StampedeTesting
import Testing

/// A live server within `limits`, on an embedded store whose item HOT holds 100 units.
struct LimitedApp: Sendable {
    let app: TestApp
    let load: ServerLoad
    let loadMetrics = TestMetrics()
    let httpMetrics = TestMetrics()

    /// Whether deducts take the event-loop path (whose handler then tells the timeouts what it sees).
    var fastPath = true

    init(limits: HTTPServerLimits, fastPath: Bool = true) throws {
        self.fastPath = fastPath
        app = try TestApp()
        load = ServerLoad(limits: limits, factory: loadMetrics)
    }

    var dependencies: AppDependencies {
        var dependencies = AppDependencies(
            store: app.store,
            metrics: InventoryMetrics(factory: app.metrics),
            tracer: app.tracer,
            prometheus: nil,
            readiness: app.readiness
        )
        dependencies.httpMetricsFactory = httpMetrics
        dependencies.load = load
        dependencies.deductFastPath = fastPath
        return dependencies
    }

    /// Runs the server in a service group of its own, so no test client holds a connection the limits would count
    /// or close; `body` speaks to it through raw sockets on the port it gets.
    static func run(
        _ limits: HTTPServerLimits,
        fastPath: Bool = true,
        _ body: @escaping @Sendable (LimitedApp, Int) async throws -> Void
    ) async throws {
        let server = try LimitedApp(limits: limits, fastPath: fastPath)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let application = buildApplication(server.dependencies, host: "127.0.0.1", port: 0, logger: logger) { port in
            portContinuation.yield(port)
        }
        let group = ServiceGroup(configuration: .init(services: [.init(service: application)], logger: logger))
        do {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var iterator = ports.makeAsyncIterator()
                let port = try #require(await iterator.next())
                let put = try await RawHTTP.exchange(
                    port: port,
                    [RawHTTP.putItem(#"{"stock":100,"limit_per_user":100,"rate_window_ms":0}"#)]
                )
                #expect(put.first?.status == 201)
                do {
                    try await body(server, port)
                } catch {
                    await group.triggerGracefulShutdown()
                    throw error
                }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        } catch {
            await server.app.close()
            throw error
        }
        await server.app.close()
    }

    /// Waits (up to 5 s) until the server counts `count` open connections.
    func waitUntilOpenConnections(_ count: Int) async throws {
        for _ in 0..<500 where load.openConnections != count { try await Task.sleep(for: .milliseconds(10)) }
        #expect(load.openConnections == count)
    }

    func counter(_ label: String, _ dimensions: [(String, String)] = []) -> Int64 {
        loadMetrics.counters.filter { counter in
            counter.label == label && dimensions.allSatisfy { wanted in counter.dimensions.contains { $0 == wanted } }
        }.map(\.totalValue).reduce(0, +)
    }
}

extension HTTPServerLimits {
    static func with(
        connections: Int = 100,
        requests: Int = 100,
        idleMilliseconds: Int = 60_000,
        readMilliseconds: Int = 60_000
    ) -> HTTPServerLimits {
        var limits = HTTPServerLimits()
        limits.connectionsMax = connections
        limits.requestsInFlightMax = requests
        limits.idleTimeoutMilliseconds = idleMilliseconds
        limits.readTimeoutMilliseconds = readMilliseconds
        return limits
    }
}

@Suite("Every connection is within the server's limits")
struct ConnectionLimitsTests {
    @Test func aConnectionPastTheLimitIsAnswered503AndClosedWhileTheOthersGoOn() async throws {
        try await LimitedApp.run(.with(connections: 3)) { server, port in
            // The connection that created the item may still be closing on the server's side.
            try await server.waitUntilOpenConnections(0)
            try await RawSocket.onThread {
                // Three connections, each answered once so the server has set them up, then held open.
                let held = try (0..<3).map { _ in try RawSocket(port: port) }
                for socket in held {
                    try socket.send(RawHTTP.getItem)
                    #expect(try socket.readAnswer().status == 200)
                }
                let extra = try RawSocket(port: port)
                let refusal = try extra.readAnswer()
                #expect(refusal.status == 503)
                #expect(refusal.body.contains("\"too_many_connections\""))
                #expect(refusal.headers["connection"] == "close")
                #expect(extra.waitForClose(), "the refused connection is closed by the server")
                // The others still get answers, on the router and on the fast path.
                for (index, socket) in held.enumerated() {
                    try socket.send(RawHTTP.deduct(user: "u\(index)", order: "o\(index)"))
                    #expect(try socket.readAnswer().status == 200)
                }
            }
            #expect(server.counter(ServerLoad.connectionsRefusedLabel) == 1)
            // A closed connection frees its slot.
            try await server.waitUntilOpenConnections(0)
            let answers = try await RawHTTP.exchange(port: port, [RawHTTP.getItem])
            #expect(answers.first?.status == 200)
        }
    }

    @Test(arguments: [true, false])
    func aClientTricklingItsHeaderIsClosedAfterTheHeaderTimeout(fastPath: Bool) async throws {
        try await LimitedApp.run(.with(readMilliseconds: 600), fastPath: fastPath) { server, port in
            let (closed, sent, elapsed) = try await RawSocket.onThread { () -> (Bool, Int, Duration) in
                let socket = try RawSocket(port: port)
                let head = Array("GET /api/v1/inventory/HOT HTTP/1.1\r\nHost: test\r\nX-Slow: ".utf8)
                let started = ContinuousClock.now
                var sent = 0
                // A byte every 100 ms: the whole head would take seconds.
                while sent < head.count {
                    do { try socket.send([head[sent]]) } catch { break }
                    sent += 1
                    Thread.sleep(forTimeInterval: 0.1)
                    if ContinuousClock.now - started > .seconds(4) { break }
                }
                return (socket.waitForClose(), sent, ContinuousClock.now - started)
            }
            #expect(closed)
            #expect(sent < 30, "closed after about 6 of the bytes, not after the whole head (\(sent) sent)")
            #expect(elapsed < .seconds(4))
            #expect(server.counter(ServerLoad.timedOutLabel, [("reason", "header")]) == 1)
        }
    }

    @Test(arguments: [true, false])
    func aClientTricklingItsBodyIsClosedAfterTheReadTimeoutAndGivesItsSlotBack(fastPath: Bool) async throws {
        try await LimitedApp.run(.with(requests: 1, readMilliseconds: 600), fastPath: fastPath) { server, port in
            let (closed, elapsed) = try await RawSocket.onThread { () -> (Bool, Duration) in
                let socket = try RawSocket(port: port)
                let request = RawHTTP.deduct(user: "slow", order: "slow-1")
                let split = request.range(of: "\r\n\r\n")!.upperBound
                let started = ContinuousClock.now
                // The whole head at once, then the body a byte every 100 ms.
                try socket.send(String(request[..<split]))
                for byte in Array(request[split...].utf8) {
                    do { try socket.send([byte]) } catch { break }
                    Thread.sleep(forTimeInterval: 0.1)
                    if ContinuousClock.now - started > .seconds(4) { break }
                }
                return (socket.waitForClose(), ContinuousClock.now - started)
            }
            #expect(closed)
            #expect(elapsed < .seconds(4))
            #expect(server.counter(ServerLoad.timedOutLabel, [("reason", "body")]) == 1)
            // The deduct held the only slot of the requests in flight until its connection closed.
            for _ in 0..<500 where server.load.requestsInFlight != 0 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(server.load.requestsInFlight == 0)
            let answers = try await RawHTTP.exchange(port: port, [RawHTTP.deduct(user: "quick", order: "quick-1")])
            #expect(answers.first?.status == 200)
        }
    }

    @Test(arguments: [true, false])
    func anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeoutButABusyOneIsNot(fastPath: Bool) async throws {
        try await LimitedApp.run(.with(idleMilliseconds: 500), fastPath: fastPath) { server, port in
            try await RawSocket.onThread {
                // Busy for twice the idle timeout, on the fast path only: never closed.
                let busy = try RawSocket(port: port)
                for index in 0..<10 {
                    try busy.send(RawHTTP.deduct(user: "busy", order: "busy-\(index)"))
                    #expect(try busy.readAnswer().status == 200)
                    Thread.sleep(forTimeInterval: 0.1)
                }
                // Then idle: closed after the timeout.
                let started = ContinuousClock.now
                #expect(busy.waitForClose())
                let waited = ContinuousClock.now - started
                #expect(waited >= .milliseconds(300) && waited < .seconds(5), "closed after \(waited)")
            }
            #expect(server.counter(ServerLoad.timedOutLabel, [("reason", "idle")]) == 1)
            #expect(server.counter(ServerLoad.timedOutLabel, [("reason", "header")]) == 0)
        }
    }

    @Test(arguments: [true, false])
    func requestsPastTheInFlightLimitAreAnswered503OnBothPaths(fastPath: Bool) async throws {
        try await LimitedApp.run(.with(requests: 1), fastPath: fastPath) { server, port in
            #expect(server.load.admitRequest(), "the test holds the only slot")
            let refused = try await RawHTTP.exchange(
                port: port,
                [RawHTTP.getItem, RawHTTP.deduct(user: "u", order: "o")]
            )
            #expect(refused.map(\.status) == [503, 503])
            #expect(refused.allSatisfy { $0.body.contains("\"overloaded\"") })
            #expect(server.counter(ServerLoad.requestsRefusedLabel) == 2)
            let probe = try await RawHTTP.exchange(port: port, ["GET /health/live HTTP/1.1\r\nHost: test\r\n\r\n"])
            #expect(probe.first?.status == 200, "a health probe is not a request the limit refuses")
            server.load.requestFinished()
            let answered = try await RawHTTP.exchange(
                port: port,
                [RawHTTP.deduct(user: "u", order: "o"), RawHTTP.getItem]
            )
            #expect(answered.map(\.status) == [200, 200])
            #expect(server.load.requestsInFlight == 0, "every admitted request gave its slot back")
            let stock = try await server.app.store.item(sku: "HOT")?.stock
            #expect(stock == 99, "the refused deduct changed nothing")
        }
    }

    @Test func aKnownPathAskedWithAnotherMethodIsAnswered405WithAllow() async throws {
        try await LimitedApp.run(.with()) { _, port in
            let answers = try await RawHTTP.exchange(
                port: port,
                [
                    "DELETE /api/v1/inventory/HOT HTTP/1.1\r\nHost: test\r\n\r\n",
                    "POST /health/live HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n",
                    "GET /api/v1/nothing-here HTTP/1.1\r\nHost: test\r\n\r\n",
                ]
            )
            #expect(answers.map(\.status) == [405, 405, 404])
            #expect(answers[0].headers["allow"] == "GET, PUT")
            #expect(answers[1].headers["allow"] == "GET")
            #expect(answers[0].body.contains("\"method_not_allowed\""))
        }
    }

    @Test func limitsAreReadFromTheEnvironmentAndABadValueIsNamed() throws {
        let limits = try HTTPServerLimits(environment: [
            "STAMPEDE_CONNECTIONS_MAX": "7", "STAMPEDE_IDLE_TIMEOUT_MS": "900",
        ])
        #expect(limits.connectionsMax == 7)
        #expect(limits.idleTimeoutMilliseconds == 900)
        #expect(limits.requestsInFlightMax == HTTPServerLimits().requestsInFlightMax)
        do {
            _ = try HTTPServerLimits(environment: ["STAMPEDE_READ_TIMEOUT_MS": "soon"])
            Issue.record("a header timeout that is not a number was accepted")
        } catch {
            #expect(error.setting == "STAMPEDE_READ_TIMEOUT_MS")
        }
    }
}
