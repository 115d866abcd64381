import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTesting
import HummingbirdWebSocket
import Logging
import MetricsTestKit
import NIOCore
import StampedeApp
import StampedeFastPath
import StampedeHTTPKit
import StampedeInventory
import StampedeInventoryHTTP
import StampedeTesting
import Testing

@Suite("WebSocket upgrades and fast-path deducts share one port")
struct WebSocketAndFastPathTests {
    /// hummingbird-websocket's upgrade channel echoing text at `/ws`, with the deduct fast path and the limits
    /// around it, as live rooms will add theirs.
    static func application(_ server: LimitedApp, logger: Logger) throws -> some ApplicationProtocol {
        let dependencies = server.dependencies
        let endpoint = try #require(
            DeductFastPath(
                store: dependencies.store,
                metrics: dependencies.metrics,
                tracer: dependencies.tracer,
                tracingEnabled: false,
                propagatesBaggage: false,
                httpMetricsFactory: server.httpMetrics,
                load: server.load,
                serverName: "stampede",
                logger: logger
            )
        )
        let load = server.load
        return Application(
            router: buildRouter(dependencies),
            server: HTTPServerBuilder { responder in
                let upgrade = HTTP1WebSocketUpgradeChannel(
                    responder: responder,
                    configuration: .init(),
                    shouldUpgrade: { request, _, _ in
                        guard request.path == "/ws" else { return .dontUpgrade }
                        return .upgrade([:]) { inbound, outbound, _ in
                            for try await message in inbound.messages(maxSize: 1024) {
                                if case .text(let text) = message { try await outbound.write(.text("echo " + text)) }
                            }
                        }
                    }
                )
                return LimitedChannel(base: FastPathChannel(base: upgrade, endpoint: endpoint), load: load)
            },
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0), serverName: "stampede"),
            logger: logger
        )
    }

    static let upgradeRequest =
        "GET /ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

    @Test func aConnectionDeductsOnTheFastPathThenUpgradesWhileOthersDeduct() async throws {
        let server = try LimitedApp(limits: .with())
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let application = try Self.application(server, logger: logger)
        do {
            try await application.test(.live) { client in
                let (status, _) = try await client.putItem(
                    "HOT",
                    #"{"stock":100,"limit_per_user":100,"rate_window_ms":0}"#
                )
                #expect(status == .created)
                let port = try #require(client.port)
                try await RawSocket.onThread {
                    let room = try RawSocket(port: port)
                    // A deduct first, on the connection that will upgrade: answered on the event loop.
                    try room.send(RawHTTP.deduct(user: "viewer", order: "before-upgrade"))
                    #expect(try room.readAnswer().status == 200)
                    try room.send(Self.upgradeRequest)
                    let switching = try room.readAnswer()
                    #expect(switching.status == 101)
                    #expect(switching.headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
                    try room.sendWebSocketText("one")
                    #expect(try room.readWebSocketFrame().text == "echo one")

                    // Meanwhile, pipelined deducts on another connection of the same port.
                    let buyer = try RawSocket(port: port)
                    try buyer.send((0..<5).map { RawHTTP.deduct(user: "buyer", order: "o\($0)") }.joined())
                    for _ in 0..<5 { #expect(try buyer.readAnswer().status == 200) }

                    try room.sendWebSocketText("two")
                    #expect(try room.readWebSocketFrame().text == "echo two")
                }
                // Every deduct was answered by the fast path, none by the router.
                let fastPathAnswers = server.httpMetrics.counters.filter {
                    $0.label == "hb.requests"
                        && $0.dimensions.contains { $0 == ("http.route", "/api/v1/inventory/deduct") }
                }.map(\.totalValue).reduce(0, +)
                #expect(fastPathAnswers == 6)
                let stock = try await server.app.store.item(sku: "HOT")?.stock
                #expect(stock == 94)
            }
        } catch {
            await server.app.close()
            throw error
        }
        await server.app.close()
    }
}
