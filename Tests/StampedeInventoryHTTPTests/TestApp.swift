import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InMemoryTracing
import Logging
import MetricsTestKit
import NIOCore
import StampedeApp
import StampedeHTTPKit
import StampedeInventory
import StampedeTelemetry
import StampedeTesting
import Testing

/// An application on a real embedded store in a temp dir, with in-memory tracer and metrics.
struct TestApp: Sendable {
    let directory = TemporaryDirectory()
    let store: EmbeddedInventoryStore
    let metrics = TestMetrics()
    let tracer = InMemoryTracer()
    let readiness = Readiness()
    let clock = ManualClock()

    init(limits: InventoryLimits = .default, durability: Durability = .sync) throws {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        store = try EmbeddedInventoryStore(
            configuration: .init(dataDirectory: directory.path, durability: durability, limits: limits),
            logger: logger,
            clock: clock.closure
        )
    }

    var application: some ApplicationProtocol {
        let dependencies = AppDependencies(
            store: store,
            metrics: InventoryMetrics(factory: metrics),
            tracer: tracer,
            prometheus: nil,
            readiness: readiness
        )
        return Application(router: buildRouter(dependencies))
    }

    func close() async {
        await store.close()
        directory.remove()
    }

    static func run(
        limits: InventoryLimits = .default,
        _ body: @escaping @Sendable (TestApp, any TestClientProtocol) async throws -> Void
    ) async throws {
        let app = try TestApp(limits: limits)
        do {
            try await app.application.test(.router) { client in try await body(app, client) }
        } catch {
            await app.close()
            throw error
        }
        await app.close()
    }
}

extension TestClientProtocol {
    @discardableResult
    func json(
        _ method: HTTPRequest.Method,
        _ uri: String,
        _ body: String? = nil,
        contentType: String = "application/json"
    ) async throws -> (HTTPResponse.Status, [String: Any]) {
        let headers: HTTPFields = body == nil ? [:] : [.contentType: contentType]
        let response = try await execute(
            uri: uri,
            method: method,
            headers: headers,
            body: body.map { ByteBuffer(string: $0) }
        )
        let text = String(buffer: response.body)
        let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        #expect(response.headers[.contentType]?.hasPrefix("application/json") == true, "every answer is JSON: \(text)")
        return (response.status, object)
    }

    @discardableResult
    func deduct(
        sku: String = "HOT",
        user: String = "u1",
        order: String,
        amount: Int = 1
    ) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await json(
            .post,
            "/api/v1/inventory/deduct",
            #"{"sku":"\#(sku)","user_id":"\#(user)","order_id":"\#(order)","amount":\#(amount)}"#
        )
    }

    @discardableResult
    func putItem(_ sku: String = "HOT", _ body: String) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await json(.put, "/api/v1/inventory/\(sku)", body)
    }
}
