import AsyncHTTPClient
import ServiceLifecycle
import StampedeOrders

/// Runs the orders' sagas until a graceful shutdown begins, then closes the orders journal. Sagas stopped
/// between two steps stay unfinished in the journal and resume at the next start.
public struct OrdersService: Service {
    let orders: OrderService
    let store: JournalOrderStore
    let httpClient: HTTPClient?

    init(orders: OrderService, store: JournalOrderStore, httpClient: HTTPClient?) {
        self.orders = orders
        self.store = store
        self.httpClient = httpClient
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await orders.run()
        }
        await store.close()
        try? await httpClient?.shutdown()
    }
}
