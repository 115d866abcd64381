import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InMemoryTracing
import Logging
import MetricsTestKit
import NIOCore
import StampedeApp
import StampedeInventory
import StampedeOrders
import StampedePaymentSim
import StampedeTesting
import Testing

/// The API on the embedded inventory and orders journal in a temp dir, payments through the simulator, spans in
/// memory; the sagas run while the test does.
struct OrdersTestApp: Sendable {
    let directory = TemporaryDirectory()
    let inventory: EmbeddedInventoryStore
    let orders: OrdersAssembly
    let tracer = InMemoryTracer()
    let metrics = TestMetrics()

    init(configuration: OrderService.Configuration = OrderService.Configuration()) throws {
        var logger = Logger(label: "orders-test")
        logger.logLevel = .warning
        inventory = try EmbeddedInventoryStore(configuration: .init(dataDirectory: directory.path), logger: logger)
        orders = try OrdersAssembly.open(
            dataDirectory: directory.path,
            durability: .sync,
            inventory: inventory,
            tracer: tracer,
            metricsFactory: metrics,
            configuration: configuration,
            logger: logger
        )
    }

    /// The built-in simulator the orders pay through.
    var payments: PaymentSimulator { orders.payments! }

    var application: some ApplicationProtocol {
        var dependencies = AppDependencies(
            store: inventory,
            metrics: InventoryMetrics(factory: metrics),
            tracer: tracer,
            prometheus: nil
        )
        dependencies.orders = orders.service
        return Application(router: buildRouter(dependencies))
    }

    static func run(
        configuration: OrderService.Configuration = OrderService.Configuration(),
        _ body: @escaping @Sendable (OrdersTestApp, any TestClientProtocol) async throws -> Void
    ) async throws {
        let app = try OrdersTestApp(configuration: configuration)
        let sagas = Task { await app.orders.service.run() }
        do {
            try await app.application.test(.router) { client in try await body(app, client) }
        } catch {
            sagas.cancel()
            await sagas.value
            await app.close()
            throw error
        }
        sagas.cancel()
        await sagas.value
        await app.close()
    }

    func close() async {
        await orders.store.close()
        await inventory.close()
        directory.remove()
    }
}

extension TestClientProtocol {
    @discardableResult
    func call(
        _ method: HTTPRequest.Method,
        _ uri: String,
        _ body: String? = nil
    ) async throws -> (HTTPResponse.Status, [String: Any]) {
        let headers: HTTPFields = body == nil ? [:] : [.contentType: "application/json"]
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
    func order(
        _ request: String,
        user: String = "u1",
        sku: String = "HOT",
        quantity: Int = 1,
        amount: Int = 1999,
        query: String = ""
    ) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await call(
            .post,
            "/api/v1/orders" + query,
            #"{"request_id":"\#(request)","user_id":"\#(user)","items":[{"sku":"\#(sku)","quantity":\#(quantity)}],"payment":{"amount_minor":\#(amount),"currency":"CNY","method":"card"}}"#
        )
    }

    func stock(_ sku: String = "HOT") async throws -> (stock: Int, reserved: Int, sold: Int) {
        let (_, item) = try await call(.get, "/api/v1/inventory/\(sku)")
        return (item["stock"] as? Int ?? -1, item["reserved"] as? Int ?? -1, item["sold"] as? Int ?? -1)
    }
}
