import StampedeInventory
import StampedeInventoryRedis
import StampedeRedis
import StampedeTesting
import Testing

/// Reservations behave the same in every store: the embedded journal store and the Redis store.
@Suite("Reservation contract (embedded and Redis)")
struct ReservationContractTests {
    func hold(_ order: String, user: String = "u1", amount: Int64 = 1, ms: Int64 = 5_000) -> DeductRequest {
        DeductRequest(sku: "SKU", userID: user, orderID: order, amount: amount, holdMilliseconds: ms)
    }

    func put(_ store: any InventoryStore, stock: Int64 = 10, limitPerUser: Int64? = nil) async throws {
        _ = try await store.putItem(
            sku: "SKU",
            config: ItemConfig(stock: stock, limitPerUser: limitPerUser, rateWindowMilliseconds: 0)
        )
    }

    func counts(_ store: any InventoryStore) async throws -> (stock: Int64, reserved: Int64, sold: Int64) {
        let item = try #require(try await store.item(sku: "SKU"))
        return (item.stock, item.reserved, item.sold)
    }

    @Test(arguments: StoreKind.allCases)
    func aHoldIsReservedThenConfirmedOnce(kind: StoreKind) async throws {
        let clock = ManualClock()
        try await StoreHarness.with(kind, clock: clock) { store in
            try await put(store)
            let outcome = try await store.deduct(hold("r1", amount: 3))
            #expect(outcome == DeductOutcome(code: .success, stock: 7, holdDeadlineMilliseconds: clock.now + 5_000))
            #expect(try await counts(store) == (7, 3, 0))
            let log = try #require(try await store.log(orderID: "r1"))
            #expect(log.status == .held && log.holdDeadlineMilliseconds == clock.now + 5_000)
            // A retry replays, even with another hold length; a plain deduct with the id conflicts.
            #expect(try await store.deduct(hold("r1", amount: 3, ms: 9_000)).replayed)
            #expect(
                try await store.deduct(DeductRequest(sku: "SKU", userID: "u1", orderID: "r1", amount: 3)).code
                    == .orderConflict
            )

            clock.advance(milliseconds: 4_999)
            #expect(try await store.confirm(orderID: "r1") == ConfirmOutcome(code: .confirmed, sku: "SKU", amount: 3))
            #expect(
                try await store.confirm(orderID: "r1") == ConfirmOutcome(code: .alreadyConfirmed, sku: "SKU", amount: 3)
            )
            #expect(try await counts(store) == (7, 0, 3))
            #expect(try await store.log(orderID: "r1")?.status == .confirmed)
            clock.advance(milliseconds: 60_000)
            #expect(try await store.expireHolds(max: 10).isEmpty)
            #expect(try await counts(store) == (7, 0, 3))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aLateConfirmIsRefusedAndTheUnitsReturnExactlyOnce(kind: StoreKind) async throws {
        let clock = ManualClock()
        try await StoreHarness.with(kind, clock: clock) { store in
            try await put(store, limitPerUser: 2)
            _ = try await store.deduct(hold("r1", amount: 2))
            #expect(try await store.deduct(hold("r2")).code == .userLimitExceeded)
            clock.advance(milliseconds: 5_000)
            #expect(try await store.confirm(orderID: "r1") == ConfirmOutcome(code: .holdExpired, sku: "SKU", amount: 2))
            #expect(try await counts(store) == (10, 0, 0))
            #expect(try await store.log(orderID: "r1")?.status == .expired)
            #expect(try await store.expireHolds(max: 10).isEmpty)
            #expect(try await store.release(orderID: "r1").code == .alreadyReleased)
            #expect(try await counts(store) == (10, 0, 0))
            // The user's cap is free again.
            #expect(try await store.deduct(hold("r3", amount: 2)).code == .success)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func dueHoldsExpireEarliestFirstInBatches(kind: StoreKind) async throws {
        let clock = ManualClock()
        try await StoreHarness.with(kind, clock: clock) { store in
            try await put(store)
            _ = try await store.deduct(hold("late", ms: 3_000))
            _ = try await store.deduct(hold("early", user: "u2", ms: 1_000))
            _ = try await store.deduct(hold("middle", user: "u3", ms: 2_000))
            _ = try await store.deduct(hold("kept", user: "u4", ms: 60_000))
            _ = try await store.deduct(hold("confirmed", user: "u5", ms: 1_000))
            _ = try await store.confirm(orderID: "confirmed")
            clock.advance(milliseconds: 999)
            #expect(try await store.expireHolds(max: 10).isEmpty)
            clock.advance(milliseconds: 2_001)
            let first = try await store.expireHolds(max: 1)
            #expect(first == [ExpiredHold(orderID: "early", sku: "SKU", amount: 1, stock: 6)])
            let rest = try await store.expireHolds(max: 10)
            #expect(rest.map(\.orderID) == ["middle", "late"])
            #expect(try await counts(store) == (8, 1, 1))
            #expect(try await store.release(orderID: "kept").code == .released)
            clock.advance(milliseconds: 60_000)
            #expect(try await store.expireHolds(max: 10).isEmpty)
            #expect(try await counts(store) == (9, 0, 1))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func releasingAHoldOrAConfirmedReservationReturnsItsUnits(kind: StoreKind) async throws {
        try await StoreHarness.with(kind, clock: ManualClock()) { store in
            try await put(store)
            _ = try await store.deduct(hold("held", amount: 2))
            _ = try await store.deduct(hold("paid", user: "u2", amount: 3))
            _ = try await store.confirm(orderID: "paid")
            #expect(try await counts(store) == (5, 2, 3))
            let released = try await store.release(orderID: "held")
            #expect(released == ReleaseOutcome(code: .released, releasedAmount: 2, stock: 7, sku: "SKU"))
            #expect(
                try await store.confirm(orderID: "held") == ConfirmOutcome(code: .orderReleased, sku: "SKU", amount: 2)
            )
            #expect(try await store.release(orderID: "paid").code == .released)
            #expect(try await counts(store) == (10, 0, 0))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func confirmRefusesPlainDeductsUnknownOrdersAndSupersededHolds(kind: StoreKind) async throws {
        try await StoreHarness.with(kind, clock: ManualClock()) { store in
            try await put(store)
            _ = try await store.deduct(DeductRequest(sku: "SKU", userID: "u1", orderID: "d1", amount: 1))
            #expect(try await store.confirm(orderID: "d1").code == .notAReservation)
            #expect(try await store.confirm(orderID: "nope") == ConfirmOutcome(code: .orderNotFound))
            _ = try await store.deduct(hold("r1", user: "u2"))
            try await put(store, stock: 4)
            #expect(try await store.confirm(orderID: "r1").code == .orderSuperseded)
            #expect(try await counts(store) == (4, 0, 0))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aCompensationThatOvertakesItsReservationClosesTheID(kind: StoreKind) async throws {
        try await StoreHarness.with(kind, clock: ManualClock()) { store in
            try await put(store)
            // The saga's release arrives first (its reserve is still on the way): nothing to return, the id closes.
            #expect(try await store.release(orderID: "late", recordingIfUnknown: true).code == .orderNotFound)
            #expect(try await store.release(orderID: "late", recordingIfUnknown: true).code == .orderNotFound)
            #expect(try await store.deduct(hold("late", amount: 2)).code == .orderCancelled)
            #expect(try await store.log(orderID: "late") == nil)
            #expect(try await store.confirm(orderID: "late").code == .orderNotFound)
            #expect(try await counts(store) == (10, 0, 0))
            // The public release of an unknown id leaves nothing behind.
            #expect(try await store.release(orderID: "typo").code == .orderNotFound)
            #expect(try await store.deduct(hold("typo")).code == .success)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentReservationsNeverOversell(kind: StoreKind) async throws {
        try await StoreHarness.with(kind, clock: ManualClock()) { store in
            try await put(store, stock: 50)
            let taken = try await withThrowingTaskGroup(of: Int64.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let amount = Int64(index % 3 + 1)
                        let outcome = try await store.deduct(hold("r\(index)", user: "u\(index)", amount: amount))
                        return outcome.isSuccess ? amount : 0
                    }
                }
                return try await group.reduce(0, +)
            }
            let (stock, reserved, sold) = try await counts(store)
            #expect(reserved == taken && sold == 0 && stock + reserved == 50)
        }
    }
}

/// Deadlines survive a restart, and several instances sweeping one Redis expire each hold once.
@Suite("Reservations across restarts and instances")
struct ReservationDurabilityTests {
    @Test func anEmbeddedHoldsDeadlineSurvivesARestart() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        let configuration = EmbeddedInventoryStore.Configuration(dataDirectory: directory.path)
        var store = try EmbeddedInventoryStore(
            configuration: configuration,
            logger: StoreHarness.logger,
            clock: clock.closure
        )
        _ = try await store.putItem(sku: "SKU", config: ItemConfig(stock: 10, rateWindowMilliseconds: 0))
        for (order, ms) in [("short", Int64(1_000)), ("long", 10_000), ("paid", 1_000)] {
            _ = try await store.deduct(
                DeductRequest(sku: "SKU", userID: order, orderID: order, amount: 2, holdMilliseconds: ms)
            )
        }
        _ = try await store.confirm(orderID: "paid")
        _ = try await store.release(orderID: "overtaken", recordingIfUnknown: true)
        await store.close()
        // Down past the first deadline: the hold is still reserved when the store comes back, then expires.
        clock.advance(milliseconds: 5_000)
        store = try EmbeddedInventoryStore(
            configuration: configuration,
            logger: StoreHarness.logger,
            clock: clock.closure
        )
        #expect(try await store.item(sku: "SKU")?.reserved == 4)
        #expect(try await store.expireHolds(max: 10).map(\.orderID) == ["short"])
        await store.close()
        // Again, from the snapshot that start wrote: the long hold keeps its deadline.
        store = try EmbeddedInventoryStore(
            configuration: configuration,
            logger: StoreHarness.logger,
            clock: clock.closure
        )
        #expect(try await store.expireHolds(max: 10).isEmpty)
        #expect(try await store.log(orderID: "short")?.status == .expired)
        let late = DeductRequest(sku: "SKU", userID: "x", orderID: "overtaken", amount: 1, holdMilliseconds: 1_000)
        #expect(try await store.deduct(late).code == .orderCancelled, "the barrier survives restarts")
        clock.advance(milliseconds: 5_000)
        #expect(try await store.expireHolds(max: 10).map(\.orderID) == ["long"])
        let item = try #require(try await store.item(sku: "SKU"))
        #expect(item.stock == 8 && item.reserved == 0 && item.sold == 2)
        await store.close()
    }

    @Test func twoInstancesSweepingOneRedisExpireEachHoldOnce() async throws {
        let server = try await RedisServerProcess.start()
        let clock = ManualClock()
        var clients: [RedisClient] = []
        var stores: [RedisInventoryStore] = []
        for _ in 0..<2 {
            let client = try RedisClient(
                configuration: RedisConfiguration(url: server.url),
                logger: StoreHarness.logger
            )
            clients.append(client)
            stores.append(RedisInventoryStore(client: client, logger: StoreHarness.logger, clock: clock.closure))
        }
        _ = try await stores[0].putItem(sku: "SKU", config: ItemConfig(stock: 1_000, rateWindowMilliseconds: 0))
        for index in 0..<400 {
            let request = DeductRequest(
                sku: "SKU",
                userID: "u\(index)",
                orderID: "r\(index)",
                amount: 2,
                holdMilliseconds: 1_000
            )
            #expect(try await stores[index % 2].deduct(request).isSuccess)
        }
        clock.advance(milliseconds: 1_000)
        let sweeps = stores.map { store in
            Task {
                var expired: [String] = []
                while true {
                    let batch = try await store.expireHolds(max: 7)
                    if batch.isEmpty { return expired }
                    expired += batch.map(\.orderID)
                }
            }
        }
        var all: [String] = []
        for sweep in sweeps { all += try await sweep.value }
        #expect(all.count == 400)
        #expect(Set(all).count == 400)
        let item = try #require(try await stores[1].item(sku: "SKU"))
        #expect(item.stock == 1_000 && item.reserved == 0)
        for client in clients { await client.shutdown() }
        await server.stop()
    }
}
