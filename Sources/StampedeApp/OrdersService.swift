import ServiceLifecycle
import StampedeOrders

/// Runs the orders' sagas until a graceful shutdown begins, then closes the orders journal. Sagas stopped
/// between two steps stay unfinished in the journal and resume at the next start.
public struct OrdersService: Service {
    let orders: OrderService
    let store: JournalOrderStore

    public init(orders: OrderService, store: JournalOrderStore) {
        self.orders = orders
        self.store = store
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await orders.run()
        }
        await store.close()
    }
}
