import Synchronization
import Testing

@testable import StampedeOrders

/// Thousands of checkouts against a world that fails at every step and crashes the orders process between any
/// two writes; each run is reproducible from its seed.
@Suite("Checkout saga under seeded faults and crashes")
struct CheckoutSimulationTests {
    static let skus: [String: Int64] = ["A": 300, "B": 200, "C": 150, "D": 100]

    struct Run {
        var world: SimulatedWorld
        var orders: [String: OrderRequest]
        var final: [String: CheckoutSaga]
    }

    /// Creates `count` orders, then drives them in a random interleaving until every one is final; a crash
    /// drops the saga in memory and the next turn resumes it from the store, as a restart would.
    func simulate(
        seed: UInt64,
        count: Int,
        holdMilliseconds: Int64 = 4_000,
        faults: SimulatedWorld.Faults = .init()
    ) async throws -> Run {
        let world = SimulatedWorld(seed: seed, stock: Self.skus, faults: faults)
        let runner = CheckoutRunner(
            inventory: world,
            payment: world,
            store: world,
            clock: { world.now },
            random: { world.below($0) }
        )
        let skus = Self.skus.keys.sorted()
        var orders: [String: OrderRequest] = [:]
        var live: [String: DrivenSaga] = [:]
        for index in 0..<count {
            var lines: [OrderLine] = []
            for sku in skus where world.chance(0.4) || (lines.isEmpty && sku == skus.last) {
                lines.append(OrderLine(sku: sku, quantity: 1 + world.below(2)))
            }
            let request = OrderRequest(
                requestID: "r\(index)",
                userID: "u\(index % 97)",
                lines: lines,
                payment: PaymentDetails(
                    amount: Money(amountMinor: 100 * Int64(lines.count), currency: "CNY"),
                    method: "card"
                )
            )
            let id = OrderIdentity.orderID(userID: request.userID, requestID: request.requestID)
            orders[id] = request
            // Holds shorter than the deadline, so slow payments meet expired holds.
            let saga = CheckoutSaga(
                orderID: id,
                request: request,
                now: world.now,
                deadlineMilliseconds: world.now + 20_000,
                holdMilliseconds: holdMilliseconds,
                retry: RetryPolicy(initialMilliseconds: 50, maxMilliseconds: 2_000, forwardAttemptsMax: 5)
            )
            world.state.withLock { $0.saved[id] = saga }
            live[id] = DrivenSaga(saga)
        }
        var order = live.keys.sorted()
        var turns = 0
        while !order.isEmpty {
            turns += 1
            #expect(turns < count * 400, "seed \(seed): every saga ends")
            if turns >= count * 400 { break }
            let pick = Int(world.below(Int64(order.count) - 1))
            let id = order[pick]
            var driven = live[id]!
            do {
                let action = try await runner.advance(&driven)
                live[id] = driven
                if case .finished = action {
                    order.remove(at: pick)
                }
            } catch {
                // The process died: what was not written is lost; resume from the store.
                live[id] = try await world.load(orderID: id).map(DrivenSaga.init)
            }
            world.advance(milliseconds: world.below(40))
        }
        var final: [String: CheckoutSaga] = [:]
        for id in orders.keys { final[id] = try await world.load(orderID: id) }
        return Run(world: world, orders: orders, final: final)
    }

    func checkInvariants(_ run: Run, seed: UInt64) {
        run.world.advance(milliseconds: 86_400_000)
        run.world.sweep()
        let state = run.world.state.withLock { $0 }
        var soldByConfirmedOrders: [String: Int64] = [:]
        for (id, saga) in run.final {
            #expect(saga.status.isFinal, "seed \(seed): \(id) ends, not \(saga.status)")
            #expect(saga.status != .failed, "seed \(seed): no refund is ever refused here")
            #expect((state.chargesCreated[id] ?? 0) <= 1, "seed \(seed): \(id) charged at most once")
            let key = CheckoutStep.charge.idempotencyKey(orderID: id)
            let netCharged = state.charges[key].map { $0.succeeded && !$0.refunded } ?? false
            let holds = run.orders[id]!.lines.indices.compactMap {
                state.holds[OrderIdentity.reservationID(orderID: id, line: $0)]
            }
            if saga.status == .confirmed {
                #expect(netCharged, "seed \(seed): a confirmed order \(id) is paid")
                #expect(holds.count == run.orders[id]!.lines.count && holds.allSatisfy { $0.state == .confirmed })
                for line in run.orders[id]!.lines { soldByConfirmedOrders[line.sku, default: 0] += line.quantity }
            } else {
                #expect(!netCharged, "seed \(seed): \(id) ended \(saga.status) with a net charge")
                #expect(holds.allSatisfy { $0.state != .confirmed }, "seed \(seed): \(id) keeps no units")
            }
        }
        for (sku, item) in state.items {
            #expect(item.stock + item.reserved + item.sold == item.initial, "seed \(seed): \(sku) conserves units")
            #expect(item.reserved == 0, "seed \(seed): \(sku) holds nothing once every hold ended")
            #expect(item.sold == soldByConfirmedOrders[sku, default: 0], "seed \(seed): \(sku) sold = confirmed lines")
        }
    }

    @Test(arguments: [1, 2, 3, 42, 2026] as [UInt64])
    func everySagaEndsWithStockAndMoneyConservedUnderFaultsAndCrashes(seed: UInt64) async throws {
        let run = try await simulate(seed: seed, count: 1_500)
        checkInvariants(run, seed: seed)
        let outcomes = Dictionary(grouping: run.final.values, by: \.status).mapValues(\.count)
        // The faults must actually have been met: every way of ending happened.
        #expect((outcomes[.confirmed] ?? 0) > 0 && (outcomes[.cancelled] ?? 0) > 0, "seed \(seed): \(outcomes)")
        let reasons = Set(run.final.values.compactMap(\.reason))
        for reason in [CancelReason.insufficientStock, .paymentDeclined, .holdExpired, .deadlineExceeded] {
            #expect(reasons.contains(reason), "seed \(seed): some order ended \(reason); seen \(reasons)")
        }
        #expect(run.world.state.withLock { $0.crashes } > 100, "seed \(seed): the process crashed many times")
    }

    @Test func participantsThatAreMostlyDownEndOrdersByGivingUpNotByHanging() async throws {
        let run = try await simulate(seed: 11, count: 300, faults: .init(call: 0.8, crash: 0.05, decline: 0.1))
        checkInvariants(run, seed: 11)
        #expect(run.final.values.contains { $0.reason == .stepUnavailable })
    }

    @Test func theSameSeedGivesTheSameRun() async throws {
        let first = try await simulate(seed: 7, count: 300)
        let second = try await simulate(seed: 7, count: 300)
        #expect(first.final == second.final)
    }

    @Test func withoutFaultsEveryOrderThatFitsTheStockIsConfirmed() async throws {
        let run = try await simulate(
            seed: 9,
            count: 200,
            holdMilliseconds: 600_000,
            faults: .init(call: 0, crash: 0, decline: 0)
        )
        checkInvariants(run, seed: 9)
        for saga in run.final.values {
            #expect(saga.status == .confirmed || saga.reason == .insufficientStock)
        }
    }
}
