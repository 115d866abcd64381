import StampedeApp
import StampedeInventory
import StampedeOrders
import Testing

/// Orders a previous process left unfinished: whoever touches them first (a client's retry, a cancel, the
/// start-up resumption) drives them, and only one task writes each.
@Suite("Order service: unfinished orders after a restart")
struct OrderServiceResumeTests {
    /// An order left at `reserving` (its reserve sent, no answer written) by a process that died.
    func leftUnfinished(_ app: OrdersTestApp, request: String) async throws -> (OrderRequest, CheckoutSaga) {
        _ = try await app.inventory.putItem(sku: "HOT", config: ItemConfig(stock: 10, rateWindowMilliseconds: 0))
        let order = OrderRequest(
            requestID: request,
            userID: "u1",
            lines: [OrderLine(sku: "HOT", quantity: 2)],
            payment: PaymentDetails(amount: Money(amountMinor: 500, currency: "CNY"), method: "card")
        )
        let now = InventoryClock.wallClockMilliseconds()
        var saga = CheckoutSaga(
            orderID: OrderIdentity.orderID(userID: "u1", requestID: request),
            request: order,
            now: now,
            deadlineMilliseconds: now + 30_000,
            holdMilliseconds: 600_000
        )
        _ = saga.nextAction(now: now)
        try await app.orders.store.save(saga)
        return (order, saga)
    }

    @Test func aRetryThatFindsAnUnfinishedOrderDrivesIt() async throws {
        let app = try OrdersTestApp()
        let (order, saga) = try await leftUnfinished(app, request: "r1")
        // The retry comes before the service runs (and before its resumption could reach the order).
        let outcome = try await app.orders.service.place(order, waitForPayment: false)
        guard case .replayed = outcome else {
            Issue.record("a retry replays: \(outcome)")
            return
        }
        let sagas = Task { await app.orders.service.run() }
        var final: CheckoutSaga?
        for _ in 0..<200 {
            final = try await app.orders.service.order(id: saga.orderID)
            if final?.status.isFinal == true { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(final?.status == .confirmed)
        #expect(try await app.inventory.item(sku: "HOT")?.sold == 2)
        sagas.cancel()
        await sagas.value
        await app.close()
    }

    @Test func aCancelOfAnOrderNotYetResumedIsAppliedByTheTaskThatDrivesIt() async throws {
        let app = try OrdersTestApp()
        let (_, saga) = try await leftUnfinished(app, request: "r2")
        async let cancelled = app.orders.service.cancel(id: saga.orderID)
        try await Task.sleep(for: .milliseconds(50))
        let sagas = Task { await app.orders.service.run() }
        guard case .accepted(let final) = try await cancelled else {
            Issue.record("the cancel is accepted")
            sagas.cancel()
            await sagas.value
            await app.close()
            return
        }
        #expect(final.status == .cancelled && final.reason == .cancelledByUser)
        let item = try #require(try await app.inventory.item(sku: "HOT"))
        #expect(item.stock == 10 && item.reserved == 0 && item.sold == 0)
        sagas.cancel()
        await sagas.value
        await app.close()
    }
}
