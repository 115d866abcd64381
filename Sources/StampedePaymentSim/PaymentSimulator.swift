import StampedeOrders
import Synchronization

/// A payment provider for development and tests: charges made once per idempotency key, their status, refunds,
/// and faults on demand. Not a wallet and not a real provider: it keeps its charges in memory, up to
/// ``Faults/chargesMax``.
///
/// A refund of a charge that does not exist (yet) voids its key, so a charge that arrives late under that key is
/// declined rather than taken: the provider's half of the saga barrier (no "hanging" charge after its
/// compensation).
public final class PaymentSimulator: Sendable {
    /// What goes wrong, and how often. Rates are probabilities from 0 to 1.
    public struct Faults: Sendable, Hashable, Codable {
        /// Added to every answer, in milliseconds.
        public var latencyMilliseconds: Int64
        /// A server error before anything is done.
        public var failureRate: Double
        /// A charge is declined (the card is refused).
        public var declineRate: Double
        /// The provider cannot be reached: nothing is done.
        public var unreachable: Bool
        /// The charge is made but its answer is lost (the caller times out).
        public var timeoutAfterCommitRate: Double

        public init(
            latencyMilliseconds: Int64 = 0,
            failureRate: Double = 0,
            declineRate: Double = 0,
            unreachable: Bool = false,
            timeoutAfterCommitRate: Double = 0
        ) {
            self.latencyMilliseconds = latencyMilliseconds
            self.failureRate = failureRate
            self.declineRate = declineRate
            self.unreachable = unreachable
            self.timeoutAfterCommitRate = timeoutAfterCommitRate
        }

        /// The first setting out of range, or nil.
        public var invalidField: String? {
            for (name, rate) in [
                ("failure_rate", failureRate), ("decline_rate", declineRate),
                ("timeout_after_commit_rate", timeoutAfterCommitRate),
            ] where !(rate >= 0 && rate <= 1) {
                return name
            }
            return latencyMilliseconds >= 0 && latencyMilliseconds <= 600_000 ? nil : "latency_ms"
        }
    }

    public enum ChargeStatus: String, Sendable, Codable {
        case succeeded, declined
    }

    public struct Charge: Sendable, Hashable {
        public var id: String
        public var idempotencyKey: String
        public var orderID: String
        public var amount: Money
        public var status: ChargeStatus
        public var refunded: Bool
    }

    /// A fault of one call.
    public enum Fault: Error, Sendable {
        /// Nothing was done (unreachable, or a server error before any work).
        case notApplied(String)
        /// The charge was made and the answer is lost.
        case answerLost
    }

    public struct Totals: Sendable, Hashable, Codable {
        public var charges = 0
        public var succeeded = 0
        public var refunded = 0
        /// Orders charged under more than one key: always 0 for a correct caller.
        public var ordersChargedTwice = 0
    }

    private struct State {
        var faults: Faults
        var random: UInt64
        var charges: [String: Charge] = [:]
        var voided: Set<String> = []
        var succeededByOrder: [String: Int] = [:]
        var nextID = 0
    }

    public static let chargesMax = 1_000_000
    private let state: Mutex<State>

    public init(faults: Faults = Faults(), seed: UInt64 = 0x5EED) {
        self.state = Mutex(State(faults: faults, random: seed))
    }

    public var faults: Faults {
        get { state.withLock { $0.faults } }
        set { state.withLock { $0.faults = newValue } }
    }

    public var latencyMilliseconds: Int64 { state.withLock { $0.faults.latencyMilliseconds } }

    /// Makes the charge once per key; the same key gives the first answer again.
    public func charge(idempotencyKey: String, orderID: String, amount: Money) throws(Fault) -> Charge {
        try state.withLock { state throws(Fault) -> Charge in
            try Self.checkReachable(&state)
            if let existing = state.charges[idempotencyKey] { return existing }
            state.nextID += 1
            let voided = state.voided.contains(idempotencyKey)
            let declined = voided || Self.roll(&state) < state.faults.declineRate
            guard state.charges.count + state.voided.count < Self.chargesMax else {
                throw Fault.notApplied("the simulator is full")
            }
            let charge = Charge(
                id: "ch_\(state.nextID)",
                idempotencyKey: idempotencyKey,
                orderID: orderID,
                amount: amount,
                status: declined ? .declined : .succeeded,
                refunded: false
            )
            state.charges[idempotencyKey] = charge
            if !declined { state.succeededByOrder[orderID, default: 0] += 1 }
            if !declined, Self.roll(&state) < state.faults.timeoutAfterCommitRate { throw Fault.answerLost }
            return charge
        }
    }

    /// The charge made under `idempotencyKey`, if any.
    public func charge(idempotencyKey: String) throws(Fault) -> Charge? {
        try state.withLock { state throws(Fault) -> Charge? in
            try Self.checkReachable(&state)
            return state.charges[idempotencyKey]
        }
    }

    /// Refunds the charge under `chargeKey`; with none, voids the key (a later charge under it is declined) and
    /// returns nil.
    public func refund(chargeKey: String) throws(Fault) -> Charge? {
        try state.withLock { state throws(Fault) -> Charge? in
            try Self.checkReachable(&state)
            guard var charge = state.charges[chargeKey] else {
                // Voided keys count against the same bound as charges.
                guard state.charges.count + state.voided.count < Self.chargesMax else {
                    throw Fault.notApplied("the simulator is full")
                }
                state.voided.insert(chargeKey)
                return nil
            }
            guard charge.status == .succeeded else { return nil }
            charge.refunded = true
            state.charges[chargeKey] = charge
            return charge
        }
    }

    public var totals: Totals {
        state.withLock { state in
            var totals = Totals()
            totals.charges = state.charges.count
            for charge in state.charges.values where charge.status == .succeeded {
                totals.succeeded += 1
                if charge.refunded { totals.refunded += 1 }
            }
            totals.ordersChargedTwice = state.succeededByOrder.values.count { $0 > 1 }
            return totals
        }
    }

    private static func checkReachable(_ state: inout State) throws(Fault) {
        if state.faults.unreachable { throw Fault.notApplied("the provider is unreachable") }
        if roll(&state) < state.faults.failureRate { throw Fault.notApplied("the provider failed") }
    }

    /// In `[0, 1)`, from a splitmix64 sequence.
    private static func roll(_ state: inout State) -> Double {
        state.random &+= 0x9E37_79B9_7F4A_7C15
        var z = state.random
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(UInt64(1) << 53)
    }
}
