import Testing

@testable import StampedeOrders

/// The checkout state machine, one line per event and the action it leads to.
@Suite("Checkout saga state machine")
struct CheckoutSagaTests {
    static let now: Int64 = 1_800_000_000_000
    let request = OrderRequest(
        requestID: "req-1",
        userID: "u1",
        lines: [OrderLine(sku: "A", quantity: 2), OrderLine(sku: "B", quantity: 1)],
        payment: PaymentDetails(amount: Money(amountMinor: 1999, currency: "CNY"), method: "card")
    )

    func saga() -> CheckoutSaga {
        CheckoutSaga(
            orderID: "ord_1",
            request: request,
            now: Self.now,
            deadlineMilliseconds: Self.now + 30_000,
            holdMilliseconds: 600_000,
            retry: RetryPolicy(initialMilliseconds: 100, maxMilliseconds: 1_000, forwardAttemptsMax: 3)
        )
    }

    /// The largest backoff, so waits are predictable.
    let ceiling: (Int64) -> Int64 = { $0 }

    /// Applies `result` to the call the saga is at, then asks for the next action at `now`.
    func step(_ saga: inout CheckoutSaga, _ result: StepResult, at now: Int64 = now) -> CheckoutAction {
        saga.apply(result, now: now, random: ceiling)
        return saga.nextAction(now: now)
    }

    @Test func theHappyPathReservesChargesConfirms() {
        var saga = saga()
        #expect(saga.status == .created)
        #expect(saga.nextAction(now: Self.now) == .call(.reserve, attempt: 1))
        #expect(saga.status == .reserving)
        #expect(step(&saga, .done(reference: nil)) == .call(.charge, attempt: 1))
        #expect(saga.status == .charging)
        #expect(step(&saga, .done(reference: "pay_1")) == .call(.confirm, attempt: 1))
        #expect(saga.status == .paid && saga.paymentID == "pay_1")
        #expect(step(&saga, .done(reference: nil)) == .finished(.confirmed))
        #expect(saga.history.map(\.step) == [.reserve, .charge, .confirm])
    }

    @Test func aReservationRefusalReleasesAndCancels() {
        var saga = saga()
        _ = saga.nextAction(now: Self.now)
        #expect(step(&saga, .refused(code: "insufficient_stock")) == .call(.release, attempt: 1))
        #expect(saga.status == .compensating && saga.reason == .insufficientStock)
        #expect(step(&saga, .done(reference: nil)) == .finished(.cancelled))
    }

    @Test func aDeclineVoidsTheChargeKeyThenReleases() {
        var saga = saga()
        _ = saga.nextAction(now: Self.now)
        _ = step(&saga, .done(reference: nil))
        // Nothing to refund, but the refund call voids the key: a late copy of the charge is declined.
        #expect(step(&saga, .refused(code: "declined")) == .call(.refund, attempt: 1))
        #expect(saga.reason == .paymentDeclined && !saga.chargeMayExist)
        #expect(step(&saga, .notFound) == .call(.release, attempt: 1))
        #expect(step(&saga, .done(reference: nil)) == .finished(.cancelled))
    }

    @Test func aChargeTheProviderSaidItNeverSawIsStillVoidedByTheCompensation() {
        var saga = saga()
        _ = saga.nextAction(now: Self.now)
        _ = step(&saga, .done(reference: nil))
        _ = step(&saga, .uncertain(reason: "timeout"))
        _ = saga.nextAction(now: Self.now + 100)
        _ = step(&saga, .notFound, at: Self.now + 100)
        #expect(!saga.chargeMayExist)
        // The first charge may still arrive (reordered): the compensation calls refund anyway.
        #expect(saga.cancel(now: Self.now + 200) == .accepted)
        #expect(saga.nextAction(now: Self.now + 300) == .call(.refund, attempt: 1))
    }

    @Test func aLostChargeAnswerIsQueriedBeforeAnythingElse() {
        var saga = saga()
        _ = saga.nextAction(now: Self.now)
        _ = step(&saga, .done(reference: nil))
        // Timeout after commit: wait, then ask, never charge blindly.
        #expect(step(&saga, .uncertain(reason: "timeout")) == .wait(untilMilliseconds: Self.now + 100))
        #expect(saga.nextAction(now: Self.now + 100) == .call(.chargeStatus, attempt: 2))
        #expect(step(&saga, .done(reference: "pay_1"), at: Self.now + 100) == .call(.confirm, attempt: 1))
        #expect(saga.status == .paid)
    }

    @Test func aChargeTheProviderNeverSawIsMadeAgainWithTheSameKey() {
        var saga = saga()
        _ = saga.nextAction(now: Self.now)
        _ = step(&saga, .done(reference: nil))
        _ = step(&saga, .uncertain(reason: "timeout"))
        _ = saga.nextAction(now: Self.now + 100)
        #expect(step(&saga, .notFound, at: Self.now + 100) == .wait(untilMilliseconds: Self.now + 300))
        #expect(saga.nextAction(now: Self.now + 300) == .call(.charge, attempt: 3))
        #expect(CheckoutStep.chargeStatus.idempotencyKey(orderID: "ord_1") == "ord_1:charge")
    }

    @Test func forwardFaultsBackOffThenGiveUpAndCompensate() {
        var saga = saga()
        _ = saga.nextAction(now: Self.now)
        #expect(step(&saga, .notApplied(reason: "refused")) == .wait(untilMilliseconds: Self.now + 100))
        #expect(saga.nextAction(now: Self.now + 50) == .wait(untilMilliseconds: Self.now + 100))
        #expect(saga.nextAction(now: Self.now + 100) == .call(.reserve, attempt: 2))
        #expect(
            step(&saga, .uncertain(reason: "timeout"), at: Self.now + 100) == .wait(untilMilliseconds: Self.now + 300)
        )
        #expect(saga.nextAction(now: Self.now + 300) == .call(.reserve, attempt: 3))
        // The third fault of three allowed: compensate; the reserves may have applied, so release.
        #expect(step(&saga, .uncertain(reason: "timeout"), at: Self.now + 300) == .call(.release, attempt: 1))
        #expect(saga.reason == .stepUnavailable)
    }

    @Test func compensationsRetryUntilDoneAndNeverGiveUp() {
        var saga = saga()
        _ = saga.nextAction(now: Self.now)
        _ = step(&saga, .refused(code: "insufficient_stock"))
        var now = Self.now
        for attempt in 1...10 {
            saga.apply(.uncertain(reason: "down"), now: now, random: ceiling)
            #expect(saga.status == .compensating)
            guard case .wait(let until) = saga.nextAction(now: now) else {
                Issue.record("a failed release waits and retries")
                return
            }
            #expect(until - now == min(100 << Int64(attempt - 1), 1_000))
            now = until
            #expect(saga.nextAction(now: now) == .call(.release, attempt: attempt + 1))
        }
        #expect(step(&saga, .done(reference: nil), at: now) == .finished(.cancelled))
    }

    @Test func aHoldThatExpiredBeforeTheConfirmIsRefundedThenReleased() {
        var saga = saga()
        _ = saga.nextAction(now: Self.now)
        _ = step(&saga, .done(reference: nil))
        _ = step(&saga, .done(reference: "pay_1"))
        #expect(step(&saga, .refused(code: "hold_expired")) == .call(.refund, attempt: 1))
        #expect(saga.reason == .holdExpired)
        #expect(step(&saga, .done(reference: nil)) == .call(.release, attempt: 1))
        #expect(step(&saga, .done(reference: nil)) == .finished(.cancelled))
        #expect(saga.refunded && saga.released)
    }

    @Test func theDeadlineStopsTheForwardPathAndEndsExpired() {
        var saga = saga()
        _ = saga.nextAction(now: Self.now)
        _ = step(&saga, .done(reference: nil))
        _ = step(&saga, .uncertain(reason: "timeout"))
        // The charge may exist: the compensation refunds it (the provider voids or answers not found).
        #expect(saga.nextAction(now: Self.now + 30_000) == .call(.refund, attempt: 1))
        #expect(saga.reason == .deadlineExceeded)
        #expect(step(&saga, .notFound, at: Self.now + 30_000) == .call(.release, attempt: 1))
        #expect(step(&saga, .done(reference: nil), at: Self.now + 30_000) == .finished(.expired))
    }

    @Test func aPaidOrderConfirmsEvenPastTheDeadline() {
        var saga = saga()
        _ = saga.nextAction(now: Self.now)
        _ = step(&saga, .done(reference: nil))
        saga.apply(.done(reference: "pay_1"), now: Self.now, random: ceiling)
        #expect(saga.nextAction(now: Self.now + 60_000) == .call(.confirm, attempt: 1))
    }

    @Test func aRefusedRefundEndsFailedAfterTheRelease() {
        var saga = saga()
        _ = saga.nextAction(now: Self.now)
        _ = step(&saga, .done(reference: nil))
        _ = step(&saga, .done(reference: "pay_1"))
        _ = step(&saga, .refused(code: "hold_expired"))
        #expect(step(&saga, .refused(code: "charge_disputed")) == .call(.release, attempt: 1))
        #expect(step(&saga, .done(reference: nil)) == .finished(.failed))
    }

    @Test func aCancelIsAcceptedUntilTheOrderIsFinal() {
        var saga = saga()
        _ = saga.nextAction(now: Self.now)
        _ = step(&saga, .done(reference: nil))
        #expect(saga.cancel(now: Self.now) == .accepted)
        #expect(saga.cancel(now: Self.now) == .alreadyCompensating)
        // The charge was issued, so it may exist: refund (void) it, then release.
        #expect(saga.nextAction(now: Self.now) == .call(.refund, attempt: 1))
        #expect(step(&saga, .notFound) == .call(.release, attempt: 1))
        #expect(step(&saga, .done(reference: nil)) == .finished(.cancelled))
        #expect(saga.reason == .cancelledByUser)
        #expect(saga.cancel(now: Self.now) == .alreadyFinal(.cancelled))
    }

    @Test func historyIsBounded() {
        var saga = saga()
        _ = saga.nextAction(now: Self.now)
        _ = step(&saga, .refused(code: "insufficient_stock"))
        var now = Self.now
        for _ in 0..<100 {
            saga.apply(.notApplied(reason: "down"), now: now, random: { _ in 0 })
            now += 1
            _ = saga.nextAction(now: now)
        }
        #expect(saga.history.count == CheckoutSaga.historyMax)
        #expect(saga.historyDropped == 101 - CheckoutSaga.historyMax)
    }

    @Test func fullJitterStaysUnderTheCappedExponential() {
        let policy = RetryPolicy(initialMilliseconds: 50, maxMilliseconds: 400, forwardAttemptsMax: 5)
        #expect(
            (1...8).map { policy.delay(afterAttempt: $0, random: { $0 }) } == [50, 100, 200, 400, 400, 400, 400, 400]
        )
        #expect(policy.delay(afterAttempt: 3, random: { _ in 0 }) == 0)
    }

    @Test func requestsAreValidatedFieldByField() {
        let limits = OrderLimits.default
        #expect(request.invalidField(limits: limits) == nil)
        var bad = request
        bad.lines = []
        #expect(bad.invalidField(limits: limits)?.field == "items")
        bad = request
        bad.lines[1].sku = "A"
        #expect(bad.invalidField(limits: limits)?.field == "items[1].sku")
        bad = request
        bad.lines[0].quantity = 0
        #expect(bad.invalidField(limits: limits)?.field == "items[0].quantity")
        bad = request
        bad.payment.amount.amountMinor = -5
        #expect(bad.invalidField(limits: limits)?.field == "payment.amount_minor")
        bad = request
        bad.payment.amount.currency = "yuan"
        #expect(bad.invalidField(limits: limits)?.field == "payment.currency")
        bad = request
        bad.requestID = ""
        #expect(bad.invalidField(limits: limits)?.field == "request_id")
    }

    @Test func orderIDsFollowFromTheUserAndTheRequest() {
        let id = OrderIdentity.orderID(userID: "u1", requestID: "req-1")
        #expect(id == OrderIdentity.orderID(userID: "u1", requestID: "req-1"))
        #expect(id != OrderIdentity.orderID(userID: "u2", requestID: "req-1"))
        #expect(id != OrderIdentity.orderID(userID: "u1r", requestID: "eq-1"))
        #expect(id.hasPrefix("ord_") && id.utf8.count == 28)
    }
}
