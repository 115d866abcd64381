/// The checkout of one order as a value: which step it is at, what is known of each participant, and what to
/// do next. No I/O, no clock of its own: ``nextAction(now:)`` says what to do, the caller does it, and
/// ``apply(_:now:random:)`` records what came back. The caller writes the saga durably after `nextAction` (so a
/// crash never loses the fact that a call may have been made) and after `apply`.
///
/// Forward steps: reserve every line, charge, confirm every line. A business refusal or a forward step that keeps
/// failing starts compensation, which undoes in reverse order (refund, then release) and is retried until done,
/// each call with its own timeout: never under the expired deadline of the request (the seed's leak). After a
/// charge whose answer was lost the saga asks the provider for its status before it does anything else, and
/// every call carries the step's idempotency key, so an order is charged at most once.
public struct CheckoutSaga: Sendable, Hashable, Codable {
    public let orderID: String
    public let request: OrderRequest
    public let createdAtMilliseconds: Int64
    /// The forward path must reach `paid` by then; past it, the order is compensated and ends `expired`.
    public let deadlineMilliseconds: Int64
    /// How long the inventory holds the units for this order.
    public let holdMilliseconds: Int64
    public let retry: RetryPolicy
    /// The W3C trace id of the request that placed the order (32 hex digits), when it was traced.
    public let traceID: String?

    public internal(set) var status: OrderStatus = .created
    /// The step of the last call.
    public internal(set) var step: CheckoutStep?
    /// Calls of the current step since the status last changed (a charge and its status queries count together).
    public internal(set) var attempt = 0
    /// While set, the next call waits until then (backoff).
    public internal(set) var retryAtMilliseconds: Int64?
    public internal(set) var reason: CancelReason?
    /// The provider's payment id once a charge is known to have succeeded.
    public internal(set) var paymentID: String?
    /// A charge may exist: one was sent, and no final answer (declined, or not found by a status query) says
    /// otherwise.
    public internal(set) var chargeMayExist = false
    /// A charge was sent and its answer is not known (lost, or the process crashed): ask for its status before
    /// charging again.
    public internal(set) var chargeUncertain = false
    public internal(set) var refunded = false
    /// A charge was sent (or about to be). Compensation then always calls refund: if the charge exists it is
    /// refunded, and if not, the refund voids its key, so a charge that arrives late (reordered, retried by a
    /// proxy) is declined instead of taken — the provider's half of the saga barrier.
    public internal(set) var chargeSent = false
    /// A refund was refused for good: the order ends `failed` and needs an operator.
    public internal(set) var refundRefused = false
    /// A reserve was sent (or about to be), so holds may exist.
    public internal(set) var reserveSent = false
    public internal(set) var released = false
    public internal(set) var updatedAtMilliseconds: Int64
    /// The calls made, oldest first, at most ``historyMax`` (older ones are dropped and counted).
    public internal(set) var history: [StepRecord] = []
    public internal(set) var historyDropped = 0

    public static let historyMax = 64
    /// Longest result name kept in the history (a participant's code), in UTF-8 bytes.
    public static let resultBytesMax = 64
    /// Longest payment id kept, in UTF-8 bytes.
    public static let paymentIDBytesMax = 128

    /// `text` cut to at most `bytes` UTF-8 bytes (a cut character is replaced).
    static func bounded(_ text: String, bytes: Int) -> String {
        text.utf8.count <= bytes ? text : String(decoding: text.utf8.prefix(bytes), as: UTF8.self)
    }

    public init(
        orderID: String,
        request: OrderRequest,
        now: Int64,
        deadlineMilliseconds: Int64,
        holdMilliseconds: Int64,
        retry: RetryPolicy = RetryPolicy(),
        traceID: String? = nil
    ) {
        precondition(deadlineMilliseconds > now && holdMilliseconds > 0, "a saga has time to run")
        self.orderID = orderID
        self.request = request
        self.createdAtMilliseconds = now
        self.deadlineMilliseconds = deadlineMilliseconds
        self.holdMilliseconds = holdMilliseconds
        self.retry = retry
        self.traceID = traceID
        self.updatedAtMilliseconds = now
    }

    /// What to do now. It may change the saga (a new status, one more attempt): write it before acting.
    public mutating func nextAction(now: Int64) -> CheckoutAction {
        if status.isFinal { return .finished(status) }
        if let retryAt = retryAtMilliseconds, now < retryAt { return .wait(untilMilliseconds: retryAt) }
        retryAtMilliseconds = nil
        updatedAtMilliseconds = now
        if now >= deadlineMilliseconds, Self.forward.contains(status) { compensate(.deadlineExceeded) }
        switch status {
        case .created:
            transition(to: .reserving)
            return call(.reserve)
        case .reserving:
            return call(.reserve)
        case .reserved:
            transition(to: .charging)
            return call(.charge)
        case .charging:
            // After any answer that is not final (and after a crash) ask before charging again.
            return call(chargeUncertain ? .chargeStatus : .charge)
        case .paid:
            return call(.confirm)
        case .compensating:
            if chargeSent && !refunded && !refundRefused { return call(.refund) }
            if reserveSent && !released { return call(.release) }
            transition(to: refundRefused ? .failed : reason == .deadlineExceeded ? .expired : .cancelled)
            return .finished(status)
        case .confirmed, .cancelled, .expired, .failed:
            preconditionFailure("final statuses return above")
        }
    }

    /// Records what the last call of ``step`` came back with. `random` maps a bound to `0...bound` (backoff).
    public mutating func apply(_ result: StepResult, now: Int64, random: (Int64) -> Int64) {
        guard let step, !status.isFinal else { preconditionFailure("apply follows a call") }
        let name = Self.bounded(result.name, bytes: Self.resultBytesMax)
        record(StepRecord(step: step, attempt: attempt, result: name, atMilliseconds: now))
        updatedAtMilliseconds = now
        switch (step, result) {
        case (.reserve, .done):
            transition(to: .reserved)
        case (.reserve, .refused(let code)):
            compensate(Self.reason(ofReservationRefusal: code))
        case (.reserve, _):
            // A fault, or an answer a reserve never gives: some lines may hold units (`reserveSent`).
            retryOrGiveUp(now: now, random: random)

        case (.charge, .done(let reference)), (.chargeStatus, .done(let reference)):
            paymentID = reference.map { Self.bounded($0, bytes: Self.paymentIDBytesMax) }
            chargeMayExist = true
            chargeUncertain = false
            transition(to: .paid)
        case (.charge, .refused), (.chargeStatus, .refused):
            // Declined: with the same key, the provider gives the first answer again, so no charge exists.
            chargeMayExist = false
            chargeUncertain = false
            compensate(.paymentDeclined)
        case (.charge, _):
            // No final answer: the charge stays uncertain, so the next call asks for its status.
            retryOrGiveUp(now: now, random: random)
        case (.chargeStatus, .notFound):
            // Never made: charging again with the same key is safe.
            chargeMayExist = false
            chargeUncertain = false
            retryOrGiveUp(now: now, random: random)
        case (.chargeStatus, _):
            retryOrGiveUp(now: now, random: random)

        case (.confirm, .done):
            transition(to: .confirmed)
        case (.confirm, .refused(let code)):
            compensate(code == "hold_expired" ? .holdExpired : .reservationRefused)
        case (.confirm, _):
            retryOrGiveUp(now: now, random: random)

        case (.refund, .done), (.refund, .notFound):
            refunded = true
        case (.refund, .refused):
            refundRefused = true
        case (.refund, _):
            retryOrGiveUp(now: now, random: random)

        case (.release, .done), (.release, .refused), (.release, .notFound):
            // Refused means nothing to return (unknown order, item reset): done either way.
            released = true
        case (.release, _):
            retryOrGiveUp(now: now, random: random)
        }
    }

    /// A user's cancel: accepted until the order is confirmed. The next action starts the compensation.
    public mutating func cancel(now: Int64) -> CancelDecision {
        if status.isFinal { return .alreadyFinal(status) }
        if status == .compensating { return .alreadyCompensating }
        updatedAtMilliseconds = now
        compensate(.cancelledByUser)
        return .accepted
    }

    // MARK: Durable form

    /// Everything that changes as the saga runs, except the step history.
    public var progress: SagaProgress {
        SagaProgress(
            status: status,
            step: step,
            attempt: attempt,
            retryAtMilliseconds: retryAtMilliseconds,
            reason: reason,
            paymentID: paymentID,
            chargeSent: chargeSent,
            chargeMayExist: chargeMayExist,
            chargeUncertain: chargeUncertain,
            refunded: refunded,
            refundRefused: refundRefused,
            reserveSent: reserveSent,
            released: released,
            updatedAtMilliseconds: updatedAtMilliseconds,
            historyDropped: historyDropped
        )
    }

    /// Sets the saga to `progress` after appending `records` to its history (as read back from a journal).
    mutating func restore(_ progress: SagaProgress, appending records: [StepRecord]) {
        for entry in records { record(entry) }
        status = progress.status
        step = progress.step
        attempt = progress.attempt
        retryAtMilliseconds = progress.retryAtMilliseconds
        reason = progress.reason
        paymentID = progress.paymentID
        chargeSent = progress.chargeSent
        chargeMayExist = progress.chargeMayExist
        chargeUncertain = progress.chargeUncertain
        refunded = progress.refunded
        refundRefused = progress.refundRefused
        reserveSent = progress.reserveSent
        released = progress.released
        updatedAtMilliseconds = progress.updatedAtMilliseconds
        historyDropped = progress.historyDropped
    }

    /// Appends older history read back from a compacted journal, before any newer record.
    mutating func restoreHistory(_ records: [StepRecord]) {
        for entry in records { record(entry) }
    }

    // MARK: Transitions

    private static let forward: Set<OrderStatus> = [.created, .reserving, .reserved, .charging]
    private static let chargeSteps: Set<CheckoutStep> = [.charge, .chargeStatus]

    private mutating func transition(to next: OrderStatus) {
        status = next
        attempt = 0
        retryAtMilliseconds = nil
    }

    private mutating func compensate(_ why: CancelReason) {
        reason = why
        transition(to: .compensating)
    }

    /// Issues a call. What it may leave behind is written down before it is made (the caller saves the saga
    /// first): a crash right after the call must not forget a hold or a charge it may have made.
    private mutating func call(_ next: CheckoutStep) -> CheckoutAction {
        switch next {
        case .reserve: reserveSent = true
        case .charge:
            chargeSent = true
            chargeMayExist = true
            chargeUncertain = true
        case .chargeStatus, .confirm, .refund, .release: break
        }
        // A charge and its status queries share one count: together they are one step.
        if let step, step != next, !(Self.chargeSteps.contains(step) && Self.chargeSteps.contains(next)) {
            attempt = 0
        }
        step = next
        attempt += 1
        return .call(next, attempt: attempt)
    }

    /// A fault: call again after a backoff; a forward status whose calls ran out compensates instead.
    private mutating func retryOrGiveUp(now: Int64, random: (Int64) -> Int64) {
        if Self.forward.contains(status) || status == .paid, attempt >= retry.forwardAttemptsMax {
            compensate(.stepUnavailable)
            return
        }
        retryAtMilliseconds = now + retry.delay(afterAttempt: attempt, random: random)
    }

    private mutating func record(_ entry: StepRecord) {
        if history.count == Self.historyMax {
            history.removeFirst()
            historyDropped += 1
        }
        history.append(entry)
    }

    static func reason(ofReservationRefusal code: String) -> CancelReason {
        switch code {
        case "insufficient_stock": .insufficientStock
        case "user_limit_exceeded": .userLimitExceeded
        case "stock_not_found": .stockNotFound
        default: .reservationRefused
        }
    }
}

/// The part of a saga that changes as it runs (all but the order itself and the step history).
public struct SagaProgress: Sendable, Hashable {
    public var status: OrderStatus
    public var step: CheckoutStep?
    public var attempt: Int
    public var retryAtMilliseconds: Int64?
    public var reason: CancelReason?
    public var paymentID: String?
    public var chargeSent: Bool
    public var chargeMayExist: Bool
    public var chargeUncertain: Bool
    public var refunded: Bool
    public var refundRefused: Bool
    public var reserveSent: Bool
    public var released: Bool
    public var updatedAtMilliseconds: Int64
    public var historyDropped: Int
}

/// What the caller of ``CheckoutSaga/nextAction(now:)`` does next.
public enum CheckoutAction: Sendable, Hashable {
    /// Call `step`; `attempt` counts its calls from 1 (a charge's status queries count as its calls).
    case call(CheckoutStep, attempt: Int)
    /// Nothing until then (a backoff).
    case wait(untilMilliseconds: Int64)
    /// The saga ended with this status.
    case finished(OrderStatus)
}

/// One call of a step, for `GET /api/v1/orders/{id}`.
public struct StepRecord: Sendable, Hashable, Codable {
    public var step: CheckoutStep
    public var attempt: Int
    public var result: String
    public var atMilliseconds: Int64

    public init(step: CheckoutStep, attempt: Int, result: String, atMilliseconds: Int64) {
        self.step = step
        self.attempt = attempt
        self.result = result
        self.atMilliseconds = atMilliseconds
    }
}

/// What a cancel request answered.
public enum CancelDecision: Sendable, Hashable {
    case accepted
    case alreadyCompensating
    case alreadyFinal(OrderStatus)
}
