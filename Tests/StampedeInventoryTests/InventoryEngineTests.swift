import StampedeJournal
import Testing

@testable import StampedeInventory

@Suite("Inventory engine rules")
struct InventoryEngineTests {
    let now: Int64 = 1_800_000_000_000

    func engine(stock: Int64 = 10, limitPerUser: Int64? = nil, windowMilliseconds: Int64 = 0) -> InventoryEngine {
        var engine = InventoryEngine()
        let config = ItemConfig(stock: stock, limitPerUser: limitPerUser, rateWindowMilliseconds: windowMilliseconds)
        _ = engine.put(sku: "HOT", config: config, now: now)
        return engine
    }

    func request(_ order: String, user: String = "u1", amount: Int64 = 1, sku: String = "HOT") -> DeductRequest {
        DeductRequest(sku: sku, userID: user, orderID: order, amount: amount)
    }

    @Test func deductTakesStockAndLogsTheOrder() {
        var engine = engine()
        let (outcome, record) = engine.deduct(request("o1", amount: 3), now: now)
        #expect(outcome == DeductOutcome(code: .success, stock: 7))
        #expect(engine.item("HOT")?.stock == 7)
        #expect(engine.item("HOT")?.sold == 3)
        let order = engine.order("o1")
        #expect(order?.oldStock == 10)
        #expect(order?.newStock == 7)
        #expect(record == .deduct(order!))
    }

    @Test func repeatedOrderReturnsTheOriginalOutcomeAndDeductsOnce() {
        var engine = engine()
        _ = engine.deduct(request("o1", amount: 2), now: now)
        _ = engine.deduct(request("o2", user: "u2", amount: 1), now: now)
        let (replay, record) = engine.deduct(request("o1", amount: 2), now: now)
        #expect(replay == DeductOutcome(code: .success, stock: 8, replayed: true))
        #expect(record == nil)
        #expect(engine.item("HOT")?.sold == 3)
    }

    @Test func sameOrderWithAnotherPayloadConflicts() {
        var engine = engine()
        _ = engine.deduct(request("o1", amount: 2), now: now)
        #expect(engine.deduct(request("o1", amount: 3), now: now).0.code == .orderConflict)
        #expect(engine.deduct(request("o1", user: "u9", amount: 2), now: now).0.code == .orderConflict)
        #expect(engine.item("HOT")?.sold == 2)
    }

    @Test func unknownSkuIsNotFound() {
        var engine = engine()
        #expect(engine.deduct(request("o1", sku: "NOPE"), now: now).0.code == .stockNotFound)
    }

    @Test func insufficientStockReportsTheCurrentStock() {
        var engine = engine(stock: 2)
        let (outcome, record) = engine.deduct(request("o1", amount: 3), now: now)
        #expect(outcome == DeductOutcome(code: .insufficientStock, stock: 2))
        #expect(record == nil)
        #expect(engine.order("o1") == nil)
    }

    @Test func rateWindowAllowsOneRequestPerUserPerWindow() {
        var engine = engine(stock: 100, windowMilliseconds: 1000)
        #expect(engine.deduct(request("o1"), now: now).0.code == .success)
        #expect(engine.deduct(request("o2"), now: now + 999).0.code == .rateLimited)
        #expect(engine.deduct(request("o3", user: "u2"), now: now + 999).0.code == .success)
        #expect(engine.deduct(request("o4"), now: now + 1000).0.code == .success)
        // A retry of an order already taken is answered, not rate limited.
        #expect(
            engine.deduct(request("o4"), now: now + 1001).0 == DeductOutcome(code: .success, stock: 97, replayed: true)
        )
    }

    @Test func rateWindowFailsClosedWhenItTracksTooManyUsers() {
        var engine = InventoryEngine(limits: InventoryLimits(rateWindowUsersMax: 2))
        _ = engine.put(sku: "HOT", config: ItemConfig(stock: 100, rateWindowMilliseconds: 1000), now: now)
        #expect(engine.deduct(request("o1", user: "a"), now: now).0.code == .success)
        #expect(engine.deduct(request("o2", user: "b"), now: now).0.code == .success)
        #expect(engine.deduct(request("o3", user: "c"), now: now).0.code == .rateLimited)
        #expect(engine.deduct(request("o4", user: "c"), now: now + 1000).0.code == .success)
    }

    @Test func perUserCapCountsUnitsAcrossOrders() {
        var engine = engine(stock: 100, limitPerUser: 3)
        #expect(engine.deduct(request("o1", amount: 2), now: now).0.code == .success)
        #expect(engine.deduct(request("o2", amount: 2), now: now).0.code == .userLimitExceeded)
        #expect(engine.deduct(request("o3", amount: 1), now: now).0.code == .success)
        #expect(engine.deduct(request("o4", user: "u2", amount: 3), now: now).0.code == .success)
    }

    @Test func releaseReturnsUnitsExactlyOnce() {
        var engine = engine(stock: 10, limitPerUser: 2)
        _ = engine.deduct(request("o1", amount: 2), now: now)
        let (first, record) = engine.release(orderID: "o1", now: now)
        #expect(first.code == .released)
        #expect(first.releasedAmount == 2)
        #expect(first.stock == 10)
        #expect(record == .release(orderID: "o1", timestampMilliseconds: now))
        let (second, none) = engine.release(orderID: "o1", now: now)
        #expect(second.code == .alreadyReleased)
        #expect(second.releasedAmount == 0)
        #expect(none == nil)
        #expect(engine.item("HOT")?.stock == 10)
        #expect(engine.item("HOT")?.sold == 0)
        // The user's allowance came back with the units.
        #expect(engine.deduct(request("o2", amount: 2), now: now).0.code == .success)
        #expect(engine.release(orderID: "missing", now: now).0.code == .orderNotFound)
    }

    @Test func resetStartsANewGenerationAndSupersedesOldOrders() {
        var engine = engine(stock: 10, limitPerUser: 1)
        _ = engine.deduct(request("o1"), now: now)
        let (outcome, _) = engine.put(
            sku: "HOT",
            config: ItemConfig(stock: 5, limitPerUser: 1, rateWindowMilliseconds: 0),
            now: now
        )
        guard case .reset(let item) = outcome else {
            Issue.record("expected a reset, got \(outcome)")
            return
        }
        #expect(item.stock == 5 && item.sold == 0)
        #expect(engine.release(orderID: "o1", now: now).0.code == .orderSuperseded)
        #expect(engine.item("HOT")?.stock == 5)
        #expect(engine.deduct(request("o2"), now: now).0.code == .success)
    }

    @Test func capacityIsBoundedByOrderRecordsMax() {
        var engine = InventoryEngine(limits: InventoryLimits(orderRecordsMax: 2))
        _ = engine.put(sku: "HOT", config: ItemConfig(stock: 100, rateWindowMilliseconds: 0), now: now)
        #expect(engine.deduct(request("o1"), now: now).0.code == .success)
        #expect(engine.deduct(request("o2"), now: now).0.code == .success)
        #expect(engine.deduct(request("o3"), now: now).0.code == .capacityExhausted)
        #expect(engine.item("HOT")?.stock == 98)
    }

    @Test func itemsAreBoundedByItemsMax() {
        var engine = InventoryEngine(limits: InventoryLimits(itemsMax: 1))
        _ = engine.put(sku: "A", config: ItemConfig(stock: 1), now: now)
        #expect(engine.put(sku: "B", config: ItemConfig(stock: 1), now: now).0 == .tooManyItems(max: 1))
        if case .reset = engine.put(sku: "A", config: ItemConfig(stock: 2), now: now).0 {
        } else {
            Issue.record("resetting an existing item must work at the cap")
        }
    }

    @Test func replayingTheRecordsRebuildsTheSameState() throws {
        var engine = engine(stock: 10, limitPerUser: 5)
        var records: [JournalRecord] = []
        func keep(_ record: JournalRecord?) { if let record { records.append(record) } }
        keep(engine.put(sku: "B", config: ItemConfig(stock: 3), now: now).1)
        keep(engine.deduct(request("o1", amount: 2), now: now).1)
        keep(engine.deduct(request("o2", user: "u2", amount: 4), now: now).1)
        keep(engine.deduct(request("o3", sku: "B"), now: now).1)
        keep(engine.release(orderID: "o1", now: now).1)
        var rebuilt = self.engine(stock: 10, limitPerUser: 5)
        for record in records { try rebuilt.replay(record) }
        #expect(rebuilt.item("HOT") == engine.item("HOT"))
        #expect(rebuilt.item("B") == engine.item("B"))
        #expect(rebuilt.order("o1") == engine.order("o1"))
        // And from a snapshot.
        var fromSnapshot = InventoryEngine()
        for record in engine.snapshotRecords() { try fromSnapshot.replay(record) }
        #expect(fromSnapshot.item("HOT") == engine.item("HOT"))
        #expect(fromSnapshot.order("o1")?.released == true)
        #expect(fromSnapshot.deduct(request("o9", user: "u2", amount: 2), now: now).0.code == .userLimitExceeded)
    }

    @Test func validationNamesTheBadField() {
        let limits = InventoryLimits.default
        #expect(request("o1", amount: 0).invalidField(limits: limits)?.field == "amount")
        #expect(request("o1", amount: 10_001).invalidField(limits: limits)?.field == "amount")
        #expect(request("", amount: 1).invalidField(limits: limits)?.field == "order_id")
        #expect(
            request("o1", user: String(repeating: "u", count: 129)).invalidField(limits: limits)?.field == "user_id"
        )
        #expect(request("o1", sku: "a\nb").invalidField(limits: limits)?.field == "sku")
        #expect(request("o1").invalidField(limits: limits) == nil)
        #expect(ItemConfig(stock: -1).invalidField(limits: limits)?.field == "stock")
        #expect(ItemConfig(stock: 1, limitPerUser: 0).invalidField(limits: limits)?.field == "limit_per_user")
        #expect(
            ItemConfig(stock: 1, rateWindowMilliseconds: -5).invalidField(limits: limits)?.field == "rate_window_ms"
        )
    }

    @Test func limitsFitTheJournalFormat() {
        let limits = InventoryLimits.default
        // Three ids, nine integers (a reservation's deadline is the ninth), two flag bytes and the kind must fit.
        #expect(3 * (2 + limits.idBytesMax) + 9 * 8 + 3 <= JournalFrame.payloadBytesMax)
        #expect(limits.idBytesMax <= Int(UInt16.max))
        #expect(limits.amountMax <= limits.stockMax)
    }
}
