/// Exponential backoff with full jitter (a delay drawn uniformly from zero to the capped exponential), applied
/// to faults only: a business refusal such as a declined card is never retried.
public struct RetryPolicy: Sendable, Hashable, Codable {
    public var initialMilliseconds: Int64
    public var maxMilliseconds: Int64
    /// Calls of a forward step before the saga gives up on it and compensates. Compensations never give up.
    public var forwardAttemptsMax: Int

    public init(initialMilliseconds: Int64 = 50, maxMilliseconds: Int64 = 5_000, forwardAttemptsMax: Int = 6) {
        precondition(initialMilliseconds >= 1 && maxMilliseconds >= initialMilliseconds && forwardAttemptsMax >= 1)
        self.initialMilliseconds = initialMilliseconds
        self.maxMilliseconds = maxMilliseconds
        self.forwardAttemptsMax = forwardAttemptsMax
    }

    /// The delay before call `attempt + 1` of a step whose call `attempt` (from 1) failed; `random` maps a bound
    /// to a value in `0...bound`.
    public func delay(afterAttempt attempt: Int, random: (Int64) -> Int64) -> Int64 {
        let shift = min(max(attempt - 1, 0), 30)
        let ceiling = min(maxMilliseconds, initialMilliseconds << Int64(shift))
        let drawn = random(ceiling)
        precondition(drawn >= 0 && drawn <= ceiling, "full jitter stays within the capped exponential")
        return drawn
    }
}
