/// What one call of a step came back with, as the saga sees it.
///
/// Business answers (`done`, `refused`) are final for the call. Faults say whether the call may have been
/// applied: after `uncertain` (a timeout, a lost reply, a 5xx) the saga must find out or repeat the call with
/// the same idempotency key; after `notApplied` (refused connection, 503 before any work) it may simply repeat.
public enum StepResult: Sendable, Hashable, Codable {
    /// The step is applied (now or by an earlier call with the same key). `reference` is the provider's id
    /// (a payment id) when there is one.
    case done(reference: String?)
    /// A business refusal, final for this order: `insufficient_stock`, `declined`, `hold_expired`, …
    case refused(code: String)
    /// The provider knows no such charge (a status query only): it was never made, so charging again is safe.
    case notFound
    /// The charge is still being decided (a status query only).
    case pending
    /// A fault after which the call may or may not have been applied.
    case uncertain(reason: String)
    /// A fault before anything was applied.
    case notApplied(reason: String)

    /// A fault: the call should be repeated (after a backoff).
    public var isFault: Bool {
        switch self {
        case .uncertain, .notApplied: true
        case .done, .refused, .notFound, .pending: false
        }
    }

    /// A short name for metrics, spans and the step history.
    public var name: String {
        switch self {
        case .done: "done"
        case .refused(let code): code
        case .notFound: "not_found"
        case .pending: "pending"
        case .uncertain: "uncertain"
        case .notApplied: "not_applied"
        }
    }
}
