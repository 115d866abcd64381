import Synchronization

@testable import StampedeOrders

/// A reproducible world for checkout sagas: an inventory, a payment provider and an order store, all in memory,
/// sharing one virtual clock and one seeded random sequence. Every participant call may fail before or after it
/// commits; every store write may crash the orders process.
final class SimulatedWorld: Sendable {
    struct Hold {
        enum State { case held, confirmed, released, expired }
        var sku: String
        var quantity: Int64
        var deadline: Int64
        var state: State
    }

    struct Item {
        var initial: Int64
        var stock: Int64
        var reserved: Int64 = 0
        var sold: Int64 = 0
    }

    struct Charge {
        var orderID: String
        var succeeded: Bool
        var refunded = false
    }

    struct State {
        var now: Int64 = 1_800_000_000_000
        var random: SplitMix64
        var items: [String: Item] = [:]
        var holds: [String: Hold] = [:]
        var charges: [String: Charge] = [:]
        /// Charges created per order, whatever their key: more than one would be a double charge.
        var chargesCreated: [String: Int] = [:]
        var saved: [String: CheckoutSaga] = [:]
        var calls = 0
        var crashes = 0
    }

    struct Faults {
        /// Chance that a participant call fails (a third before doing anything, a third as a timeout before it
        /// commits, a third as a timeout after it commits).
        var call = 0.15
        /// Chance that a write of the order store crashes the process before it is durable.
        var crash = 0.05
        /// Chance that a new charge is declined.
        var decline = 0.1
    }

    struct Crash: Error {}

    let state: Mutex<State>
    let faults: Faults

    init(seed: UInt64, stock: [String: Int64], faults: Faults = Faults()) {
        var state = State(random: SplitMix64(seed: seed))
        for (sku, units) in stock { state.items[sku] = Item(initial: units, stock: units) }
        self.state = Mutex(state)
        self.faults = faults
    }

    var now: Int64 { state.withLock { $0.now } }

    func advance(milliseconds: Int64) { state.withLock { $0.now += milliseconds } }

    func below(_ bound: Int64) -> Int64 { state.withLock { $0.random.below(bound + 1) } }

    func chance(_ probability: Double) -> Bool { state.withLock { $0.random.chance(probability) } }

    /// Runs a participant's operation under the fault plan.
    func call(_ operation: (inout State) -> StepResult) -> StepResult {
        state.withLock { state in
            state.calls += 1
            expireDueHolds(&state)
            let roll = state.random.unit()
            if roll < faults.call / 3 { return .notApplied(reason: "sim: connection refused") }
            if roll < faults.call * 2 / 3 { return .uncertain(reason: "sim: timeout before commit") }
            let result = operation(&state)
            if roll < faults.call { return .uncertain(reason: "sim: timeout after commit") }
            return result
        }
    }

    func expireDueHolds(_ state: inout State) {
        for (id, hold) in state.holds where hold.state == .held && hold.deadline <= state.now {
            state.holds[id]?.state = .expired
            state.items[hold.sku]!.reserved -= hold.quantity
            state.items[hold.sku]!.stock += hold.quantity
        }
    }

    func sweep() { state.withLock { expireDueHolds(&$0) } }
}

extension SimulatedWorld: InventoryReservations {
    func reserve(_ hold: ReservationHold, timeout: Duration) async -> StepResult {
        call { state in
            if state.holds[hold.reservationID] != nil { return .done(reference: nil) }
            guard var item = state.items[hold.sku] else { return .refused(code: "stock_not_found") }
            guard item.stock >= hold.quantity else { return .refused(code: "insufficient_stock") }
            item.stock -= hold.quantity
            item.reserved += hold.quantity
            state.items[hold.sku] = item
            state.holds[hold.reservationID] = Hold(
                sku: hold.sku,
                quantity: hold.quantity,
                deadline: state.now + hold.holdMilliseconds,
                state: .held
            )
            return .done(reference: nil)
        }
    }

    func confirm(reservationID: String, timeout: Duration) async -> StepResult {
        call { state in
            guard let hold = state.holds[reservationID] else { return .refused(code: "order_not_found") }
            switch hold.state {
            case .held:
                state.holds[reservationID]!.state = .confirmed
                state.items[hold.sku]!.reserved -= hold.quantity
                state.items[hold.sku]!.sold += hold.quantity
                return .done(reference: nil)
            case .confirmed: return .done(reference: nil)
            case .released: return .refused(code: "order_released")
            case .expired: return .refused(code: "hold_expired")
            }
        }
    }

    func release(reservationID: String, timeout: Duration) async -> StepResult {
        call { state in
            guard let hold = state.holds[reservationID] else { return .refused(code: "order_not_found") }
            switch hold.state {
            case .held:
                state.items[hold.sku]!.reserved -= hold.quantity
            case .confirmed:
                state.items[hold.sku]!.sold -= hold.quantity
            case .released, .expired:
                return .done(reference: nil)
            }
            state.items[hold.sku]!.stock += hold.quantity
            state.holds[reservationID]!.state = .released
            return .done(reference: nil)
        }
    }
}

extension SimulatedWorld: PaymentGateway {
    func charge(_ charge: ChargeRequest, timeout: Duration) async -> StepResult {
        let declines = chance(faults.decline)
        return call { state in
            if let existing = state.charges[charge.idempotencyKey] {
                return existing.succeeded ? .done(reference: "pay_" + charge.orderID) : .refused(code: "declined")
            }
            state.charges[charge.idempotencyKey] = Charge(orderID: charge.orderID, succeeded: !declines)
            if declines { return .refused(code: "declined") }
            state.chargesCreated[charge.orderID, default: 0] += 1
            return .done(reference: "pay_" + charge.orderID)
        }
    }

    func chargeStatus(idempotencyKey: String, timeout: Duration) async -> StepResult {
        call { state in
            guard let charge = state.charges[idempotencyKey] else { return .notFound }
            return charge.succeeded ? .done(reference: "pay_" + charge.orderID) : .refused(code: "declined")
        }
    }

    func refund(idempotencyKey: String, chargeKey: String, amount: Money, timeout: Duration) async -> StepResult {
        call { state in
            guard let charge = state.charges[chargeKey], charge.succeeded else { return .notFound }
            state.charges[chargeKey]!.refunded = true
            return .done(reference: nil)
        }
    }
}

extension SimulatedWorld: OrderStore {
    func save(_ saga: CheckoutSaga) async throws {
        try state.withLock { state in
            if state.random.chance(faults.crash) {
                state.crashes += 1
                throw Crash()
            }
            state.saved[saga.orderID] = saga
        }
    }

    func create(_ saga: CheckoutSaga) async throws -> CheckoutSaga? {
        if let existing = state.withLock({ $0.saved[saga.orderID] }) { return existing }
        try await save(saga)
        return nil
    }

    func orders(userID: String, after cursor: String?, limit: Int) async throws -> OrderPage {
        OrderPage(orders: state.withLock { $0.saved.values.filter { $0.request.userID == userID } }, nextCursor: nil)
    }

    func load(orderID: String) async throws -> CheckoutSaga? { state.withLock { $0.saved[orderID] } }

    func unfinished(limit: Int) async throws -> [CheckoutSaga] {
        state.withLock { state in
            Array(state.saved.values.filter { !$0.status.isFinal }.sorted { $0.orderID < $1.orderID }.prefix(limit))
        }
    }
}

/// A small, fast, seedable generator (splitmix64): the same seed gives the same run.
struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// In `0..<bound`.
    mutating func below(_ bound: Int64) -> Int64 { Int64(next() % UInt64(bound)) }

    /// In `[0, 1)`.
    mutating func unit() -> Double { Double(next() >> 11) / Double(UInt64(1) << 53) }

    mutating func chance(_ probability: Double) -> Bool { unit() < probability }
}
