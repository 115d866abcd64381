/// Per-user request window of one item: a user may make one deduct request per `windowMilliseconds`.
///
/// Two generations of entries rotate every window, so entries older than two windows vanish without a sweep
/// and memory stays proportional to the users seen in the last two windows, capped at `usersMax`.
struct RateWindow: Sendable {
    private var current: [String: Int64] = [:]
    private var previous: [String: Int64] = [:]
    private var rotatedAtMilliseconds: Int64 = 0

    /// Records a request from `userID` at `now` when the window allows it. Returns false when rate limited.
    mutating func admit(userID: String, now: Int64, windowMilliseconds: Int64, usersMax: Int) -> Bool {
        guard windowMilliseconds > 0 else { return true }
        if now - rotatedAtMilliseconds >= windowMilliseconds || now < rotatedAtMilliseconds {
            previous = current
            current = [:]
            rotatedAtMilliseconds = now
        }
        if let last = current[userID] ?? previous[userID], now - last < windowMilliseconds, now >= last {
            return false
        }
        // Fail closed: past the cap a flood of fresh user ids must not grow memory or bypass the window.
        guard current.count < usersMax || current[userID] != nil else { return false }
        current[userID] = now
        return true
    }

    mutating func clear() {
        current = [:]
        previous = [:]
    }
}
