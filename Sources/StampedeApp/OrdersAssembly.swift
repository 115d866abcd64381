import AsyncHTTPClient
import Logging
import Metrics
import NIOCore
import StampedeInventory
import StampedeOrders
import StampedePaymentSim
import Tracing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The orders system of one process: its journal store, the saga runner on the in-process inventory, payment
/// through a provider's URL or the built-in simulator, and the service that runs the sagas.
public struct OrdersAssembly: Sendable {
    public let service: OrderService
    public let store: JournalOrderStore
    /// The built-in simulator when no provider URL is set.
    public let payments: PaymentSimulator?
    let httpClient: HTTPClient?

    /// Opens the order journal in `<dataDirectory>/orders` (creating the directories).
    public static func open(
        dataDirectory: String,
        durability: Durability,
        inventory: any InventoryStore,
        tracer: (any Tracer)?,
        metricsFactory: any MetricsFactory,
        configuration: OrderService.Configuration = OrderService.Configuration(),
        paymentURL: String? = nil,
        logger: Logger
    ) throws -> OrdersAssembly {
        if mkdir(dataDirectory, 0o755) != 0 && errno != EEXIST {
            throw OrderStoreError(.storageFailed, context: "cannot create \(dataDirectory)")
        }
        let store = try JournalOrderStore(
            configuration: .init(directory: dataDirectory + "/orders", durability: durability),
            logger: logger
        )
        let payments: PaymentSimulator?
        let httpClient: HTTPClient?
        let gateway: any PaymentGateway
        if let paymentURL {
            var configuration = HTTPClient.Configuration()
            configuration.connectionPool = .init(
                idleTimeout: .seconds(60),
                concurrentHTTP1ConnectionsPerHostSoftLimit: 64
            )
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            (payments, httpClient, gateway) = (nil, client, HTTPPaymentGateway(client: client, baseURL: paymentURL))
        } else {
            let simulator = PaymentSimulator()
            (payments, httpClient, gateway) = (simulator, nil, SimulatedPaymentGateway(simulator: simulator))
        }
        let metrics = OrderMetrics(factory: metricsFactory)
        let runner = CheckoutRunner(
            inventory: InventoryStoreReservations(store: inventory),
            payment: gateway,
            store: store,
            clock: InventoryClock.wallClockMilliseconds,
            tracer: tracer,
            metrics: metrics
        )
        let service = OrderService(
            store: store,
            runner: runner,
            configuration: configuration,
            clock: InventoryClock.wallClockMilliseconds,
            logger: logger,
            metrics: metrics
        )
        return OrdersAssembly(service: service, store: store, payments: payments, httpClient: httpClient)
    }

    public var lifecycle: OrdersService { OrdersService(orders: service, store: store, httpClient: httpClient) }
}
