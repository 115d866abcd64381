import StampedeJournal
import Testing

@testable import StampedeInventory

@Suite("Reservations in the engine: hold, confirm, release, expire")
struct ReservationEngineTests {
    let now: Int64 = 1_800_000_000_000

    func engine(stock: Int64 = 10, limitPerUser: Int64? = nil) -> InventoryEngine {
        var engine = InventoryEngine()
        let config = ItemConfig(stock: stock, limitPerUser: limitPerUser, rateWindowMilliseconds: 0)
        _ = engine.put(sku: "HOT", config: config, now: now)
        return engine
    }

    func hold(_ order: String, user: String = "u1", amount: Int64 = 1, ms: Int64 = 5_000) -> DeductRequest {
        DeductRequest(sku: "HOT", userID: user, orderID: order, amount: amount, holdMilliseconds: ms)
    }

    /// stock + reserved + sold is the generation's initial stock.
    func expectConserved(_ engine: InventoryEngine, initial: Int64 = 10) {
        let item = engine.item("HOT")!
        #expect(item.stock + item.reserved + item.sold == initial)
    }

    @Test func aReservationTakesUnitsIntoReservedWithADeadline() {
        var engine = engine()
        let (outcome, record) = engine.deduct(hold("r1", amount: 3), now: now)
        #expect(outcome == DeductOutcome(code: .success, stock: 7, holdDeadlineMilliseconds: now + 5_000))
        #expect(engine.item("HOT")?.reserved == 3)
        #expect(engine.item("HOT")?.sold == 0)
        #expect(engine.order("r1")?.status == .held)
        guard case .deduct(let order) = record else {
            Issue.record("a reservation is journaled as a deduct with a deadline: \(String(describing: record))")
            return
        }
        #expect(order.holdDeadlineMilliseconds == now + 5_000)
    }

    @Test func aRetriedReservationReplaysAndAPlainDeductWithItsIDConflicts() {
        var engine = engine()
        _ = engine.deduct(hold("r1", amount: 2), now: now)
        let (replay, record) = engine.deduct(hold("r1", amount: 2, ms: 60_000), now: now + 10)
        #expect(
            replay == DeductOutcome(code: .success, stock: 8, replayed: true, holdDeadlineMilliseconds: now + 5_000)
        )
        #expect(record == nil)
        let plain = DeductRequest(sku: "HOT", userID: "u1", orderID: "r1", amount: 2)
        #expect(engine.deduct(plain, now: now).0.code == .orderConflict)
        #expect(engine.item("HOT")?.reserved == 2)
    }

    @Test func confirmMakesTheHoldASaleOnce() {
        var engine = engine()
        _ = engine.deduct(hold("r1", amount: 3), now: now)
        let (first, record) = engine.confirm(orderID: "r1", now: now + 4_999)
        #expect(first == ConfirmOutcome(code: .confirmed, sku: "HOT", amount: 3))
        #expect(record == .confirm(orderID: "r1", timestampMilliseconds: now + 4_999))
        #expect(engine.item("HOT")?.reserved == 0)
        #expect(engine.item("HOT")?.sold == 3)
        let (again, none) = engine.confirm(orderID: "r1", now: now + 10_000)
        #expect(again.code == .alreadyConfirmed)
        #expect(none == nil)
        // A confirmed hold never expires.
        #expect(engine.expireDue(now: now + 10_000, max: 10).isEmpty)
        #expect(engine.order("r1")?.status == .confirmed)
        expectConserved(engine)
    }

    @Test func aConfirmAtTheDeadlineIsRefusedAndTheUnitsReturn() {
        var engine = engine()
        _ = engine.deduct(hold("r1", amount: 4), now: now)
        let (outcome, record) = engine.confirm(orderID: "r1", now: now + 5_000)
        #expect(outcome.code == .holdExpired)
        #expect(record == .expire(orderID: "r1", timestampMilliseconds: now + 5_000))
        #expect(engine.item("HOT")?.stock == 10)
        #expect(engine.item("HOT")?.reserved == 0)
        #expect(engine.order("r1")?.status == .expired)
        // The sweep finds nothing left to do: the units returned once.
        #expect(engine.expireDue(now: now + 6_000, max: 10).isEmpty)
        #expect(engine.confirm(orderID: "r1", now: now + 6_000).0.code == .holdExpired)
        expectConserved(engine)
    }

    @Test func expiryReturnsDueHoldsEarliestFirstWithinTheBatch() {
        var engine = engine()
        _ = engine.deduct(hold("late", ms: 3_000), now: now)
        _ = engine.deduct(hold("early", user: "u2", ms: 1_000), now: now)
        _ = engine.deduct(hold("middle", user: "u3", ms: 2_000), now: now)
        _ = engine.deduct(hold("kept", user: "u4", ms: 60_000), now: now)
        #expect(engine.expireDue(now: now + 999, max: 10).isEmpty)
        let first = engine.expireDue(now: now + 2_500, max: 1)
        #expect(first.map(\.0.orderID) == ["early"])
        #expect(first.first?.1 == .expire(orderID: "early", timestampMilliseconds: now + 2_500))
        let rest = engine.expireDue(now: now + 3_000, max: 10)
        #expect(rest.map(\.0.orderID) == ["middle", "late"])
        #expect(rest.last?.0.stock == 9)
        #expect(engine.item("HOT")?.reserved == 1)
        #expect(engine.order("kept")?.status == .held)
        expectConserved(engine)
    }

    @Test func releasingAHoldReturnsItsUnitsFromReservedOnce() {
        var engine = engine(limitPerUser: 2)
        _ = engine.deduct(hold("r1", amount: 2), now: now)
        // The cap counts held units.
        #expect(engine.deduct(hold("r2"), now: now).0.code == .userLimitExceeded)
        let (released, record) = engine.release(orderID: "r1", now: now + 1)
        #expect(released.code == .released && released.releasedAmount == 2 && released.stock == 10)
        #expect(record == .release(orderID: "r1", timestampMilliseconds: now + 1))
        #expect(engine.item("HOT")?.reserved == 0)
        #expect(engine.release(orderID: "r1", now: now + 2).0.code == .alreadyReleased)
        #expect(engine.confirm(orderID: "r1", now: now + 3).0.code == .orderReleased)
        #expect(engine.expireDue(now: now + 10_000, max: 10).isEmpty)
        #expect(engine.deduct(hold("r3", amount: 2), now: now).0.code == .success)
        expectConserved(engine)
    }

    @Test func releasingAConfirmedReservationReturnsSoldUnits() {
        var engine = engine()
        _ = engine.deduct(hold("r1", amount: 3), now: now)
        _ = engine.confirm(orderID: "r1", now: now + 1)
        #expect(engine.release(orderID: "r1", now: now + 2).0.code == .released)
        #expect(
            engine.item("HOT")
                == ItemSnapshot(
                    sku: "HOT",
                    stock: 10,
                    sold: 0,
                    reserved: 0,
                    limitPerUser: nil,
                    rateWindowMilliseconds: 0
                )
        )
        #expect(engine.order("r1")?.status == .released)
    }

    @Test func confirmOfAPlainDeductOrAnUnknownOrderIsRefused() {
        var engine = engine()
        _ = engine.deduct(DeductRequest(sku: "HOT", userID: "u1", orderID: "d1", amount: 1), now: now)
        #expect(engine.confirm(orderID: "d1", now: now).0.code == .notAReservation)
        #expect(engine.confirm(orderID: "nope", now: now).0 == ConfirmOutcome(code: .orderNotFound))
    }

    @Test func aResetSupersedesLiveHoldsWithoutReturningTheirUnits() {
        var engine = engine()
        _ = engine.deduct(hold("r1", amount: 3), now: now)
        _ = engine.put(sku: "HOT", config: ItemConfig(stock: 5, rateWindowMilliseconds: 0), now: now)
        #expect(engine.confirm(orderID: "r1", now: now + 1).0.code == .orderSuperseded)
        #expect(engine.expireDue(now: now + 10_000, max: 10).isEmpty)
        #expect(engine.item("HOT")?.stock == 5)
        #expect(engine.item("HOT")?.reserved == 0)
    }

    @Test func replayFromTheJournalOrASnapshotKeepsEveryHoldState() throws {
        var engine = engine(limitPerUser: 5)
        var records: [JournalRecord] = []
        func keep(_ record: JournalRecord?) { if let record { records.append(record) } }
        keep(engine.deduct(hold("held", amount: 2, ms: 10_000), now: now).1)
        keep(engine.deduct(hold("confirmed", user: "u2", amount: 1), now: now).1)
        keep(engine.deduct(hold("released", user: "u3", amount: 1), now: now).1)
        keep(engine.deduct(hold("expired", user: "u4", amount: 2, ms: 1_000), now: now).1)
        keep(engine.deduct(DeductRequest(sku: "HOT", userID: "u5", orderID: "sold", amount: 1), now: now).1)
        keep(engine.confirm(orderID: "confirmed", now: now + 1).1)
        keep(engine.release(orderID: "released", now: now + 1).1)
        for (_, record) in engine.expireDue(now: now + 1_000, max: 10) { keep(record) }
        #expect(
            engine.item("HOT")
                == ItemSnapshot(sku: "HOT", stock: 6, sold: 2, reserved: 2, limitPerUser: 5, rateWindowMilliseconds: 0)
        )

        var fromJournal = self.engine(limitPerUser: 5)
        for record in records { try fromJournal.replay(record) }
        var fromSnapshot = InventoryEngine()
        for record in engine.snapshotRecords() { try fromSnapshot.replay(record) }
        for rebuilt in [fromJournal, fromSnapshot] {
            #expect(rebuilt.item("HOT") == engine.item("HOT"))
            for id in ["held", "confirmed", "released", "expired", "sold"] {
                #expect(rebuilt.order(id) == engine.order(id))
            }
        }
        // The deadline of the live hold survives: it expires at its time after the rebuild.
        #expect(fromSnapshot.expireDue(now: now + 9_999, max: 10).isEmpty)
        #expect(fromSnapshot.expireDue(now: now + 10_000, max: 10).map(\.0.orderID) == ["held"])
        // The cap still counts what each user holds.
        #expect(fromSnapshot.deduct(hold("more", amount: 4), now: now + 10_000).0.code == .success)
        #expect(fromSnapshot.deduct(hold("past-cap", amount: 2), now: now + 10_000).0.code == .userLimitExceeded)
    }

    @Test func aConfirmOrExpiryOfANonLiveHoldInTheJournalIsCorruption() throws {
        var engine = engine()
        _ = engine.deduct(DeductRequest(sku: "HOT", userID: "u1", orderID: "d1", amount: 1), now: now)
        #expect(throws: JournalReplayError.self) {
            try engine.replay(.confirm(orderID: "d1", timestampMilliseconds: now))
        }
        #expect(throws: JournalReplayError.self) {
            try engine.replay(.expire(orderID: "missing", timestampMilliseconds: now))
        }
    }

    @Test func holdLengthIsValidated() {
        let limits = InventoryLimits.default
        #expect(hold("r", ms: 99).invalidField(limits: limits)?.field == "hold_ms")
        #expect(hold("r", ms: 86_400_001).invalidField(limits: limits)?.field == "hold_ms")
        #expect(hold("r", ms: 100).invalidField(limits: limits) == nil)
    }

    @Test func reservationRecordsRoundTripThroughTheJournalCodec() throws {
        let order = OrderRecord(
            orderID: "r1",
            sku: "HOT",
            userID: "u1",
            amount: 2,
            oldStock: 10,
            newStock: 8,
            timestampMilliseconds: now,
            generation: 3,
            released: true,
            holdDeadlineMilliseconds: now + 5,
            confirmed: false,
            expired: true
        )
        let plain = OrderRecord(
            orderID: "d1",
            sku: "HOT",
            userID: "u1",
            amount: 2,
            oldStock: 10,
            newStock: 8,
            timestampMilliseconds: now,
            generation: 3,
            released: false
        )
        for record in [
            JournalRecord.deduct(order), .deduct(plain), .confirm(orderID: "r1", timestampMilliseconds: now),
            .expire(orderID: "r1", timestampMilliseconds: now),
        ] {
            var bytes: [UInt8] = []
            record.encode(into: &bytes)
            let decoded = try bytes.withUnsafeBytes { try JournalRecord.decode($0) }
            #expect(decoded == record)
        }
    }
}
