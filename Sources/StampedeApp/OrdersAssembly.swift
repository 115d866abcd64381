import Logging
import Metrics
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
/// through the built-in simulator, and the service that runs the sagas.
public struct OrdersAssembly: Sendable {
    public let service: OrderService
    public let store: JournalOrderStore
    public let payments: PaymentSimulator

    /// Opens the order journal in `<dataDirectory>/orders` (creating the directories).
    public static func open(
        dataDirectory: String,
        durability: Durability,
        inventory: any InventoryStore,
        tracer: (any Tracer)?,
        metricsFactory: any MetricsFactory,
        configuration: OrderService.Configuration = OrderService.Configuration(),
        logger: Logger
    ) throws -> OrdersAssembly {
        if mkdir(dataDirectory, 0o755) != 0 && errno != EEXIST {
            throw OrderStoreError(.storageFailed, context: "cannot create \(dataDirectory)")
        }
        let store = try JournalOrderStore(
            configuration: .init(directory: dataDirectory + "/orders", durability: durability),
            logger: logger
        )
        let payments = PaymentSimulator()
        let metrics = OrderMetrics(factory: metricsFactory)
        let runner = CheckoutRunner(
            inventory: InventoryStoreReservations(store: inventory),
            payment: SimulatedPaymentGateway(simulator: payments),
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
        return OrdersAssembly(service: service, store: store, payments: payments)
    }

    public var lifecycle: OrdersService { OrdersService(orders: service, store: store) }
}
