import StampedeInventory
import Testing

/// One behaviour suite for every ``InventoryStore``: the embedded journal store and the Redis store.
@Suite("Inventory store contract (embedded and Redis)")
struct InventoryStoreContractTests {
    func request(_ order: String, user: String = "u1", sku: String = "SKU", amount: Int64 = 1) -> DeductRequest {
        DeductRequest(sku: sku, userID: user, orderID: order, amount: amount)
    }

    @Test(arguments: StoreKind.allCases)
    func putCreatesThenResetsAndGetReadsTheItem(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { store in
            #expect(try await store.item(sku: "SKU") == nil)
            let created = try await store.putItem(
                sku: "SKU",
                config: ItemConfig(stock: 10, limitPerUser: 3, rateWindowMilliseconds: 0)
            )
            guard case .created(let item) = created else {
                Issue.record("first put creates: \(created)")
                return
            }
            #expect(item == ItemSnapshot(sku: "SKU", stock: 10, sold: 0, limitPerUser: 3, rateWindowMilliseconds: 0))
            _ = try await store.deduct(request("o1"))
            #expect(try await store.item(sku: "SKU")?.sold == 1)
            let reset = try await store.putItem(sku: "SKU", config: ItemConfig(stock: 5, rateWindowMilliseconds: 250))
            guard case .reset = reset else {
                Issue.record("second put resets: \(reset)")
                return
            }
            #expect(
                try await store.item(sku: "SKU")
                    == ItemSnapshot(sku: "SKU", stock: 5, sold: 0, limitPerUser: nil, rateWindowMilliseconds: 250)
            )
            #expect(try await store.items().map(\.sku) == ["SKU"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aDeductTakesStockAndLogsItsOrder(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { store in
            _ = try await store.putItem(sku: "SKU", config: ItemConfig(stock: 10, rateWindowMilliseconds: 0))
            let outcome = try await store.deduct(request("o1", amount: 4))
            #expect(outcome == DeductOutcome(code: .success, stock: 6))
            let log = try #require(try await store.log(orderID: "o1"))
            #expect(log.sku == "SKU" && log.userID == "u1" && log.amount == 4)
            #expect(log.oldStock == 10 && log.newStock == 6 && !log.released)
            #expect(log.timestampMilliseconds > 1_700_000_000_000)
            #expect(try await store.log(orderID: "missing") == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func theSameOrderReplaysItsOutcomeAndAnotherPayloadConflicts(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { store in
            _ = try await store.putItem(sku: "SKU", config: ItemConfig(stock: 10, rateWindowMilliseconds: 60_000))
            #expect(try await store.deduct(request("o1", amount: 2)) == DeductOutcome(code: .success, stock: 8))
            _ = try await store.deduct(request("o2", user: "u2", amount: 3))
            // The replay comes before the rate window: a retry after a timeout gets its answer, not rate_limited.
            #expect(
                try await store.deduct(request("o1", amount: 2))
                    == DeductOutcome(code: .success, stock: 8, replayed: true)
            )
            #expect(try await store.deduct(request("o1", amount: 3)).code == .orderConflict)
            #expect(try await store.deduct(request("o1", user: "u9", amount: 2)).code == .orderConflict)
            #expect(try await store.item(sku: "SKU")?.stock == 5)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func eachRuleAnswersWithItsCode(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { store in
            #expect(try await store.deduct(request("o0", sku: "NOPE")).code == .stockNotFound)
            _ = try await store.putItem(sku: "W", config: ItemConfig(stock: 100, rateWindowMilliseconds: 60_000))
            #expect(try await store.deduct(request("w1", sku: "W")).code == .success)
            #expect(try await store.deduct(request("w2", sku: "W")).code == .rateLimited)
            #expect(try await store.deduct(request("w3", user: "u2", sku: "W")).code == .success)
            _ = try await store.putItem(
                sku: "C",
                config: ItemConfig(stock: 100, limitPerUser: 3, rateWindowMilliseconds: 0)
            )
            #expect(try await store.deduct(request("c1", sku: "C", amount: 2)).code == .success)
            #expect(try await store.deduct(request("c2", sku: "C", amount: 2)).code == .userLimitExceeded)
            #expect(try await store.deduct(request("c3", sku: "C", amount: 1)).code == .success)
            #expect(try await store.deduct(request("c4", user: "u2", sku: "C", amount: 3)).code == .success)
            _ = try await store.putItem(sku: "S", config: ItemConfig(stock: 3, rateWindowMilliseconds: 0))
            #expect(try await store.deduct(request("s1", sku: "S", amount: 2)).code == .success)
            #expect(
                try await store.deduct(request("s2", sku: "S", amount: 2))
                    == DeductOutcome(code: .insufficientStock, stock: 1)
            )
            #expect(try await store.item(sku: "S")?.stock == 1)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aResetStartsANewRateWindowAndNewCaps(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { store in
            let config = ItemConfig(stock: 10, limitPerUser: 1, rateWindowMilliseconds: 60_000)
            _ = try await store.putItem(sku: "SKU", config: config)
            #expect(try await store.deduct(request("o1")).code == .success)
            #expect(try await store.deduct(request("o2")).code == .rateLimited)
            _ = try await store.putItem(sku: "SKU", config: config)
            #expect(try await store.deduct(request("o3")).code == .success)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aBatchAppliesInOrderWithOneOutcomeEach(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { store in
            _ = try await store.putItem(sku: "SKU", config: ItemConfig(stock: 3, rateWindowMilliseconds: 0))
            let outcomes = try await store.deductBatch([
                request("b1", amount: 2), request("b2", amount: 2), request("b3", amount: 1), request("b1", amount: 2),
                request("b4", sku: "NOPE"),
            ])
            #expect(
                outcomes == [
                    DeductOutcome(code: .success, stock: 1), DeductOutcome(code: .insufficientStock, stock: 1),
                    DeductOutcome(code: .success, stock: 0), DeductOutcome(code: .success, stock: 1, replayed: true),
                    DeductOutcome(code: .stockNotFound),
                ]
            )
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aReleaseReturnsUnitsExactlyOnce(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { store in
            _ = try await store.putItem(
                sku: "SKU",
                config: ItemConfig(stock: 5, limitPerUser: 2, rateWindowMilliseconds: 0)
            )
            _ = try await store.deduct(request("o1", amount: 2))
            #expect(try await store.deduct(request("o2", amount: 1)).code == .userLimitExceeded)
            let first = try await store.release(orderID: "o1")
            #expect(first == ReleaseOutcome(code: .released, releasedAmount: 2, stock: 5, sku: "SKU"))
            #expect(
                try await store.release(orderID: "o1") == ReleaseOutcome(code: .alreadyReleased, stock: 5, sku: "SKU")
            )
            #expect(try await store.release(orderID: "nope").code == .orderNotFound)
            #expect(try await store.log(orderID: "o1")?.released == true)
            // Released units count against the cap no more.
            #expect(try await store.deduct(request("o3", amount: 2)).code == .success)
            #expect(try await store.item(sku: "SKU").map { ($0.stock, $0.sold) } ?? (0, 0) == (3, 2))
            _ = try await store.putItem(sku: "SKU", config: ItemConfig(stock: 5, rateWindowMilliseconds: 0))
            #expect(try await store.release(orderID: "o3").code == .orderSuperseded)
            #expect(try await store.item(sku: "SKU")?.stock == 5)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func limitsOnItemsAndOrderRecordsAnswerWithCodes(kind: StoreKind) async throws {
        let limits = InventoryLimits(itemsMax: 2, orderRecordsMax: 2)
        try await StoreHarness.with(kind, limits: limits) { store in
            _ = try await store.putItem(sku: "A", config: ItemConfig(stock: 10, rateWindowMilliseconds: 0))
            _ = try await store.putItem(sku: "B", config: ItemConfig(stock: 10, rateWindowMilliseconds: 0))
            #expect(try await store.putItem(sku: "C", config: ItemConfig(stock: 1)) == .tooManyItems(max: 2))
            guard
                case .reset = try await store.putItem(
                    sku: "A",
                    config: ItemConfig(stock: 10, rateWindowMilliseconds: 0)
                )
            else {
                Issue.record("a reset is not a new item")
                return
            }
            #expect(try await store.deduct(request("o1", sku: "A")).code == .success)
            #expect(try await store.deduct(request("o2", sku: "A")).code == .success)
            #expect(try await store.deduct(request("o3", sku: "A")).code == .capacityExhausted)
            #expect(try await store.deduct(request("o1", sku: "A")).replayed)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentBuyersOnOneSkuNeverOversellAndRespectCaps(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { store in
            let stock: Int64 = 200  // below the 240 units the caps allow: stock and caps both bind
            let users = 120
            let ordersPerUser = 4
            let cap: Int64 = 2
            _ = try await store.putItem(
                sku: "HOT",
                config: ItemConfig(stock: stock, limitPerUser: cap, rateWindowMilliseconds: 0)
            )
            // Every order is sent twice (a client retry), from many tasks at once.
            let outcomes = try await withThrowingTaskGroup(of: (String, DeductOutcome).self) { group in
                for user in 0..<users {
                    for order in 0..<ordersPerUser {
                        for _ in 0..<2 {
                            group.addTask {
                                let id = "u\(user)-o\(order)"
                                return (id, try await store.deduct(self.request(id, user: "u\(user)", sku: "HOT")))
                            }
                        }
                    }
                }
                var all: [(String, DeductOutcome)] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            let sold = Set(outcomes.filter { $0.1.isSuccess }.map(\.0))
            let expected = min(stock, Int64(users) * cap)
            let item = try #require(try await store.item(sku: "HOT"))
            #expect(item.sold == expected && item.stock == stock - expected)
            #expect(Int64(sold.count) == expected)
            var perUser: [Substring: Int] = [:]
            for order in sold { perUser[order.split(separator: "-")[0], default: 0] += 1 }
            #expect(perUser.values.allSatisfy { $0 <= Int(cap) })
            var stockByOrder: [String: Int64] = [:]
            for (order, outcome) in outcomes where outcome.isSuccess {
                if let seen = stockByOrder.updateValue(outcome.stock, forKey: order) { #expect(seen == outcome.stock) }
            }
        }
    }
}
