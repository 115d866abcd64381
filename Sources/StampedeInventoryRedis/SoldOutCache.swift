import Synchronization

/// Remembers, for a short time, SKUs this instance saw at zero stock, so the stampede after a sell-out is
/// answered without touching Redis (seed 001 §5). It only ever answers "sold out", never "success".
///
/// A retry of an order that succeeded must still get its original answer, not "sold out": this instance
/// remembers the order ids it acknowledged most recently (bounded) and lets those through to Redis.
final class SoldOutCache: Sendable {
    private struct State {
        /// SKU → monotonic nanoseconds until which it counts as sold out.
        var soldOutUntil: [String: Int64] = [:]
        var acknowledged: Set<String> = []
        var acknowledgedOrder: [String] = []
        var acknowledgedNext = 0
    }

    let ttlNanoseconds: Int64
    private let skusMax: Int
    private let acknowledgedMax: Int
    private let state = Mutex(State())

    init(ttlNanoseconds: Int64, skusMax: Int = 10_000, acknowledgedMax: Int = 65_536) {
        precondition(ttlNanoseconds >= 0 && skusMax > 0 && acknowledgedMax > 0, "cache bounds must be positive")
        self.ttlNanoseconds = ttlNanoseconds
        self.skusMax = skusMax
        self.acknowledgedMax = acknowledgedMax
    }

    var isEnabled: Bool { ttlNanoseconds > 0 }

    /// Whether `sku` may be answered "sold out" from memory for this order.
    func answersSoldOut(sku: String, orderID: String, now: Int64) -> Bool {
        state.withLock { state in
            guard let until = state.soldOutUntil[sku] else { return false }
            guard now < until else {
                state.soldOutUntil[sku] = nil
                return false
            }
            return !state.acknowledged.contains(orderID)
        }
    }

    /// Records what Redis answered: a zero stock arms the SKU; a success remembers the order id.
    func observe(sku: String, orderID: String, outcome: DeductOutcomeSummary, now: Int64) {
        guard isEnabled else { return }
        state.withLock { state in
            if outcome.succeeded {
                if state.acknowledged.insert(orderID).inserted {
                    if state.acknowledgedOrder.count < acknowledgedMax {
                        state.acknowledgedOrder.append(orderID)
                    } else {
                        state.acknowledged.remove(state.acknowledgedOrder[state.acknowledgedNext])
                        state.acknowledgedOrder[state.acknowledgedNext] = orderID
                        state.acknowledgedNext = (state.acknowledgedNext + 1) % acknowledgedMax
                    }
                }
            }
            guard outcome.stockIsZero else { return }
            if state.soldOutUntil[sku] == nil && state.soldOutUntil.count >= skusMax {
                state.soldOutUntil = state.soldOutUntil.filter { $0.value > now }
                guard state.soldOutUntil.count < skusMax else { return }
            }
            state.soldOutUntil[sku] = now + ttlNanoseconds
        }
    }

    /// Forgets `sku` (after a put or a release through this instance).
    func invalidate(sku: String) {
        guard isEnabled else { return }
        _ = state.withLock { $0.soldOutUntil.removeValue(forKey: sku) }
    }
}

/// The two facts about an outcome the cache needs.
struct DeductOutcomeSummary {
    var succeeded: Bool
    var stockIsZero: Bool
}
