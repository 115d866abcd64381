import Tracing

/// Drives sagas through the inventory and the payment provider, writing each state before acting on it.
///
/// Forward calls get `stepTimeout`, cut to what is left of the order's deadline; compensation calls get
/// `compensationTimeout` of their own, whatever the deadline. Lines are reserved, confirmed and released one
/// after another, each under its own reservation id.
public struct CheckoutRunner: Sendable {
    public struct Configuration: Sendable, Hashable {
        public var stepTimeout: Duration
        public var compensationTimeout: Duration

        public init(stepTimeout: Duration = .seconds(3), compensationTimeout: Duration = .seconds(5)) {
            self.stepTimeout = stepTimeout
            self.compensationTimeout = compensationTimeout
        }
    }

    let inventory: any InventoryReservations
    let payment: any PaymentGateway
    let store: any OrderStore
    let configuration: Configuration
    let clock: @Sendable () -> Int64
    let random: @Sendable (Int64) -> Int64
    let tracer: (any Tracer)?
    let metrics: OrderMetrics?

    /// - Parameters:
    ///   - clock: milliseconds since 1970.
    ///   - random: a value in `0...bound` (the backoff's jitter).
    ///   - tracer: each call becomes a client span (``CheckoutStep/spanName``) of the current service context.
    public init(
        inventory: any InventoryReservations,
        payment: any PaymentGateway,
        store: any OrderStore,
        configuration: Configuration = Configuration(),
        clock: @escaping @Sendable () -> Int64,
        random: @escaping @Sendable (Int64) -> Int64 = { Int64.random(in: 0...$0) },
        tracer: (any Tracer)? = nil,
        metrics: OrderMetrics? = nil
    ) {
        self.inventory = inventory
        self.payment = payment
        self.store = store
        self.configuration = configuration
        self.clock = clock
        self.random = random
        self.tracer = tracer
        self.metrics = metrics
    }

    /// Takes the saga one action further and returns the action taken (`wait` and `finished` make no call).
    ///
    /// A call is always written before it is made. Its answer is written together with the next decision: after
    /// a call the runner applies the answer, decides the next action and writes the saga once, so the next call
    /// (kept in `driven`) is already durable when the following `advance` makes it. A write that fails throws,
    /// and `driven` must then be dropped: the stored saga is the truth, and resuming it repeats at most the last
    /// call, with its idempotency key.
    public func advance(_ driven: inout DrivenSaga) async throws -> CheckoutAction {
        let action: CheckoutAction
        if let issued = driven.issued {
            driven.issued = nil
            action = issued
        } else {
            let wasFinal = driven.saga.status.isFinal
            action = driven.saga.nextAction(now: clock())
            switch action {
            case .wait:
                return action
            case .finished:
                if !wasFinal { try await store.save(driven.saga) }
                return action
            case .call:
                try await store.save(driven.saga)
            }
        }
        guard case .call(let step, let attempt) = action else { preconditionFailure("only calls are issued") }
        let started = ContinuousClock.now
        let result = await traced(step, attempt: attempt, for: driven.saga)
        let elapsed = (ContinuousClock.now - started).components
        metrics?.recordStep(
            step,
            result: result,
            durationNanoseconds: elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000
        )
        driven.saga.apply(result, now: clock(), random: random)
        let next = driven.saga.nextAction(now: clock())
        try await store.save(driven.saga)
        if case .call = next { driven.issued = next }
        return action
    }

    /// Runs the saga until it is final, sleeping through backoffs.
    public func run(_ saga: CheckoutSaga) async throws -> CheckoutSaga {
        var driven = DrivenSaga(saga)
        while true {
            switch try await advance(&driven) {
            case .finished: return driven.saga
            case .wait(let until):
                try await Task.sleep(for: .milliseconds(max(until - clock(), 0)))
            case .call:
                continue
            }
        }
    }

    /// One call in its client span. Business refusals are the `saga.result` attribute; only faults mark the span
    /// as an error.
    func traced(_ step: CheckoutStep, attempt: Int, for saga: CheckoutSaga) async -> StepResult {
        guard let tracer else { return await perform(step, for: saga) }
        return await tracer.withSpan(step.spanName, ofKind: .client) { span in
            span.updateAttributes { attributes in
                attributes["order.id"] = saga.orderID
                attributes["saga.step"] = step.rawValue
                attributes["saga.attempt"] = attempt
            }
            if attempt > 1 {
                span.addEvent(SpanEvent(name: "retry_attempt", attributes: ["saga.attempt": .int64(Int64(attempt))]))
            }
            let result = await perform(step, for: saga)
            span.attributes["saga.result"] = result.name
            switch result {
            case .uncertain(let reason), .notApplied(let reason):
                span.setStatus(SpanStatus(code: .error, message: reason))
            case .refused(let code) where step == .charge || step == .chargeStatus:
                // A declined payment: keep the order's whole trace, though nothing failed.
                span.addEvent(SpanEvent(name: OrderTelemetry.keepTraceEvent, attributes: ["reason": .string(code)]))
            case .done, .refused, .notFound, .pending:
                break
            }
            return result
        }
    }

    /// Reservations of one order made at once.
    static let reservationsInParallelMax = 8

    func perform(_ step: CheckoutStep, for saga: CheckoutSaga) async -> StepResult {
        let key = step.idempotencyKey(orderID: saga.orderID)
        let timeout = self.timeout(for: step, saga: saga)
        let lines = saga.request.lines.enumerated().map { index, line in
            (OrderIdentity.reservationID(orderID: saga.orderID, line: index), line)
        }
        switch step {
        case .reserve:
            // The lines at once (each is its own idempotent reservation); the first that is not done, in line
            // order, is the step's answer.
            let inventory = self.inventory
            let holds = lines.map { id, line in
                ReservationHold(
                    reservationID: id,
                    sku: line.sku,
                    userID: saga.request.userID,
                    quantity: line.quantity,
                    holdMilliseconds: saga.holdMilliseconds
                )
            }
            let results =
                (try? await BoundedFanOut.map(holds, limit: Self.reservationsInParallelMax) { hold in
                    await inventory.reserve(hold, timeout: timeout)
                }) ?? [.uncertain(reason: "cancelled")]
            return results.first { if case .done = $0 { false } else { true } } ?? .done(reference: nil)
        case .confirm:
            for (id, _) in lines {
                let result = await inventory.confirm(reservationID: id, timeout: timeout)
                guard case .done = result else { return result }
            }
            return .done(reference: nil)
        case .release:
            // Reverse order; a line with nothing to return (refused, not found) is done.
            for (id, _) in lines.reversed() {
                let result = await inventory.release(reservationID: id, timeout: timeout)
                if result.isFault { return result }
            }
            return .done(reference: nil)
        case .charge:
            let charge = ChargeRequest(
                idempotencyKey: key,
                orderID: saga.orderID,
                userID: saga.request.userID,
                payment: saga.request.payment
            )
            return await payment.charge(charge, timeout: timeout)
        case .chargeStatus:
            return await payment.chargeStatus(idempotencyKey: key, timeout: timeout)
        case .refund:
            return await payment.refund(
                idempotencyKey: key,
                chargeKey: CheckoutStep.charge.idempotencyKey(orderID: saga.orderID),
                amount: saga.request.payment.amount,
                timeout: timeout
            )
        }
    }

    /// A forward call's timeout never runs past the order's deadline; a compensation's is its own.
    func timeout(for step: CheckoutStep, saga: CheckoutSaga) -> Duration {
        if step.isCompensation || saga.status == .paid { return configuration.compensationTimeout }
        let left = Duration.milliseconds(max(saga.deadlineMilliseconds - clock(), 1))
        return min(configuration.stepTimeout, left)
    }
}

/// A saga being driven, and the call it decided and wrote but has not made yet.
public struct DrivenSaga: Sendable {
    public internal(set) var saga: CheckoutSaga
    /// Written with the saga; made by the next ``CheckoutRunner/advance(_:)``.
    var issued: CheckoutAction?

    public init(_ saga: CheckoutSaga) { self.saga = saga }

    /// A cancel between two calls: the call decided but not made is dropped (what it may have left behind is
    /// already in the saga, so the compensation covers it).
    public mutating func cancel(now: Int64) -> CancelDecision {
        let decision = saga.cancel(now: now)
        if case .accepted = decision { issued = nil }
        return decision
    }
}
