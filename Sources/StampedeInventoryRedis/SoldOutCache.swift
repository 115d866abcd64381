import StampedeInventory
import Synchronization

/// Remembers, for a short time, SKUs this instance saw at zero stock, so the stampede after a sell-out is
/// answered without touching Redis (seed 001 §5). It only ever answers "sold out", never "success".
///
/// A retry of an order that succeeded must still get its original answer, not "sold out": this instance
/// remembers the order ids it acknowledged most recently (bounded) and lets those through to Redis. It keeps their
/// hashes, not the ids: a collision only sends an order to Redis that the cache could have answered.
final class SoldOutCache: Sendable {
    private struct State {
        /// SKU → monotonic nanoseconds until which it counts as sold out.
        var soldOutUntil: [String: Int64] = [:]
        /// Hashes of the order ids acknowledged most recently, and the same in the order they came.
        var acknowledged: Set<Int> = []
        var acknowledgedOrder: [Int] = []
        var acknowledgedNext = 0
    }

    let ttlNanoseconds: Int64
    private let skusMax: Int
    private let acknowledgedMax: Int
    private let state = Mutex(State())
    /// How many SKUs are armed; read without the lock on every deduct.
    private let armed = Atomic<Int>(0)

    init(ttlNanoseconds: Int64, skusMax: Int = 10_000, acknowledgedMax: Int = 65_536) {
        precondition(ttlNanoseconds >= 0 && skusMax > 0 && acknowledgedMax > 0, "cache bounds must be positive")
        self.ttlNanoseconds = ttlNanoseconds
        self.skusMax = skusMax
        self.acknowledgedMax = acknowledgedMax
    }

    var isEnabled: Bool { ttlNanoseconds > 0 }

    /// Whether `sku` may be answered "sold out" from memory for this order.
    func answersSoldOut(sku: String, orderID: String, now: Int64) -> Bool {
        // Most of the time nothing is sold out: skip the lock on the hot path.
        guard armed.load(ordering: .relaxed) > 0 else { return false }
        return state.withLock { state in
            guard let until = state.soldOutUntil[sku] else { return false }
            guard now < until else {
                state.soldOutUntil[sku] = nil
                armed.store(state.soldOutUntil.count, ordering: .relaxed)
                return false
            }
            return !state.acknowledged.contains(orderID.hashValue)
        }
    }

    /// Records what Redis answered for one call: a zero stock arms the SKU; a success remembers the order id.
    func observe(_ requests: [DeductRequest], _ outcomes: [DeductOutcome], now: Int64) {
        guard isEnabled else { return }
        state.withLock { state in
            for (request, outcome) in zip(requests, outcomes) {
                if outcome.code == .success { remember(request.orderID.hashValue, in: &state) }
                let sawZero = (outcome.code == .success && !outcome.replayed) || outcome.code == .insufficientStock
                if sawZero && outcome.stock == 0 { arm(request.sku, until: now + ttlNanoseconds, now: now, in: &state) }
            }
            armed.store(state.soldOutUntil.count, ordering: .relaxed)
        }
    }

    private func remember(_ order: Int, in state: inout State) {
        guard state.acknowledged.insert(order).inserted else { return }
        if state.acknowledgedOrder.count < acknowledgedMax {
            state.acknowledgedOrder.append(order)
        } else {
            state.acknowledged.remove(state.acknowledgedOrder[state.acknowledgedNext])
            state.acknowledgedOrder[state.acknowledgedNext] = order
            state.acknowledgedNext = (state.acknowledgedNext + 1) % acknowledgedMax
        }
    }

    private func arm(_ sku: String, until: Int64, now: Int64, in state: inout State) {
        if state.soldOutUntil[sku] == nil && state.soldOutUntil.count >= skusMax {
            state.soldOutUntil = state.soldOutUntil.filter { $0.value > now }
            guard state.soldOutUntil.count < skusMax else { return }
        }
        state.soldOutUntil[sku] = until
    }

    /// Forgets `sku` (after a put or a release through this instance).
    func invalidate(sku: String) {
        guard isEnabled else { return }
        state.withLock { state in
            state.soldOutUntil[sku] = nil
            armed.store(state.soldOutUntil.count, ordering: .relaxed)
        }
    }
}
